"""Segments (`group_by`, issue 12 item 3) on DuckDB: results per segment and partition, the cap and
the pooled segment, change SLOs per segment, every place a result shows its segment (the meta
schema, run_results.json, JUnit, the report, alert payloads), and no extra scan per check."""
from __future__ import annotations

import json
import os

from proj import cli, query, sql, write

from slocompile.api import Project
from slocompile.checks.segments import OTHER
from slocompile.planning.planner import SEGMENTED, plan_table

TABLE = """
tables:
  - name: orders
    relation: raw.orders
    partition: ds
    gate: warn
    checks:
      - row_count: {min: 2, group_by: [country]}
      - row_count: {max_drop: 50%, group_by: [country], name: rows_change}
      - row_count: {min: 1, group_by: [country, device], max_segments: 2, name: top_two}
    columns:
      - name: country
      - name: device
      - name: amount
        checks:
          - mean: {max: 50, group_by: [country], max_segments: 1}
          - not_null: {max_fraction: 0.25, group_by: country}
"""
TRIGGER = """
triggers:
  - name: events
    on: [fail, recover]
    do:
      - command: "cat > events/$SLOCOMPILE_EVENT.json"
"""


def day(ds: str, rows: list[tuple]) -> str:
    values = ", ".join(f"(DATE '{ds}', {'NULL' if c is None else repr(c)}, '{d}', {'NULL' if a is None else a})"
                       for c, d, a in rows)
    return f"INSERT INTO raw.orders VALUES {values}"


FIRST = [("US", "ios", 10), ("US", "web", 20), ("US", "web", None), ("US", "ios", 30),
         ("FR", "ios", 100), ("FR", "web", 80), ("DE", "ios", 5)]


def project(tmp_path, extra: str = "") -> str:
    root = write(tmp_path, TABLE + extra)
    sql(root, ["CREATE OR REPLACE TABLE raw.orders (ds DATE, country TEXT, device TEXT, amount INT)",
               day("2024-01-01", FIRST)])
    return root


def by(results, check):
    return {(r.partition, r.segment): r for r in results if r.check == check}


def test_each_segment_of_each_partition_is_judged_and_the_rest_pooled(tmp_path):
    root = project(tmp_path)
    run = Project.load(root).build(write=False)
    rows = by(run.results, "row_count")
    assert {k: (r.status, r.observed) for k, r in rows.items()} == {
        ("2024-01-01", "country=US"): ("pass", 4), ("2024-01-01", "country=FR"): ("pass", 2),
        ("2024-01-01", "country=DE"): ("fail", 1)}
    assert rows[("2024-01-01", "country=DE")].message == "segment country=DE: row count is 1; expected >= 2"
    # the two largest (country, device) segments apart, the three others pooled (their counts merged)
    top = by(run.results, "top_two")
    assert [(s, r.observed) for (_, s), r in top.items()] == [
        ("country=US, device=ios", 2), ("country=US, device=web", 2), (OTHER, 3)]
    assert "3 segments past the cap, pooled" in top[("2024-01-01", OTHER)].message
    # a mean of the pooled rows is measured over them (not merged from the segments' means)
    mean = by(run.results, "mean_amount")
    assert mean[("2024-01-01", "country=US")].observed == 20.0
    assert mean[("2024-01-01", OTHER)].observed == (100 + 80 + 5) / 3
    assert mean[("2024-01-01", OTHER)].status == "fail"
    nn = by(run.results, "not_null_amount")
    assert nn[("2024-01-01", "country=US")].observed == {"rows": 1, "fraction": 0.25, "total": 4}
    assert run.exit_code == 1


def test_change_slos_compare_each_segment_with_its_own_history(tmp_path):
    root = project(tmp_path)
    Project.load(root).build(write=False)
    # US halves its rows (breaking max_drop 50%? 4 -> 1 is a 75% drop), FR keeps them
    sql(root, day("2024-01-02", [("US", "ios", 1), ("FR", "ios", 2), ("FR", "web", 3), ("DE", "ios", 4)]))
    run = Project.load(root).build(write=False)
    change = by(run.results, "rows_change")
    assert change[("2024-01-02", "country=US")].status == "fail"
    assert change[("2024-01-02", "country=FR")].status == "pass"
    assert change[("2024-01-02", "country=DE")].status == "pass"
    stored = query(root, "SELECT partition, segment, status FROM slo.results WHERE check_name = 'rows_change' "
                         "ORDER BY partition, segment")
    assert ("2024-01-02", "country=US", "fail") in stored and ("2024-01-01", "country=US", "pass") in stored


def test_partition_and_segment_at_once_on_an_incremental_build(tmp_path):
    root = project(tmp_path)
    Project.load(root).build(write=False)
    sql(root, day("2024-01-02", [("US", "ios", 1), ("US", "web", 2)]))
    run = Project.load(root).build(write=False)  # the new partition, and the failing one again
    assert {(r.partition, r.segment) for r in run.results if r.check == "row_count"} == {
        ("2024-01-02", "country=US"), ("2024-01-01", "country=US"), ("2024-01-01", "country=FR"),
        ("2024-01-01", "country=DE")}
    run = Project.load(root).build(write=False, partitions=["2024-01-02"])
    assert {(r.partition, r.segment) for r in run.results if r.check == "row_count"} == {("2024-01-02", "country=US")}


