"""Monitors in the product (issue 3): `monitor:` in declarations, daily builds, meta tables, backtest.

A small feature table is generated in the test with DuckDB SQL (400-ish users a day, a number, a
score, a category, a boolean, a timestamp; every value a hash of day and user). Daily operation:
the first build learns the history of 20 days, then one `build` per new day (Project.build). Day
22 has a feature job outage (`age` NULL on every row); day 23 is back to normal.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import pathlib

import duckdb
import pytest
from alertservers import Service
from proj import build, cli, query, sql, write

from slocompile.api import Project
from slocompile.errors import SpecError

DAY0 = dt.date(2026, 3, 1)
HISTORY, LAST, FAULT = 20, 25, 22   # days 0..19 first; then one build per day 20..25; fault on day 22
META = ("monitor_metrics", "monitor_summaries", "monitor_state", "monitor_alerts", "monitor_incidents")


def day(i: int) -> str:
    return (DAY0 + dt.timedelta(days=i)).isoformat()


def rows_of(first: int, last: int) -> str:
    """The raw rows of days first..last (inclusive)."""
    return f"""
        SELECT DATE '{DAY0}' + CAST(d AS INTEGER) AS ds, CAST(u AS INTEGER) AS user_id,
               CASE WHEN d = {FAULT} THEN NULL ELSE 18 + (u * 7919 + d * 104729) % 60 END AS age,
               ((u * 2654435761 + d * 40503) % 1000) / 1000.0 AS score,
               ['US', 'DE', 'FR', 'IN', 'BR'][1 + (u * 31 + d * 17) % 5] AS country,
               (u + d) % 3 = 0 AS is_active,
               TIMESTAMP '{DAY0} 20:00:00' + to_days(CAST(d AS INTEGER))
                   + to_minutes(CAST((u * 13 + d) % 240 AS BIGINT)) AS feature_ts
        FROM range({first}, {last + 1}) t(d), range(0, 420) s(u)
        WHERE u < 380 + (d * 37) % 40"""


TABLES = """
tables:
  - name: feat
    relation: raw.feat
    partition: ds
    key: [user_id]
    monitor: all
    checks:
      - row_count: {min: 100}
  - name: feat_gated              # the same rows; age's monitor alerts fail the partition
    relation: raw.feat
    partition: ds
    gate: filter
    monitor: {columns: [age], severity: error}
