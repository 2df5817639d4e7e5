"""Issue 16 on real engines: an hourly table (`partition: {column: event_ts, granularity: hour}`)
on DuckDB, Postgres and Spark gets the same partition labels ('YYYY-MM-DD HH:00:00'), the same
results and statuses, the same filtered view, the same --partition handling and the same
incremental choice of hours; a day grain over TIMESTAMP WITH TIME ZONE values is cut at the days
of the project's time zone on every engine."""
from __future__ import annotations

import datetime as dt
import os
from collections import Counter

import pytest
from enginedata import engine_params, load_statements, table_ref, target_yaml
from sqlglot import exp

from slocompile.api import Project
from slocompile.engines.connect import connect

ENGINES = engine_params()
START = dt.datetime(2026, 11, 1)
# 40 events, one every 9 minutes from midnight (hours 00..05); event 21 (03:09) has no amount and
# event 30 (04:30) repeats the id of event 29 (04:21): hours 03 and 04 fail
ROWS = [(29 if i == 30 else i, START + dt.timedelta(minutes=9 * i), None if i == 21 else float(i)) for i in range(40)]
TABLES = {"events": ([("event_id", "INT"), ("event_ts", "TIMESTAMP"), ("amount", "DOUBLE")], ROWS)}
UTC = dt.timezone.utc
# TIMESTAMP WITH TIME ZONE instants: in New York (UTC-4 before 2026-11-01 06:00 UTC, then UTC-5)
# they fall on Oct 31st, Nov 1st, Nov 1st and Nov 2nd
ZONED = [(dt.datetime(2026, 11, 1, 3, tzinfo=UTC),), (dt.datetime(2026, 11, 1, 5, tzinfo=UTC),),
         (dt.datetime(2026, 11, 2, 4, 59, tzinfo=UTC),), (dt.datetime(2026, 11, 2, 5, tzinfo=UTC),)]
ZONED_TABLES = {"zoned": ([("ts", "TIMESTAMPTZ")], ZONED)}


def hour_label(t: dt.datetime) -> str:
    return t.replace(minute=0, second=0).isoformat(sep=" ")


def names(tag: str, engine: str) -> dict:
    t = f"{tag}_{engine}"
    return {"raw": f"rawtp_{t}", "validated": f"validatedtp_{t}", "quarantine": f"quarantinetp_{t}",
            "meta": f"slotp_{t}"}


def make_project(root: str, engine: str, tag: str, spark_warehouse: str, zone: str | None = None) -> dict:
    s = names(tag + ("z" if zone else ""), engine)
    os.makedirs(os.path.join(root, "slos"), exist_ok=True)
    target = target_yaml(engine, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write(f"name: hourly\ntarget: {engine}\ntargets:\n  {engine}: {target}\n"
                f"schemas: {{validated: {s['validated']}, quarantine: {s['quarantine']}, meta: {s['meta']}}}\n"
                + (f"time_zone: {zone}\n" if zone else ""))
    with open(os.path.join(root, "slos", "tables.yml"), "w", encoding="utf-8") as f:
        f.write(f"""
tables:
  - name: events
    relation: {s['raw']}.events
    key: [event_id]
    partition: {{column: event_ts, granularity: hour}}
    gate: filter
    checks:
      - row_count: {{min: 1}}
    columns:
      - name: amount
        checks: [not_null]
  - name: zoned
    relation: {s['raw']}.zoned
    partition: {{column: ts, granularity: day}}
    checks:
      - row_count: {{min: 1}}
""")
    return s


def drop(eng, s: dict) -> None:
    """Drop the test's schemas (DuckDB's file goes with tmp_path)."""
    if eng.dialect == "duckdb":
        return
    for schema in s.values():
        eng.execute(f"DROP SCHEMA IF EXISTS {exp.to_identifier(schema, quoted=True).sql(eng.dialect)} CASCADE")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_hourly_table(tmp_path, engine, run_tag, spark_warehouse):
    root = str(tmp_path)
    s = make_project(root, engine, run_tag, spark_warehouse)
    proj = Project.load(root)
    eng = connect(proj.spec.targets[engine], proj.root)
    try:
        for stmt in load_statements(eng.dialect, s["raw"], {**TABLES, **ZONED_TABLES}):
            eng.execute(stmt)
        first = proj.build(select=["events"], write=False)
        counts = Counter(hour_label(t) for _, t, _ in ROWS)
        assert set(first.tables[0].partitions) == set(counts)
        assert {r.partition: r.observed for r in first.results if r.check == "row_count"} == dict(counts)
        failing = {(r.check, r.partition) for r in first.results if r.status == "fail"}
        assert failing == {("not_null_amount", "2026-11-01 03:00:00"), ("key", "2026-11-01 04:00:00")}

        def ref(schema: str, table: str) -> str:
            return table_ref(s[schema], table).sql(eng.dialect, identify=True)

        status = dict(eng.query(f"SELECT partition, status FROM {ref('meta', 'status')} "
                                "WHERE table_name = 'events' AND partition IS NOT NULL"))
        assert status == {h: "fail" if h in ("2026-11-01 03:00:00", "2026-11-01 04:00:00") else "pass"
                          for h in counts}
        served = eng.query(f"SELECT COUNT(*) FROM {ref('validated', 'events')}")[0][0]
        assert served == len(ROWS) - counts["2026-11-01 03:00:00"] - counts["2026-11-01 04:00:00"]

        named = proj.build(select=["events"], partitions=["2026-11-01T02"], write=False)
        assert named.tables[0].partitions == ("2026-11-01 02:00:00",)

        eng.execute(f"INSERT INTO {ref('raw', 'events')} VALUES (100, CAST('2026-11-01 06:10:00' AS TIMESTAMP), 1)")
        again = proj.build(select=["events"], write=False)
        assert again.tables[0].partitions == ("2026-11-01 03:00:00", "2026-11-01 04:00:00", "2026-11-01 06:00:00")
        assert eng.query(f"SELECT COUNT(*) FROM {ref('validated', 'events')}")[0][0] == served + 1
    finally:
        drop(eng, s)
        eng.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_days_are_cut_in_the_project_time_zone(tmp_path, engine, run_tag, spark_warehouse):
    root = str(tmp_path)
    s = make_project(root, engine, run_tag, spark_warehouse, zone="America/New_York")
    proj = Project.load(root)
    eng = connect(proj.spec.targets[engine], proj.root)
    try:
        for stmt in load_statements(eng.dialect, s["raw"], ZONED_TABLES):
            eng.execute(stmt)
        run = proj.build(select=["zoned"], write=False)
        counts = {r.partition: r.observed for r in run.results if r.check == "row_count"}
        assert counts == {"2026-10-31": 1, "2026-11-01": 2, "2026-11-02": 1}
        # one day by --partition: the scans' range on the column itself is in the zone's time too
        named = proj.build(select=["zoned"], partitions=["2026-11-01"], write=False)
        assert {r.partition: r.observed for r in named.results if r.check == "row_count"} == {"2026-11-01": 2}
        if eng.dialect == "spark":  # the session is shared: a closed build leaves it in the zone it found
            assert eng.query("SELECT current_timezone()") == [("UTC",)]
    finally:
        drop(eng, s)
        eng.close()
