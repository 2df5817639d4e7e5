"""Issue 16: time partitions with a granularity, on DuckDB. `partition: {column: event_ts,
granularity: hour}` makes each hour a partition labelled 'YYYY-MM-DD HH:00:00' (day, week and
month: 'YYYY-MM-DD', the first day) in statuses, results, --partition and the views; everything
per partition (incremental builds, gates, keys, change SLOs, missing partitions) works at that
grain; a timestamp column without a granularity and a build over max_partitions stop with exit 2."""
from __future__ import annotations

import pytest
from proj import build, cli, query, sql, write

from slocompile.api import Project
from slocompile.errors import SlocompileError

EVENTS = ("CREATE TABLE raw.events (event_id INT, event_ts TIMESTAMP, amount DOUBLE, kind VARCHAR)",
          # 60 events, one every 7 minutes from midnight: hours 00..06 (the last, 06, has 7 events);
          # event 50 (05:50) has no amount
          "INSERT INTO raw.events SELECT i, TIMESTAMP '2026-11-01' + INTERVAL (i * 7) MINUTE, "
          "CASE WHEN i = 50 THEN NULL ELSE i END, 'k' || (i % 3) FROM range(60) t(i)")


def hourly(gate: str = "filter", **extra) -> dict:
    return {"name": "events", "relation": "raw.events", "key": ["event_id"], "gate": gate,
            "partition": {"column": "event_ts", "granularity": "hour"},
            "columns": [{"name": "amount", "checks": [{"not_null": {}}]}], **extra}


def expected_hours() -> dict[str, int]:
    """Rows per hour label, computed here from the same rule the data follows (i * 7 minutes)."""
    out: dict[str, int] = {}
    for i in range(60):
        h = i * 7 // 60
        out[f"2026-11-01 {h:02d}:00:00"] = out.get(f"2026-11-01 {h:02d}:00:00", 0) + 1
    return out


def test_hourly_partitions_statuses_results_and_the_filtered_view(tmp_path):
    root = write(tmp_path, [hourly(checks=[{"row_count": {"min": 1}}])])
    sql(root, list(EVENTS))
    run = build(root)
    hours = expected_hours()
    assert set(run.tables[0].partitions) == set(hours)
    rows = {r.partition: r.observed for r in run.results if r.check == "row_count"}
    assert rows == hours
    status = dict(query(root, "SELECT partition, status FROM slo.status WHERE partition IS NOT NULL"))
    assert status == {h: ("fail" if h == "2026-11-01 05:00:00" else "pass") for h in hours}
    # filter: the failing hour is hidden, every other hour served whole
    served = query(root, "SELECT count(*), count(DISTINCT date_trunc('hour', event_ts)) FROM validated.events")
    assert served == [(60 - hours["2026-11-01 05:00:00"], len(hours) - 1)]


def test_accepted_values_counts_each_hour(tmp_path):
    """accepted_values counts its violations per value (DuckDB's value_counts plan), grouped at the
    hour: the counts per hour equal the rows computed here; on the timestamp column itself, each
    row's own time is tested (not its hour's)."""
    root = write(tmp_path, [hourly(columns=[
        {"name": "kind", "checks": [{"accepted_values": {"values": ["k0", "k1"], "max_fraction": 1}}]},
        {"name": "event_ts", "checks": [{"accepted_values": {
            "name": "on_the_hour", "values": [f"2026-11-01 {h:02d}:00:00" for h in range(7)], "max_fraction": 1}}]}])])
    sql(root, list(EVENTS))
    run = build(root)
    bad_kind: dict[str, int] = {}
    off_hour: dict[str, int] = {}
    for i in range(60):
        hour = f"2026-11-01 {i * 7 // 60:02d}:00:00"
        bad_kind[hour] = bad_kind.get(hour, 0) + (i % 3 == 2)
        off_hour[hour] = off_hour.get(hour, 0) + (i * 7 % 60 != 0)  # not on the hour
    assert {r.partition: r.observed["rows"] for r in run.results if r.check.startswith("accepted_values")} == bad_kind
    assert {r.partition: r.observed["rows"] for r in run.results if r.check == "on_the_hour"} == off_hour


