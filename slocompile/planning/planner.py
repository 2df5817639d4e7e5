"""Checks -> query plans, per table and per engine. No SQL text here.

Each check requests metrics; equal metrics are measured once. Metrics sharing a
row filter and scope are fused into one aggregate scan (grouped by partition
when the table has one), except where the engine answers a metric faster on
its own: DuckDB answers null and range filters from row-group statistics
(zone maps) when they are the only filter of a COUNT(*), and a GROUP BY for
duplicate keys beats COUNT(DISTINCT) inside a wide aggregate.

Segments (`group_by:` of a check, checks/segments.py): every metric of every check with the same
`group_by` columns and row filter is measured in ONE scan grouped by (partition,) those columns,
whatever its kind (a null count DuckDB would otherwise answer alone goes there too: a scan read
anyway costs less than one more). The checks without `group_by` keep their fused scan unchanged,
so declaring `group_by` on any number of checks adds one scan per distinct grouping (and filter),
never one per check; the cap on segments is applied to that scan's rows (run/segments.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlglot import exp

from slocompile import checks as registry
from slocompile.checks import metrics as m
from slocompile.checks import segments
from slocompile.dialects.nodes import sql_text
from slocompile.spec.model import CheckSpec, TableSpec

FUSED, ALONE, VALUE_COUNTS, DUPLICATES, ORPHANS, CATALOG, QUERY, SEGMENTED = (
    "fused", "alone", "value_counts", "duplicates", "orphans", "catalog", "query", "segmented")
KEY_DIFF = "key_diff"  # compare: a full outer join of both sides' distinct keys
MAX_METRICS_PER_SCAN = 800  # keeps statements far below every dialect's length limit


@dataclass(frozen=True)
class Strategy:
    """How an engine likes its metrics served (DuckDB figures measured at 10M rows, see DIALECT-NOTES)."""

    # simple filters (IS NULL, comparisons with constants) as their own COUNT(*): zone maps skip row groups
    prunable_alone: bool = False
    # MIN/MAX of a column (and freshness) alone: answered from row-group statistics
    minmax_alone: bool = False
    # COUNT(DISTINCT) and single-column duplicates in one scan of their own: inside a wide aggregate
    # they tripled its memory; alone, COUNT(c) - COUNT(DISTINCT c) beat GROUP BY ... HAVING
    distinct_apart: bool = False
    # accepted_values over per-value counts (GROUP BY the column first): an IN list per row is slower
    value_counts: bool = False
    # the distinct scan may count an integer column's distinct values in an array indexed by value
    # (DuckDB's perfect hash aggregate) when its range, from the column's statistics, is at most about
    # twice the table's rows: measure.py allows it for that scan alone (other GROUP BYs keep the
    # engine's default of 4,096 slots). 10M unique keys: 0.41s -> 0.08s; 30M: 1.4 -> 0.24 GiB
    dense_keys: bool = False


STRATEGIES = {"duckdb": Strategy(prunable_alone=True, minmax_alone=True, distinct_apart=True, value_counts=True,
                                 dense_keys=True)}
DEFAULT_STRATEGY = Strategy()
_WHY = {
    "fused": "metrics sharing one filter share one scan",
    "distinct": "distinct counts together, apart from the wide aggregate (memory)",
    "alone": "a simple filter the engine answers from row-group statistics",
    "minmax": "min/max answered from row-group statistics",
    "value_counts": "checked once per distinct value, not once per row",
    "duplicates": "duplicates on several key columns: GROUP BY ... HAVING",
    "orphans": "anti-join with the referenced relation",
    "catalog": "read from the engine's catalog",
    "query": "a whole SELECT of its own (assert): the rows it returns",
    "segmented": "group_by: every check with these columns and filter, one scan grouped by them",
    "compare": "compare: the other relation's metrics, in one scan of it",
    "key_diff": "compare: keys present on one side only, one join of both sides' keys",
}
# scans that build large hash tables run first: DuckDB then has not yet cached the other scans' blocks
_ORDER = {"distinct": 0, "duplicates": 0, "fused": 1, "segmented": 1, "minmax": 2, "value_counts": 2, "alone": 3,
          "orphans": 4, "query": 4, "compare": 4, "key_diff": 4, "catalog": 5}
_SIMPLE = (exp.Column, exp.Identifier, exp.Literal, exp.Neg, exp.Paren, exp.Not, exp.And, exp.Or, exp.EQ,
           exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.Null, exp.Boolean, exp.Between, exp.Cast,
           exp.DataType)


def simple_condition(e: exp.Expression) -> bool:
    """Comparisons of columns with constants joined by AND/OR/NOT: what zone maps can answer."""
    return all(isinstance(n, _SIMPLE) for n in e.walk())


def _has_distinct(e: exp.Expression) -> bool:
    return any(isinstance(n, exp.Distinct) for n in e.walk())


def placement(metric: m.Metric, strategy: Strategy) -> str:
    """Which kind of query measures `metric` on an engine with `strategy`."""
    if metric.group_by:
        return "segmented"
    if metric.kind in (m.CATALOG, m.LOAD_TIME):  # asked of the engine, no SQL of ours
        return "catalog"
    if metric.kind == m.ORPHANS:
        return "orphans"
    if metric.kind == m.QUERY_ROWS:
        return "query"
    if metric.kind == m.KEY_DIFF:
        return "key_diff"
    if metric.kind == m.AGGREGATE and metric.target is not None:
        return "compare"
    if metric.kind == m.DUPLICATES:
        if len(metric.columns) > 1:
            return "duplicates"
        return "distinct" if strategy.distinct_apart else "fused"
    expr = cast(exp.Expression, metric.expr)  # AGGREGATE and COUNT_IF metrics always have one
    if strategy.distinct_apart and metric.kind == m.AGGREGATE and _has_distinct(expr):
        return "distinct"
    if metric.kind == m.COUNT_IF and metric.where is None:
        if strategy.prunable_alone and (metric.stats_prunable or simple_condition(expr)):
            return "alone"
        if strategy.value_counts and metric.per_value:
            return "value_counts"
    if (strategy.minmax_alone and metric.kind == m.AGGREGATE and metric.where is None
            and isinstance(metric.expr, (exp.Min, exp.Max)) and isinstance(metric.expr.this, exp.Column)):
        return "minmax"
    return "fused"


@dataclass
class Scan:
    kind: str                  # the SQL shape: fused | alone | value_counts | duplicates | orphans | catalog
    metrics: list[m.Metric]
    where: exp.Expression | None = None
    grouped: bool = False
    placement: str = "fused"   # why the planner put these metrics here (a key of _WHY)
    partitions: tuple[str, ...] | None = None  # grouped scans: only these partitions (None: all)
    group_by: tuple[str, ...] = ()  # segmented scans: grouped by these columns too
    dense_keys: bool = False   # distinct counts may index an array by value (Strategy.dense_keys)

    @property
    def reason(self) -> str:
        return _WHY[self.placement]


@dataclass
class TablePlan:
    table: TableSpec
    dialect: str
    checks: list[tuple[CheckSpec, list[m.Metric]]]
    scans: list[Scan] = field(default_factory=list)

    @property
    def metrics(self) -> list[m.Metric]:
        return [metric for scan in self.scans for metric in scan.metrics]

    def describe(self) -> list[dict[str, Any]]:
        """The plan for the manifest: each query, why it is separate, and the checks it serves
        (`slocompile show` prints the metrics themselves)."""
        users: dict[m.Metric, list[str]] = {}
        for check, metrics in self.checks:
            for metric in metrics:
                users.setdefault(metric, []).append(check.name)
        return [{"kind": s.kind, "placement": s.placement, "grouped_by_partition": s.grouped, "reason": s.reason,
                 **({"group_by": list(s.group_by)} if s.group_by else {}),
                 "where": sql_text(s.where) if s.where is not None else None, "metrics": len(s.metrics),
                 "checks": sorted({n for metric in s.metrics for n in users.get(metric, ["(partition list)"])})}
                for s in self.scans]


def plan_table(table: TableSpec, dialect: str, checks: list[CheckSpec] | None = None,
               partitions: tuple[str, ...] | None = None, extra: tuple[m.Metric, ...] = ()) -> TablePlan:
    """Plan the table's checks; `partitions` limits per-partition scans to those partitions; `extra`:
    metrics the build measures besides the checks' (a partition's content fingerprint)."""
    strategy = STRATEGIES.get(dialect, DEFAULT_STRATEGY)
    checks = list(table.checks if checks is None else checks)
    requested = [(c, segments.requested(registry.get(c.type).metrics(c), c)) for c in checks]
    plan = TablePlan(table, dialect, requested)
    grouped = table.partition is not None
    unique: dict[m.Metric, None] = {m.rows(): None}  # the base row count also lists the partitions
    for _, ms in requested:
        for metric in ms:
            unique.setdefault(metric, None)
    for metric in extra:
        unique.setdefault(metric, None)
    shared: dict[tuple[Any, ...], list[m.Metric]] = {}  # (placement, where, grouped) -> metrics of one scan
    for metric in unique:
        scope_grouped = grouped and metric.scope == m.PER_PARTITION
        place = placement(metric, strategy)
        if place in ("fused", "distinct"):
            shared.setdefault((place, metric.where, scope_grouped), []).append(metric)
            continue
        if place == "segmented":  # one scan per grouping and filter, whatever the cap (checks/segments.py)
            shared.setdefault((place, (metric.where, metric.group_by), scope_grouped), []).append(metric)
            continue
        if place == "orphans":  # one anti-join per column and reference, whatever the filters
            shared.setdefault((place, (metric.columns, metric.target, metric.field), scope_grouped), []).append(metric)
            continue
        if place in ("compare", "key_diff"):  # one scan per other relation and filter (and keys: one join)
            shared.setdefault((place, (metric.where, metric.target, metric.columns), scope_grouped), []).append(metric)
            continue
        kind = {"minmax": FUSED}.get(place, place)
        plan.scans.append(Scan(kind, [metric], metric.where, scope_grouped, place))
    for (place, key, is_grouped), ms in shared.items():
        kind, where, by = (ORPHANS, None, ()) if place == "orphans" else \
            (SEGMENTED, *key) if place == "segmented" else (FUSED, key, ())
        if place in ("compare", "key_diff"):  # key: (filter, relation, keys); a key_diff scan filters inside
            kind, where = (FUSED, key[0]) if place == "compare" else (KEY_DIFF, None)
        dense = strategy.dense_keys and place == "distinct"
        for i in range(0, len(ms), MAX_METRICS_PER_SCAN):
            plan.scans.append(Scan(kind, ms[i:i + MAX_METRICS_PER_SCAN], where, is_grouped, place, group_by=by,
                                   dense_keys=dense))
    plan.scans.sort(key=lambda sc: _ORDER.get(sc.placement, _ORDER.get(sc.kind, 9)))
    if partitions is not None:
        # nothing new to check: only whole-table scans remain
        plan.scans = [s for s in plan.scans if not (s.grouped and not partitions)]
        for scan in plan.scans:
            if scan.grouped:
                scan.partitions = tuple(partitions)
    return plan
