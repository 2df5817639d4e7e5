"""Custom check types on DuckDB (issue 12, item 6): an aggregate or metric type is measured in the
table's fused scan (no extra query), a rows type fails with its rows as samples; the compile cache
and slim CI (`state:modified`) see a changed definition."""
from __future__ import annotations

import json
import os
import shutil

from compiling.test_compile_cache import compile_
from proj import sql, write
from test_cli import cli

from slocompile.api import Project
from slocompile.planning.planner import plan_table

SHARE = """\
/*
kind: metric
doc: The share of rows whose column is positive.
params:
  strict: {type: bool, default: true}
*/
avg(case when {{ column }} > 0 or (not {{ strict }} and {{ column }} = 0) then 1.0 else 0.0 end)
"""
LIMIT = """\
/*
kind: aggregate
params:
  statuses: values
*/
count_if({{ column }} not in ({{ statuses }})) = 0
"""
FLIPS = """\
/*
kind: rows
params:
  key: column
  max_statuses: {type: int, default: 1}
*/
select {{ key }}, count(distinct status) as statuses
from {{ this }}
group by {{ key }}
having count(distinct status) > {{ max_statuses }}
"""
TABLES = """
tables:
  - name: orders
    relation: raw.orders
    partition: ds
    checks:
      - flips: {key: id, failed_rows: 5}
      - flips: {key: id, max_statuses: 2, name: many_flips}
    columns:
      - name: amount
        checks:
          - share: {min: 0.7}
          - share: {strict: false, min: 0.7, name: nonnegative}
          - not_null
      - name: status
        checks:
          - known_status: {statuses: [placed, shipped]}
  - name: other
    relation: raw.orders
    checks:
      - row_count: {min: 1}
"""
DATA = ["CREATE OR REPLACE TABLE raw.orders (id INT, ds DATE, amount INT, status TEXT)",
        "INSERT INTO raw.orders VALUES (1, '2026-01-01', 5, 'placed'), (2, '2026-01-01', 0, 'placed'), "
        "(3, '2026-01-01', 4, 'placed'), (1, '2026-01-02', 3, 'shipped'), (4, '2026-01-02', -1, 'lost'), "
        "(5, '2026-01-02', 2, 'placed')"]


def project(tmp_path) -> str:
    root = write(tmp_path, TABLES, extra_files={"macros/share.sql": SHARE, "macros/known_status.sql": LIMIT,
                                                "macros/flips.sql": FLIPS})
    sql(root, DATA)
    return root


def test_aggregate_and_metric_types_share_the_fused_scan(tmp_path):
    spec = Project.load(project(tmp_path)).spec
    orders = spec.table("orders")
    builtin = [c for c in orders.checks if c.type == "not_null"]
    custom = [c for c in orders.checks if c.type in ("share", "known_status")]
    with_custom = plan_table(orders, "postgres", builtin + custom)
    assert len(with_custom.scans) == len(plan_table(orders, "postgres", builtin).scans) == 1
    assert len(with_custom.scans[0].metrics) == 5  # rows, not_null, two shares, known_status
    rows_type = plan_table(orders, "postgres", [c for c in orders.checks if c.type == "flips"])
    assert [s.kind for s in rows_type.scans] == ["fused", "query", "query"]  # each rows check: its own query


def test_results_and_failed_rows_on_duckdb(tmp_path):
    root = project(tmp_path)
    run = Project.load(root).build()
    got = {(r.check, r.partition): (r.status, r.observed) for r in run.results if r.table == "orders"}
    assert got[("share_amount", "2026-01-01")] == ("fail", 2 / 3)
    assert got[("nonnegative", "2026-01-01")] == ("pass", 1.0)
    assert got[("share_amount", "2026-01-02")] == ("fail", 2 / 3)
    assert got[("known_status_status", "2026-01-02")] == ("fail", False)
    assert got[("known_status_status", "2026-01-01")] == ("pass", True)
    assert got[("flips", None)] == ("fail", 1) and got[("many_flips", None)] == ("pass", 0)
    out = cli("show", "orders", "--failures", "flips", cwd=root, check=0).stdout
    assert "id=1, statuses=2" in out
    with open(os.path.join(root, "target", "run_results.json")) as fh:
        results = json.load(fh)["results"]
    flips = next(r for r in results if r["check"] == "flips")
    assert flips["check_type"] == "flips" and flips["failed_rows"] == [{"id": 1, "statuses": 2}]
    assert "share_amount" in cli("report", cwd=root, check=0).stdout + open(
        os.path.join(root, "target", "report.html")).read()


def test_a_changed_definition_invalidates_the_compile_cache(tmp_path):
    root = project(tmp_path)
    imported, first = compile_(tmp_path)
    assert imported and not compile_(tmp_path)[0]
    with open(os.path.join(root, "macros", "share.sql"), "a") as fh:
        fh.write(" * 1.0\n")  # the body changed: the SQL does
    assert compile_(tmp_path)[0]
    checks_sql = tmp_path / "target" / "compiled" / "duckdb" / "orders" / "checks.sql"
    assert "1.0 ELSE 0.0 END) * 1.0" in checks_sql.read_text()
    assert not compile_(tmp_path)[0]


def test_state_modified_selects_the_tables_using_a_changed_type(tmp_path):
    root = project(tmp_path)
    cli("compile", cwd=root, check=0)
    shutil.copytree(os.path.join(root, "target"), os.path.join(root, "prod"))

    def modified() -> str:
        return cli("compile", "--select", "state:modified", "--state", "prod", cwd=root, check=0).stdout

    assert "compiled 0 tables" in modified() or "nothing to" in modified()
    path = os.path.join(root, "macros", "flips.sql")
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("default: 1}", "default: 3}"))  # a default the checks use
    out = modified()
    assert "compiled 1 tables" in out, out  # orders uses flips; other does not


def test_a_project_loaded_earlier_still_builds_after_another_loads(tmp_path):
    first = Project.load(project(tmp_path / "a"))
    other = write(tmp_path / "b", "tables:\n  - name: o\n    relation: raw.o\n", extra_files={
        "macros/flips.sql": "/*\nkind: aggregate\n*/\ncount(*) > 0\n"})  # another type of the same name
    Project.load(other)
    run = first.build()
    got = {(r.check, r.partition): r.status for r in run.results if r.table == "orders"}
    assert got[("flips", None)] == "fail" and got[("share_amount", "2026-01-01")] == "fail"
    assert [v for _, v in run.tables[0].failures["flips"].rows] == [{"id": 1, "statuses": 2}]