def test_incremental_builds_check_new_failing_and_changed_hours_only(tmp_path):
    root = write(tmp_path, [hourly()])
    sql(root, list(EVENTS))
    build(root)
    assert build(root).tables[0].partitions == ("2026-11-01 05:00:00",)  # the failing hour only
    # a new hour arrives, and an event of 02:xx changes: those two hours and the failing one
    sql(root, ["INSERT INTO raw.events VALUES (1000, TIMESTAMP '2026-11-01 07:15:00', 1, 'k0')",
               "UPDATE raw.events SET amount = -1 WHERE event_id = 20"])
    assert build(root).tables[0].partitions == ("2026-11-01 02:00:00", "2026-11-01 05:00:00",
                                                "2026-11-01 07:00:00")
    # the failing hour fixed: checked once more, then nothing is left to check
    sql(root, "UPDATE raw.events SET amount = 0 WHERE event_id = 50")
    assert build(root).tables[0].partitions == ("2026-11-01 05:00:00",)
    assert build(root).tables[0].partitions == ()
    assert query(root, "SELECT count(*) FROM validated.events") == [(61,)]


@pytest.mark.parametrize("value,label", [("2026-11-01T05", "2026-11-01 05:00:00"),
                                         ("2026-11-01 05:00", "2026-11-01 05:00:00"),
                                         ("2026-11-01 05:00:00", "2026-11-01 05:00:00")])
def test_partition_option_takes_an_hour_in_any_spelling(tmp_path, value, label):
    root = write(tmp_path, [hourly()])
    sql(root, list(EVENTS))
    run = build(root, partitions=[value])
    assert run.tables[0].partitions == (label,)
    assert {r.partition for r in run.results if r.check_type == "not_null"} == {label}
    assert query(root, "SELECT partition FROM slo.status WHERE partition IS NOT NULL") == [(label,)]


@pytest.mark.parametrize("value,message", [
    ("2026-11-01 05:30", "'2026-11-01 05:30' is inside partition '2026-11-01 05:00:00'; name that one"),
    ("2026-11-01", "partitioned by hour of 'event_ts': write YYYY-MM-DD HH:00"),
    ("yesterday", "write YYYY-MM-DD HH:00"),
    ("2026-11-01 25:00", "write YYYY-MM-DD HH:00"),
    ("2026-11-02 05:00", "table 'events' has no partition '2026-11-02 05:00:00'"),
])
def test_partition_option_refuses_values_off_the_grain(tmp_path, value, message):
    root = write(tmp_path, [hourly()])
    sql(root, list(EVENTS))
    done = cli(root, "build", "--partition", value)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("grain,values,labels", [
    ("day", ["2026-11-03"], ["2026-11-03"]),
    ("week", ["2026-11-02"], ["2026-11-02"]),              # a Monday
    ("month", ["2026-11", "2026-11-01"], ["2026-11-01"]),
])
def test_day_week_and_month_labels_and_partition_values(tmp_path, grain, values, labels):
    t = {"name": "daily", "relation": "raw.d", "partition": {"column": "ts", "granularity": grain},
         "checks": [{"row_count": {"min": 1}}]}
    root = write(tmp_path, [t])
    sql(root, ["CREATE TABLE raw.d (ts TIMESTAMP, x INT)",
               "INSERT INTO raw.d SELECT TIMESTAMP '2026-10-20 13:00' + INTERVAL (i) HOUR, i FROM range(24 * 20) t(i)"])
    run = build(root)
    counts = {r.partition: r.observed for r in run.results if r.check == "row_count"}
    truth = dict(query(root, {"day": "SELECT CAST(CAST(ts AS DATE) AS VARCHAR), count(*) FROM raw.d GROUP BY 1",
                              "week": "SELECT CAST(CAST(date_trunc('week', ts) AS DATE) AS VARCHAR), count(*) "
                                      "FROM raw.d GROUP BY 1",
                              "month": "SELECT strftime(ts, '%Y-%m-01'), count(*) FROM raw.d GROUP BY 1"}[grain]))
    assert counts == truth and sum(counts.values()) == 24 * 20
    named = build(root, partitions=values)
    assert named.tables[0].partitions == tuple(labels)