"""


@pytest.fixture(scope="module")
def daily(tmp_path_factory):
    """The project after the daily operation: (root, {day: BuildResult}, meta counts before re-run)."""
    root = write(tmp_path_factory.mktemp("monitoring") / "p", TABLES)
    sql(root, f"CREATE TABLE raw.feat AS {rows_of(0, HISTORY - 1)} ORDER BY ds, user_id")
    project = Project.load(root)
    runs = {"history": project.build(write=False)}
    for d in range(HISTORY, LAST + 1):
        sql(root, f"INSERT INTO raw.feat {rows_of(d, d)}")
        runs[day(d)] = project.build(write=(d == FAULT))
        if d == FAULT:
            with open(os.path.join(root, "target", "run_results.json"), encoding="utf-8") as fh:
                runs["fault_results"] = json.load(fh)
            with open(os.path.join(root, "target", "junit.xml"), encoding="utf-8") as fh:
                runs["fault_junit"] = fh.read()
    return root, runs


def alerts_of(run, table="feat", partition=None):
    return [r for r in run.results if r.table == table and r.check_type == "monitor" and r.status != "pass"
            and (partition is None or r.partition == partition)]


def test_history_build_learns_quietly(daily):
    _, runs = daily
    run = runs["history"]
    assert [a.message for a in alerts_of(run)] == []
    tm = run.monitors["feat"]
    assert tm.judged == [day(i) for i in range(HISTORY)] and tm.columns == 5  # not ds, not the key
    learning = [r for r in run.results if r.table == "feat" and r.check == "monitor"]
    assert len(learning) == HISTORY and all(r.status == "pass" for r in learning)
    assert learning[0].message.startswith("learning: 0 of 14")


def test_fault_alerts_naming_the_column_and_recovery_is_quiet(daily):
    _, runs = daily
    fault = runs[day(FAULT)]
    alerts = alerts_of(fault, partition=day(FAULT))
    assert {a.column for a in alerts} == {"age"}, [a.message for a in alerts]
    missing = next(a for a in alerts if a.check == "monitor_missing_fraction")
    assert missing.status == "warn" and missing.severity == "warn" and missing.observed == 1.0
    assert "missing fraction of age rose" in missing.message and day(FAULT) in missing.message
    assert fault.exit_code == 1  # the gated table: an error-severity monitor alert fails the partition
    for d in range(HISTORY, LAST + 1):
        if d != FAULT:
            assert alerts_of(runs[day(d)], partition=day(d)) == [], day(d)  # the next day is quiet too
    assert runs[day(FAULT + 1)].monitors["feat"].judged == [day(FAULT + 1)]


def test_error_severity_fails_the_partition_and_the_gate_reacts(daily):
    root, runs = daily
    gated = alerts_of(runs[day(FAULT)], table="feat_gated")
    assert gated and all(a.status == "fail" and a.severity == "error" for a in gated)
    (status, failed), = query(root, "SELECT status, failed_checks FROM slo.status WHERE table_name = 'feat_gated' "
                                    f"AND partition = '{day(FAULT)}'")
    assert status == "fail" and "monitor_missing_fraction" in failed
    days = {r[0].isoformat() for r in query(root, "SELECT DISTINCT ds FROM validated.feat_gated")}
    assert day(FAULT) not in days and day(FAULT + 1) in days


def test_run_results_and_junit_carry_the_alert(daily):
    _, runs = daily
    results = runs["fault_results"]["results"]
    hit = [r for r in results if r["table"] == "feat" and r["check"] == "monitor_missing_fraction"]
    assert len(hit) == 1
    r = hit[0]
    assert (r["column"], r["partition"], r["status"], r["observed"]) == ("age", day(FAULT), "warn", 1.0)
    assert "%" in r["expected"] and "–" in r["expected"]  # the normal band, e.g. 0%–1%
    assert r["check_type"] == "monitor" and "age" in r["message"]
    assert f'name="monitor_missing_fraction (age) [{day(FAULT)}]"' in runs["fault_junit"]
    with open(os.path.join(daily[0], "target", "manifest.json"), encoding="utf-8") as fh:
        tables = {t["name"]: t for t in json.load(fh)["tables"]}
    assert tables["feat"]["monitor"] == {"columns": "all", "severity": "warn"}
    assert tables["feat_gated"]["monitor"] == {"columns": ["age"], "severity": "error"}


def test_meta_tables_hold_the_history(daily):
    root, _ = daily
    n_days = LAST + 1
    assert query(root, "SELECT count(DISTINCT partition) FROM slo.monitor_metrics WHERE table_name = 'feat'") \
        == [(n_days,)]
    assert query(root, "SELECT count(*) FROM slo.monitor_metrics WHERE table_name = 'feat' AND column_name IS NULL "
                       "AND metric = 'row_count'") == [(n_days,)]
    families = dict(query(root, "SELECT column_name, value FROM slo.monitor_state WHERE table_name = 'feat' "
                                "AND key = 'family'"))
    assert families == {"age": '"numeric"', "score": '"numeric"', "country": '"categorical"',
                        "is_active": '"boolean"', "feature_ts": '"timestamp"'}
    (parts,), = query(root, "SELECT value FROM slo.monitor_state WHERE table_name = 'feat' AND key = 'partitions'")
    assert json.loads(parts) == [day(i) for i in range(n_days)]
    alerts = query(root, "SELECT partition, column_name, check_name, observed, expected, incident FROM "
                         "slo.monitor_alerts WHERE table_name = 'feat' ORDER BY check_name")
    assert {a[:3] for a in alerts} >= {(day(FAULT), "age", "monitor_missing_fraction")}
    assert all(a[5] == f"feat/{day(FAULT)}/1" for a in alerts)  # one cause, one incident
    (inc,), = query(root, "SELECT cause || ' | ' || columns FROM slo.monitor_incidents WHERE table_name = 'feat'")
    assert inc == "missing fraction of age rose | age"
    # metrics are in history as judged: the fault day's missing fraction, flagged as alerted
    assert query(root, "SELECT value, alerted FROM slo.monitor_metrics WHERE table_name = 'feat' AND "
                       f"column_name = 'age' AND metric = 'missing_fraction' AND partition = '{day(FAULT)}'") \
        == [(1.0, True)]


def test_backtest_json_matches_the_daily_builds(daily):
    root, runs = daily
    before = {t: query(root, f"SELECT count(*) FROM slo.{t}")[0][0] for t in META}
    proc = cli(root, "backtest", "--format", "json", "--start", day(HISTORY))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert lines and all({"partition", "table", "column", "check", "observed", "expected", "message",
                          "incident"} <= set(x) for x in lines)
    daily_alerts = {(a.table, a.partition, a.column, a.check) for d in range(HISTORY, LAST + 1)
                    for t in ("feat", "feat_gated") for a in alerts_of(runs[day(d)], t, day(d))}
    assert {(x["table"], x["partition"], x["column"], x["check"]) for x in lines} == daily_alerts
    assert {t: query(root, f"SELECT count(*) FROM slo.{t}")[0][0] for t in META} == before  # wrote nothing
    text = cli(root, "backtest", "--select", "feat")
    assert text.returncode == 0
    assert f"{day(FAULT)}  missing fraction of age rose" in text.stdout
    assert "age: missing fraction of age rose from" in text.stdout
    # the Python API: the same alerts
    api = Project.load(root).backtest(select=["feat"], start=day(HISTORY), end=day(LAST))
    assert {(x["partition"], x["column"], x["check"]) for x in api} == \
        {(p, c, k) for t, p, c, k in daily_alerts if t == "feat"}


def test_rechecking_a_partition_replaces_its_rows(daily, tmp_path):
    root, _ = daily
    count = ("SELECT count(*), count(DISTINCT run_id), min(run_id) FROM slo.{t} WHERE table_name = 'feat' "
             f"AND partition = '{day(FAULT)}'")
    total = "SELECT count(*) FROM slo.{t}"
    before = {t: query(root, count.format(t=t))[0][0] for t in ("monitor_metrics", "monitor_summaries",
                                                                "monitor_alerts", "monitor_incidents")}
    totals = {t: query(root, total.format(t=t))[0][0] for t in META}
    run = build(root, select=["feat"], partitions=[day(FAULT)])
    assert run.monitors["feat"].judged == [day(FAULT)]
    assert {a.column for a in alerts_of(run)} == {"age"}
    for t, n in before.items():
        rows, runs, run_id = query(root, count.format(t=t))[0]
        assert (rows, runs, run_id) == (n, 1, run.run_id), t
    assert {t: query(root, total.format(t=t))[0][0] for t in META} == totals


def test_full_refresh_rebuilds_the_history(daily):
    root, runs = daily
    expected = sorted((r[0], r[1], r[2]) for r in query(root, "SELECT partition, column_name, check_name FROM "
                                                             "slo.monitor_alerts WHERE table_name = 'feat'"))
    run = build(root, select=["feat"], full_refresh=True)
    tm = run.monitors["feat"]
    assert tm.reset and len(tm.judged) == LAST + 1
    got = sorted(query(root, "SELECT partition, column_name, check_name FROM slo.monitor_alerts "
                             "WHERE table_name = 'feat'"))
    assert got == expected
    assert query(root, "SELECT count(DISTINCT run_id) FROM slo.monitor_metrics WHERE table_name = 'feat'") == [(1,)]


# ------------------------------------------------------------------ declarations

@pytest.mark.parametrize("monitor,problem", [
    ("all", None),
    ("[age, score]", None),
    ("{columns: [age], severity: error}", None),
    ("{severity: error}", None),
    ("[agee]", "unknown column 'agee' (did you mean 'age'?)"),
    ("[ds]", "'ds' is the partition column"),
    ("alll", "not 'alll' (did you mean 'all'?)"),
    ("age", "(for one column write [age])"),
    ("[]", "the column list is empty"),
    ("{columns: all, severity: fatal}", "must be one of error, warn"),
    ("{colums: all}", "unknown key 'colums' in 'monitor' of table 't' (did you mean 'columns'?)"),
    ("{columns: all, sensitivity: high}", None),
    ("{columns: all, sensitivity: 2.5}", None),
    ("{columns: all, sensitivity: hihg}", "sensitivity must be low, normal, high or a number above 0, not 'hihg' "
                                          "(did you mean 'high'?)"),
    ("{columns: all, sensitivity: 0}", "sensitivity must be low, normal, high or a number above 0, not 0"),
])
def test_monitor_declarations(tmp_path, monitor, problem):
    root = write(tmp_path / "p", f"""
        tables:
          - name: t
            relation: raw.t
            partition: ds
            monitor: {monitor}
            columns: [{{name: ds}}, {{name: age}}, {{name: score}}]
        """)
    if problem is None:
        spec = Project.load(root).spec.tables[0].monitor
        assert spec.severity in ("warn", "error")
        assert spec.sensitivity == {"high": 1.4, "2.5": 2.5}.get(monitor.split("sensitivity: ")[-1][:-1], 1.0)
        return
    with pytest.raises(SpecError) as err:
        Project.load(root)
    assert problem in str(err.value) and "slos/tables.yml:5:" in str(err.value)


def test_monitor_needs_columns_that_exist(tmp_path):
    # (a table without partition may have monitors: each build is a snapshot, tests/run/test_unpartitioned.py)
    root = write(tmp_path / "q", "tables:\n  - {name: t, relation: raw.t, partition: ds, monitor: [agee]}\n")
    sql(root, "CREATE TABLE raw.t AS SELECT DATE '2026-01-01' AS ds, 1 AS age")
    proc = cli(root, "build")
    assert proc.returncode == 2 and "tables.yml:2" in proc.stderr
    assert "column 'agee' is not in raw.t (did you mean 'age'?)" in proc.stderr
    assert not query(root, "SELECT * FROM slo.runs")  # rejected before the run was recorded
    proc = cli(root, "backtest")
    assert proc.returncode == 2 and "did you mean 'age'" in proc.stderr


def test_schema_accepts_the_monitor_shapes():
    from slocompile.tools import jsonschema as sj

    for m in ("all", ["a"], {"columns": "all", "severity": "error"}, {"columns": ["a"]}, {}):
        assert sj.validate({"tables": [{"name": "t", "relation": "s.t", "partition": "ds", "monitor": m}]}) == []
    for m in ("everything", [], {"severity": "fatal"}, {"cols": "all"}, 3):
        assert sj.validate({"tables": [{"name": "t", "relation": "s.t", "partition": "ds", "monitor": m}]}), m


def test_an_engine_that_cannot_run_queries_gets_one_warn_result(tmp_path):
    """Postgres and Spark run monitors (tests/engines); an engine object without query/columns
    (here a stub) gets one warn result instead, and writes nothing."""
    from slocompile.run import monitor_store
    from slocompile.run import monitors as monitoring
    from slocompile.run.build import BuildResult, TableRun

    root = write(tmp_path / "p", "tables:\n  - {name: t, relation: raw.t, partition: ds, monitor: all}\n")
    project = Project.load(root).spec

    class Postgres:
        dialect = "postgres"

    run = BuildResult("r1", project, "pg", "postgres", dt.datetime.now())
    tr = TableRun(project.tables[0], None, [], [], 0.0, ("2026-01-01",), "fp")
    monitoring.run_table(Postgres(), project, run, tr)
    (r,), = [tr.results]
    assert r.status == "warn" and r.check == "monitor" and "monitors cannot run on target 'pg'" in r.message
    assert monitor_store.statements(project, run) == []


def test_backtest_on_an_unmonitored_table_and_cli_errors(tmp_path):
    root = write(tmp_path / "p", "tables:\n  - {name: t, relation: raw.t, partition: ds}\n")
    sql(root, f"CREATE TABLE raw.t AS SELECT ds, user_id, age FROM ({rows_of(0, HISTORY + 4)})")
    proc = cli(root, "backtest")
    assert proc.returncode == 2 and "no table declares 'monitor:'" in proc.stderr
    proc = cli(root, "backtest", "--select", "t")
    assert proc.returncode == 0, proc.stderr
    assert "t (not monitored: as if `monitor: all`)" in proc.stdout and day(FAULT) in proc.stdout
    proc = cli(root, "backtest", "--select", "t", "--end", "yesterday")
    assert proc.returncode == 2 and "--end: 'yesterday' is not a partition" in proc.stderr
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"), read_only=True)
    try:  # nothing written: not even the meta schema
        assert not con.execute("SELECT * FROM information_schema.schemata WHERE schema_name = 'slo'").fetchall()
    finally:
        con.close()


def test_example_daily_builds_alert_on_the_outage_and_recover(tmp_path):
    """examples/feature_store with `monitor: all`: the history of the days before the outage, then
    one build a day: the outage day alerts on spend_30d only, the day after is quiet."""
    import shutil
    import subprocess
    import sys

    repo = pathlib.Path(__file__).resolve().parents[2]
    example = str(repo / "examples" / "feature_store")
    root = shutil.copytree(example, str(tmp_path / "fs"), ignore=shutil.ignore_patterns(
        "target", "warehouse.duckdb*", "__pycache__"))
    subprocess.run([sys.executable, "generate_data.py", "--anchor", "2026-09-01"], cwd=root, check=True,
                   capture_output=True, timeout=120)
    assert Project.load(root).spec.table("user_features").monitor is not None
    outage, after = "2026-08-23", "2026-08-24"  # generate_data.py: the anchor minus 9 days
    sql(root, ["CREATE TABLE raw.all_features AS SELECT * FROM raw.user_features",
               f"DELETE FROM raw.user_features WHERE ds >= DATE '{outage}'"])
    project = Project.load(root, vars={"feature_max_age": "1000d"})
    first = project.build(select=["user_features"], write=False)
    assert alerts_of(first, "user_features") == [] and len(first.monitors["user_features"].judged) == 21
    seen = {}
    for d in (outage, after):
        sql(root, f"INSERT INTO raw.user_features SELECT * FROM raw.all_features WHERE ds = DATE '{d}'")
        seen[d] = alerts_of(project.build(select=["user_features"], write=False), "user_features", d)
    assert {a.column for a in seen[outage]} == {"spend_30d"}
    assert any(a.check == "monitor_missing_fraction" for a in seen[outage])
    assert seen[after] == []


# ------------------------------------------------------------------ persistent faults, incidents, accept

HELD = range(22, 27)  # a share of age written as NULL on 5 consecutive days; day 27 recovered


def held_rows(first: int, last: int, held=HELD) -> str:
    """rows_of, with a third of age NULL on the `held` days instead of the one-day outage."""
    lo, hi = held.start, held.stop - 1
    return rows_of(first, last).replace(
        f"CASE WHEN d = {FAULT} THEN NULL", f"CASE WHEN d BETWEEN {lo} AND {hi} AND u % 3 = 0 THEN NULL")


HELD_TABLES = """
tables:
  - name: feat
    relation: raw.feat
    partition: ds
    key: [user_id]
    gate: filter
    monitor: {columns: [age, score, country], severity: error}
