"""What a monitored table monitors: its columns (declared or discovered) with their families, its
segments, the partition kind, the profiled-table spec and the settings of its partitions' grain.

Shared by the build's monitor step (``run.monitors``) and ``run.backtest``, so both judge the same
columns the same way.
"""
from __future__ import annotations

from sqlglot import exp

from slocompile.dialects.rules import duckdb_type
from slocompile.engines.base import Engine
from slocompile.errors import Problem, SpecError, did_you_mean
from slocompile.monitors import ProfiledColumn, discover_columns, make_spec, monitor_family
from slocompile.monitors.bands import sensitive, settings_for
from slocompile.monitors.profile import rows_of
from slocompile.sqltrees.profiles import top_values_query

SEGMENTS = 20  # values of a segment column with bands of their own (the most frequent); the rest pooled


def read_catalog(engine: Engine, relation: exp.Table) -> list[tuple[str, str]]:
    """(name, type) of the relation's columns, the types in DuckDB's spelling; [] when it does not exist."""
    return [(n, duckdb_type(t, engine.dialect)) for n, t in engine.columns(relation) or []]


def _base(family: str | None) -> str | None:
    return "string" if family == "categorical" else family


def partition_kind(catalog: list[tuple[str, str]], column: str) -> str:
    dtype = dict(catalog).get(column, "").upper()
    if dtype == "DATE":
        return "date"
    if dtype.startswith("TIMESTAMP") or dtype == "DATETIME":
        return "timestamp"
    return "other"


def resolve_columns(engine: Engine, table, relation: exp.Table, catalog: list[tuple[str, str]],
                    families: dict[str, str]) -> list:
    """The monitored columns with their families: the declared list, or every column of the
    catalog but the partition and the key. Families recorded by earlier builds are kept (a text
    column stays categorical or free text for good); new or retyped columns are discovered."""
    types = dict(catalog)
    wanted = table.monitor.columns
    if wanted is None:
        exclude = {table.partition, *table.key}
        wanted = [n for n, t in catalog if n not in exclude and monitor_family(t) is not None]
    else:
        problems = missing_columns(table, catalog)
        if problems:
            raise SpecError([Problem(loc, msg) for loc, msg in problems])
    need = [c for c in wanted if c not in families or _base(families[c]) != _base(monitor_family(types[c]))]
    found = {}
    if need:
        keep = set(need)
        found = {c.name: c.family for c in discover_columns(
            engine, relation, exclude=[n for n in types if n not in keep], partition=table.partition)}
    return [ProfiledColumn(c, found.get(c) or families[c]) for c in wanted if c in found or c in families]


def missing_columns(table, catalog: list[tuple[str, str]], dialect: str = "duckdb") -> list[tuple]:
    """(location, message) for declared monitor columns the relation lacks or monitors cannot
    profile (`catalog` types in `dialect`'s names); build.py reports them with the other
    declaration problems."""
    if table.monitor is None or table.monitor.columns is None:
        return []
    types = dict(catalog)
    where = f"table '{table.name}', 'monitor'"
    out = []
    for c in table.monitor.columns:
        if c not in types:
            out.append((table.monitor.loc, f"{where}: column '{c}' is not in {table.relation_text}"
                        f"{did_you_mean(c, types)}"))
        elif monitor_family(duckdb_type(types[c], dialect)) is None:
            out.append((table.monitor.loc, f"{where}: column '{c}' is {types[c]}, a type monitors do not profile "
                        "(numbers, text, booleans, dates and timestamps)"))
    return out


def resolve_segments(engine: Engine, table, spec, known: dict, upto) -> tuple:
    """((column, values), ...) of `monitor: {segments: [...]}`: the values recorded by earlier builds
    (so every build and backtest judge the same segments), else the most frequent ones up to `upto`."""
    out = []
    for column in getattr(table.monitor, "segments", ()):
        values = known.get(column)
        if values is None:
            values = tuple(r["__v"] for r in rows_of(engine, top_values_query(spec, column, upto, SEGMENTS)))
        out.append((column, tuple(values)))
    return tuple(out)


def monitor_spec(table, relation, catalog, columns):
    """The profiled-table spec of a monitored table (monitors.make_spec)."""
    grain = table.partition_grain  # a time partition's grain (issue 16): hours are timestamps, the others dates
    kind = partition_kind(catalog, table.partition) if grain is None else "timestamp" if grain == "hour" else "date"
    return make_spec(relation, table.partition, list(table.key), columns, partition_kind=kind, partition_grain=grain)


def table_settings(table, partitions: list[str]):
    """The monitor settings of a table: the seasonal cycle and history of its partitions' grain
    (declared, or read from their spacing)."""
    base = settings_for(table.partition_grain, partitions)
    return sensitive(base, table.monitor.sensitivity, dict(table.monitor.column_sensitivity))
