"""Distribution drift SLOs: `drift: {max_psi: 0.2}` on a column of a partitioned table.

Judged from the monitors' per-partition summaries (fixed-bin counts for numbers, top-k value
counts for categories) kept in the meta schema, so comparing never rescans old partitions: each
checked partition's distribution against the pooled distribution of the `baseline` partitions
before it, leaving out those where the column's monitors alerted. Declaring one profiles the
column with the monitors (run/drift_slos.py); a numeric column has bins once its edges are learned
from the first partitions of history, and passes as "learning" until then.
"""
from __future__ import annotations

import math

from slocompile.checks.base import CheckType, Outcome, fmt_num
from slocompile.spec.fields import Field

DISTANCES = {"max_psi": "psi", "max_js": "js", "max_linf": "linf"}
# monitors.bands.Settings' drift_window and window (the history a build loads), spelled out so that
# loading the check registry does not import the monitors (numpy); a test keeps them equal
DEFAULT_BASELINE, MAX_BASELINE = 7, 28


class Drift(CheckType):
    name = "drift"
    doc = ("The column's distribution (histogram bins for numbers, category shares for text) stays close to "
           "the pooled distribution of the `baseline` partitions before: PSI, Jensen-Shannon or L-infinity "
           "at most the given bound. Needs a partitioned table; computed from the monitors' stored summaries.")
    fields = {
        "max_psi": Field("number", doc="Largest allowed population stability index (0.1 small, 0.2 large)."),
        "max_js": Field("fraction", doc="Largest allowed Jensen-Shannon divergence (base 2, between 0 and 1)."),
        "max_linf": Field("fraction", doc="Largest allowed change of one category's (or bin's) share."),
        "baseline": Field("int", default=DEFAULT_BASELINE,
                          doc=f"How many earlier partitions are pooled as the reference (1 to {MAX_BASELINE})."),
    }
    needs_column = True
    from_monitor_history = True
    needs_partition = True

    def validate(self, params, loc, problems):
        if all(params.get(k) is None for k in DISTANCES):
            problems.add(loc, "drift needs 'max_psi', 'max_js' or 'max_linf'")
        if params.get("max_psi") is not None and params["max_psi"] < 0:
            problems.add(loc, "drift: 'max_psi' must be >= 0")
        if not 1 <= (params.get("baseline") or 0) <= MAX_BASELINE:
            problems.add(loc, f"drift: 'baseline' must be between 1 and {MAX_BASELINE} partitions")

    def metrics(self, check):
        return []  # nothing to scan: the monitor profile measures the summaries

    def judge(self, check, summary: dict | None, references: list[dict]) -> Outcome:
        """`summary` of the checked partition vs the `references` (earlier partitions' summaries)."""
        from slocompile.checks import distances as drift

        limits = {k: check.params[k] for k in DISTANCES if check.params.get(k) is not None}
        expected = " and ".join(f"{DISTANCES[k]} <= {fmt_num(v)}" for k, v in limits.items())
        expected += f" vs the pooled {check.params['baseline']} partitions before"
        cur = drift.shares_of(summary)
        kind = "bins" if summary and "bins" in summary else "top"
        refs = [drift.shares_of(r) for r in references if r and kind in r]
        refs = [r for r in refs if r]
        if not cur:
            return Outcome(True, None, expected, f"no distribution of {check.column} yet (no values, or numeric "
                                                 "bins not learned: they need the first partitions of history)")
        if not refs:
            return Outcome(True, None, expected, f"no baseline yet for the distribution of {check.column}")
        ref = drift.pooled(refs)
        measured = {"psi": drift.psi(cur, ref), "js": drift.js(cur, ref), "linf": drift.linf(cur, ref)}
        observed = {k: round(v, 6) for k, v in measured.items() if not math.isnan(v)}
        observed["references"] = len(refs)
        broken = [k for k, v in limits.items() if measured[DISTANCES[k]] > v]
        shown = ", ".join(f"{DISTANCES[k]} {measured[DISTANCES[k]]:.3g}" for k in limits)
        msg = f"distribution of {check.column} vs {len(refs)} earlier partitions: {shown}"
        changes = drift.top_changes(cur, ref, 3) if kind == "top" else []
        moved = [f"{v!r} {100 * a:.3g}% -> {100 * b:.3g}%" for v, a, b in changes if abs(a - b) >= 0.005]
        if broken and moved:
            msg += "; largest moves: " + ", ".join(moved)
        return Outcome(not broken, observed, expected, msg + ("" if not broken else f"; expected {expected}"))


DISTRIBUTION = [Drift]
