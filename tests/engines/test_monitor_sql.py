"""The monitors' SQL for Postgres and Spark, without an engine: every profile query renders with
the engine's own constructs (render.py's rewrites) and re-parses in its dialect, and so do the
reads and deletes of the monitor tables (values as escaped literals). The queries' results on
real engines are compared with DuckDB's in test_monitors_on_engines.py."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
from sqlglot import exp

from slocompile.dialects.render import render
from slocompile.dialects.rules import duckdb_type
from slocompile.spec.model import Schemas
from slocompile.sqltrees.profiles import (
    ProfiledColumn,
    ProfiledTable,
    base_query,
    categories_query,
    dependent_query,
    keys_query,
    meta_delete,
    meta_rows,
)

D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)
SPEC = ProfiledTable(exp.to_table("raw.t"), "ds", ("user_id",),
                     (ProfiledColumn("age", "numeric"), ProfiledColumn("country", "categorical"),
                      ProfiledColumn("email", "string"), ProfiledColumn("ok", "boolean"),
                      ProfiledColumn("ts", "timestamp")), "date")
QUERIES = {
    "base": lambda: base_query(SPEC, [D1, D2], {D1: {0: (1.0, 5.5)}, D2: {}}, {0: [1.0, 2.5, 1e-05]}),
    "dependent": lambda: dependent_query(SPEC, None, {D1: {0: (1.0, 5.5), 4: (None, 3.0)}}, {0: [1.0, 2.0]}),
    "keys": lambda: keys_query(SPEC, [D2], [(D2, D1)]),
    "keys, nothing before": lambda: keys_query(SPEC, None, []),
    "categories": lambda: categories_query(SPEC, [D1]),
}
# what each engine must (and must not) be sent
EXPECTED = {
    "postgres": (["COUNT(DISTINCT", "PERCENTILE_CONT(ARRAY[0.1", "WITHIN GROUP (ORDER BY", "= CAST('NaN' AS DOUBLE",
                  "DATE_PART('epoch'", "(ARRAY_AGG("],
                 ["APPROX", "IS_NAN", "QUANTILE", "EPOCH(", "ANY_VALUE"]),
    "spark": (["APPROX_COUNT_DISTINCT(", "PERCENTILE(`__v0`, ARRAY(0.1", "ISNAN(", "UNIX_MICROS("],
              ["PERCENTILE_CONT", "QUANTILE", "UNIX_TIMESTAMP", "EPOCH("]),
}


@pytest.mark.parametrize("dialect", ["postgres", "spark"])
def test_profile_queries_use_the_engines_constructs(dialect):
    text = {name: render(q(), dialect) for name, q in QUERIES.items()}
    joined = "\n".join(text.values())
    must, must_not = EXPECTED[dialect]
    for s in must:
        assert s in joined, (dialect, s)
    for s in must_not:
        assert s not in joined, (dialect, s)
    for sql in text.values():
        sqlglot.parse_one(sql, read=dialect)  # re-parses
    # bounds compared with values are doubles everywhere; the ranges table's unknown bounds typed
    assert "2.5e0" in text["base"] and "1e-05" in text["base"]
    assert "CAST(NULL AS DOUBLE" in text["dependent"]


def test_duckdb_profile_sql_keeps_duckdbs_functions():
    sql = render(QUERIES["base"](), "duckdb")
    for s in ("APPROX_COUNT_DISTINCT(", "QUANTILE_CONT(", "ISNAN(", "EPOCH("):
        assert s in sql


def test_monitor_tables_are_read_and_replaced_with_escaped_literals():
    schemas = Schemas()
    q = meta_rows(schemas, "monitor_metrics", ["column_name", "value"], "it's", since="2024-01-01")
    assert render(q, "postgres") == ('SELECT "column_name", "value" FROM "slo"."monitor_metrics" WHERE '
                                     '"table_name" = \'it\'\'s\' AND "partition" >= \'2024-01-01\'')
    assert "`table_name` = 'it\\'s'" in render(q, "spark")
    d = meta_delete(schemas, "monitor_alerts", "t", ["2024-01-01", "2024-01-02"])
    assert render(d, "duckdb") == ('DELETE FROM "slo"."monitor_alerts" WHERE "table_name" = \'t\' AND '
                                   '"partition" IN (\'2024-01-01\', \'2024-01-02\')')
    assert render(meta_delete(schemas, "monitor_state", "t", None), "spark") == \
        "DELETE FROM `slo`.`monitor_state` WHERE `table_name` = 't'"
    assert meta_delete(schemas, "monitor_alerts", "t", []) is None  # no partition: nothing to delete
    for dialect in ("postgres", "spark"):
        sqlglot.parse_one(render(q, dialect), read=dialect)


@pytest.mark.parametrize("dialect,type_text,duck", [
    ("postgres", "double precision", "DOUBLE"), ("postgres", "timestamp without time zone", "TIMESTAMP"),
    ("postgres", "character varying", "TEXT"), ("spark", "string", "TEXT"), ("spark", "array<int>", "INT[]"),
    ("spark", "decimal(10,2)", "DECIMAL(10, 2)"), ("duckdb", "VARCHAR", "VARCHAR")])
def test_catalog_types_in_duckdb_names(dialect, type_text, duck):
    assert duckdb_type(type_text, dialect) == duck


def test_duckdb_engine_insert_rows(tmp_path):
    """Engine.insert_rows on DuckDB (Postgres and Spark: through the monitors' meta writes in
    test_monitors_on_engines.py): values arrive as their columns' types, NaN and NULL included."""
    import math

    import duckdb
    import numpy as np

    from slocompile.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(duckdb.connect(":memory:"), ":memory:")
    eng.execute("CREATE TABLE t (s TEXT, v DOUBLE, b BOOLEAN, n INT, ts TIMESTAMP)")
    T = exp.DataType.Type
    cols = [("s", T.TEXT), ("v", T.DOUBLE), ("b", T.BOOLEAN), ("n", T.INT), ("ts", T.TIMESTAMP)]
    eng.insert_rows(exp.to_table("t"), cols, [("it's", np.float64(1.5), True, np.int64(3), dt.datetime(2024, 1, 1)),
                                              ('{"a": "\\u00e9"}', float("nan"), None, None, None)])
    first, second = sorted(eng.query("SELECT * FROM t"), key=lambda r: r[0])
    assert first == ("it's", 1.5, True, 3, dt.datetime(2024, 1, 1))
    assert second[0] == '{"a": "\\u00e9"}' and math.isnan(second[1]) and second[2:] == (None, None, None)
