"""Monitors (`monitor: all`) on Postgres and Spark judge like DuckDB, through the real build.

The feature-store example's `raw.user_features` (30 days of 2,000-5,000 rows, `generate_data.py
--anchor 2026-01-31`: the same data on every run, and the same weekdays, which the bands model)
is loaded into each engine, and a project monitoring only that table (no checks, `gate: warn`) is
built twice, on every engine:

1. days 1-29: no history yet, so the build replays them all (``monitors.backtest``: the grouped
   base, keys, categories and dependent queries) and writes the whole history; the faulty day
   (2026-01-22: `spend_30d` all NULL) alerts here;
2. day 30 appended, built with ``--partition`` 2026-01-22 and the new day: the faulty day is
   re-judged (its rows in the meta schema deleted and written again), then the new day is judged
   against the history read back from the meta schema (``profile_new``: the fused query with the
   ranges table and frozen bin edges, and the keys query against the previous day). (Each judged
   partition costs Spark three queries: one new day is enough.)

Each build's monitor results must agree with DuckDB's (same table, check, column, partition and
status; observed values within the tolerances below), and so must the meta schema afterwards:
every metric of every partition (``monitor_metrics``, with its `alerted` flag), the summaries
(bins and top-k counts equal, deciles within the tolerance), the learned state and the alerts.

Tolerances: doubles within a relative 1e-9 (the engines' quantiles and standard deviations differ
in the last bits); distinct counts within a relative DISTINCT_TOL or DISTINCT_ABS, since DuckDB
counts with a fixed-size HyperLogLog (up to about 10% off at a few thousand values on this data,
and 1 or 2 off at a handful), Postgres exactly and Spark with HyperLogLog++ (5% standard error;
up to 13% from DuckDB's here). The
alerts (and so every verdict of the bands) are the same; the band text (`expected`) of a distinct
count differs with the counts.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import duckdb
import pytest
from enginedata import DISTINCT_ABS, DISTINCT_TOL, REQUIRED, UNAVAILABLE, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "feature_store")
ANCHOR = "2026-01-31"          # days 2026-01-01 .. 2026-01-30
SPLIT = "2026-01-30"           # the first build sees the days before, the second all
NEW_DAYS = ["2026-01-30"]
FAULT_DAY = "2026-01-22"
REL_TOL = 1e-9
ENGINES = (("local", "duckdb"), ("pg", "postgres"), ("spark", "spark"))


def _slos(raw: str) -> str:
    return f"""tables:
  - name: user_features
    relation: {raw}.user_features
    key: [user_id]
    partition: ds
    gate: warn
    monitor: all
