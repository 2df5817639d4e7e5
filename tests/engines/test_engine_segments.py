"""Segments (issue 12 item 3) and tables without partitions (item 8) on DuckDB, Postgres and
Spark: the same build gives the same results per partition and segment on every engine (the cap's
pooled segment too, merged or measured again), a table without partition keeps a history of
build snapshots for change SLOs and monitors, and freshness reads the engine's last load time
where it records one."""
from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from enginedata import UNAVAILABLE, close, engine_params, load_statements, normal, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect
from slocompile.errors import SlocompileError

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
T1, T2 = dt.datetime(2026, 1, 1, 10), dt.datetime(2026, 1, 2, 9)
ORDERS = ([("id", "INT"), ("ds", "DATE"), ("country", "VARCHAR"), ("device", "VARCHAR"), ("amount", "DOUBLE"),
           ("ts", "TIMESTAMP")],
          [(1, D1, "US", "ios", 10.0, T1), (2, D1, "US", "web", None, T1), (3, D1, "US", "web", 30.0, T1),
           (4, D1, "O'K", "ios", 100.0, T1), (5, D1, None, "ios", 5.0, T1), (6, D1, "FR", "tv", 7.0, T1),
           (7, D2, "US", "ios", 11.0, T2), (8, D2, "FR", "ios", 12.0, T2), (9, D2, "FR", None, None, T2)])
DIM = ([("id", "INT"), ("v", "DOUBLE")], [(i, float(i % 7)) for i in range(20)])


def slos(raw: str) -> str:
    return f"""
tables:
  - name: orders
    relation: {raw}.orders
    partition: ds
    gate: warn
    checks:
      - row_count: {{min: 2, group_by: [country]}}
      - row_count: {{min: 1, group_by: [country, device], max_segments: 2, name: top_two}}
      - freshness: {{column: ts, max_age: 100000d, group_by: [country], max_segments: 2}}
      - assert: {{name: big_sum, sql: "sum(amount) > 20", group_by: [device]}}
    columns:
      - name: country
      - name: device
      - name: amount
        checks:
          - mean: {{max: 50, group_by: [country], max_segments: 1}}
          - quantile: {{q: 0.5, max: 50, group_by: [country], max_segments: 2}}
          - distinct_count: {{min: 2, group_by: [device], where: "amount > 0"}}
          - not_null: {{max_fraction: 0.25, group_by: country}}
  - name: dim
    relation: {raw}.dim
    key: [id]
    monitor: all
    checks:
      - row_count: {{min: 1, max_drop: 25%}}
"""


def project_for(root: str, engine: str, tag: str, warehouse: str) -> Project:
    target = target_yaml(engine, warehouse, os.path.join(root, "warehouse.duckdb"))
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write(f"name: seg\ntarget: t\ntargets:\n  t: {target}\n"
                f"schemas: {{meta: sloseg_{tag}, validated: valseg_{tag}, quarantine: quaseg_{tag}, "
                f"versions: verseg_{tag}}}\n")
    with open(os.path.join(root, "slos", "t.yml"), "w", encoding="utf-8") as f:
        f.write(slos(f"rawseg_{tag}"))
    return Project.load(root)


def load(project: Project, tag: str, tables: dict) -> None:
    eng = connect(project.spec.targets["t"], project.spec.root)
    try:
        for stmt in load_statements(eng.dialect, f"rawseg_{tag}", tables):
            eng.execute(stmt)
    finally:
        eng.close()


def drop_schemas(project: Project, tag: str) -> None:
    eng = connect(project.spec.targets["t"], project.spec.root)
    try:
        for schema in (f"rawseg_{tag}", f"sloseg_{tag}", f"valseg_{tag}", f"quaseg_{tag}", f"verseg_{tag}"):
            eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        eng.close()


def next_second() -> None:
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


@pytest.fixture(scope="module")
def built(tmp_path_factory, run_tag, spark_warehouse):
    """engine -> (first build, second build after dim lost half its rows, the project)."""
    out = {}
    for engine in ("duckdb", "postgres", "spark"):
        if UNAVAILABLE[engine]:
            continue
        tag = f"{engine[:2]}{run_tag}"
        project = project_for(str(tmp_path_factory.mktemp(f"seg_{engine}")), engine, tag, spark_warehouse)
        load(project, tag, {"orders": ORDERS, "dim": DIM})
        next_second()
        first = project.build(write=False)
        load(project, tag, {"dim": (DIM[0], DIM[1][:10])})
        next_second()
        second = project.build(write=False, select=["dim"])
        out[engine] = (first, second, project)
        if engine == "postgres":
            drop_schemas(project, tag)
    return out


def outcomes(run, table: str) -> list[tuple]:
    return sorted((r.check, r.partition or "", r.segment or "", r.status, r.message, normal(r.observed))
                  for r in run.results if r.table == table and r.check_type != "monitor")


@pytest.mark.parametrize("engine", engine_params())
def test_segments_give_the_same_results_on_every_engine(built, engine):
    first = outcomes(built[engine][0], "orders")
    assert [r[:4] for r in first] == [r[:4] for r in outcomes(built["duckdb"][0], "orders")]
    for mine, theirs in zip(first, outcomes(built["duckdb"][0], "orders")):
        if mine[0] != "freshness_ts":  # the age depends on the moment of the build
            assert close(mine[5], theirs[5]) and mine[4] == theirs[4], (mine, theirs)


