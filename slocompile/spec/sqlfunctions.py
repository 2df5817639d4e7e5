"""Which functions user SQL may call: the scalar (and aggregate) functions of its `sql_dialect`.

sqlglot parses a function it has no class for as exp.Anonymous: `strlen(s)` and `json_valid(s)`
are DuckDB functions all the same. For DuckDB the installed engine says what it has (one query of
`duckdb_functions()`, once per process); for the other dialects the engine is not at hand, so a
name sqlglot does not know is accepted and the engine judges it at build time. Everywhere, table
functions and functions that read files or the network, read settings or the environment, sleep,
or change state (sequences, the random seed) are refused: a declaration checks data, nothing else.
"""
from __future__ import annotations

import functools

from sqlglot import exp

from slocompile.errors import did_you_mean

SCALAR, AGGREGATE, WINDOW, TABLE = "scalar", "aggregate", "window", "table"

# refused on every dialect, whatever the engine says: name -> what it does
_DENIED_NAMES = {
    **dict.fromkeys(("getenv", "current_setting", "getvariable", "set_config", "current_setting_value"),
                    "reads settings or the environment"),
    **dict.fromkeys(("nextval", "currval", "setval", "lastval", "setseed"), "changes state"),
    **dict.fromkeys(("sleep", "sleep_ms", "pg_sleep", "pg_sleep_for", "pg_sleep_until"), "sleeps"),
    **dict.fromkeys(("pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",
                     "lo_get", "lo_put", "glob", "file_exists", "java_method", "reflect",
                     "try_reflect", "external_query", "http_get", "http_post", "url_fetch"),
                    "reads files or the network, or runs code"),
    **dict.fromkeys(("pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
                     "pg_advisory_lock", "pg_advisory_xact_lock", "pg_notify"), "acts on the server"),
}
_DENIED_PREFIXES = {"read_": "reads files or the network", "dblink": "reads the network", "lo_": "reads files",
                    "system$": "acts on the server", "parquet_": "reads files", "sniff_": "reads files"}
# sqlglot classes of functions that read files or make rows: refused like the names above
_DENIED_CLASSES = ((exp.ReadCSV, "reads files or the network"), (exp.ReadParquet, "reads files or the network"),
                   (exp.NextValueFor, "changes state"))


def refusal(node: exp.Func, dialect: str) -> str | None:
    """Why the function call `node` is not allowed in user SQL of `dialect`, or None."""
    if isinstance(node, exp.UDTF):  # unnest, explode, ...: sqlglot may have renamed it
        return "table functions (such as unnest) are not allowed in an expression"
    for cls, why in _DENIED_CLASSES:
        if isinstance(node, cls):
            return f"{_name(node)}() {why}: not allowed in a declaration"
    name = _name(node).lower()
    denied = _DENIED_NAMES.get(name) or next((w for p, w in _DENIED_PREFIXES.items() if name.startswith(p)), None)
    if denied:
        return f"{name}() {denied}: not allowed in a declaration"
    if not isinstance(node, exp.Anonymous):
        return None
    known = engine_functions(dialect)
    if known is None:
        return None  # not DuckDB: the engine checks the name at build time
    kind = known.get(name)
    if kind is None:
        return f"unknown function {node.name}(){did_you_mean(name, known)}"
    if kind == TABLE:
        return f"{name}() is a table function: not allowed in an expression"
    if kind == WINDOW:
        return "window functions are not allowed"
    return None


def is_aggregate(node: exp.Expr, dialect: str) -> bool:
    """An aggregate: a sqlglot AggFunc, or an engine aggregate sqlglot does not know (arbitrary(x))."""
    if isinstance(node, exp.AggFunc):
        return True
    if isinstance(node, exp.Anonymous):
        known = engine_functions(dialect)
        return known is not None and known.get(str(node.name).lower()) == AGGREGATE
    return False


def _name(node: exp.Func) -> str:
    return str(node.name) if isinstance(node, exp.Anonymous) else node.sql_name().lower()


@functools.cache
def engine_functions(dialect: str) -> dict[str, str] | None:
    """{name: scalar | aggregate | window | table} of the engine that runs `dialect`, or None when it
    is not at hand (every dialect but DuckDB, which is installed with slocompile)."""
    if dialect != "duckdb":
        return None
    import duckdb  # only when a declaration calls a function sqlglot does not know

    con = duckdb.connect()
    try:
        rows = con.execute("SELECT DISTINCT function_name, function_type FROM duckdb_functions()").fetchall()
    finally:
        con.close()
    kinds: dict[str, set[str]] = {}
    for name, kind in rows:
        kinds.setdefault(str(name).lower(), set()).add(kind)
    out = {}
    for name, k in kinds.items():
        if k & {"scalar", "macro"}:
            out[name] = SCALAR
        elif "aggregate" in k:
            out[name] = AGGREGATE
        elif "window" in k:
            out[name] = WINDOW
        else:
            out[name] = TABLE
    return out