"""


class Setup:
    def __init__(self, root: str, data: str, tag: str):
        self.root, self.data, self.tag = root, data, tag
        self.raw = f"raw_mon_{tag}"
        self.schemas = {"validated": f"validated_mon_{tag}", "quarantine": f"quarantine_mon_{tag}",
                        "meta": f"slo_mon_{tag}"}
        self.timings: dict[str, float] = {}
        self.runs: dict[str, list] = {}       # target -> the two builds' monitor results
        self.meta: dict[str, object] = {}     # target -> the meta schema's monitor tables after them;
        #                                       "events": DuckDB's profile of the events table
        self.loaded: list[str] = []           # Postgres and Spark targets written to (dropped at the end)
        self.extra: list[tuple] = []          # (target, schema) of other tables written (dropped at the end)


def _available():
    return [name for name, engine in ENGINES[1:] if not UNAVAILABLE[engine] or engine in REQUIRED]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, run_tag, spark_warehouse):
    if not _available():
        pytest.skip("neither Postgres nor Spark is available")
    root = str(tmp_path_factory.mktemp("monitors"))
    data = os.path.join(root, "data.duckdb")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.join(EXAMPLE, "generate_data.py"), "--anchor", ANCHOR, "--out", data],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    s = Setup(root, data, run_tag)
    s.timings["generate"] = time.perf_counter() - t0
    targets = {"local": "{type: duckdb, path: warehouse.duckdb}"}
    if not UNAVAILABLE["postgres"]:
        targets["pg"] = target_yaml("postgres", spark_warehouse, "")
    if not UNAVAILABLE["spark"]:
        targets["spark"] = target_yaml("spark", spark_warehouse, "")
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write("name: monitors_on_engines\ntarget: local\ntargets:\n"
                + "".join(f"  {k}: {v}\n" for k, v in targets.items())
                + "schemas: {" + ", ".join(f"{k}: {v}" for k, v in s.schemas.items()) + "}\n")
    with open(os.path.join(root, "slos", "user_features.yml"), "w", encoding="utf-8") as f:
        f.write(_slos(s.raw))
    yield s
    print("\nmonitors on engines: " + ", ".join(f"{k} {v:.1f}s" for k, v in s.timings.items()))
    project = Project.load(root)
    for name, schema in s.extra:
        eng = connect(project.spec.targets[name], root)
        try:
            eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if eng.dialect == "postgres"
                        else f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
        finally:
            eng.close()
    for name in s.loaded:
        eng = connect(project.spec.targets[name], root)
        try:
            for schema in (s.raw, *s.schemas.values()):
                eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if eng.dialect == "postgres"
                            else f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
        finally:
            eng.close()


def _load(s: Setup, eng, days: str) -> None:
    """The rows of user_features whose day is before SPLIT ("first") or from it on ("rest")."""
    from sqlglot import exp

    where = f"ds {'<' if days == 'first' else '>='} DATE '{SPLIT}'"
    src = duckdb.connect(s.data, read_only=True)
    try:
        cols = [(r[0], r[1]) for r in src.execute("DESCRIBE raw.user_features").fetchall()]
        if eng is None:  # DuckDB: the project's own file
            con = duckdb.connect(os.path.join(s.root, "warehouse.duckdb"))
            try:
                con.execute(f"ATTACH '{s.data}' AS data (READ_ONLY)")
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{s.raw}"')
                verb = "CREATE TABLE" if days == "first" else "INSERT INTO"
                con.execute(f'{verb} "{s.raw}".user_features {"AS " if days == "first" else ""}'
                            f"SELECT * FROM data.raw.user_features WHERE {where}")
            finally:
                con.close()
            return
        typ = {c: exp.DataType.build(t, dialect="duckdb").sql(eng.dialect) for c, t in cols}
        if eng.dialect == "postgres":
            ref = f'"{s.raw}"."user_features"'
            if days == "first":
                eng.execute(f'DROP SCHEMA IF EXISTS "{s.raw}" CASCADE')
                eng.execute(f'CREATE SCHEMA "{s.raw}"')
                eng.execute(f"CREATE TABLE {ref} (" + ", ".join(f'"{c}" {typ[c]}' for c, _ in cols) + ")")
            csv = os.path.join(s.root, f"user_features.{days}.csv")
            src.execute(f"COPY (SELECT * FROM raw.user_features WHERE {where}) TO '{csv}' (HEADER false)")
            with eng.con.cursor() as cur, cur.copy(f"COPY {ref} FROM STDIN (FORMAT csv)") as copy, \
                    open(csv, "rb") as f:
                copy.write(f.read())
            eng.execute(f"ANALYZE {ref}")
        else:
            path = os.path.join(s.root, f"user_features.{days}.parquet")
            src.execute(f"COPY (SELECT * FROM raw.user_features WHERE {where}) TO '{path}' (FORMAT parquet)")
            select = ", ".join(f"CAST(`{c}` AS {typ[c]}) AS `{c}`" for c, _ in cols)
            if days == "first":
                eng.execute(f"DROP DATABASE IF EXISTS `{s.raw}` CASCADE")
                eng.execute(f"CREATE DATABASE `{s.raw}`")
                eng.execute(f"CREATE TABLE `{s.raw}`.user_features USING parquet AS "
                            f"SELECT {select} FROM parquet.`{path}`")
            else:
                eng.execute(f"INSERT INTO `{s.raw}`.user_features SELECT {select} FROM parquet.`{path}`")
    finally:
        src.close()


def _meta_rows(s: Setup, eng, name: str) -> dict:
    tables = {"monitor_metrics": ("column_name", "metric", "partition", "value", "alerted"),
              "monitor_summaries": ("column_name", "partition", "summary"),
              "monitor_state": ("column_name", "key", "value"),
              "monitor_alerts": ("partition", "column_name", "check_name", "metric", "severity")}
    out = {}
    q = '"' if name != "spark" else "`"
    for table, cols in tables.items():
        sql = (f"SELECT {', '.join(q + c + q for c in cols)} FROM {q}{s.schemas['meta']}{q}.{q}{table}{q} "
               "WHERE table_name = 'user_features'")
        out[table] = eng.query(sql)
    return out


def _monitor_results(run) -> list[dict]:
    return [{"table": r.table, "check": r.check, "column": r.column, "partition": r.partition, "status": r.status,
             "observed": r.observed, "expected": r.expected} for r in run.results if r.check_type == "monitor"]


def _build_all(s: Setup, name: str) -> None:
    project = Project.load(s.root)
    engine = dict(ENGINES)[name]
    eng = connect(project.spec.targets[name], s.root) if engine != "duckdb" else None
    if eng is not None:
        s.loaded.append(name)
    try:
        t0 = time.perf_counter()
        _load(s, eng, "first")
        s.timings[f"load {name}"] = time.perf_counter() - t0
        runs = []
        t0 = time.perf_counter()
        runs.append(project.build(target=name, write=False))
        _load(s, eng, "rest")
        runs.append(project.build(target=name, write=False, partitions=[FAULT_DAY, *NEW_DAYS]))
        s.timings[f"2 builds {name}"] = time.perf_counter() - t0
        s.runs[name] = [_monitor_results(r) for r in runs]
        if eng is None:
            eng = connect(project.spec.targets[name], s.root)
        s.meta[name] = _meta_rows(s, eng, name)
    finally:
        if eng is not None:
            eng.close()


@pytest.fixture(scope="module")
def built(setup):
    def get(name: str) -> Setup:
        if name not in setup.runs:
            _build_all(setup, name)
        return setup
    return get


def other_engines():
    return [pytest.param(name, engine, id=name,
                         marks=pytest.mark.skipif(bool(UNAVAILABLE[engine]) and engine not in REQUIRED,
                                                  reason=f"{engine}: {UNAVAILABLE[engine]}"))
            for name, engine in ENGINES[1:]]


# -- comparing -------------------------------------------------------------------------------------

def close(a, b, metric: str | None = None) -> bool:
    """Equal within the stated tolerances (None and NaN equal themselves)."""
    if a is None or b is None:
        return a is b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if metric in ("distinct_count", "monitor_distinct_count"):
        return math.isclose(a, b, rel_tol=DISTINCT_TOL, abs_tol=DISTINCT_ABS)
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def _by_key(results: list[dict]) -> dict:
    out = {}
    for r in results:
        key = (r["table"], r["check"], r["column"], r["partition"])
        assert key not in out, f"two results for {key}"
        out[key] = r
    return out


def test_duckdb_reference(built):
    """The reference: the first build judges 29 days (those after the first 14 with bands) and
    alerts on the faulty day only; the second re-judges it, with the same alerts, and judges the
    new day, quietly."""
    s = built("local")
    first, second = s.runs["local"]
    alerts = sorted((r["partition"], r["column"], r["check"]) for r in first if r["status"] != "pass")
    assert alerts == [(FAULT_DAY, "spend_30d", "monitor_distinct_count"),
                      (FAULT_DAY, "spend_30d", "monitor_missing_fraction")]
    assert {r["partition"] for r in first} == {f"2026-01-{d:02d}" for d in range(1, 30)}
    assert {r["partition"] for r in second} == {FAULT_DAY, *NEW_DAYS}
    assert sorted((r["partition"], r["column"], r["check"]) for r in second if r["status"] != "pass") == alerts


@pytest.mark.parametrize("name,engine", other_engines())
def test_monitor_results_agree(built, name, engine):
    ref_runs, got_runs = built("local").runs["local"], built(name).runs[name]
    for i, (ref, got) in enumerate(zip(ref_runs, got_runs), 1):
        ref, got = _by_key(ref), _by_key(got)
        assert sorted(got, key=repr) == sorted(ref, key=repr), f"build {i}: different monitor results"
        diffs = [(k, ref[k], got[k]) for k in ref if ref[k]["status"] != got[k]["status"]
                 or not close(ref[k]["observed"], got[k]["observed"], k[1])
                 or (k[1] != "monitor_distinct_count" and ref[k]["expected"] != got[k]["expected"])]
        assert not diffs, f"build {i}: {name} differs from duckdb in {len(diffs)} results: {diffs[:3]}"


@pytest.mark.parametrize("name,engine", other_engines())
def test_monitor_history_agrees(built, name, engine):
    """The meta schema after the three builds: every metric of every partition, the summaries, the
    learned state and the alerts."""
    ref, got = built("local").meta["local"], built(name).meta[name]
    rm = {(c, m, p): (v, a) for c, m, p, v, a in ref["monitor_metrics"]}
    gm = {(c, m, p): (v, a) for c, m, p, v, a in got["monitor_metrics"]}
    assert len(rm) == len(ref["monitor_metrics"]) > 30 * 100 and len(gm) == len(got["monitor_metrics"])
    assert set(gm) == set(rm)
    bad = [(k, rm[k], gm[k]) for k in rm if rm[k][1] != gm[k][1] or not close(rm[k][0], gm[k][0], k[1])]
    assert not bad, f"{len(bad)} metrics differ: {bad[:5]}"

    rs = {(c, p): json.loads(v) for c, p, v in ref["monitor_summaries"]}
    gs = {(c, p): json.loads(v) for c, p, v in got["monitor_summaries"]}
    assert set(gs) == set(rs) and any("bins" in v for v in rs.values()) and any("top" in v for v in rs.values())
    for k, r in rs.items():
        g = gs[k]
        assert {x: y for x, y in g.items() if x != "deciles"} == {x: y for x, y in r.items() if x != "deciles"}, k
        assert len(g.get("deciles", [])) == len(r.get("deciles", [])), k
        assert all(close(a, b) for a, b in zip(r.get("deciles", []), g.get("deciles", []))), k

    rst = {(c, key): json.loads(v) for c, key, v in ref["monitor_state"]}
    gst = {(c, key): json.loads(v) for c, key, v in got["monitor_state"]}
    assert set(gst) == set(rst)
    for k, r in rst.items():
        if k[1] == "edges":
            assert len(gst[k]) == len(r) and all(close(a, b) for a, b in zip(r, gst[k])), k
        else:
            assert gst[k] == r, k
    assert sorted(got["monitor_alerts"]) == sorted(ref["monitor_alerts"])
    assert {(p, c) for p, c, *_ in ref["monitor_alerts"]} == {(FAULT_DAY, "spend_30d")}


# -- the profile of awkward values -----------------------------------------------------------------

def _profile_of_events(s: Setup, name: str):
    """The monitors' profile of the differential tests' `events` table (NaN, NULLs, a duplicated
    key, quoted and unicode column names, timestamps) on one engine, with historical ranges and
    bin edges given, so that every query shape runs in one profile: discovery, the base query with
    the dependent counts fused, keys, categories and segments (with the query choosing them)."""
    import datetime as dt
    from dataclasses import replace

    from enginedata import TABLES, literal
    from sqlglot import exp

    from slocompile.monitors import discover_columns, make_spec, profile
    from slocompile.monitors.profile import rows_of
    from slocompile.sqltrees.profiles import top_values_query

    schema = f"mon_events_{s.tag}"
    project = Project.load(s.root)
    t0 = time.perf_counter()
    eng = connect(project.spec.targets[name], s.root)
    try:
        if name != "local":
            s.extra.append((name, schema))
        cols, rows = TABLES["events"]
        rel = exp.Table(this=exp.to_identifier("events", quoted=True), db=exp.to_identifier(schema, quoted=True))
        defs = [exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t)) for c, t in cols]
        values = exp.Values(expressions=[exp.Tuple(expressions=[literal(v, t) for v, (_, t) in zip(r, cols)])
                                         for r in rows])
        eng.execute(exp.Create(kind="SCHEMA", exists=True, this=exp.Table(db=exp.to_identifier(schema, quoted=True)))
                    .sql(eng.dialect, identify=True))
        eng.execute(f"DROP TABLE IF EXISTS {rel.sql(eng.dialect, identify=True)}")
        eng.execute(exp.Create(kind="TABLE", this=exp.Schema(this=rel.copy(), expressions=defs)).sql(
            eng.dialect, identify=True) + (" USING parquet" if eng.dialect == "spark" else ""))
        eng.execute(exp.Insert(this=rel.copy(), expression=values).sql(eng.dialect, identify=True))
        columns = discover_columns(eng, rel, exclude=["ds", "id"], partition="ds")
        spec = make_spec(rel, "ds", ["id"], columns, partition_kind="date")
        d2, d3 = dt.date(2024, 1, 2), dt.date(2024, 1, 3)
        # segments of "select" (a reserved word; values with a quote, a backslash and NULL): the two
        # most frequent values by rows, as the build chooses them, the rest pooled as (other)
        top = tuple(r["__v"] for r in rows_of(eng, top_values_query(spec, "select", d3, 2)))
        spec = replace(spec, segments=(("select", top),))
        ranges = {d2: {"amount": (5.0, 40.0), "Grüße": (1.5, 2.5)}, d3: {"amount": (0.1, 1e3)}}
        edges = {"amount": [6.5, 12.0, 30.0], "Grüße": [0.1, 9.0], "ts": [-5.25, -2.0]}
        out = columns, profile(eng, spec, ranges=ranges, edges=edges)  # pairs: from the table
        s.timings[f"events profile {name}"] = time.perf_counter() - t0
        return out
    finally:
        eng.close()


def _agree(ref, got) -> list:
    bad = []
    for p in ref.metrics:
        r, g = ref.metrics[p], got.metrics.get(p, {})
        if set(r) != set(g):
            bad.append((p, "metrics", sorted(set(r) ^ set(g), key=repr)))
        bad += [(p, k, r[k], g[k]) for k in r if k in g and not close(r[k], g[k], k[1])]
        for c, summ in ref.summaries[p].items():
            other = got.summaries[p].get(c, {})
            if {k: v for k, v in summ.items() if k != "deciles"} != {k: v for k, v in other.items() if k != "deciles"} \
                    or not all(close(a, b) for a, b in zip(summ.get("deciles", []), other.get("deciles", []))):
                bad.append((p, c, summ, other))
    return bad


@pytest.mark.parametrize("name,engine", other_engines())
def test_profile_of_nan_nulls_and_odd_names_agrees(setup, name, engine):
    if "events" not in setup.meta:  # DuckDB's, once
        setup.meta["events"] = _profile_of_events(setup, "local")
    ref_columns, ref = setup.meta["events"]
    columns, got = _profile_of_events(setup, name)
    assert columns == ref_columns  # the same columns and families
    assert {c.name: c.family for c in ref_columns}["Grüße"] == "numeric"
    assert set(got.metrics) == set(ref.metrics) == {"2024-01-01", "2024-01-02", "2024-01-03"}
    bad = _agree(ref, got)
    assert not bad, f"{len(bad)} differences: {bad[:4]}"
    m = ref.metrics["2024-01-03"]
    assert m[("Grüße", "missing_fraction")] == 0.5  # NaN counts as missing, as NULL does
    assert ("amount", "out_of_range_fraction") in m and "bins" in ref.summaries["2024-01-03"]["amount"]
    assert math.isclose(ref.metrics["2024-01-02"][(None, "duplicate_fraction")], 0.2)  # id 6 twice in 5 rows
    # segments: "a" (9 rows) and "b'c" (2) of their own, the rest (and NULL) pooled
    assert m[("select=a", "row_count")] == 3 and m[("select=(other)", "row_count")] == 1
    assert ("select=b'c", "row_count") in ref.metrics["2024-01-02"]
    assert m[("Grüße [select=a]", "missing_fraction")] == 1 / 3 and m[("amount [select=a]", "mean")] == 13.0