"""


def _events(root) -> list[tuple]:
    return query(root, "SELECT event, partition, opened, columns, partitions FROM slo.monitor_incident_events "
                       "WHERE table_name = 'feat' ORDER BY partition, event")


def test_a_persistent_fault_is_marked_every_day_with_one_open_and_one_recover(tmp_path):
    hook = Service(None)  # a real local endpoint: what the people alerted hear
    root = write(tmp_path / "p", HELD_TABLES + f"""
triggers:
  - name: page
    on: [fail, recover]
    do:
      - webhook: "{hook.url}"
""")
    sql(root, f"CREATE TABLE raw.feat AS {held_rows(0, HISTORY - 1)} ORDER BY ds, user_id")
    project = Project.load(root)
    project.build(write=False)
    runs = {}
    for d in range(HISTORY, 29):
        sql(root, f"INSERT INTO raw.feat {held_rows(d, d)}")
        runs[d] = project.build(write=False)
    for d in HELD:  # every day of the fault fails its partition (gate filter hides it), one incident throughout
        alerts = alerts_of(runs[d], partition=day(d))
        assert {a.column for a in alerts} == {"age"} and all(a.status == "fail" for a in alerts), (d, alerts)
    assert all(alerts_of(runs[d], partition=day(d)) == [] for d in (20, 21, 27, 28))
    ids = {a["incident"] for d in HELD for a in runs[d].monitors["feat"].alerts}
    assert ids == {f"feat/{day(22)}/1"}
    assert _events(root) == [("open", day(22), day(22), "age", 1), ("recover", day(27), day(22), "age", 5)]
    # each build re-checks the failing partitions (and re-judges them): their events are not new again
    assert [(e["event"], e["partition"]) for d in runs for e in runs[d].monitors["feat"].events if e["new"]] == [
        ("open", day(22)), ("recover", day(27))]
    # the build's alerts carry each incident event once: the open with the first day, the recover
    assert [(e["table"], e["event"], e["partition"]) for d in runs for e in runs[d].incident_events] == [
        ("feat", "open", day(22)), ("feat", "recover", day(27))]
    heard = [(e["event"], e["partition"]) for body in hook.accepted for e in body.get("incident_events", [])]
    hook.close()
    assert heard == [("open", day(22)), ("recover", day(27))], hook.accepted
    assert [body["event"] for body in hook.accepted] == ["fail", "recover"]  # one message each, not one a day
    shown = {r[0].isoformat() for r in query(root, "SELECT DISTINCT ds FROM validated.feat")}
    assert not shown & {day(d) for d in HELD} and day(27) in shown
    # backtest replays the same alerts and the same lifecycle
    bt = project.backtest(start=day(HISTORY), detailed=True)
    assert {(a["partition"], a["column"], a["check"]) for a in bt.alerts} == {
        (r.partition, r.column, r.check) for d in runs for r in alerts_of(runs[d], partition=day(d))}
    assert [(e["event"], e["partition"], e["partitions"]) for e in bt.events] == [
        ("open", day(22), 1), ("recover", day(27), 5)]


def test_accept_makes_the_new_level_the_baseline(tmp_path):
    root = write(tmp_path / "p", HELD_TABLES)
    held = range(22, 40)  # the change lasts: it is intended
    sql(root, f"CREATE TABLE raw.feat AS {held_rows(0, HISTORY - 1, held)} ORDER BY ds, user_id")
    project = Project.load(root)
    project.build(write=False)
    for d in range(HISTORY, 25):
        sql(root, f"INSERT INTO raw.feat {held_rows(d, d, held)}")
        run = project.build(write=False)
    assert alerts_of(run, partition=day(24))  # still alerting on the third day: a NULL rise is never normal
    bad = cli(root, "accept", "feat", "agee", "--from", day(22), "--reason", "x")
    assert bad.returncode == 2 and "column 'agee' is not in raw.feat" in bad.stderr and "Traceback" not in bad.stderr
    bad = cli(root, "accept", "feat", "age", "--from", "yesterday", "--reason", "x")
    assert bad.returncode == 2 and "--from 'yesterday' is not a partition" in bad.stderr
    ok = cli(root, "accept", "feat", "age", "--metric", "missing_fraction", "--from", day(22), "--reason",
             "age is optional since the new sign-up form", "--by", "ana")
    assert ok.returncode == 0, ok.stderr
    assert f"accepted missing_fraction of feat.age from {day(22)} as intended, by ana" in ok.stdout
    (who, why, start), = query(root, "SELECT accepted_by, reason, from_partition FROM slo.monitor_acceptances")
    assert (who, why, start) == ("ana", "age is optional since the new sign-up form", day(22))
    sql(root, f"INSERT INTO raw.feat {held_rows(25, 25, held)}")
    run = project.build(write=False)
    assert sorted(run.monitors["feat"].checked) == [day(d) for d in range(22, 26)]  # the failing ones re-checked
    assert all(alerts_of(run, partition=day(d)) == [] for d in range(22, 26))
    assert [e[:2] for e in _events(root)] == [("open", day(22)), ("recover", day(22))]
    assert [a for a in project.backtest(start=day(22)) if a["column"] == "age"] == []
    page = pathlib.Path(project.report()).read_text(encoding="utf-8")
    lifecycle = page[page.index("<h3>Incident lifecycle</h3>"):page.index("<h3>Accepted changes</h3>")]
    assert lifecycle.count(f"feat/{day(22)}/1") == 2 and ">open<" in lifecycle and ">recover<" in lifecycle
    accepted = page[page.index("<h3>Accepted changes</h3>"):]
    assert "age is optional since the new sign-up form" in accepted and "ana" in accepted


SEGMENTED = """
tables:
  - name: feat
    relation: raw.feat
    partition: ds
    key: [user_id]
    monitor: {columns: [age, score], segments: [country]}
