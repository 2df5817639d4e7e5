"""The monitors' profile queries as sqlglot trees (run by ``slocompile.monitors.profile``).

A profile is what the monitors know about one partition; these queries measure it, each
``GROUP BY`` partition, so one statement covers any number of partitions:

- ``base_query``: row count and the per-column aggregates that need nothing from history;
- ``dependent_query``: the out-of-historical-range counts and fixed-bin histogram counts, which
  need per-partition ranges and frozen bin edges learned from history (fused into ``base_query``
  when known up front, as in an incremental build);
- ``keys_query``: distinct keys per partition (key duplicates) and, per column, how many keys kept
  the value they had in the previous partition (stale copies);
- ``categories_query``: value counts of categorical columns, top-k per partition;
- ``partitions_query`` and ``distinct_counts_query``: the partitions of a table, and the distinct
  values of its text columns over the first few (column discovery);
- ``meta_rows`` and ``meta_delete``: the monitor tables of the meta schema, read and replaced.

The trees use DuckDB's constructs where dialects differ, and ``slocompile.dialects.render``
rewrites them for each engine: the approximate distinct count (exact ``COUNT(DISTINCT)`` on
Postgres), the deciles (``PERCENTILE_CONT(ARRAY[...]) WITHIN GROUP`` on Postgres, exact
``PERCENTILE(x, ARRAY(...))`` on Spark), ``ISNAN`` (``x = 'NaN'`` on Postgres) and epoch seconds
(``DATE_PART('epoch', ...)`` on Postgres, ``UNIX_MICROS(...) / 1e6`` on Spark). Bounds compared
with values (historical ranges, bin edges) are written as double literals (``1.5e0``), and the
ranges table's unknown bounds as typed NULLs, so every engine compares doubles with doubles.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import cast

from sqlglot import exp

from slocompile.dialects.nodes import TimeBucket, col, lit
from slocompile.spec.model import Schemas
from slocompile.sqltrees import meta

FAMILIES = ("numeric", "categorical", "boolean", "timestamp", "string")
DECILES = tuple(round(0.1 * i, 1) for i in range(1, 10))
HOURS = 3600.0


@dataclass(frozen=True)
class ProfiledColumn:
    name: str
    family: str  # one of FAMILIES

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown column family {self.family!r} for {self.name!r}")


@dataclass(frozen=True)
class ProfiledTable:
    """What to profile: a relation, its partition column, its key and typed columns."""
    relation: exp.Table
    partition: str
    key: tuple[str, ...] = ()
    columns: tuple[ProfiledColumn, ...] = ()
    partition_kind: str = "date"  # date | timestamp | other (lag metrics need a date or timestamp)
    top_k: int = 50
    partition_grain: str | None = None  # hour | day | week | month: the partition is the truncated column
    # `monitor: {segments: [...]}`: (column, its top values) profiled per value, the rest pooled
    segments: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def has_lag(self) -> bool:
        return self.partition_kind in ("date", "timestamp")

    def valued(self) -> list[int]:
        """Indexes of columns with a numeric value expression (numbers, timestamp lags)."""
        return [i for i, c in enumerate(self.columns)
                if c.family == "numeric" or (c.family == "timestamp" and self.has_lag)]


# ----------------------------------------------------------------------------- AST helpers

def _id(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=_id(name), table=_id(table) if table else None)


def _num(x: float) -> exp.Expr:
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"non-finite literal {x!r}")
    return exp.convert(x)


def _dbl(x: float) -> exp.Expression:
    """A double literal: exponent notation (a double on DuckDB and Spark, where ``1.5`` is a
    decimal; a numeric that Postgres converts exactly)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite literal {x!r}")
    text = repr(x)
    return exp.Literal.number(text if "e" in text else text + "e0")


def _null_dbl() -> exp.Expression:
    return exp.cast(exp.Null(), exp.DataType.build("DOUBLE"))


def _count_if(cond: exp.Expr) -> exp.Count:
    return exp.Count(this=exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(1))]))


def _alias(e: exp.Expr, name: str) -> exp.Alias:
    return cast(exp.Alias, exp.alias_(e, _id(name), copy=False))  # a column alias: always an Alias node (e is fresh)


def _partition(spec: ProfiledTable) -> exp.Expression:
    """A row's partition: the partition column, truncated to the table's grain when it has one
    (as sqltrees.scans.partition_expr)."""
    if spec.partition_grain is None:
        return _col(spec.partition)
    return TimeBucket(this=_col(spec.partition), unit=exp.Literal.string(spec.partition_grain))