def test_artifacts_report_and_alerts_carry_the_segment(tmp_path):
    root = project(tmp_path, TRIGGER)
    os.makedirs(os.path.join(root, "events"))
    done = cli(root, "build")
    assert done.returncode == 1, done.stderr
    results = json.load(open(os.path.join(root, "target", "run_results.json")))["results"]
    de = [r for r in results if r["check"] == "row_count" and r["segment"] == "country=DE"]
    assert de and de[0]["status"] == "fail" and de[0]["partition"] == "2024-01-01"
    assert all("segment" in r for r in results)
    junit = open(os.path.join(root, "target", "junit.xml")).read()
    assert 'name="row_count {country=DE} [2024-01-01]"' in junit
    event = json.load(open(os.path.join(root, "events", "fail.json")))
    assert {"country=DE"} <= {u.get("segment") for u in event["results"] if u["check"] == "row_count"}
    # the unit of alerting stays the check on the partition: failing while any segment fails
    assert query(root, "SELECT status FROM slo.check_status WHERE check_name = 'row_count'") == [("fail",)]
    done = cli(root, "report", "--output", "report.html")
    assert done.returncode == 0, done.stderr
    html = open(os.path.join(root, "report.html")).read()
    assert "<th>segment</th>" in html.replace(" ", "") or ">segment<" in html
    assert "country=DE" in html


def test_a_meta_schema_without_the_segment_column_is_upgraded(tmp_path):
    root = project(tmp_path)
    Project.load(root).build(write=False)
    for name in ("results", "metrics"):  # as an earlier version created them
        sql(root, f"ALTER TABLE slo.{name} DROP COLUMN segment")
    Project.load(root).build(write=False, full_refresh=True)
    assert query(root, "SELECT count(*) FROM slo.results WHERE segment = 'country=DE' AND check_name = 'row_count'"
                 ) == [(1,)]
    assert query(root, "SELECT count(*) FROM slo.metrics WHERE segment = 'country=DE'") != [(0,)]


def test_the_metric_history_holds_each_segment(tmp_path):
    root = project(tmp_path)
    Project.load(root).build(write=False)
    rows = query(root, "SELECT metric, segment, value FROM slo.metrics WHERE segment IS NOT NULL "
                       "AND partition = '2024-01-01' ORDER BY metric, segment")
    counts = {s: v for m, s, v in rows if m == "row_count BY country (top 100)"}
    assert counts == {"country=DE": 1, "country=FR": 2, "country=US": 4}
    pooled = {s: v for m, s, v in rows if m == "row_count BY country, device (top 2)"}
    assert pooled == {"country=US, device=ios": 2, "country=US, device=web": 2, OTHER: 3}
    means = {s: v for m, s, v in rows if m.startswith('AVG("amount")')}
    assert means == {"country=US": 20.0, OTHER: (100 + 80 + 5) / 3}
    # the whole partition's metrics keep their rows, with no segment
    assert query(root, "SELECT value FROM slo.metrics WHERE metric = 'row_count' AND segment IS NULL") == [(7,)]


def test_group_by_adds_one_scan_per_grouping_not_per_check(tmp_path):
    root = project(tmp_path)
    table = Project.load(root).spec.tables[0]
    plain = [c for c in table.checks if not c.params.get("group_by")]
    for dialect in ("duckdb", "postgres"):
        without = plan_table(table, dialect, plain)
        with_segments = plan_table(table, dialect)
        segmented = [s for s in with_segments.scans if s.kind == SEGMENTED]
        # two groupings (country; country and device): two scans for five segmented checks
        assert sorted(s.group_by for s in segmented) == [("country",), ("country", "device")]
        assert len(with_segments.scans) == len(without.scans) + 2
        assert [s for s in with_segments.scans if s.kind != SEGMENTED] == without.scans


SAMPLED = """
tables:
  - name: orders
    relation: raw.orders
    partition: ds
    key: [id]
    gate: warn
    columns:
      - name: country
      - name: amount
        checks:
          - not_null: {max_fraction: 0.3, group_by: [country], max_segments: 2}
"""


def test_failed_rows_are_those_of_the_failing_segment(tmp_path):
    root = write(tmp_path, SAMPLED)
    # US: 1 NULL of 5 (passes); FR: 2 of 3 (fails); pooled DE + IT: 2 NULLs of 3 (fails)
    rows = [("US", 1), ("US", None), ("US", 3), ("US", 4), ("US", 5), ("FR", None), ("FR", None), ("FR", 8),
            ("DE", None), ("IT", None), ("IT", 11)]
    values = ", ".join(f"({i}, DATE '2024-01-01', '{c}', {'NULL' if a is None else a})"
                       for i, (c, a) in enumerate(rows))
    sql(root, ["CREATE TABLE raw.orders (id INT, ds DATE, country TEXT, amount INT)",
               f"INSERT INTO raw.orders VALUES {values}"])
    done = cli(root, "build")
    assert done.returncode == 1, done.stderr
    results = json.load(open(os.path.join(root, "target", "run_results.json")))["results"]
    found = {r["segment"]: r for r in results if r["check"] == "not_null_amount"}
    assert {s: r["status"] for s, r in found.items()} == {"country=US": "pass", "country=FR": "fail", OTHER: "fail"}
    assert [(v["id"], v["country"]) for v in found["country=FR"]["failed_rows"]] == [(5, "FR"), (6, "FR")]
    assert [(v["id"], v["country"]) for v in found[OTHER]["failed_rows"]] == [(8, "DE"), (9, "IT")]
    # US passed: none of its rows was sampled (the sample is not spent on segments that passed)
    stored = query(root, "SELECT row_values FROM slo.failed_rows")
    assert len(stored) == 4 and all('"US"' not in v for (v,) in stored)
