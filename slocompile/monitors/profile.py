"""Per-partition column profiles: the profile queries (``slocompile.sqltrees.profiles``) run on
an Engine, their rows read into ``Profile`` objects.

A profile is what the monitors know about one partition: a flat dict of metrics
``{(column_or_None, metric): float}`` plus small per-column summaries (deciles, fixed-bin
counts, top-k category counts) from which drift is computed later without rescanning. The
queries are rendered for the engine's dialect by ``slocompile.dialects.render``, so the same
code profiles on DuckDB, Postgres and Spark.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlglot import exp

from slocompile.dialects.render import render
from slocompile.engines.base import Engine
from slocompile.sqltrees.profiles import (
    DECILES,
    FAMILIES,
    HOURS,
    ProfiledColumn,
    ProfiledTable,
    base_query,
    categories_query,
    column_alias,
    dependent_query,
    keys_query,
    partitions_query,
    segments_query,
)

__all__ = ["DECILES", "FAMILIES", "HOURS", "Profile", "ProfiledColumn", "ProfiledTable", "dependent", "learn_edges",
           "list_partitions", "parse_partition", "partition_text", "profile", "rows_of"]

_c = column_alias


@dataclass
class Profile:
    """Profiles of several partitions, keyed by partition text (ISO date for dates)."""
    metrics: dict[str, dict[tuple[str | None, str], float]] = field(default_factory=dict)
    summaries: dict[str, dict[str, dict]] = field(default_factory=dict)


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


# ----------------------------------------------------------------------------- running

def rows_of(engine: Engine, q: exp.Query | None) -> list[dict]:
    """Run a query built for this call (rendered in place, not copied: a long history's ranges
    table makes copies costly) and return its rows as dicts by output name."""
    if q is None:
        return []
    names = list(q.named_selects)
    return [dict(zip(names, r)) for r in engine.query(render(q, engine.dialect, copy=False))]


def list_partitions(engine: Engine, spec: ProfiledTable, upto=None) -> list:
    """Partition values in order (optionally those <= ``upto``)."""
    q = partitions_query(spec, upto)
    return sorted(r[0] for r in engine.query(render(q, engine.dialect, copy=False)))


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


def _row_metrics(spec: ProfiledTable, r: dict, with_bins: bool) -> tuple[dict, dict]:
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


def _dependent_metrics(spec: ProfiledTable, i: int, r: dict, m: dict, summ: dict, with_bins: bool) -> None:
    """Out-of-range fraction and histogram bins of valued column i, when the row has them."""
    p, name, nv = _c(i), spec.columns[i].name, r[f"{_c(i)}__valued"]
    if f"{p}__oor" in r:
        _put(m, name, "out_of_range_fraction", _ratio(r[f"{p}__oor"], nv))
    cum: list[float] = []
    while f"{p}__lt{len(cum)}" in r:
        cum.append(r[f"{p}__lt{len(cum)}"])
    if cum and with_bins and nv:
        edges = [0] + cum + [nv]
        summ.setdefault(name, {})["bins"] = [int(b - a) for a, b in zip(edges, edges[1:])]


def _key_metrics(spec: ProfiledTable, r: dict, n: float, m: dict) -> None:
    _put(m, None, "duplicate_fraction", None if not n else 1.0 - r["distinct_keys"] / n)
    if not r["matched"]:
        return
    for i, c in enumerate(spec.columns):
        _put(m, c.name, "unchanged_fraction", _ratio(r[f"{_c(i)}__same"], r[f"{_c(i)}__both"]))


def learn_edges(deciles: list[list[float] | None]) -> list[float]:
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


def profile(engine: Engine, spec: ProfiledTable, partitions: list | None = None, *, pairs: list[tuple] | None = None,
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
        allp = list_partitions(engine, spec, upto=max(partitions) if partitions else None)
        pairs = [(b, a) for a, b in zip(allp, allp[1:])]
        if partitions is not None:
            want = set(partitions)
            pairs = [pr for pr in pairs if pr[0] in want]
    out = Profile()
    base = rows_of(engine, base_query(spec, partitions, range_idx, edge_idx))
    for r in base:
        t = partition_text(r["__p"])
        keep_bins = bins_for is None or t in bins_for
        out.metrics[t], out.summaries[t] = _row_metrics(spec, r, keep_bins)
    for r in rows_of(engine, keys_query(spec, partitions, pairs or [])):
        t = partition_text(r["__p"])
        if t in out.metrics:
            _key_metrics(spec, r, out.metrics[t][(None, "row_count")], out.metrics[t])
    for r in rows_of(engine, categories_query(spec, partitions)):
        t = partition_text(r["__p"])
        if t in out.summaries:
            out.summaries[t][spec.columns[r["__i"]].name]["top"][r["__val"]] = int(r["__n"])
    for column, values in spec.segments:
        for r in rows_of(engine, segments_query(spec, partitions, column, values)):
            t = partition_text(r["__p"])
            if t in out.metrics:
                _segment_metrics(spec, f"{column}={r['__s']}", r, out.metrics[t])
    return out


def segment_key(column: str | None, segment: str) -> str:
    """The pseudo-column a segment's metrics are kept under: "country=BR" (its row count) or
    "age [country=BR]": the detection treats it as one more column, so messages name both."""
    return segment if column is None else f"{column} [{segment}]"


def _segment_metrics(spec: ProfiledTable, segment: str, r: dict, m: dict) -> None:
    n = r["row_count"]
    _put(m, segment_key(None, segment), "row_count", n)
    for i, c in enumerate(spec.columns):
        key = segment_key(c.name, segment)
        _put(m, key, "missing_fraction", _ratio(n - r[f"{_c(i)}__n"], n))
        if c.family == "numeric" and r[f"{_c(i)}__n"]:
            _put(m, key, "mean", r[f"{_c(i)}__mean"])
            _put(m, key, "std", r[f"{_c(i)}__std"])


def dependent(engine: Engine, spec: ProfiledTable, prof: Profile, partitions: list | None, ranges: dict | None,
              edges: dict[str, list[float]] | None, bins_for: set | None = None) -> None:
    """Add out-of-range fractions and bin counts to an existing profile (a second scan)."""
    index = {c.name: i for i, c in enumerate(spec.columns)}
    edge_idx = {index[k]: v for k, v in (edges or {}).items() if k in index and v}
    range_idx = None
    if ranges:
        range_idx = {p: {index[k]: v for k, v in r.items() if k in index} for p, r in ranges.items()}
    q = dependent_query(spec, partitions, range_idx, edge_idx)
    for r in rows_of(engine, q):
        t = partition_text(r["__p"])
        if t not in prof.metrics:
            continue
        for i in spec.valued():
            _dependent_metrics(spec, i, r, prof.metrics[t], prof.summaries[t], bins_for is None or t in bins_for)