def partition_literal(value) -> exp.Expr:
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _num(value)
    return exp.Literal.string(str(value))


def column_alias(i: int) -> str:
    """Column i's name in the queries: its aggregates come back as ``{alias}__n``, ``{alias}__mean``, ..."""
    return f"__c{i}"


_c = column_alias


def _v(i: int) -> str:
    return f"__v{i}"


def _k(j: int) -> str:
    return f"__k{j}"


def _value_expr(spec: ProfiledTable, i: int) -> exp.Expression | None:
    """The numeric value monitored for column i: the number (NaN as NULL) or the lag in hours."""
    c = spec.columns[i]
    raw = _col(c.name)
    if c.family == "numeric":
        dbl = exp.cast(raw, exp.DataType.build("DOUBLE"))
        return exp.Case(ifs=[exp.If(this=exp.IsNan(this=dbl.copy()), true=exp.Null())], default=dbl)
    if c.family == "timestamp" and spec.has_lag:
        ts = exp.DataType.build("TIMESTAMP")
        lag = exp.Sub(this=exp.TimeToUnix(this=exp.cast(_partition(spec), ts)),
                      expression=exp.TimeToUnix(this=exp.cast(raw, ts)))
        return exp.Div(this=exp.paren(lag), expression=_num(HOURS))
    return None


def _src(spec: ProfiledTable, partitions: list | None) -> exp.Select:
    """src: partition, key parts, raw columns and value expressions under positional names."""
    sel = [_alias(_partition(spec), "__p")]
    sel += [_alias(_col(k), _k(j)) for j, k in enumerate(spec.key)]
    for i, c in enumerate(spec.columns):
        sel.append(_alias(_col(c.name), _c(i)))
        v = _value_expr(spec, i)
        if v is not None:
            sel.append(_alias(v, _v(i)))
    q = exp.select(*sel).from_(spec.relation.copy())
    if partitions is not None:
        q = q.where(exp.In(this=_partition(spec),
                           expressions=[partition_literal(p) for p in partitions] or [exp.Null()]))
    return q


def _with_src(q: exp.Select, spec: ProfiledTable, partitions: list | None) -> exp.Select:
    return q.with_(_id("src"), as_=_src(spec, partitions))


# ----------------------------------------------------------------------------- queries

def _base_aggregates(spec: ProfiledTable) -> list[exp.Expression]:
    out: list[exp.Expression] = [_alias(exp.Count(this=exp.Star()), "row_count")]
    for i, c in enumerate(spec.columns):
        raw, name = _col(_c(i)), _c(i)
        out.append(_alias(exp.Count(this=raw.copy()), f"{name}__n"))
        # HyperLogLog: exact for small counts, a few percent off for large ones, and several times
        # cheaper than an exact COUNT(DISTINCT) on many columns at once. Spark: HyperLogLog++ at its
        # default 5% relative standard deviation (at 2% its buffers made the query 5 times slower);
        # Postgres has none and counts exactly (render.py)
        out.append(_alias(exp.ApproxDistinct(this=raw.copy()), f"{name}__distinct"))
        if c.family in ("categorical", "string"):
            txt = exp.cast(raw.copy(), exp.DataType.build("TEXT"))
            out.append(_alias(_count_if(exp.EQ(this=exp.Trim(this=txt), expression=exp.Literal.string(""))),
                              f"{name}__empty"))
            if c.family == "string":
                out.append(_alias(exp.Avg(this=exp.Length(this=txt.copy())), f"{name}__length"))
        elif c.family == "boolean":
            out.append(_alias(_count_if(raw.copy()), f"{name}__true"))
        v = _col(_v(i))
        if i in spec.valued():
            out.append(_alias(exp.Count(this=v.copy()), f"{name}__valued"))
            out.append(_alias(exp.Avg(this=v.copy()), f"{name}__mean"))
            out.append(_alias(exp.StddevSamp(this=v.copy()), f"{name}__std"))
            out.append(_alias(exp.Min(this=v.copy()), f"{name}__min"))
            out.append(_alias(exp.Max(this=v.copy()), f"{name}__max"))
            out.append(_alias(exp.PercentileCont(this=v.copy(), expression=exp.Array(
                expressions=[_num(q) for q in DECILES])), f"{name}__deciles"))
            if c.family == "numeric":
                out.append(_alias(_count_if(exp.EQ(this=v.copy(), expression=_num(0))), f"{name}__zero"))
                out.append(_alias(_count_if(exp.LT(this=v.copy(), expression=_num(0))), f"{name}__neg"))
            else:  # a timestamp more than a day after the start of its partition
                out.append(_alias(_count_if(exp.LT(this=v.copy(), expression=_num(-24.0))), f"{name}__future"))
    return out


