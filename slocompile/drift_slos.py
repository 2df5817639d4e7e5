"""Drift SLOs (checks/distribution.py), judged after a table's monitors in a build.

The monitors profile the partitions the build checks and keep each column's distribution summary
in their history (loaded from the meta schema: trailing partitions are never rescanned); a drift
SLO compares each checked partition's summary with the pooled summaries of the partitions before
it, leaving out those where the column's monitors alerted.
"""
from __future__ import annotations

from . import checks as registry
from .evaluate import ERROR, FAIL, PASS, WARN, Result


def drift_checks(table) -> list:
    return [c for c in table.checks if registry.get(c.type).from_monitor_history]


def results(table, tm) -> list[Result]:
    """The drift SLOs' results on the partitions the table's monitoring (`tm`) judged for this build."""
    out = []
    for check in drift_checks(table):
        ctype = registry.get(check.type)
        base = dict(table=table.name, check=check.name, check_type=check.type, column=check.column,
                    severity=check.severity)
        if tm is None or tm.skipped or tm.history is None:
            if tm is not None and tm.history is None and not tm.skipped:
                continue  # no partition to judge in this build
            why = tm.skipped if tm is not None else "the column's monitor profile did not run"
            out.append(Result(**base, partition=None, status=ERROR, observed=None, expected="",
                              message=f"could not be measured: {why}"))
            continue
        history = tm.history
        for p in tm.checked:
            earlier = [q for q in history.before(p) if not history.column_alerted(q, check.column)
                       and history.summaries.get(q, {}).get(check.column)]
            refs = [history.summaries[q][check.column] for q in earlier[-check.params["baseline"]:]]
            outcome = ctype.judge(check, history.summaries.get(p, {}).get(check.column), refs)
            status = PASS if outcome.passed else (FAIL if check.severity == "error" else WARN)
            out.append(Result(**base, partition=p, status=status, observed=outcome.observed,
                              expected=outcome.expected, message=outcome.message))
    return out
