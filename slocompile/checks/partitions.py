"""partitions_complete: no partition is missing between a partitioned table's first and newest one
(and, with `late_after` or a freshness check on the partition column, none is overdue after it).

Implied on every partitioned table (the loader adds it; `cadence: none` on the table turns it
off). It reads no data: the build lists the table's partitions anyway (run/selection.py) and
hands the list over in EvalContext.partitions. The cadence is declared (`cadence:` on the table or
the check) or learned from the partitions (cadence.py). A missing partition has no rows a gate
could hide, so the check is a whole-table SLO: its failure fails the table's whole-table status,
like freshness (gate block: the view raises, naming the missing partitions; filter: the view serves
nothing until the gap is filled or the check is relaxed; last_good: new versions are not published).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from slocompile.checks.base import CheckType, EvalContext, Outcome
from slocompile.checks.cadence import (
    CADENCE_HELP,
    DAY,
    MIN_PARTITIONS,
    NAMED,
    OFF,
    WEEK,
    Axis,
    Cadence,
    axis,
    find_gaps,
    learn,
    parse_cadence,
)
from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.fields import Field, format_duration
from slocompile.spec.model import NULL_PARTITION, CheckSpec

LISTED = 10         # partitions named in a message
KEPT = 100          # partitions kept in the result's observed value
IN_STATUS = 3       # partitions named in the status row (and so in a blocked view's message)


def ignored_text(v) -> str:
    """An `ignore` item as a partition label: YAML reads 2025-12-25 as a date."""
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _listing(labels: list[str], total: int) -> str:
    shown = ", ".join(labels[:LISTED])
    return shown + (f", ... ({total} in all)" if total > LISTED else "")


class PartitionsComplete(CheckType):
    name = "partitions_complete"
    doc = ("Every partition the table's cadence expects between its first and its newest partition is present; "
           "with `late_after` (default: the `max_age` of a freshness check on the partition column) none after "
           "the newest is overdue either. Implied on every partitioned table; the cadence is declared "
           "(`cadence:` on the table or here) or learned from the partitions (the gap most of them share, "
           "from at least `min_partitions`; weekdays and times of day that never have a partition are not "
           "expected). Fewer partitions, or values that are not dates, timestamps or integers: passes. "
           "A whole-table SLO: the missing partitions are named in the result and the status. Turn it off with "
           "`cadence: none` on the table.")
    fields = {
        "cadence": Field("scalar", doc=f"How often partitions come: {CADENCE_HELP} (default: the table's "
                                       "`cadence`, else learned)."),
        "min_partitions": Field("int", default=MIN_PARTITIONS,
                                doc="Partitions needed before a cadence is learned (a declared one needs none)."),
        "late_after": Field("duration", doc="A partition is overdue once the one before it is this old (default: "
                                            "the max_age of a freshness check on the partition column; without "
                                            "either, lateness is not checked)."),
        "ignore": Field("scalar_list", doc="Partitions known to be absent for good (holidays), as labels: "
                                           "[2025-12-25]."),
    }
    column_level = False
    needs_partition = True
    needs_partition_list = True

    def validate(self, params, loc, problems):
        value = params.get("cadence")
        if value is not None and parse_cadence(value) is None:
            hint = did_you_mean(value, NAMED) if isinstance(value, str) else ""
            problems.add(loc, f"partitions_complete: 'cadence' must be {CADENCE_HELP}, not {value!r}{hint}")
        if params.get("where") is not None:
            problems.add(loc, "partitions_complete: 'where' does not apply (the check reads the list of partitions, "
                              "not rows)")
        if params.get("min_partitions") is not None and params["min_partitions"] < 2:
            problems.add(loc, "partitions_complete: 'min_partitions' must be at least 2 (one gap)")

    def metrics(self, check):
        return []  # the build's partition list (EvalContext.partitions), no scan

    def evaluate(self, check, values, ctx: EvalContext) -> Outcome:
        labels = [p for p in (ctx.partitions or {}).get(check.table, ()) if p != NULL_PARTITION]
        declared = parse_cadence(check.params["cadence"]) if check.params.get("cadence") is not None else None
        expected = "no missing partitions"
        if not labels:
            return Outcome(True, _observed(0, [], [], None, 0), expected, "no partitions yet")
        ax = axis(labels)
        if ax is None:
            return Outcome(True, _observed(0, [], [], None, len(labels)), expected,
                           f"{len(labels)} partitions whose values are not dates, timestamps or integers: "
                           "no cadence to check")
        cadence = declared or learn(ax, check.params.get("min_partitions") or MIN_PARTITIONS)
        if cadence is None:
            need = check.params.get("min_partitions") or MIN_PARTITIONS
            why = f"at least {need} are needed" if len(ax.values) < need else "no gap between them is the usual one"
            return Outcome(True, _observed(0, [], [], None, len(ax.values)), expected,
                           f"no cadence learned from {len(ax.values)} partitions ({why}); declare `cadence:` "
                           "to check them")
        return self._judge(check, ctx, ax, cadence)

    def _judge(self, check, ctx: EvalContext, ax: Axis, cadence: Cadence) -> Outcome:
        late_after = check.params.get("late_after")
        if ax.too_fine(cadence):
            declared = check.params.get("cadence")
            return Outcome(False, _observed(0, [], [], cadence.describe(), len(ax.values)),
                           "a cadence the partition values can show",
                           f"cadence {declared!r} is finer than the partition values ({ax.resolution}s, e.g. "
                           f"{ax.render(ax.values[0])}): declare one they can show")
        gaps = find_gaps(ax, cadence, ctx.now, late_after)
        skip = {ignored_text(v) for v in check.params.get("ignore") or ()}
        missing = [t for t in map(ax.render, gaps.missing) if t not in skip]
        late = [t for t in map(ax.render, gaps.late) if t not in skip]
        how = cadence.describe(ax.numeric)
        first, newest = ax.render(ax.values[0]), ax.render(ax.values[-1])
        expected = "no missing partitions"
        if late_after is not None:
            expected += f", none overdue ({format_duration(late_after)} after the one before)"
        parts = []
        at_least = "at least " if gaps.capped else ""
        if missing:
            parts.append(f"{at_least}{len(missing)} partition{'s' if len(missing) != 1 else ''} missing between "
                         f"{first} and {newest} ({how}): {_listing(missing, len(missing))}")
        if late:
            parts.append(f"{at_least}{len(late)} partition{'s' if len(late) != 1 else ''} overdue after the newest, "
                         f"{newest}: {_listing(late, len(late))}")
        observed = _observed(len(missing) + len(late), missing, late, how, len(ax.values))
        if parts:
            return Outcome(False, observed, expected, "; ".join(parts) + f"; expected {expected}")
        return Outcome(True, observed, expected,
                       f"{len(ax.values)} partitions from {first} to {newest}, none missing ({how})")

    def status_label(self, check_name: str, observed) -> str:
        """The failed check as the status row names it: with the partitions it misses, so that a
        blocked view's message says which."""
        if not isinstance(observed, dict):
            return check_name
        absent = list(observed.get("missing") or []) + list(observed.get("late") or [])
        if not absent:
            return check_name
        total = observed.get("value") or len(absent)
        more = ", ..." if total > IN_STATUS else ""
        return f"{check_name} (missing {', '.join(absent[:IN_STATUS])}{more})"


