"""Per-partition column profiles, built as sqlglot ASTs and run on DuckDB, Postgres or Spark.

A profile is what the monitors know about one partition: a flat dict of metrics
``{(column_or_None, metric): float}`` plus small per-column summaries (deciles, fixed-bin
counts, top-k category counts) from which drift is computed later without rescanning.

Queries (each ``GROUP BY`` partition, so one statement covers any number of partitions):

- ``base``: row count and the per-column aggregates that need nothing from history;
- ``dependent``: the out-of-historical-range counts and fixed-bin histogram counts, which need
  per-partition ranges and frozen bin edges learned from history (fused into ``base`` when known
  up front, as in an incremental build);
- ``keys``: distinct keys per partition (key duplicates) and, per column, how many keys kept the
  value they had in the previous partition (stale copies);
- ``categories``: value counts of categorical columns, top-k per partition.

The trees are rendered for the connection's engine by ``slocompile.dialects.render`` (DuckDB's own
connection, or an ``engines.dbapi.EngineConnection``), whose rewrites turn the DuckDB-only
constructs into each engine's own: the approximate distinct count (exact ``COUNT(DISTINCT)`` on
Postgres), the deciles (``PERCENTILE_CONT(ARRAY[...]) WITHIN GROUP`` on Postgres, exact
``PERCENTILE(x, ARRAY(...))`` on Spark), ``ISNAN`` (``x = 'NaN'`` on Postgres) and epoch seconds
(``DATE_PART('epoch', ...)`` on Postgres, ``UNIX_MICROS(...) / 1e6`` on Spark). Bounds compared
with values (historical ranges, bin edges) are written as double literals (``1.5e0``), and the
ranges table's unknown bounds as typed NULLs, so every engine compares doubles with doubles.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlglot import exp

FAMILIES = ("numeric", "categorical", "boolean", "timestamp", "string")
DECILES = tuple(round(0.1 * i, 1) for i in range(1, 10))
HOURS = 3600.0


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    family: str  # one of FAMILIES

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown column family {self.family!r} for {self.name!r}")


@dataclass(frozen=True)
class TableSpec:
    """What to profile: a relation, its partition column, its key and typed columns."""
    relation: exp.Table
    partition: str
    key: tuple[str, ...] = ()
    columns: tuple[ColumnSpec, ...] = ()
    partition_kind: str = "date"  # date | timestamp | other (lag metrics need a date or timestamp)
    top_k: int = 50

    @property
    def has_lag(self) -> bool:
        return self.partition_kind in ("date", "timestamp")

    def valued(self) -> list[int]:
        """Indexes of columns with a numeric value expression (numbers, timestamp lags)."""
        return [i for i, c in enumerate(self.columns)
                if c.family == "numeric" or (c.family == "timestamp" and self.has_lag)]


@dataclass
class Profile:
    """Profiles of several partitions, keyed by partition text (ISO date for dates)."""
    metrics: dict[str, dict[tuple[str | None, str], float]] = field(default_factory=dict)
    summaries: dict[str, dict[str, dict]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- AST helpers

def _id(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=_id(name), table=_id(table) if table else None)


def _num(x: float) -> exp.Expression:
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


def _count_if(cond: exp.Expression) -> exp.Count:
    return exp.Count(this=exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(1))]))


def _alias(e: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(e, _id(name))


def partition_text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def parse_partition(text: str, kind: str):
    """Inverse of ``partition_text`` for a partition kind (date | timestamp | other)."""
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "timestamp":
        return dt.datetime.fromisoformat(text)
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def partition_literal(value) -> exp.Expression:
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _num(value)
    return exp.Literal.string(str(value))


def _c(i: int) -> str:
    return f"__c{i}"


def _v(i: int) -> str:
    return f"__v{i}"


def _k(j: int) -> str:
    return f"__k{j}"


def _value_expr(spec: TableSpec, i: int) -> exp.Expression | None:
    """The numeric value monitored for column i: the number (NaN as NULL) or the lag in hours."""
    c = spec.columns[i]
    raw = _col(c.name)
    if c.family == "numeric":
        dbl = exp.cast(raw, exp.DataType.build("DOUBLE"))
        return exp.Case(ifs=[exp.If(this=exp.IsNan(this=dbl.copy()), true=exp.Null())], default=dbl)
    if c.family == "timestamp" and spec.has_lag:
        ts = exp.DataType.build("TIMESTAMP")
        lag = exp.Sub(this=exp.TimeToUnix(this=exp.cast(_col(spec.partition), ts)),
                      expression=exp.TimeToUnix(this=exp.cast(raw, ts)))
        return exp.Div(this=exp.paren(lag), expression=_num(HOURS))
    return None


def _src(spec: TableSpec, partitions: list | None) -> exp.Select:
    """src: partition, key parts, raw columns and value expressions under positional names."""
    sel = [_alias(_col(spec.partition), "__p")]
    sel += [_alias(_col(k), _k(j)) for j, k in enumerate(spec.key)]
    for i, c in enumerate(spec.columns):
        sel.append(_alias(_col(c.name), _c(i)))
        v = _value_expr(spec, i)
        if v is not None:
            sel.append(_alias(v, _v(i)))
    q = exp.select(*sel).from_(spec.relation.copy())
    if partitions is not None:
        q = q.where(exp.In(this=_col(spec.partition),
                           expressions=[partition_literal(p) for p in partitions] or [exp.Null()]))
    return q


def _with_src(q: exp.Select, spec: TableSpec, partitions: list | None) -> exp.Select:
    return q.with_(_id("src"), as_=_src(spec, partitions))


# ----------------------------------------------------------------------------- queries

def _base_aggregates(spec: TableSpec) -> list[exp.Expression]:
    out = [_alias(exp.Count(this=exp.Star()), "row_count")]
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


def _dependent_aggregates(spec: TableSpec, ranges: bool, edges: dict[int, list[float]]) -> list:
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


def _ranges_table(spec: TableSpec, ranges: dict) -> exp.Values:
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


def _grouped(spec: TableSpec, aggs: list, partitions: list | None, ranges: dict | None) -> exp.Select:
    q = exp.select(_alias(_col("__p", "src"), "__p"), *aggs).from_(exp.to_table("src").as_(_id("src")))
    if ranges:
        q = q.join(_ranges_table(spec, ranges), on=exp.EQ(this=_col("__p", "src"), expression=_col("__p", "__r")),
                   join_type="left")
    return _with_src(q.group_by(_col("__p", "src")), spec, partitions)


def base_query(spec: TableSpec, partitions: list | None = None, ranges: dict | None = None,
               edges: dict[int, list[float]] | None = None) -> exp.Select:
    """Row count and per-column aggregates per partition; with ``ranges`` ({partition value:
    {column index: (lo, hi)}}) and/or ``edges`` ({column index: sorted bin edges}) the dependent
    counts are fused into the same scan."""
    aggs = _base_aggregates(spec) + _dependent_aggregates(spec, bool(ranges), edges or {})
    return _grouped(spec, aggs, partitions, ranges)


def dependent_query(spec: TableSpec, partitions: list | None, ranges: dict | None,
                    edges: dict[int, list[float]] | None) -> exp.Select | None:
    """Only the out-of-range and histogram counts (a second scan, when ranges and edges were not
    known before the first)."""
    aggs = _dependent_aggregates(spec, bool(ranges), edges or {})
    if not aggs:
        return None
    aggs += [_alias(exp.Count(this=_col(_v(i))), f"{_c(i)}__valued") for i in spec.valued()]
    return _grouped(spec, aggs, partitions, ranges)


def keys_query(spec: TableSpec, partitions: list | None, pairs: list[tuple]) -> exp.Select | None:
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


def categories_query(spec: TableSpec, partitions: list | None) -> exp.Select | None:
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
    union = branches[0]
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


# ----------------------------------------------------------------------------- running

def render(q: exp.Expression, dialect: str = "duckdb", copy: bool = True) -> str:
    from slocompile.dialects.render import render as render_for

    return render_for(q, dialect, copy=copy)


def _execute(con, q: exp.Expression):
    """Run a tree built for this call (rendered in place, not copied: a long history's ranges table
    makes copies costly): an EngineConnection renders it for its engine; DuckDB's connection gets
    text."""
    from slocompile.engines.dbapi import EngineConnection

    return con.execute(q) if isinstance(con, EngineConnection) else con.execute(render(q, copy=False))


def list_partitions(con, spec: TableSpec, upto=None) -> list:
    """Partition values in order (optionally those <= ``upto``)."""
    q = exp.select(exp.Distinct(expressions=[_col(spec.partition)])).from_(spec.relation.copy())
    q = q.where(exp.Not(this=exp.Is(this=_col(spec.partition), expression=exp.Null())))
    if upto is not None:
        q = q.where(exp.LTE(this=_col(spec.partition), expression=partition_literal(upto)))
    return sorted(r[0] for r in _execute(con, q.order_by(_col(spec.partition))).fetchall())


def _rows(con, q: exp.Expression | None) -> list[dict]:
    if q is None:
        return []
    cur = _execute(con, q)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _f(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _ratio(a, b) -> float | None:
    return None if not b else float(a) / float(b)


def _put(out: dict, col, metric, value) -> None:
    value = _f(value)
    if value is not None:
        out[(col, metric)] = value


def _row_metrics(spec: TableSpec, r: dict, with_bins: bool) -> tuple[dict, dict]:
    """One partition's aggregates (base, and dependent when present) -> metrics, summaries."""
    n = r["row_count"]
    m: dict = {(None, "row_count"): float(n)}
    summ: dict = {}
    valued = set(spec.valued())
    for i, c in enumerate(spec.columns):
        p, name = _c(i), c.name
        nn = r[f"{p}__n"]
        _put(m, name, "distinct_count", r[f"{p}__distinct"])
        if i in valued:
            nv = r[f"{p}__valued"]
            pre = "" if c.family == "numeric" else "lag_"
            _put(m, name, "missing_fraction", _ratio(n - nv, n))
            for k in ("mean", "std", "min", "max"):
                _put(m, name, pre + k, r[f"{p}__{k}"])
            dec = r[f"{p}__deciles"]
            if dec is not None and nv:
                dec = [float(x) for x in dec]
                summ.setdefault(name, {})["deciles"] = dec
                for q, j in (("q10", 0), ("q50", 4), ("q90", 8)):
                    _put(m, name, pre + q, dec[j])
                _put(m, name, pre + "spread", dec[8] - dec[0])
            if c.family == "numeric":
                _put(m, name, "zero_fraction", _ratio(r[f"{p}__zero"], nv))
                _put(m, name, "negative_fraction", _ratio(r[f"{p}__neg"], nv))
            else:
                _put(m, name, "future_fraction", _ratio(r[f"{p}__future"], nv))
            _dependent_metrics(spec, i, r, m, summ, with_bins)
        else:
            _put(m, name, "missing_fraction", _ratio(n - nn, n))
        if c.family in ("categorical", "string"):
            _put(m, name, "empty_fraction", _ratio(r[f"{p}__empty"], nn))
        if c.family == "string":
            _put(m, name, "mean_length", r[f"{p}__length"])
        if c.family == "boolean":
            _put(m, name, "true_fraction", _ratio(r[f"{p}__true"], nn))
        if c.family == "categorical":
            summ.setdefault(name, {})["top"] = {}
            summ[name]["nonnull"] = int(nn)
    return m, summ


