"""Metrics: the measurements checks request. Equal metrics are measured once.

A metric is data, not SQL text: the planner decides where it is measured and
sqlbuild turns it into SQL for a dialect.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from sqlglot import exp

from slocompile.dialects.nodes import Quantile, QueryError, RegexSearch, sql_text

# kinds
ROWS = "rows"              # COUNT(*)
COUNT_IF = "count_if"      # rows where `expr` is TRUE
AGGREGATE = "aggregate"    # an aggregate expression over the rows (`expr`)
DUPLICATES = "duplicates"  # rows beyond the first for each value of `columns` (NULL keys excluded)
ORPHANS = "orphans"        # rows whose `columns[0]` has no match in `target`.`field`
CATALOG = "catalog"        # the relation's columns and types, from the engine's catalog
QUERY_ROWS = "query_rows"  # the rows a whole user SELECT (`expr`) returns (assert with a query)
LOAD_TIME = "load_time"    # when the relation was last loaded, as the engine records it (freshness)
KEY_DIFF = "key_diff"      # distinct `columns` values present only on one side (`field`: here | there) (compare)
# an AGGREGATE with a `target` is measured on that relation instead of the table's (compare)

COUNT_KINDS = (ROWS, COUNT_IF, DUPLICATES, ORPHANS, QUERY_ROWS, KEY_DIFF)

# scopes
PER_PARTITION = "partition"  # measured per partition when the table has one
WHOLE_TABLE = "table"        # measured over the whole table (freshness, schema)


@dataclass(frozen=True)
class Metric:
    kind: str
    expr: exp.Expression | None = None
    where: exp.Expression | None = None
    columns: tuple[str, ...] = ()
    target: exp.Table | None = None
    field: str | None = None
    scope: str = PER_PARTITION
    # True when an engine with zone maps can answer this as a filtered COUNT(*) without reading data
    stats_prunable: bool = False
    # a COUNT_IF over one column whose values are expected to be few: may be counted per distinct value
    per_value: bool = False
    # segments (`group_by:` of a check): measured per value of these columns, the `max_segments`
    # largest by rows apart and the rest pooled into one segment (planning: one grouped scan)
    group_by: tuple[str, ...] = ()
    max_segments: int = 0

    def __hash__(self) -> int:
        # computed once: plans key dicts by metric many times, and the fields are immutable
        # (frozen: write around __setattr__; an explicit __hash__ overrides the generated one)
        h = self.__dict__.get("_hash")
        if h is None:
            h = self.__dict__["_hash"] = hash((self.kind, self.expr, self.where, self.columns, self.target,
                                               self.field, self.scope, self.stats_prunable, self.per_value,
                                               self.group_by, self.max_segments))
        return h

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}  # caches stay in-process

    @property
    def default(self) -> int | None:
        """The value when a partition has no rows matching the metric's query."""
        return 0 if self.kind in COUNT_KINDS else None

    def label(self, dialect: str = "duckdb") -> str:
        """A readable, stable name for history and plans (computed once per metric and dialect)."""
        cache: dict[str, str] = self.__dict__.setdefault("_labels", {})  # frozen: write around __setattr__
        if dialect not in cache:
            cache[dialect] = self._label(dialect)
        return cache[dialect]

    def _label(self, dialect: str) -> str:
        where = f" WHERE {sql_text(self.where, dialect)}" if self.where is not None else ""
        # the constructors below give COUNT_IF and AGGREGATE an expr, ORPHANS a target
        expr = cast(exp.Expression, self.expr)
        if self.kind == ROWS:
            body = "row_count"
        elif self.kind == COUNT_IF:
            body = f"count_if({sql_text(expr, dialect)})"
        elif self.kind == AGGREGATE:
            body = sql_text(expr, dialect) if not _is_custom(expr) else _custom_label(expr, dialect)
        elif self.kind == DUPLICATES:
            body = f"duplicates({', '.join(self.columns)})"
        elif self.kind == QUERY_ROWS:
            body = f"rows_returned({sql_text(expr, dialect)})"
        elif self.kind == ORPHANS:
            body = f"orphans({self.columns[0]} -> {sql_text(cast(exp.Table, self.target), dialect)}.{self.field})"
        elif self.kind == LOAD_TIME:
            body = "last_load_time"
        elif self.kind == KEY_DIFF:
            other = sql_text(cast(exp.Table, self.target), dialect)
            body = f"keys_only_{self.field}({', '.join(self.columns)} vs {other})"
        else:
            body = "catalog"
        if self.kind == AGGREGATE and self.target is not None:
            body += f" ON {sql_text(self.target, dialect)}"
        by = f" BY {', '.join(self.group_by)} (top {self.max_segments})" if self.group_by else ""
        return body + where + by


def _is_custom(e: exp.Expression) -> bool:
    return any(isinstance(n, (Quantile, RegexSearch, QueryError)) for n in e.walk())


def _custom_label(e: exp.Expression, dialect: str) -> str:
    from slocompile.dialects.render import render

    return render(e, "duckdb")


def rows(where: exp.Expression | None = None) -> Metric:
    return Metric(ROWS, where=where, stats_prunable=True)


def count_if(condition: exp.Expression, where: exp.Expression | None = None, stats_prunable: bool = False,
             per_value: bool = False) -> Metric:
    return Metric(COUNT_IF, expr=condition, where=where, stats_prunable=stats_prunable, per_value=per_value)


def aggregate(expr: exp.Expression, where: exp.Expression | None = None, scope: str = PER_PARTITION,
              target: exp.Table | None = None) -> Metric:
    """`target`: measured on that relation (compare's other side) instead of the table's."""
    return Metric(AGGREGATE, expr=expr, where=where, scope=scope, target=target)


def key_diff(columns: tuple[str, ...], target: exp.Table, side: str, where: exp.Expression | None = None) -> Metric:
    return Metric(KEY_DIFF, columns=tuple(columns), target=target, field=side, where=where)


def duplicates(columns: tuple[str, ...], where: exp.Expression | None = None) -> Metric:
    return Metric(DUPLICATES, columns=tuple(columns), where=where)


def orphans(column: str, target: exp.Table, field: str, where: exp.Expression | None = None) -> Metric:
    return Metric(ORPHANS, columns=(column,), target=target, field=field, where=where)


def query_rows(query: exp.Expression) -> Metric:
    return Metric(QUERY_ROWS, expr=query, scope=WHOLE_TABLE)


def segmented(metric: Metric, group_by: tuple[str, ...], max_segments: int) -> Metric:
    """`metric` per segment: per value of the `group_by` columns."""
    return replace(metric, group_by=tuple(group_by), max_segments=max_segments)


def catalog() -> Metric:
    return Metric(CATALOG, scope=WHOLE_TABLE)


def load_time() -> Metric:
    return Metric(LOAD_TIME, scope=WHOLE_TABLE)