def with_partitions_complete(checks: list[CheckSpec], table: str, partition: str | None, cadence,
                             loc: Location, problems: ProblemCollector, grain: str | None = None) -> list[CheckSpec]:
    """The loader's part: partitions_complete is implied on a partitioned table (`cadence: none` or
    false on the table turns it off); the table's `cadence` and the max_age of a freshness check on
    the partition column fill in what a declared one leaves out. With a granularity the labels are
    the starts of hours, days, weeks or months: a cadence finer than that could never be met."""
    where = f"table '{table}'"
    if grain is not None:
        declared_ones = [cadence] + [c.params.get("cadence") for c in checks if c.type == PartitionsComplete.name]
        for value in declared_ones:
            declared = parse_cadence(value) if value is not None and value is not False and value not in OFF else None
            if declared is not None and finer_than_grain(declared, grain):
                problems.add(loc, f"{where}: cadence {value!r} is finer than the partitions' granularity ({grain}): "
                                  f"partitions are whole {grain}s; declare {grain} or a coarser cadence")
                return checks
    if cadence is not None and not partition:
        problems.add(loc, f"{where}: 'cadence' says how often partitions come; the table has no 'partition'")
        return checks
    if cadence is False or cadence in OFF:
        return checks  # no implied check (a declared one still runs)
    if cadence is not None and parse_cadence(cadence) is None:
        hint = did_you_mean(cadence, [*NAMED, *OFF]) if isinstance(cadence, str) else ""
        problems.add(loc, f"{where}: 'cadence' must be {CADENCE_HELP}, or none; not {cadence!r}{hint}")
        return checks
    if not partition:
        return checks
    late_after = next((c.params["max_age"] for c in checks
                       if c.type == "freshness" and c.column == partition and c.where is None), None)
    defaults = {"cadence": cadence, "late_after": late_after}
    out = [replace(c, params={**c.params, **{k: v for k, v in defaults.items() if c.params.get(k) is None}})
           if c.type == PartitionsComplete.name else c for c in checks]
    if not any(c.type == PartitionsComplete.name for c in checks):
        params = {"cadence": cadence, "min_partitions": MIN_PARTITIONS, "late_after": late_after, "ignore": None}
        out.append(CheckSpec(type=PartitionsComplete.name, name="", table=table, column=None, severity="error",
                             where=None, params=params, loc=loc))
    return out


GRAIN_SECONDS = {"hour": 3600, "day": DAY, "week": WEEK}


def finer_than_grain(cadence: Cadence, grain: str) -> bool:
    """A cadence that steps between values a partition of this grain cannot tell apart."""
    if cadence.months:
        return False  # a month or more: no grain is coarser
    return cadence.step < GRAIN_SECONDS.get(grain, 28 * DAY)


def _observed(count: int, missing: list[str], late: list[str], cadence: str | None, partitions: int) -> dict:
    return {"value": count, "missing": missing[:KEPT], "late": late[:KEPT], "cadence": cadence,
            "partitions": partitions}


PARTITION_SLOS = [PartitionsComplete]
