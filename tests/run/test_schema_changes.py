"""schema_changes on DuckDB (issue 12, item 4): implied by `monitor: all` at the monitor's severity,
judged on a table schema drift keeps from being measured, recorded in the meta schema, and its
`on` values checked at load time."""
from __future__ import annotations

from proj import query, sql, write
from specproblems import problems

from slocompile.api import Project

MONITORED = """
tables:
  - name: t
    relation: raw.t
    partition: ds
    monitor: all
    columns:
      - name: v
"""


def test_monitor_all_implies_schema_changes_and_records_the_columns(tmp_path):
    root = write(tmp_path, MONITORED)
    sql(root, ["CREATE SCHEMA IF NOT EXISTS raw", "CREATE TABLE raw.t (ds DATE, v INT, extra VARCHAR)",
               "INSERT INTO raw.t VALUES ('2026-01-01', 1, 'x')"])
    check = next(c for c in Project.load(root).spec.table("t").checks if c.type == "schema_changes")
    assert (check.name, check.severity) == ("schema_changes", "warn")
    run = Project.load(root).build()
    assert query(root, "SELECT position, column_name, column_type, run_id FROM slo.relation_columns ORDER BY 1") == [
        (1, "ds", "DATE", run.run_id), (2, "v", "INTEGER", run.run_id), (3, "extra", "VARCHAR", run.run_id)]
    sql(root, ["ALTER TABLE raw.t DROP COLUMN extra"])
    second = next(r for r in Project.load(root).build().results if r.check == "schema_changes")
    assert (second.status, second.message) == ("warn", "removed: extra")


def test_a_listed_monitor_implies_nothing(tmp_path):
    root = write(tmp_path, MONITORED.replace("monitor: all", "monitor: [v]"))
    assert not [c for c in Project.load(root).spec.table("t").checks if c.type == "schema_changes"]


def test_judged_when_drift_keeps_the_table_from_being_measured(tmp_path):
    root = write(tmp_path, """
tables:
  - name: t
    relation: raw.t
    checks: [schema_changes]
    columns:
      - name: v
        checks: [not_null]
""")
    sql(root, ["CREATE SCHEMA IF NOT EXISTS raw", "CREATE TABLE raw.t (v INT, w INT)",
               "INSERT INTO raw.t VALUES (1, 2)"])
    Project.load(root).build()
    sql(root, ["DROP TABLE raw.t", "CREATE TABLE raw.t (w INT)"])
    results = {r.check: r for r in Project.load(root).build().results}
    assert results["not_null_v"].message.startswith("not measured")
    assert (results["schema_changes"].status, results["schema_changes"].message) == ("fail", "removed: v")


def test_on_takes_the_three_changes_only(tmp_path):
    found = problems(tmp_path, "tables:\n  - name: t\n    relation: raw.t\n    checks:\n"
                               "      - schema_changes: {on: [removed, renamed]}\n")
    assert found == ["slos/t.yml:5:25: schema_changes: 'on' takes removed, retyped, added, not 'renamed'"]