def test_a_week_value_must_be_a_monday(tmp_path):
    t = {"name": "w", "relation": "raw.d", "partition": {"column": "ts", "granularity": "week"}}
    root = write(tmp_path, [t])
    sql(root, ["CREATE TABLE raw.d (ts TIMESTAMP)", "INSERT INTO raw.d VALUES ('2026-11-04 10:00')"])
    with pytest.raises(SlocompileError, match="'2026-11-04' is inside partition '2026-11-02'"):
        build(root, partitions=["2026-11-04"])


def test_keys_are_unique_per_hour_not_per_timestamp(tmp_path):
    root = write(tmp_path, [hourly()])
    sql(root, ["CREATE TABLE raw.events (event_id INT, event_ts TIMESTAMP, amount DOUBLE, kind VARCHAR)",
               # id 1 twice in hour 10 (two different timestamps), id 2 once in hours 10 and 11
               "INSERT INTO raw.events VALUES (1, '2026-11-01 10:05', 1, 'a'), (1, '2026-11-01 10:55', 1, 'a'), "
               "(2, '2026-11-01 10:10', 1, 'a'), (2, '2026-11-01 11:10', 1, 'a')"])
    run = build(root)
    dup = {r.partition: (r.status, r.observed) for r in run.results if r.check == "key"}
    assert dup == {"2026-11-01 10:00:00": ("fail", 1), "2026-11-01 11:00:00": ("pass", 0)}


def test_a_missing_hour_is_named_at_the_grain(tmp_path):
    root = write(tmp_path, [hourly(cadence="hour")])
    sql(root, list(EVENTS))
    sql(root, "DELETE FROM raw.events WHERE event_ts >= '2026-11-01 03:00' AND event_ts < '2026-11-01 04:00'")
    run = build(root)
    complete = next(r for r in run.results if r.check_type == "partitions_complete")
    assert complete.status == "fail" and complete.observed["missing"] == ["2026-11-01 03:00:00"]


def test_gate_block_and_last_good_at_the_grain(tmp_path):
    root = write(tmp_path, [hourly("last_good"), {**hourly("block"), "name": "blocked"}])
    sql(root, list(EVENTS))
    build(root)
    five = expected_hours()["2026-11-01 05:00:00"]
    # last_good: every hour but the failing one is published
    assert query(root, "SELECT count(*) FROM validated.events") == [(60 - five,)]
    versions = dict(query(root, "SELECT partition, status FROM slo.versions WHERE table_name = 'events'"))
    assert set(versions) == set(expected_hours()) and versions["2026-11-01 05:00:00"] == "fail"
    # block: reading the failing hour raises, naming it
    done = cli(root, "build", "--select", "blocked")
    assert done.returncode == 1
    import duckdb

    con = duckdb.connect(f"{root}/warehouse.duckdb", read_only=True)
    try:
        with pytest.raises(duckdb.Error, match="2026-11-01 05:00:00"):
            con.execute("SELECT count(*) FROM validated.blocked").fetchall()
    finally:
        con.close()


def test_time_zone_cuts_hours_and_days_in_the_project_zone(tmp_path):
    t = {"name": "tz", "relation": "raw.tz", "partition": {"column": "ts", "granularity": "day"},
         "checks": [{"row_count": {"min": 1}}]}
    root = write(tmp_path, [t])
    with open(f"{root}/slocompile.yml", "a") as fh:
        fh.write("time_zone: America/New_York\n")
    # 02:00 UTC on Nov 2nd is still Nov 1st in New York (UTC-4 until Nov 1st 06:00 UTC, then UTC-5)
    sql(root, ["CREATE TABLE raw.tz (ts TIMESTAMPTZ)",
               "INSERT INTO raw.tz VALUES ('2026-11-02 02:00:00+00'), ('2026-11-02 06:00:00+00'), "
               "('2026-11-01 03:00:00+00')"])
    counts = {r.partition: r.observed for r in build(root).results if r.check == "row_count"}
    assert counts == {"2026-10-31": 1, "2026-11-01": 1, "2026-11-02": 1}