def _dependent_aggregates(spec: ProfiledTable, ranges: bool, edges: dict[int, list[float]]) -> list:
    out = []
    for i in spec.valued():
        v = _col(_v(i))
        if ranges:
            lo, hi = _col(f"__lo{i}", "__r"), _col(f"__hi{i}", "__r")
            out.append(_alias(_count_if(exp.or_(exp.LT(this=v.copy(), expression=lo),
                                                exp.GT(this=v.copy(), expression=hi))), f"{_c(i)}__oor"))
        # histogram as cumulative counts below each edge (one comparison each); bins by differences
        for b, edge in enumerate(edges.get(i) or []):
            out.append(_alias(_count_if(exp.LT(this=v.copy(), expression=_dbl(edge))), f"{_c(i)}__lt{b}"))
    return out


def _ranges_table(spec: ProfiledTable, ranges: dict) -> exp.Values:
    """VALUES (partition, lo_i, hi_i, ...) for the out-of-range counts; NULL where unknown."""
    cols = spec.valued()
    rows = []
    for p, r in ranges.items():
        vals = [partition_literal(p)]
        for i in cols:
            lo, hi = r.get(i, (None, None))
            vals += [_null_dbl() if lo is None else _dbl(lo), _null_dbl() if hi is None else _dbl(hi)]
        rows.append(exp.Tuple(expressions=vals))
    names = ["__p"] + [n for i in cols for n in (f"__lo{i}", f"__hi{i}")]
    values = exp.Values(expressions=rows, alias=exp.TableAlias(this=_id("__r"),
                                                               columns=[_id(n) for n in names]))
    return values


def _grouped(spec: ProfiledTable, aggs: list, partitions: list | None, ranges: dict | None) -> exp.Select:
    q = exp.select(_alias(_col("__p", "src"), "__p"), *aggs).from_(exp.to_table("src").as_(_id("src")))
    if ranges:
        q = q.join(_ranges_table(spec, ranges), on=exp.EQ(this=_col("__p", "src"), expression=_col("__p", "__r")),
                   join_type="left")
    return _with_src(q.group_by(_col("__p", "src")), spec, partitions)


def base_query(spec: ProfiledTable, partitions: list | None = None, ranges: dict | None = None,
               edges: dict[int, list[float]] | None = None) -> exp.Select:
    """Row count and per-column aggregates per partition; with ``ranges`` ({partition value:
    {column index: (lo, hi)}}) and/or ``edges`` ({column index: sorted bin edges}) the dependent
    counts are fused into the same scan."""
    aggs = _base_aggregates(spec) + _dependent_aggregates(spec, bool(ranges), edges or {})
    return _grouped(spec, aggs, partitions, ranges)


OTHER_SEGMENT = "(other)"


def segment_expr(column: str, values: tuple[str, ...]) -> exp.Expression:
    """A row's segment: the column's value as text when it is one of ``values``, else (other)."""
    txt = exp.cast(_col(column), exp.DataType.build("TEXT"))
    return exp.Case(ifs=[exp.If(this=exp.In(this=txt, expressions=[lit(v) for v in values] or [exp.Null()]),
                                true=txt.copy())], default=lit(OTHER_SEGMENT))


def segments_query(spec: ProfiledTable, partitions: list | None, column: str, values: tuple[str, ...]) -> exp.Select:
    """Per partition and segment of ``column``: the row count and, per monitored column, its
    non-NULL count and (numbers) mean and standard deviation."""
    src = _src(spec, partitions).select(_alias(segment_expr(column, values), "__s"), copy=False)
    aggs: list[exp.Expression] = [_alias(exp.Count(this=exp.Star()), "row_count")]
    for i, c in enumerate(spec.columns):
        aggs.append(_alias(exp.Count(this=_col(_c(i))), f"{_c(i)}__n"))
        if c.family == "numeric":
            aggs.append(_alias(exp.Avg(this=_col(_v(i))), f"{_c(i)}__mean"))
            aggs.append(_alias(exp.StddevSamp(this=_col(_v(i))), f"{_c(i)}__std"))
    q = exp.select(_alias(_col("__p"), "__p"), _alias(_col("__s"), "__s"), *aggs).from_("src")
    return q.group_by(_col("__p"), _col("__s")).with_(_id("src"), as_=src)


