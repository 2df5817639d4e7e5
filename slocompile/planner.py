"""Checks -> query plans, per table and per engine. No SQL text here.

Each check requests metrics; equal metrics are measured once. Metrics sharing a
row filter and scope are fused into one aggregate scan (grouped by partition
when the table has one), except where the engine answers a metric faster on
its own: DuckDB answers null and range filters from row-group statistics
(zone maps) when they are the only filter of a COUNT(*), and a GROUP BY for
duplicate keys beats COUNT(DISTINCT) inside a wide aggregate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from . import checks as registry
from . import metrics as m
from .spec.model import CheckSpec, TableSpec

FUSED, ALONE, DUPLICATES, ORPHANS, CATALOG = "fused", "alone", "duplicates", "orphans", "catalog"
MAX_METRICS_PER_SCAN = 800  # keeps statements far below every dialect's length limit


@dataclass(frozen=True)
class Strategy:
    """How an engine likes its metrics served."""

    prunable_alone: bool = False     # run null/range counts as their own filtered COUNT(*)
    duplicates_alone: bool = False   # run unique checks as GROUP BY ... HAVING instead of COUNT(DISTINCT)
    reason: str = ""


STRATEGIES = {
    "duckdb": Strategy(prunable_alone=True, duplicates_alone=True,
                       reason="zone maps answer null/range filters alone; GROUP BY beats COUNT(DISTINCT)"),
}
DEFAULT_STRATEGY = Strategy(reason="one scan per filter")


@dataclass
class Scan:
    kind: str
    metrics: list[m.Metric]
    where: exp.Expression | None = None
    grouped: bool = False
    reason: str = ""
    partitions: tuple[str, ...] | None = None  # grouped scans: only these partitions (None: all)


@dataclass
class TablePlan:
    table: TableSpec
    dialect: str
    checks: list[tuple[CheckSpec, list[m.Metric]]]
    scans: list[Scan] = field(default_factory=list)

    @property
    def metrics(self) -> list[m.Metric]:
        return [metric for scan in self.scans for metric in scan.metrics]

    def describe(self) -> list[dict]:
        return [{"kind": s.kind, "grouped_by_partition": s.grouped, "reason": s.reason,
                 "where": s.where.sql("duckdb") if s.where is not None else None,
                 "metrics": [metric.label() for metric in s.metrics]} for s in self.scans]


def plan_table(table: TableSpec, dialect: str, checks: list[CheckSpec] | None = None,
               partitions: tuple[str, ...] | None = None) -> TablePlan:
    """Plan the table's checks; `partitions` limits per-partition scans to those partitions."""
    strategy = STRATEGIES.get(dialect, DEFAULT_STRATEGY)
    checks = list(table.checks if checks is None else checks)
    requested = [(c, registry.get(c.type).metrics(c)) for c in checks]
    plan = TablePlan(table, dialect, requested)
    grouped = table.partition is not None
    unique: dict[m.Metric, None] = {m.rows(): None}  # the base row count also lists the partitions
    for _, ms in requested:
        for metric in ms:
            unique.setdefault(metric, None)
    fused: dict[tuple, list[m.Metric]] = {}
    for metric in unique:
        scope_grouped = grouped and metric.scope == m.PER_PARTITION
        if metric.kind == m.CATALOG:
            plan.scans.append(Scan(CATALOG, [metric], reason="read from the engine's catalog"))
        elif metric.kind == m.ORPHANS:
            plan.scans.append(Scan(ORPHANS, [metric], metric.where, scope_grouped,
                                   "anti-join with the referenced relation"))
        elif metric.kind == m.DUPLICATES and (len(metric.columns) > 1 or strategy.duplicates_alone):
            why = "several key columns" if len(metric.columns) > 1 else strategy.reason
            plan.scans.append(Scan(DUPLICATES, [metric], metric.where, scope_grouped, why))
        elif (strategy.prunable_alone and metric.stats_prunable and metric.kind == m.COUNT_IF
              and metric.where is None):
            plan.scans.append(Scan(ALONE, [metric], None, scope_grouped, strategy.reason))
        else:
            key = (metric.where, scope_grouped)
            fused.setdefault(key, []).append(metric)
    fused_scans = []
    for (where, is_grouped), ms in fused.items():
        for i in range(0, len(ms), MAX_METRICS_PER_SCAN):
            fused_scans.append(Scan(FUSED, ms[i:i + MAX_METRICS_PER_SCAN], where, is_grouped,
                                    "metrics sharing one filter share one scan"))
    plan.scans = fused_scans + plan.scans
    if partitions is not None:
        # nothing new to check: only whole-table scans remain
        plan.scans = [s for s in plan.scans if not (s.grouped and not partitions)]
        for scan in plan.scans:
            if scan.grouped:
                scan.partitions = tuple(partitions)
    return plan