def _dependent_metrics(spec: TableSpec, i: int, r: dict, m: dict, summ: dict, with_bins: bool) -> None:
    """Out-of-range fraction and histogram bins of valued column i, when the row has them."""
    p, name, nv = _c(i), spec.columns[i].name, r[f"{_c(i)}__valued"]
    if f"{p}__oor" in r:
        _put(m, name, "out_of_range_fraction", _ratio(r[f"{p}__oor"], nv))
    cum = []
    while f"{p}__lt{len(cum)}" in r:
        cum.append(r[f"{p}__lt{len(cum)}"])
    if cum and with_bins and nv:
        edges = [0] + cum + [nv]
        summ.setdefault(name, {})["bins"] = [int(b - a) for a, b in zip(edges, edges[1:])]


def _key_metrics(spec: TableSpec, r: dict, n: float, m: dict) -> None:
    _put(m, None, "duplicate_fraction", None if not n else 1.0 - r["distinct_keys"] / n)
    if not r["matched"]:
        return
    for i, c in enumerate(spec.columns):
        _put(m, c.name, "unchanged_fraction", _ratio(r[f"{_c(i)}__same"], r[f"{_c(i)}__both"]))


def learn_edges(deciles: list[list[float]]) -> list[float]:
    """Frozen histogram edges: the median of each decile over the given partitions, deduplicated."""
    rows = [d for d in deciles if d]
    if not rows:
        return []
    med = sorted(sorted(r[j] for r in rows)[len(rows) // 2] for j in range(len(rows[0])))
    out: list[float] = []
    for x in med:
        if math.isfinite(x) and (not out or x > out[-1]):
            out.append(float(x))
    return out


def profile(con, spec: TableSpec, partitions: list | None = None, *, pairs: list[tuple] | None = None,
            ranges: dict | None = None, edges: dict[str, list[float]] | None = None,
            bins_for: set | None = None) -> Profile:
    """Profile ``partitions`` (values; all when None) in a few grouped scans.

    ``pairs`` gives each partition's previous partition (for stale-copy counts; computed from the
    table when None), ``ranges`` {partition value: {column name: (lo, hi)}} the historical range of
    each valued column, ``edges`` {column name: frozen bin edges}. Dependent counts are fused into
    the base scan. ``bins_for`` limits which partitions (texts) keep bin summaries.
    """
    index = {c.name: i for i, c in enumerate(spec.columns)}
    edge_idx = {index[k]: v for k, v in (edges or {}).items() if k in index and v}
    range_idx = None
    if ranges:
        range_idx = {p: {index[k]: v for k, v in r.items() if k in index} for p, r in ranges.items()}
    if pairs is None and spec.key:
        allp = list_partitions(con, spec, upto=max(partitions) if partitions else None)
        pairs = [(b, a) for a, b in zip(allp, allp[1:])]
        if partitions is not None:
            want = set(partitions)
            pairs = [pr for pr in pairs if pr[0] in want]
    out = Profile()
    base = _rows(con, base_query(spec, partitions, range_idx, edge_idx))
    for r in base:
        t = partition_text(r["__p"])
        keep_bins = bins_for is None or t in bins_for
        out.metrics[t], out.summaries[t] = _row_metrics(spec, r, keep_bins)
    for r in _rows(con, keys_query(spec, partitions, pairs or [])):
        t = partition_text(r["__p"])
        if t in out.metrics:
            _key_metrics(spec, r, out.metrics[t][(None, "row_count")], out.metrics[t])
    for r in _rows(con, categories_query(spec, partitions)):
        t = partition_text(r["__p"])
        if t in out.summaries:
            out.summaries[t][spec.columns[r["__i"]].name]["top"][r["__val"]] = int(r["__n"])
    return out


def dependent(con, spec: TableSpec, prof: Profile, partitions: list | None, ranges: dict | None,
              edges: dict[str, list[float]] | None, bins_for: set | None = None) -> None:
    """Add out-of-range fractions and bin counts to an existing profile (a second scan)."""
    index = {c.name: i for i, c in enumerate(spec.columns)}
    edge_idx = {index[k]: v for k, v in (edges or {}).items() if k in index and v}
    range_idx = None
    if ranges:
        range_idx = {p: {index[k]: v for k, v in r.items() if k in index} for p, r in ranges.items()}
    q = dependent_query(spec, partitions, range_idx, edge_idx)
    for r in _rows(con, q):
        t = partition_text(r["__p"])
        if t not in prof.metrics:
            continue
        for i in spec.valued():
            _dependent_metrics(spec, i, r, prof.metrics[t], prof.summaries[t], bins_for is None or t in bins_for)