def top_values_query(spec: ProfiledTable, column: str, upto, limit: int) -> exp.Select:
    """The ``limit`` most frequent values (as text) of ``column`` over the partitions <= ``upto``."""
    txt = exp.cast(_col(column), exp.DataType.build("TEXT"))
    q = exp.select(_alias(txt, "__v"), _alias(exp.Count(this=exp.Star()), "__n")).from_(spec.relation.copy())
    q = q.where(exp.Not(this=exp.Is(this=_col(column), expression=exp.Null())))
    if upto is not None:
        q = q.where(exp.LTE(this=_partition(spec), expression=partition_literal(upto)))
    return q.group_by(txt.copy()).order_by(exp.Ordered(this=_col("__n"), desc=True), _col("__v")).limit(limit)


def dependent_query(spec: ProfiledTable, partitions: list | None, ranges: dict | None,
                    edges: dict[int, list[float]] | None) -> exp.Select | None:
    """Only the out-of-range and histogram counts (a second scan, when ranges and edges were not
    known before the first)."""
    aggs = _dependent_aggregates(spec, bool(ranges), edges or {})
    if not aggs:
        return None
    aggs += [_alias(exp.Count(this=_col(_v(i))), f"{_c(i)}__valued") for i in spec.valued()]
    return _grouped(spec, aggs, partitions, ranges)


def keys_query(spec: ProfiledTable, partitions: list | None, pairs: list[tuple]) -> exp.Select | None:
    """Distinct keys per partition and, per column, keys whose value equals the previous
    partition's. ``pairs`` lists (partition, previous partition) values; the scan covers both."""
    if not spec.key:
        return None
    keys = [_col(_k(j)) for j in range(len(spec.key))]
    k = exp.select(_col("__p"), *[c.copy() for c in keys],
                   *[_alias(exp.AnyValue(this=_col(_c(i))), _c(i)) for i in range(len(spec.columns))]
                   ).from_("src").group_by(_col("__p"), *[c.copy() for c in keys])
    sel = [_alias(_col("__p", "cur"), "__p"), _alias(exp.Count(this=exp.Star()), "distinct_keys"),
           _alias(exp.Count(this=_col("__p", "prev")), "matched")]
    for i in range(len(spec.columns)):
        a, b = _col(_c(i), "cur"), _col(_c(i), "prev")
        both = exp.and_(exp.Not(this=exp.Is(this=a.copy(), expression=exp.Null())),
                        exp.Not(this=exp.Is(this=b.copy(), expression=exp.Null())))
        sel.append(_alias(_count_if(both), f"{_c(i)}__both"))
        sel.append(_alias(_count_if(exp.EQ(this=a.copy(), expression=b.copy())), f"{_c(i)}__same"))
    q = exp.select(*sel).from_(exp.to_table("k").as_(_id("cur")))
    if pairs:
        values = exp.Values(expressions=[exp.Tuple(expressions=[partition_literal(p), partition_literal(q_)])
                                         for p, q_ in pairs],
                            alias=exp.TableAlias(this=_id("pairs"), columns=[_id("__p"), _id("__prev")]))
        q = q.join(values, on=exp.EQ(this=_col("__p", "cur"), expression=_col("__p", "pairs")), join_type="left")
        on = exp.and_(exp.EQ(this=_col("__p", "prev"), expression=_col("__prev", "pairs")),
                      *[exp.EQ(this=_col(_k(j), "prev"), expression=_col(_k(j), "cur")) for j in range(len(spec.key))])
        q = q.join(exp.to_table("k").as_(_id("prev")), on=on, join_type="left")
    else:  # nothing to compare with: keep the shape, match nothing
        q = q.join(exp.to_table("k").as_(_id("prev")), on=exp.false(), join_type="left")
    if partitions is not None:
        q = q.where(exp.In(this=_col("__p", "cur"), expressions=[partition_literal(p) for p in partitions]
                           or [exp.Null()]))
    q = q.group_by(_col("__p", "cur"))
    scanned = None
    if partitions is not None:
        scanned = list(dict.fromkeys(list(partitions) + [b for _, b in pairs]))
    q = q.with_(_id("src"), as_=_src(spec, scanned))
    return q.with_(_id("k"), as_=k)


