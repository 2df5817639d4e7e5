"""Spark's copy-on-write DELETE/UPDATE (for parquet tables) computes what the statements would.

The rewritten SELECT is run on DuckDB next to the native statements, so this needs no Spark.
"""
from __future__ import annotations

import duckdb
import sqlglot
from sqlglot import exp

from slocompile.engines.spark import _INSERT, _rewritten_rows

COLS = [("table_name", "string"), ("partition", "string"), ("status", "string"), ("n", "int")]
ROWS = [("a", None, "pass", 1), ("a", "p1", "fail", 2), ("a", "p2", "pass", 3), ("b", None, "fail", 4),
        ("b", "p1", "pass", 5), ("it's", "p1", "pass", 6)]
OPS = [
    "DELETE FROM `m`.`status` WHERE `table_name` = 'a' AND (`partition` IS NULL OR `partition` IN ('p1'))",
    "INSERT INTO `m`.`status` (`table_name`, `partition`, `status`, `n`) VALUES ('a', 'p1', 'pass', 7), "
    "('a', NULL, CAST(NULL AS STRING), 8)",
    "DELETE FROM `m`.`status` WHERE `table_name` = 'b'",
    "UPDATE `m`.`status` SET `status` = 'fail', `n` = 9 WHERE `partition` = 'p1'",
    "INSERT INTO `m`.`status` (`partition`, `table_name`) VALUES ('p3', 'c')",
    "DELETE FROM `m`.`status` WHERE `n` > 8",  # a NULL condition (n of 'c' is NULL) keeps the row
    "UPDATE `m`.`status` SET `n` = `n` + 100",
]


def _fresh(con, name):
    con.execute(f'CREATE OR REPLACE TABLE m."{name}" (table_name TEXT, "partition" TEXT, status TEXT, n INT)')
    con.executemany(f'INSERT INTO m."{name}" VALUES (?, ?, ?, ?)', ROWS)


def test_rewrite_matches_native_statements():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA m")
    _fresh(con, "status")
    native_ops = [sqlglot.parse_one(s, read="spark") for s in OPS]
    for op in native_ops:
        con.execute(op.sql("duckdb"))
    expected = sorted(con.execute("SELECT * FROM m.status").fetchall(), key=repr)

    _fresh(con, "status")
    select = _rewritten_rows(exp.to_table("m.status"), COLS, native_ops)
    got = sorted(con.execute(select.sql("duckdb")).fetchall(), key=repr)
    assert got == expected
    assert ("c", "p3", None, None) in got  # columns an INSERT leaves out are NULL
    assert len(got) == 3


def test_rewrite_without_ops_is_the_table():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA m")
    _fresh(con, "status")
    select = _rewritten_rows(exp.to_table("m.status"), COLS, [])
    assert sorted(con.execute(select.sql("duckdb")).fetchall(), key=repr) == sorted(ROWS, key=repr)


def test_insert_target_is_recognised():
    assert _INSERT.match("INSERT INTO `slo`.`status` (`a`) VALUES (1)").group(1) == "`slo`.`status`"
    assert _INSERT.match("INSERT INTO `we``ird`.t VALUES (1)").group(1) == "`we``ird`.t"
    assert _INSERT.match("INSERT OVERWRITE TABLE t SELECT 1") is None