def test_a_timestamp_column_needs_a_granularity(tmp_path):
    root = write(tmp_path, [{"name": "events", "relation": "raw.events", "partition": "event_ts"}])
    sql(root, list(EVENTS))
    done = cli(root, "build")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "slos/tables.yml:" in done.stderr and "partition column 'event_ts' is a timestamp" in done.stderr
    assert "partition: {column: event_ts, granularity: hour | day | week | month}" in done.stderr
    # a declared timestamp type: refused when the project loads, at the line of `partition`
    root2 = write(tmp_path / "declared", [{"name": "e", "relation": "raw.e", "partition": "ts",
                                           "columns": [{"name": "ts", "type": "timestamp"}]}])
    with pytest.raises(SlocompileError) as err:
        Project.load(root2)
    assert "slos/tables.yml:4:" in str(err.value) and "'granularity' key" in str(err.value)


@pytest.mark.parametrize("partition,message", [
    ({"column": "event_ts", "granularity": "fortnight"}, "must be one of hour, day, week, month, not 'fortnight'"),
    ({"column": "event_ts"}, "names the partitions' size: {column: event_ts, granularity: hour | day | week"),
    ({"granularity": "hour"}, "missing required key 'column'"),
    ({"column": "event_ts", "granularity": "hour", "zone": "UTC"}, "unknown key 'zone'"),
])
def test_bad_partition_mappings_are_located(tmp_path, partition, message):
    root = write(tmp_path, [{"name": "events", "relation": "raw.events", "partition": partition}])
    with pytest.raises(SlocompileError) as err:
        Project.load(root)
    assert message in str(err.value) and "slos/tables.yml:" in str(err.value)


def test_a_cadence_finer_than_the_grain_is_refused(tmp_path):
    root = write(tmp_path, [hourly(cadence="15m")])
    with pytest.raises(SlocompileError, match="cadence '15m' is finer than the partitions' granularity"):
        Project.load(root)


def test_unknown_time_zone_is_located(tmp_path):
    root = write(tmp_path, [hourly()])
    with open(f"{root}/slocompile.yml", "a") as fh:
        fh.write("time_zone: Mars/Olympus\n")
    with pytest.raises(SlocompileError, match=r"slocompile.yml:\d+:\d+: time_zone: unknown time zone 'Mars/Olympus'"):
        Project.load(root)


def test_the_partition_count_guard(tmp_path):
    root = write(tmp_path, [hourly()])
    with open(f"{root}/slocompile.yml", "a") as fh:
        fh.write("max_partitions: 5\n")
    sql(root, list(EVENTS))
    done = cli(root, "build")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    n = len(expected_hours())
    assert (f"table 'events' would check {n} partitions of 'event_ts' by hour, more than max_partitions (5"
            in done.stderr)
    assert "granularity: day | week | month" in done.stderr
    # one new hour after a build with a higher limit is within the limit again
    with open(f"{root}/slocompile.yml") as fh:
        text = fh.read()
    with open(f"{root}/slocompile.yml", "w") as fh:
        fh.write(text.replace("max_partitions: 5", "max_partitions: 10"))
    assert cli(root, "build").returncode == 1  # the failing hour fails
    with open(f"{root}/slocompile.yml", "w") as fh:
        fh.write(text.replace("max_partitions: 5", "max_partitions: 2"))
    sql(root, "INSERT INTO raw.events VALUES (1000, TIMESTAMP '2026-11-01 07:15:00', 1, 'k0')")
    assert cli(root, "build").returncode == 1  # the new hour and the failing one: 2, within the limit


def test_monitors_change_slos_and_backtest_work_by_the_hour(tmp_path):
    t = hourly(monitor="all")
    t["columns"] = [{"name": "amount", "checks": [{"missing_fraction": {"max_increase": "25%", "baseline": 3}}]}]
    root = write(tmp_path, [t])
    sql(root, list(EVENTS))
    run = build(root)
    hours = sorted(expected_hours())
    # the change SLO compares each hour with the hours before: 05:xx lost one amount of 9
    change = {r.partition: r.status for r in run.results if r.check_type == "missing_fraction"}
    assert set(change) == set(hours) and change["2026-11-01 05:00:00"] == "fail"
    monitored = [r[0] for r in query(root, "SELECT DISTINCT partition FROM slo.monitor_metrics ORDER BY 1")]
    assert monitored == hours
    done = cli(root, "backtest")
    assert done.returncode == 0, done.stderr
    assert f"events: {len(hours)} partitions judged ({hours[0]} to {hours[-1]})" in done.stdout