def categories_query(spec: ProfiledTable, partitions: list | None) -> exp.Select | None:
    """Per categorical column and partition, the top-k values by count (ties by value)."""
    cats = [i for i, c in enumerate(spec.columns) if c.family == "categorical"]
    if not cats:
        return None
    branches = []
    for i in cats:
        txt = exp.cast(_col(_c(i)), exp.DataType.build("TEXT"))
        branches.append(exp.select(_alias(_col("__p"), "__p"), _alias(_num(i), "__i"),
                                   _alias(txt, "__val"), _alias(exp.Count(this=exp.Star()), "__n"))
                        .from_("src").where(exp.Not(this=exp.Is(this=_col(_c(i)), expression=exp.Null())))
                        .group_by(_col("__p"), txt.copy()))
    union: exp.Query = branches[0]
    for b in branches[1:]:
        union = exp.union(union, b, distinct=False)
    rn = exp.Window(this=exp.RowNumber(), partition_by=[_col("__p"), _col("__i")],
                    order=exp.Order(expressions=[exp.Ordered(this=_col("__n"), desc=True),
                                                 exp.Ordered(this=_col("__val"))]))
    ranked = exp.select(_col("__p"), _col("__i"), _col("__val"), _col("__n"), _alias(rn, "__rn")
                        ).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=_id("u"))))
    q = exp.select(_col("__p"), _col("__i"), _col("__val"), _col("__n")).from_(
        exp.Subquery(this=ranked, alias=exp.TableAlias(this=_id("r")))).where(
        exp.LTE(this=_col("__rn"), expression=_num(spec.top_k)))
    return _with_src(q, spec, partitions)


def partitions_query(spec: ProfiledTable, upto=None) -> exp.Select:
    """The distinct non-NULL partition values (optionally those <= ``upto``), in order."""
    q = exp.select(exp.Distinct(expressions=[_partition(spec)])).from_(spec.relation.copy())
    q = q.where(exp.Not(this=exp.Is(this=_col(spec.partition), expression=exp.Null())))
    if upto is not None:
        q = q.where(exp.LTE(this=_partition(spec), expression=partition_literal(upto)))
    return q.order_by(_partition(spec))


def distinct_counts_query(relation: exp.Table, names: list[str], partition: str | None,
                          sample_partitions: int) -> exp.Select:
    """One row: the distinct count of each column in `names` (``d0``, ``d1``, ...), over the first
    `sample_partitions` partitions when the table has a `partition` column."""
    q = exp.select(*[exp.alias_(exp.Count(this=exp.Distinct(expressions=[exp.column(n, quoted=True)])),
                                exp.to_identifier(f"d{i}", quoted=True)) for i, n in enumerate(names)]
                   ).from_(relation.copy())
    if partition:
        firsts = exp.select(exp.column(partition, quoted=True)).from_(relation.copy()).distinct().order_by(
            exp.column(partition, quoted=True)).limit(sample_partitions)
        q = q.where(exp.In(this=exp.column(partition, quoted=True), query=exp.Subquery(this=firsts)))
    return q


# ----------------------------------------------------------------------------- the meta schema

def _of_table(table: str) -> exp.Expression:
    return exp.EQ(this=col("table_name"), expression=lit(table))


def meta_rows(schemas: Schemas, name: str, columns: list[str], table: str, since: str | None = None) -> exp.Select:
    """`columns` of a monitor table's rows for `table` (those of partitions >= `since`)."""
    cond: exp.Expr = _of_table(table)
    if since is not None:
        cond = exp.and_(cond, exp.GTE(this=col("partition"), expression=lit(since)))
    return exp.select(*[col(c) for c in columns]).from_(meta.table(schemas, name)).where(cond)


def meta_delete(schemas: Schemas, name: str, table: str, partitions: list[str] | None) -> exp.Delete | None:
    """Delete `table`'s rows of a monitor table (of `partitions` only, unless None); None when
    there is no partition to delete."""
    cond: exp.Expr = _of_table(table)
    if partitions is not None:
        if not partitions:
            return None
        cond = exp.and_(cond, exp.In(this=col("partition"), expressions=[lit(p) for p in partitions]))
    return exp.Delete(this=meta.table(schemas, name), where=exp.Where(this=cond))
