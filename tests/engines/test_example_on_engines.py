"""The feature-store example on Postgres and Spark gives DuckDB's run_results.

examples/feature_store is copied to a temporary folder and run there as its README says
(`python generate_data.py` writes warehouse.duckdb: raw.user_features, raw.predictions,
dims.countries, 30 days of about 3,400 rows each, and raw.events, 7 days of a few hundred events
an hour, partitioned by the hour; then `slocompile build`). The raw rows are
then loaded into Postgres (COPY from a CSV written by DuckDB) and Spark (a parquet file written
by DuckDB, cast to the same types), the project is built with each target, and
target/run_results.json must agree with DuckDB's (built on the same rows): the same checks and
partitions, the same status, severity and expectation, and the same observed value (floats
within a relative 1e-9; freshness's observed age depends on the clock and is left out). The
views must agree too: row counts of the filtered and quarantine views, and the blocked view
failing on every engine. Monitor results (`monitor: all` on user_features) are compared apart
(test_monitors_agree), with the monitors' tolerances (distinct counts are approximate on DuckDB
and Spark, exact on Postgres); on this subsample the history is too short for bands, so every
monitor result is a passing "learning" one: test_monitors_on_engines.py compares monitors on all
30 days, with alerts.

Subsampled, deterministically: a Spark build of all 30 days takes 40-60 s on CI's 2 cores, so
the compared builds use the days that matter: every day with a failed or warned check or a
quarantined row in the README's full DuckDB build (run first, on all 30 days), plus the oldest
and newest day (about 11 days, all three tables' rows of those days). SLOCOMPILE_EXAMPLE_DAYS=all
compares all 30 days.

Every raw schema and the project's schemas get a per-run suffix (raw_fs_<tag>, validated_fs_<tag>,
...), written into the copy's YAML, so runs sharing a server do not collide; the Postgres and
Spark schemas are dropped at the end.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

import duckdb
import pytest
from enginedata import DISTINCT_ABS, DISTINCT_TOL, REQUIRED, UNAVAILABLE, close, normal, target_yaml

from slocompile.api import Project
from slocompile.engines.base import QueryFailed
from slocompile.engines.connect import connect

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "feature_store")
RAW = (("raw", "user_features"), ("raw", "predictions"), ("dims", "countries"), ("raw", "events"))
# the column that says which day a raw row belongs to (events: partitioned by the hour of event_ts)
DAY_OF = {"events": "CAST(event_ts AS DATE)"}


class Example:
    def __init__(self, root: str, tag: str):
        self.root, self.tag = root, tag
        self.schemas = {"raw": f"raw_{tag}", "dims": f"dims_{tag}", "validated": f"validated_{tag}",
                        "quarantine": f"quarantine_{tag}", "meta": f"slo_{tag}"}
        self.timings: dict[str, float] = {}
        self.days: list[str] | None = None  # the days compared (None: all)

    def raw(self, schema: str, table: str) -> str:
        return f"{self.schemas[schema]}.{table}"


@pytest.fixture(scope="module")
def example(tmp_path_factory, run_tag, spark_warehouse) -> Example:
    root = str(tmp_path_factory.mktemp("example") / "feature_store")
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("target", "warehouse.duckdb*", "__pycache__",
                                                                 "spark-warehouse", "*.log"))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "generate_data.py"], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    ex = Example(root, f"fs_{run_tag}")
    ex.timings["generate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex.days = _days_that_matter(root)
    ex.timings["full duckdb build"] = time.perf_counter() - t0
    _retarget(ex, spark_warehouse)
    # DuckDB: the generated rows of those days, under the suffixed schema names the YAML now reads
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    try:
        for schema in ("raw", "dims"):
            con.execute(f'CREATE SCHEMA "{ex.schemas[schema]}"')
        for schema, table in RAW:
            where = "" if ex.days is None or table == "countries" else \
                f" WHERE CAST({DAY_OF.get(table, 'ds')} AS VARCHAR) IN (" + ", ".join(f"'{d}'" for d in ex.days) + ")"
            con.execute(f'CREATE TABLE "{ex.schemas[schema]}"."{table}" AS SELECT * FROM "{schema}"."{table}"{where}')
        for schema in ("raw", "dims", "slo", "validated", "quarantine"):  # the full build's, unused from here
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        con.close()
    shutil.rmtree(os.path.join(root, "target"), ignore_errors=True)
    return ex


def _days_that_matter(root: str) -> list[str] | None:
    """The README's build on all 30 days; the days with a non-passing check or a quarantined row,
    and the oldest and newest day (None: SLOCOMPILE_EXAMPLE_DAYS=all, every day)."""
    run = Project.load(root).build(write=False)
    assert run.exit_code == 1, "the example's faults no longer fail its build: see its README"
    if os.environ.get("SLOCOMPILE_EXAMPLE_DAYS", "") == "all":
        return None
    days = {r.partition[:10] for r in run.results if r.status != "pass" and r.partition}  # an hour: its day
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"), read_only=True)
    try:
        for table in ("user_features", "predictions"):
            rows = con.execute(f"SELECT DISTINCT CAST(ds AS VARCHAR) FROM quarantine.{table}").fetchall()
            days |= {r[0] for r in rows}
        all_days = [r[0] for r in con.execute("SELECT DISTINCT CAST(ds AS VARCHAR) FROM raw.user_features "
                                              "ORDER BY 1").fetchall()]
    finally:
        con.close()
    assert len(all_days) == 30
    return sorted(days | {all_days[0], all_days[-1]})


def _retarget(ex: Example, spark_warehouse: str) -> None:
    """Suffix every schema in the copy's YAML, and add the pg and spark targets."""
    slos = os.path.join(ex.root, "slos")
    replaced = 0
    for name in sorted(os.listdir(slos)):
        path = os.path.join(slos, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text, n = re.subn(r"(?<=[\s:])(raw|dims)\.(?=\w)", lambda m: ex.schemas[m.group(1)] + ".", text)
        replaced += n
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    assert replaced >= 4, "the example's relations moved: update this test"  # 2 relations, 2 relationships
    path = os.path.join(ex.root, "slocompile.yml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    s = ex.schemas
    text, n = re.subn(r"(?m)^schemas:.*$", f"schemas: {{validated: {s['validated']}, quarantine: {s['quarantine']}, "
                                            f"meta: {s['meta']}}}", text)
    assert n == 1, "the example's slocompile.yml has no schemas: line"
    extra = []
    if not UNAVAILABLE["postgres"]:
        extra.append(f"  pg: {target_yaml('postgres', spark_warehouse, '')}")
    if not UNAVAILABLE["spark"]:
        extra.append(f"  spark: {target_yaml('spark', spark_warehouse, '')}")
    text, n = re.subn(r"(?m)^targets:\n", "targets:\n" + "".join(e + "\n" for e in extra), text)
    assert n == 1, "the example's slocompile.yml has no targets: block"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# -- loading the generated rows into Postgres and Spark ----------------------------------------

def _duck(ex: Example):
    return duckdb.connect(os.path.join(ex.root, "warehouse.duckdb"), read_only=True)


def _columns(con, ex: Example, schema: str, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f'DESCRIBE "{ex.schemas[schema]}"."{table}"').fetchall()]


def _type(duck_type: str, dialect: str) -> str:
    from sqlglot import exp

    return exp.DataType.build(duck_type, dialect="duckdb").sql(dialect)


def load_postgres(ex: Example, eng) -> None:
    """CREATE TABLE with the DuckDB columns' types, then COPY a CSV that DuckDB writes (doubles are
    written in their shortest round-trip form, so the values are the same bits)."""
    con = _duck(ex)
    try:
        for schema in ("raw", "dims"):
            eng.execute(f'DROP SCHEMA IF EXISTS "{ex.schemas[schema]}" CASCADE')
            eng.execute(f'CREATE SCHEMA "{ex.schemas[schema]}"')
        for schema, table in RAW:
            cols = _columns(con, ex, schema, table)
            ref = f'"{ex.schemas[schema]}"."{table}"'
            defs = ", ".join(f'"{c}" {_type(t, "postgres")}' for c, t in cols)
            eng.execute(f"CREATE TABLE {ref} ({defs})")
            csv = os.path.join(ex.root, f"{schema}.{table}.csv")
            con.execute(f"COPY (SELECT * FROM \"{ex.schemas[schema]}\".\"{table}\") TO '{csv}' (HEADER false)")
            with eng.con.cursor() as cur, cur.copy(f"COPY {ref} FROM STDIN (FORMAT csv)") as copy, \
                    open(csv, "rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            eng.execute(f"ANALYZE {ref}")
    finally:
        con.close()


def load_spark(ex: Example, eng) -> None:
    """A parquet file per table written by DuckDB, read by Spark and cast to the declared types
    (DuckDB's TIMESTAMP is read as TIMESTAMP_NTZ; the session is UTC, so the cast keeps the instant)."""
    con = _duck(ex)
    try:
        for schema in ("raw", "dims"):
            eng.execute(f"DROP DATABASE IF EXISTS `{ex.schemas[schema]}` CASCADE")
            eng.execute(f"CREATE DATABASE `{ex.schemas[schema]}`")
        for schema, table in RAW:
            cols = _columns(con, ex, schema, table)
            path = os.path.join(ex.root, f"{schema}.{table}.parquet")
            con.execute(f"COPY (SELECT * FROM \"{ex.schemas[schema]}\".\"{table}\") TO '{path}' (FORMAT parquet)")
            select = ", ".join(f"CAST(`{c}` AS {_type(t, 'spark')}) AS `{c}`" for c, t in cols)
            eng.execute(f"CREATE TABLE `{ex.schemas[schema]}`.`{table}` USING parquet AS "
                        f"SELECT {select} FROM parquet.`{path}`")
    finally:
        con.close()


def drop_raw(ex: Example, eng) -> None:
    for key in ("raw", "dims", "validated", "quarantine", "meta"):
        if eng.dialect == "postgres":
            eng.execute(f'DROP SCHEMA IF EXISTS "{ex.schemas[key]}" CASCADE')
        elif eng.dialect == "spark":
            eng.execute(f"DROP DATABASE IF EXISTS `{ex.schemas[key]}` CASCADE")


# -- builds --------------------------------------------------------------------------------

class Built:
    def __init__(self, name: str, project: Project, run, results: dict, seconds: float):
        self.name, self.project, self.run, self.results, self.seconds = name, project, run, results, seconds


@pytest.fixture(scope="module")
def builds(example):
    cache: dict[str, Built] = {}
    loaded: list[str] = []

    def get(name: str) -> Built:
        if name not in cache:
            project = Project.load(example.root)
            target = project.spec.targets[name]
            if name != "local":
                eng = connect(target, project.root)
                try:
                    t0 = time.perf_counter()
                    (load_postgres if eng.dialect == "postgres" else load_spark)(example, eng)
                    example.timings[f"load {name}"] = time.perf_counter() - t0
                    loaded.append(name)
                finally:
                    eng.close()
            t0 = time.perf_counter()
            run = project.build(target=name)
            seconds = time.perf_counter() - t0
            example.timings[f"build {name}"] = seconds
            with open(os.path.join(project.target_dir, "run_results.json"), encoding="utf-8") as f:
                results = json.load(f)
            cache[name] = Built(name, project, run, results, seconds)
        return cache[name]

    get.example = example
    yield get
    days = "all days" if example.days is None else f"{len(example.days)} of 30 days"
    print(f"\nfeature_store example ({days}): " + ", ".join(f"{k} {v:.1f}s" for k, v in example.timings.items()))
    for name in loaded:
        project = Project.load(example.root)
        eng = connect(project.spec.targets[name], project.root)
        try:
            drop_raw(example, eng)
        finally:
            eng.close()


def _by_check(results: dict, monitors: bool = False) -> dict:
    """(table, check, partition, segment) -> what must agree; monitor results apart (see test_monitors_agree)."""
    out = {}
    for r in results["results"]:
        if (r["check_type"] == "monitor") != monitors:
            continue
        key = (r["table"], r["check"], r["partition"], r.get("segment"))
        assert key not in out, f"two results for {key}"
        observed = None if r["check_type"] == "freshness" else normal(r["observed"])
        out[key] = {"status": r["status"], "severity": r["severity"], "column": r["column"],
                    "expected": r["expected"], "observed": observed}
    return out


def other_engines():
    return [pytest.param(name, engine, id=name,
                         marks=pytest.mark.skipif(bool(UNAVAILABLE[engine]) and engine not in REQUIRED,
                                                  reason=f"{engine}: {UNAVAILABLE[engine]}"))
            for name, engine in (("pg", "postgres"), ("spark", "spark"))]


def test_duckdb_reference(builds):
    """The reference build fails by design (the README's faulty day) and errors nowhere."""
    b = builds("local")
    res = _by_check(b.results)
    assert any(v["status"] == "fail" for v in res.values())
    assert not [k for k, v in res.items() if v["status"] == "error"]
    assert b.run.exit_code == 1
    days = {p for (t, _, p, _) in res if t == "user_features" and p}
    assert days == set(builds.example.days) if builds.example.days else len(days) == 30


@pytest.mark.parametrize("name,engine", other_engines())
def test_run_results_agree(builds, name, engine):
    ref, got = _by_check(builds("local").results), _by_check(builds(name).results)
    assert sorted(got, key=repr) == sorted(ref, key=repr), "different checks or partitions"
    diffs = {k: (ref[k], got[k]) for k in ref
             if {**ref[k], "observed": None} != {**got[k], "observed": None}
             or not close(ref[k]["observed"], got[k]["observed"])}
    assert not diffs, f"{name} differs from duckdb in {len(diffs)} results: {dict(list(diffs.items())[:5])}"
    assert builds(name).results["status"] == builds("local").results["status"] == "fail"
    assert builds(name).run.exit_code == builds("local").run.exit_code == 1


def _count(b: Built, schema_key: str, table: str):
    s = b.project.spec.schemas
    schema = {"validated": s.validated, "quarantine": s.quarantine}[schema_key]
    eng = connect(b.project.spec.targets[b.name], b.project.root)
    q = '"' if eng.dialect != "spark" else "`"
    try:
        return eng.query(f"SELECT count(*), count(DISTINCT {q}ds{q}) FROM {q}{schema}{q}.{q}{table}{q}")[0]
    finally:
        eng.close()


@pytest.mark.parametrize("name,engine", other_engines())
def test_views_agree(builds, name, engine):
    ref, got = builds("local"), builds(name)
    for kind, table in (("validated", "user_features"), ("quarantine", "user_features"),
                        ("quarantine", "predictions")):
        assert tuple(_count(got, kind, table)) == tuple(_count(ref, kind, table)), (kind, table)
    for b in (ref, got):  # gate: block on predictions: the view refuses every query, naming the SLOs
        with pytest.raises(QueryFailed) as err:
            _count(b, "validated", "predictions")
        assert "is blocked by failed SLOs" in str(err.value) and "stddev_score" in str(err.value)


@pytest.mark.parametrize("name,engine", other_engines())
def test_monitors_agree(builds, name, engine):
    """`monitor: all` on user_features: the same monitor results (check, column, partition, status
    and expectation; observed values within the monitors' tolerances) on every engine."""
    ref, got = _by_check(builds("local").results, monitors=True), _by_check(builds(name).results, monitors=True)
    assert ref, "the example has no monitor results any more: drop this test"
    assert sorted(got, key=repr) == sorted(ref, key=repr), "different monitor results"
    for k, r in ref.items():
        g = got[k]
        distinct = k[1] == "monitor_distinct_count"
        assert {**g, "observed": None, "expected": None} == {**r, "observed": None, "expected": None}, k
        assert distinct or g["expected"] == r["expected"], k
        assert (g["observed"] is None) == (r["observed"] is None), k
        if r["observed"] is not None:
            tol = {"rel_tol": DISTINCT_TOL, "abs_tol": DISTINCT_ABS} if distinct else {"rel_tol": 1e-9}
            assert math.isclose(g["observed"], r["observed"], **tol), k