"""


def test_segments_find_and_name_a_fault_confined_to_one_country(tmp_path):
    root = write(tmp_path / "p", SEGMENTED)
    country = "['US', 'DE', 'FR', 'IN', 'BR'][1 + (u * 31 + d * 17) % 5]"
    rows = rows_of(0, HISTORY + 2).replace(
        f"CASE WHEN d = {FAULT} THEN NULL", f"CASE WHEN d = {HISTORY + 1} AND {country} = 'BR' AND u % 3 = 0 THEN NULL")
    sql(root, f"CREATE TABLE raw.feat AS {rows} ORDER BY ds, user_id")
    project = Project.load(root)
    run = project.build(write=False)
    tm = run.monitors["feat"]
    assert [(c, sorted(v)) for c, v in tm.segments] == [("country", ["BR", "DE", "FR", "IN", "US"])]
    alerts = [a for a in tm.alerts if a["partition"] == day(HISTORY + 1)]
    named = [a["message"] for a in alerts if a["column"] == "age [country=BR]"]
    assert named and named[0].startswith("missing fraction of age in country=BR rose from 0% to 3")
    assert not [a for a in tm.alerts if a["partition"] != day(HISTORY + 1)]
    assert not [a for a in alerts if "country=" in (a["column"] or "") and "BR" not in a["column"]]
    (values,) = query(root, "SELECT value FROM slo.monitor_state WHERE key = 'segments'")[0]
    assert json.loads(values) == list(tm.segments[0][1])   # kept: later builds judge the same segments
    assert {a["column"] for a in project.backtest()} == {a["column"] for a in tm.alerts}
