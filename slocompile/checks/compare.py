"""`compare`: reconcile the table with another relation of the same target.

Per partition (the other relation has the same partition column): each metric (`row_count` or an
aggregate such as `sum(amount)`) on both sides, equal within `tolerance`; and with `on: [keys]`,
the keys present on one side only (counted both ways; failed-row samples name them and their side).
This side's metrics share the table's fused scan; the other side's share one scan of the other
relation; the keys take one full outer join of the two sides' distinct keys.
"""
from __future__ import annotations

from typing import cast

from sqlglot import exp

from slocompile.checks import metrics as m
from slocompile.checks.base import CheckType, Outcome, fmt_num, to_number
from slocompile.spec.fields import Change, Field

ROW_COUNT = "row_count"
HERE, THERE = "here", "there"  # a key only in the checked table, only in the other relation
TREES = "metric_trees"  # params key: each metric's aggregate (a sqlglot tree; None for row_count)
OTHER = "other"         # params key: the other relation (a sqlglot Table), set once every table is known


class Compare(CheckType):
    name = "compare"
    doc = ("The table agrees with another relation of the same target (`with`: schema.table, or a declared "
           "table's name), per partition when the table has one (the other relation has the same partition "
           "column): each of `metrics` (`row_count`, or aggregate SQL such as `sum(amount)` or "
           "`count(distinct user_id)` over columns both have) is equal on both sides within `tolerance`, and "
           "with `on`, no key is present on one side only (counted both ways; failed rows name the key and "
           "its side). `where` filters both sides.")
    fields = {
        "with": Field("str", required=True, doc="The other relation: schema.table, or the name of a declared table."),
        "on": Field("columns", doc="Key columns: keys present on one side only fail the check (NULL keys are not "
                    "compared)."),
        "metrics": Field("str_list", default=(ROW_COUNT,), doc="row_count and/or aggregate SQL over the columns of "
                         "both sides (default: row_count)."),
        "tolerance": Field("change", doc="Largest allowed difference of each metric: a percentage of the larger "
                           "side ('0.5%') or an absolute amount (default 0: equal)."),
    }
    column_level = False
    has_rows = True  # with `on`: the keys present on one side only
    reads_elsewhere = True

    def referenced_columns(self, check):
        cols = list(check.params.get("on") or ())
        for tree in check.params.get(TREES) or ():
            if tree is not None:
                cols += [c.name for c in tree.find_all(exp.Column)]
        return cols

    def metrics(self, check):
        other = cast(exp.Table, check.params[OTHER])
        here, there = [], []
        for tree in check.params[TREES]:
            if tree is None:
                here.append(m.rows(check.where))
                there.append(m.aggregate(exp.Count(this=exp.Star()), check.where, target=other))
            else:
                here.append(m.aggregate(tree.copy(), check.where))
                there.append(m.aggregate(tree.copy(), check.where, target=other))
        keys = tuple(check.params.get("on") or ())
        diffs = [m.key_diff(keys, other, side, check.where) for side in (HERE, THERE)] if keys else []
        return here + there + diffs

    def evaluate(self, check, values, ctx):
        names = list(check.params["metrics"])
        n = len(names)
        tolerance = check.params.get("tolerance")
        other = check.params["with"]
        observed: dict = {}
        problems = []
        for i, name in enumerate(names):
            a, b = _number(values[i], name), _number(values[n + i], name)
            observed[name] = {"here": a, "other": b}
            if not _close(a, b, tolerance):
                problems.append(f"{name} is {_show(a)} here, {_show(b)} in {other}")
        if check.params.get("on"):
            here, there = int(values[2 * n] or 0), int(values[2 * n + 1] or 0)
            observed["keys_only_here"], observed["keys_only_other"] = here, there
            if here or there:
                problems.append(f"{here} key{'s' * (here != 1)} only here, {there} only in {other}")
        expected = "equal" if tolerance is None else f"within {tolerance}"
        if check.params.get("on"):
            expected += ", the same keys"
        msg = "; ".join(problems) if problems else f"{', '.join(names)} match {other}" + (
            " and so do the keys" if check.params.get("on") else "")
        return Outcome(not problems, observed, expected, msg + ("" if not problems else f"; expected {expected}"))

    def name_suffix(self, check_params, column):
        return str(check_params.get("with") or "").replace(".", "_")


def _number(v, name: str) -> float | None:
    if v is None and name == ROW_COUNT:
        return 0  # the other side has no rows there
    try:
        return to_number(v)
    except (TypeError, ValueError):
        return None


def _close(a: float | None, b: float | None, tolerance: Change | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    diff = abs(a - b)
    if tolerance is None:  # equal, but for the last bits of floating-point sums taken in another order
        return diff <= 1e-9 * max(abs(a), abs(b))
    if tolerance.relative:
        return diff <= tolerance.amount * max(abs(a), abs(b))
    return diff <= tolerance.amount


def _show(v: float | None) -> str:
    return "NULL" if v is None else fmt_num(v)


COMPARE = [Compare]
