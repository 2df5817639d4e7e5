"""Issue 11, item 13: a real partition value '(null)' next to NULL partition keys stays its own
partition: the label of the NULL partition is '(null)', and a value that reads like it gets one
more '(' in front (spec.model.partition_label), in SQL and in Python alike."""
from __future__ import annotations

import duckdb
import pytest
from proj import build, query, sql, write

from slocompile.dialects.nodes import col
from slocompile.dialects.render import render
from slocompile.spec.model import NULL_PARTITION, partition_label, partition_value
from slocompile.sqltrees.scans import partition_label_of

TRICKY = ["(null)", "((null)", "(((null)", "(xnull)", "(", "null)", "(null", "", "a", "(nul)", "( null)"]


def test_labels_are_one_to_one_and_sql_agrees_with_python():
    labels = [partition_label(v) for v in [None, *TRICKY]]
    assert len(set(labels)) == len(labels)
    assert partition_label(None) == NULL_PARTITION
    assert [partition_value(label) for label in labels] == [None, *TRICKY]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[None], *[[v] for v in TRICKY]])
    rendered = render(partition_label_of(col("v")), "duckdb")
    got = dict(con.execute(f"SELECT v, {rendered} FROM t").fetchall())
    assert got == {v: partition_label(v) for v in [None, *TRICKY]}


def table(gate: str) -> dict:
    return {"name": "t", "relation": "raw.t", "partition": "grp", "gate": gate,
            "checks": [{"row_count": {"min": 3}}]}


@pytest.mark.parametrize("gate", ["filter", "last_good"])
def test_a_null_partition_and_a_real_null_lookalike_stay_apart(tmp_path, gate):
    root = write(tmp_path, [table(gate)])
    sql(root, "CREATE TABLE raw.t (grp VARCHAR, x INT)")
    sql(root, "INSERT INTO raw.t VALUES (NULL, 1), (NULL, 2), (NULL, 3), ('(null)', 4), ('(null)', 5), "
              "('((null)', 6), ('a', 7), ('a', 8), ('a', 9), ('a', 10)")
    run = build(root)
    rows = {r.partition: (r.status, r.observed) for r in run.results if r.check == "row_count"}
    assert rows == {"(null)": ("pass", 3), "((null)": ("fail", 2), "(((null)": ("fail", 1), "a": ("pass", 4)}
    status = dict(query(root, "SELECT partition, status FROM slo.status WHERE partition IS NOT NULL"))
    assert status == {"(null)": "pass", "((null)": "fail", "(((null)": "fail", "a": "pass"}
    # the view serves the NULL partition (passed) and 'a', never the failing '(null)' values
    assert sorted(r[0] for r in query(root, "SELECT x FROM validated.t")) == [1, 2, 3, 7, 8, 9, 10]
    # an incremental build has nothing new to check; a named partition is checked alone
    again = build(root)
    assert set(again.tables[0].partitions) == {"((null)", "(((null)"}  # the failing ones, again
    named = build(root, partitions=["((null)"])
    assert {r.partition for r in named.results if r.check == "row_count"} == {"((null)"}
