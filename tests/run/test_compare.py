"""`compare` on DuckDB (issue 12, item 5): metrics of both sides per partition within a tolerance,
keys present on one side only (counts and failed-row samples), `where` on both sides, the queries
it costs, and its declaration errors (file:line, exit 2)."""
from __future__ import annotations

import json
import os

import pytest
from proj import sql, write
from specproblems import problems
from test_cli import cli

from slocompile.api import Project
from slocompile.planning.planner import plan_table

TABLES = """
tables:
  - name: orders
    relation: raw.orders
    partition: ds
    checks:
      - compare: {with: legacy.orders, on: [id], metrics: [row_count, sum(amount)], tolerance: 5%}
      - compare: {with: legacy, metrics: [row_count, max(amount)], name: exact}
      - compare: {with: legacy.orders, metrics: [count(*)], where: "status <> 'test'", name: no_tests}
  - name: legacy
    relation: legacy.orders
    partition: ds
  - name: dims
    relation: raw.dims
    checks:
      - compare: {with: legacy.dims, on: code, tolerance: 1}
"""
DATA = [
    "CREATE SCHEMA IF NOT EXISTS legacy",
    "CREATE OR REPLACE TABLE raw.orders (id INT, ds DATE, amount DOUBLE, status TEXT)",
    "INSERT INTO raw.orders VALUES (1, '2026-01-01', 10, 'ok'), (2, '2026-01-01', 20, 'ok'), "
    "(3, '2026-01-02', 30, 'ok'), (4, '2026-01-02', 40, 'test'), (NULL, '2026-01-02', 1, 'ok')",
    "CREATE OR REPLACE TABLE legacy.orders (id INT, ds DATE, amount DOUBLE, status TEXT)",
    # day 1: the same; day 2: key 3 missing, 5 added, amounts off by more than 5%; day 3: only here
    "INSERT INTO legacy.orders VALUES (1, '2026-01-01', 10, 'ok'), (2, '2026-01-01', 20, 'ok'), "
    "(5, '2026-01-02', 30, 'ok'), (4, '2026-01-02', 40, 'ok'), (NULL, '2026-01-02', 1, 'ok'), "
    "(9, '2026-01-03', 1, 'ok')",
    "CREATE OR REPLACE TABLE raw.dims AS SELECT * FROM (VALUES ('a'), ('b'), ('c')) t(code)",
    "CREATE OR REPLACE TABLE legacy.dims AS SELECT * FROM (VALUES ('a'), ('b'), ('d'), ('e')) t(code)",
]


def project(tmp_path, tables: str = TABLES) -> str:
    root = write(tmp_path, tables)
    sql(root, DATA)
    return root


def test_metrics_and_keys_per_partition(tmp_path):
    root = project(tmp_path)
    run = Project.load(root).build()
    got = {(r.check, r.partition): r for r in run.results if r.check_type == "compare"}
    day1, day2 = got[("compare_legacy_orders", "2026-01-01")], got[("compare_legacy_orders", "2026-01-02")]
    assert day1.status == "pass" and day1.observed == {
        "row_count": {"here": 2, "other": 2}, "sum(amount)": {"here": 30, "other": 30},
        "keys_only_here": 0, "keys_only_other": 0}
    assert day2.status == "fail" and day2.observed["keys_only_here"] == 1 and day2.observed["keys_only_other"] == 1
    assert day2.observed["sum(amount)"] == {"here": 71, "other": 71}  # within tolerance: only the keys differ
    assert day2.message == "1 key only here, 1 only in legacy.orders; expected within 5%, the same keys"
    # the other side's partition 2026-01-03 is not a partition of orders
    assert {p for _, p in got if p} == {"2026-01-01", "2026-01-02"}
    assert got[("exact", "2026-01-02")].status == "pass"
    assert got[("no_tests", "2026-01-02")].observed == {"count(*)": {"here": 2, "other": 3}}  # where: both sides
    dims = got[("compare_legacy_dims", None)]
    assert dims.status == "fail" and dims.observed["row_count"] == {"here": 3, "other": 4}  # within 1 row
    assert dims.message == "1 key only here, 2 only in legacy.dims; expected within 1, the same keys"


def test_failed_rows_name_the_key_and_its_side(tmp_path):
    root = project(tmp_path)
    Project.load(root).build()
    out = cli("show", "orders", "--failures", cwd=root, check=0).stdout
    assert '[2026-01-02] id=3, _slo_side="here"' in out and '[2026-01-02] id=5, _slo_side="there"' in out
    with open(os.path.join(root, "target", "run_results.json")) as fh:
        results = json.load(fh)["results"]
    dims = next(r for r in results if r["check"] == "compare_legacy_dims")
    assert dims["failed_rows"] == [{"code": "c", "_slo_side": "here"}, {"code": "d", "_slo_side": "there"},
                                   {"code": "e", "_slo_side": "there"}]


def test_queries_it_costs(tmp_path):
    spec = Project.load(project(tmp_path)).spec
    orders = spec.table("orders")
    alone = plan_table(orders, "postgres", [])
    both = plan_table(orders, "postgres", [c for c in orders.checks if c.name in ("compare_legacy_orders", "exact")])
    # this side: the fused scan already there; the other relation: one scan for both checks; keys: one join
    assert len(both.scans) == len(alone.scans) + 2
    assert sorted(s.placement for s in both.scans) == ["compare", "fused", "key_diff"]


@pytest.mark.parametrize("check,message", [
    ("- compare: {with: legacy.orders, metrics: [amount]}", "metric 'amount' of 'compare' of table 'orders': must "
     "use an aggregate function such as count(*), avg(x) or min(x)"),
    ("- compare: {with: legacy.orders, metrics: [row_count, row_count]}", "'compare' of table 'orders': 'metrics' "
     "lists a metric twice"),
    ("- compare: {with: 'legacy.orders; drop'}", "'compare' of table 'orders': 'with' 'legacy.orders; drop' is not "
     "a relation name (write schema.table)"),
    ("- compare: {on: [id]}", "'compare' of table 'orders' is missing required key 'with'"),
    ("- compare: {with: legacy.orders, tolerance: lots}", "'tolerance' in 'compare' of table 'orders' must be a "
     "percentage of the baseline such as '25%', or an absolute amount (a number >= 0), not 'lots'"),
    ("- compare: {with: legacy.orders, on: [idd]}", "'compare' of table 'orders': unknown column 'idd' (did you "
     "mean 'id'?)"),
])
def test_declaration_errors(tmp_path, check, message):
    text = ("tables:\n  - name: orders\n    relation: raw.orders\n    checks:\n      " + check
            + "\n    columns:\n      - name: id\n      - name: amount\n")
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].startswith("slos/t.yml:5:") and found[0].endswith(message), found


def test_compare_is_a_table_check_and_bad_input_exits_2(tmp_path):
    root = project(tmp_path, "tables:\n  - name: t\n    relation: raw.orders\n    columns:\n      - name: id\n"
                             "        checks:\n          - compare: {with: legacy.orders}\n")
    out = cli("compile", cwd=root, check=2).stderr
    assert "slos/tables.yml:7:13: table 't', column 'id': 'compare' is a table-level check" in out