@pytest.mark.parametrize("engine", engine_params())
def test_segments_past_the_cap_are_pooled(built, engine):
    found = {(r.check, r.partition, r.segment): r for r in built[engine][0].results}
    # day 1: US (3 rows) apart, O'K, (null) and FR pooled: the mean over their rows, not of their means
    assert found[("mean_amount", "2026-01-01", "country=US")].observed == 20.0
    assert found[("mean_amount", "2026-01-01", "(other)")].observed == pytest.approx((100 + 5 + 7) / 3)
    assert found[("top_two", "2026-01-01", "(other)")].observed == 3
    assert found[("row_count", "2026-01-01", "country=O'K")].status == "fail"
    assert found[("freshness_ts", None, "country=US")].status == "pass"


@pytest.mark.parametrize("engine", engine_params())
def test_unpartitioned_table_history_is_one_snapshot_per_build(built, engine):
    first, second, project = built[engine]
    rc = [r for r in second.results if r.table == "dim" and r.check == "row_count"]
    assert [(r.partition, r.status, r.observed["baseline"], r.observed["value"]) for r in rc] == [
        (None, "fail", 20, 10)]
    monitor = [r for r in second.results if r.table == "dim" and r.check_type == "monitor"]
    assert monitor and all(r.partition is None for r in monitor)
    eng = connect(project.spec.targets["t"], project.spec.root)
    try:
        if engine != "postgres":  # (postgres: its schemas are dropped with the fixture)
            tag = f"{engine[:2]}"
            schema = next(s for s in (project.spec.schemas.meta,) if s.startswith(f"sloseg_{tag}"))
            rows = eng.query(f"SELECT count(DISTINCT \"partition\") FROM \"{schema}\".\"monitor_metrics\" "
                             "WHERE table_name = 'dim'" if engine == "duckdb" else
                             f"SELECT count(DISTINCT `partition`) FROM `{schema}`.`monitor_metrics` "
                             "WHERE table_name = 'dim'")
            assert rows == [(2,)]
    finally:
        eng.close()


@pytest.mark.parametrize("engine", engine_params())
def test_freshness_of_the_last_load(built, engine, tmp_path):
    _, _, project = built[engine]
    path = os.path.join(project.spec.root, "slos", "t.yml")
    text = open(path, encoding="utf-8").read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace("      - row_count: {min: 1, max_drop: 25%}", "      - freshness: {max_age: 1d}"))
    fresh = Project.load(project.spec.root)
    if engine == "postgres":
        tag = f"po{project.spec.schemas.meta.split('_', 1)[1][2:]}"
        load(fresh, tag, {"dim": DIM})
    if engine in ("duckdb", "postgres"):
        eng = connect(fresh.spec.targets["t"], fresh.spec.root)
        try:
            on = engine == "postgres" and eng.query("SELECT current_setting('track_commit_timestamp')")[0][0] == "on"
        finally:
            eng.close()
        if not on:
            with pytest.raises(SlocompileError, match="t.yml:.*(DuckDB does not record|track_commit_timestamp = on)"):
                fresh.build(write=False, select=["dim"])
            if engine == "postgres":
                drop_schemas(fresh, tag)
            return
    run = fresh.build(write=False, select=["dim"])
    found = [r for r in run.results if r.check == "freshness_last_load"]
    assert [r.status for r in found] == ["pass"], found
    assert "the table was last loaded at" in found[0].message


@pytest.mark.parametrize("engine", engine_params())
def test_an_older_meta_schema_gains_the_segment_column(tmp_path, engine, run_tag, spark_warehouse):
    from sqlglot import exp

    from slocompile.dialects.render import render
    from slocompile.sqltrees import meta

    tag = f"up{engine[:2]}{run_tag}"
    project = project_for(str(tmp_path / "p"), engine, tag, spark_warehouse)
    load(project, tag, {"orders": ORDERS, "dim": DIM})
    eng = connect(project.spec.targets["t"], project.spec.root)
    try:  # slo.results and slo.metrics as a version before segments created them
        eng.execute(render(meta.create_schema(project.spec.schemas.meta), eng.dialect))
        for name in ("results", "metrics"):
            old = [exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t))
                   for c, t in meta.TABLES[name] if c != "segment"]
            create = exp.Create(kind="TABLE", this=exp.Schema(this=meta.table(project.spec.schemas, name),
                                                              expressions=old))
            eng.execute(render(create, eng.dialect) + (" USING parquet" if engine == "spark" else ""))
    finally:
        eng.close()
    run = project.build(write=False, select=["orders"])
    eng = connect(project.spec.targets["t"], project.spec.root)

    def us_rows(name: str) -> int:
        us = exp.EQ(this=exp.column("segment", quoted=True), expression=exp.Literal.string("country=US"))
        count = exp.select(exp.Count(this=exp.Star())).from_(meta.table(project.spec.schemas, name)).where(us)
        return eng.query(render(count, eng.dialect))[0][0]
    try:
        stored, metrics = us_rows("results"), us_rows("metrics")
    finally:
        eng.close()
    assert stored == sum(r.segment == "country=US" for r in run.results) > 0
    # each segmented metric of country=US, per partition: the row counts (2 partitions) at least
    assert metrics >= 2
    if engine == "postgres":
        drop_schemas(project, tag)


@pytest.mark.parametrize("engine", engine_params())
def test_failed_rows_of_the_failing_segments_only(built, engine):
    def sampled(run) -> list:
        orders = next(t for t in run.tables if t.table.name == "orders")
        return orders.failures["not_null_amount"].rows

    rows = sampled(built[engine][0])
    # US fails on the first day, FR on the second: only their NULL amounts are sampled
    assert [(p, v["country"], v["amount"], v["_slo_segment"]) for p, v in rows] == [
        ("2026-01-01", "US", None, "country=US"), ("2026-01-02", "FR", None, "country=FR")]
    assert rows == sampled(built["duckdb"][0])
