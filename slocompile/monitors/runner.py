"""Backtest and incremental profiling: the I/O around ``judge_partition``.

``backtest`` profiles every partition once (per-partition metrics never depend on later
partitions; histogram edges are frozen from the first ``min_history`` partitions and historical
ranges use only earlier partitions), then replays partitions in order, each judged by
``judge_partition`` against the history of the partitions before it, exactly as a daily build
would (``profile_new`` + ``judge_partition`` + ``History.record``).
"""
from __future__ import annotations

import datetime as dt

from sqlglot import exp

from slocompile.dialects.render import render
from slocompile.dialects.rules import duckdb_type
from slocompile.engines.base import Engine
from slocompile.monitors.bands import DEFAULT, Settings
from slocompile.monitors.detect import freeze_edges, historical_range, judge_partition, ranges_from_history
from slocompile.monitors.history import History, Judgement
from slocompile.monitors.profile import (
    Profile,
    ProfiledColumn,
    ProfiledTable,
    dependent,
    learn_edges,
    list_partitions,
    parse_partition,
    partition_text,
    profile,
)
from slocompile.sqltrees.profiles import distinct_counts_query

_NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC"}
_STRING = {"VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "UUID"}


def monitor_family(data_type: str) -> str | None:
    """Monitor family of a DuckDB type name; None for what monitors do not profile (nested types,
    blobs, intervals, times of day)."""
    t = data_type.strip().upper()
    if "[" in t:  # lists and arrays
        return None
    base = t.split("(")[0].strip()
    if base == "BOOLEAN":
        return "boolean"
    if base.startswith("TIMESTAMP") or base in ("DATE", "DATETIME"):
        return "timestamp"
    if base in _NUMERIC:
        return "numeric"
    if base == "ENUM":
        return "categorical"
    if base in _STRING:
        return "string"
    return None


def discover_columns(engine: Engine, relation: exp.Table | str, exclude=(), categorical_max: int = 1000,
                     sample_partitions: int = 7, partition: str | None = None) -> list[ProfiledColumn]:
    """Columns and families from the engine's catalog; text columns with few distinct values (at
    most ``categorical_max`` over a few partitions) are categorical, the others free strings."""
    rel = exp.to_table(relation) if isinstance(relation, str) else relation
    out = []
    for name, dtype in engine.columns(rel) or []:
        fam = monitor_family(duckdb_type(dtype, engine.dialect))
        if name in exclude or fam is None:
            continue
        out.append(ProfiledColumn(name, fam))
    strings = [c for c in out if c.family == "string"]
    if strings:
        q = distinct_counts_query(rel, [c.name for c in strings], partition, sample_partitions)
        counts = engine.query(render(q, engine.dialect, copy=False))[0]
        kinds = {c.name: ("categorical" if n <= categorical_max else "string") for c, n in zip(strings, counts)}
        out = [ProfiledColumn(c.name, kinds.get(c.name, c.family)) for c in out]
    return out


def make_spec(relation, partition_column: str, key, columns, partition_kind: str | None = None,
              engine: Engine | None = None, partition_grain: str | None = None, segments=()) -> ProfiledTable:
    rel = exp.to_table(relation) if isinstance(relation, str) else relation
    cols = tuple(c if isinstance(c, ProfiledColumn) else ProfiledColumn(*c) for c in columns)
    if partition_grain is not None and partition_kind is None:  # a time partition (issue 16): hours are timestamps
        partition_kind = "timestamp" if partition_grain == "hour" else "date"
    spec = ProfiledTable(rel, partition_column, tuple(key or ()), cols, partition_kind or "date",
                         partition_grain=partition_grain, segments=tuple(segments))
    if partition_kind is None and engine is not None:
        parts = list_partitions(engine, spec)
        kind = "other"
        if parts and isinstance(parts[0], dt.datetime):
            kind = "timestamp"
        elif parts and isinstance(parts[0], dt.date):
            kind = "date"
        spec = ProfiledTable(rel, partition_column, spec.key, cols, kind, partition_grain=partition_grain,
                             segments=tuple(segments))
    return spec


def _valued_names(spec: ProfiledTable) -> list[str]:
    return [spec.columns[i].name for i in spec.valued()]


def profile_all(engine: Engine, spec: ProfiledTable, upto=None, settings: Settings = DEFAULT) -> tuple[list, Profile]:
    """Profile every partition (<= upto): base, keys and categories in one pass, then ranges and
    bins (which need earlier partitions' minima/maxima and the frozen edges) in a second."""
    parts = list_partitions(engine, spec, upto=upto)
    prof = profile(engine, spec, parts if upto is not None else None,
                   pairs=[(b, a) for a, b in zip(parts, parts[1:])])
    texts = [partition_text(v) for v in parts]
    n0 = settings.min_history
    edges = {}
    if len(texts) >= n0:
        for c in _valued_names(spec):
            edges[c] = learn_edges([prof.summaries[p].get(c, {}).get("deciles") for p in texts[:n0]])
    ranges = {}
    for j, v in enumerate(parts):
        earlier = texts[max(0, j - settings.range_window):j]
        r = {}
        for i in spec.valued():
            c = spec.columns[i].name
            pre = "" if spec.columns[i].family == "numeric" else "lag_"
            rng = historical_range([prof.metrics[q].get((c, pre + "min")) for q in earlier],
                                   [prof.metrics[q].get((c, pre + "max")) for q in earlier], settings)
            if rng:
                r[c] = rng
        ranges[v] = r
    dependent(engine, spec, prof, parts if upto is not None else None, ranges, edges, bins_for=set(texts[n0:]))
    return parts, prof


def profile_new(engine: Engine, spec: ProfiledTable, history: History, partitions: list,
                settings: Settings = DEFAULT) -> Profile:
    """Profile new partitions for an incremental build, one fused scan (plus keys, categories),
    with ranges and edges taken from the history; scans only these partitions and the one
    before each (for stale-copy counts)."""
    freeze_edges(history, settings)
    if history.partitions:  # the previous partition of each: the latest one recorded or new before it
        texts = sorted(set(history.partitions) | {partition_text(p) for p in partitions})
        prev = {p: texts[i - 1] for p in partitions if (i := texts.index(partition_text(p))) > 0}
        pairs = [(p, parse_partition(q, spec.partition_kind)) for p, q in prev.items()]
    else:  # nothing recorded yet: ask the table (scans the partition column once)
        allp = list_partitions(engine, spec, upto=max(partitions))
        before = {b: a for a, b in zip(allp, allp[1:])}
        pairs = [(p, before[p]) for p in partitions if p in before]
    ranges = {p: ranges_from_history(history, _valued_names(spec), partition_text(p), settings)
              for p in partitions}
    return profile(engine, spec, list(partitions), pairs=pairs, ranges=ranges,
                   edges=history.edges or None)


def replay(history: History, prof: Profile, texts: list[str], settings: Settings = DEFAULT) -> list[Judgement]:
    out = []
    for p in texts:
        freeze_edges(history, settings)
        j = judge_partition(history, p, prof.metrics[p], prof.summaries.get(p, {}), settings)
        history.record(j)
        out.append(j)
    return out


def detect_range(engine: Engine, relation, partition_column: str, key, columns, start=None, end=None,
             settings: Settings = DEFAULT, table: str | None = None,
             history_out: History | None = None, partition_grain: str | None = None, segments=()) -> list[dict]:
    """Replay partitions in order, each judged only by the partitions before it; return the alerts
    of partitions in [start, end] (dicts: partition, table, column, check, observed, expected,
    message, incident, ...). ``columns``: ProfiledColumn or (name, family) pairs."""
    spec = make_spec(relation, partition_column, key, columns, engine=engine, partition_grain=partition_grain,
                     segments=segments)
    parts, prof = profile_all(engine, spec, upto=end, settings=settings)
    texts = [partition_text(v) for v in parts]
    history = history_out if history_out is not None else History()
    history.table = table or spec.relation.name
    alerts = []
    lo = partition_text(start) if start is not None else None
    for j in replay(history, prof, texts, settings):
        if lo is None or j.partition >= lo:
            alerts += j.alerts
    return alerts


def monitor_partitions(engine: Engine, spec: ProfiledTable, history: History, partitions: list,
                       settings: Settings = DEFAULT) -> list[dict]:
    """One incremental build's monitoring: profile the new partitions (in order), judge each
    against the history before it, record it, and return its alerts with incidents."""
    alerts = []
    for v in sorted(partitions):
        prof = profile_new(engine, spec, history, [v], settings)
        t = partition_text(v)
        if t not in prof.metrics:  # an empty partition has no rows to profile
            continue
        j = judge_partition(history, t, prof.metrics[t], prof.summaries.get(t, {}), settings)
        history.record(j)
        alerts += j.alerts
    return alerts
