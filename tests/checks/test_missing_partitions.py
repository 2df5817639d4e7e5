"""Issue 11, item 2: a missing partition is a failed table-level check (partitions_complete), named in
the results, run_results.json, the terminal and the status; gated like any whole-table failure."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from proj import build, cli, query, sql, write

from slocompile.checks.cadence import axis, find_gaps, learn, parse_cadence
from slocompile.errors import SpecError

START = dt.date(2026, 11, 1)


def days(n: int, start: dt.date = START, skip=()) -> list[str]:
    out = [(start + dt.timedelta(d)).isoformat() for d in range(n)]
    return [d for d in out if d not in skip]


def gaps(labels, cadence=None, now=None, late_after=None):
    ax = axis(labels)
    c = parse_cadence(cadence) if cadence else learn(ax)
    if c is None:
        return None
    g = find_gaps(ax, c, now, late_after)
    return [ax.render(v) for v in g.missing], [ax.render(v) for v in g.late]


# ------------------------------------------------------------------ learning the cadence

def test_a_daily_gap_is_found():
    assert gaps(days(30, skip={"2026-11-20"})) == (["2026-11-20"], [])
    assert gaps(days(30)) == ([], [])


def test_one_or_two_partitions_teach_no_cadence():
    assert gaps(days(1)) is None and gaps(days(2)) is None and gaps(days(3)) is None
    assert gaps(days(4, skip={"2026-11-03"})) is None  # 3 partitions left


def test_irregular_partitions_teach_no_cadence():
    assert gaps(["2026-01-01", "2026-01-04", "2026-01-05", "2026-01-12", "2026-01-14", "2026-02-01"]) is None


def test_business_days_do_not_expect_weekends():
    weekdays = [d for d in days(70) if dt.date.fromisoformat(d).weekday() < 5]
    assert gaps(weekdays) == ([], [])
    assert gaps([d for d in weekdays if d != "2026-11-18"]) == (["2026-11-18"], [])
    # declared `day`: every day is expected, weekends too
    missing, _ = gaps(weekdays, cadence="day")
    assert "2026-11-07" in missing and "2026-11-08" in missing
    assert gaps(weekdays, cadence="weekday") == ([], [])


def test_hourly_partitions_and_office_hours():
    hours = [(dt.datetime(2026, 11, 1) + dt.timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S") for h in range(24 * 5)]
    assert gaps([h for h in hours if h != "2026-11-02 05:00:00"]) == (["2026-11-02 05:00:00"], [])
    office = [h for h in hours if 9 <= int(h[11:13]) < 17]  # hours never present at night are not expected
    assert gaps(office) == ([], [])
    assert gaps([h for h in office if h != "2026-11-02 12:00:00"]) == (["2026-11-02 12:00:00"], [])


def test_timestamps_with_an_offset_and_compact_dates():
    hours = [(dt.datetime(2026, 11, 1) + dt.timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S+00") for h in range(10)]
    assert gaps([h for h in hours if not h.startswith("2026-11-01 04")]) == (["2026-11-01 04:00:00+00"], [])
    assert gaps([d.replace("-", "") for d in days(10, skip={"2026-11-05"})]) == (["20261105"], [])


def test_monthly_weekly_and_numeric_partitions():
    months = [f"{y}-{m:02d}-01" for y in (2025, 2026) for m in range(1, 13)]
    assert gaps([m for m in months if m != "2025-07-01"]) == (["2025-07-01"], [])
    ends = ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-06-30", "2025-07-31"]
    assert gaps(ends) == (["2025-05-31"], [])
    weeks = [(dt.date(2026, 1, 5) + dt.timedelta(weeks=w)).isoformat() for w in range(10)]
    assert gaps([w for w in weeks if w != weeks[4]]) == ([weeks[4]], [])
    assert gaps([str(i) for i in range(1, 20) if i != 7]) == (["7"], [])


def test_values_that_are_not_times_have_no_axis():
    assert axis(["US", "CN", "IN"]) is None
    assert axis(["2026-11-01", "later"]) is None


def test_late_partitions_follow_the_freshness_rule():
    now = dt.datetime(2026, 12, 3, 18)  # newest 2026-11-30: 11-30 is 3d18h old, 12-01 2d18h, 12-02 1d18h
    assert gaps(days(30), now=now, late_after=36 * 3600) == ([], ["2026-12-01", "2026-12-02", "2026-12-03"])
    assert gaps(days(30), now=dt.datetime(2026, 12, 1, 10), late_after=36 * 3600) == ([], [])


# ------------------------------------------------------------------ builds

def daily(**extra) -> dict:
    t = {"name": "daily", "relation": "raw.daily", "partition": "ds", "gate": "block",
         "checks": [{"row_count": {"min": 1}}]}
    t.update(extra)
    return t


def load(root, n: int = 30, skip=()) -> None:
    sql(root, "CREATE OR REPLACE TABLE raw.daily (ds DATE, x INT)")
    rows = ", ".join(f"('{d}', 1)" for d in days(n, skip=set(skip)))
    sql(root, f"INSERT INTO raw.daily VALUES {rows}")


def complete(run):
    return [r for r in run.results if r.check_type == "partitions_complete"]


def test_a_deleted_day_fails_the_build_and_blocks_the_view(tmp_path):
    root = write(tmp_path, [daily()])
    load(root)
    run = build(root)
    assert run.exit_code == 0 and [r.status for r in complete(run)] == ["pass"]
    sql(root, "DELETE FROM raw.daily WHERE ds = '2026-11-20'")
    run = build(root)
    assert run.exit_code == 1
    (r,) = complete(run)
    assert r.status == "fail" and r.partition is None and r.column is None
    assert r.observed["missing"] == ["2026-11-20"] and "2026-11-20" in r.message
    status = query(root, "SELECT status, failed_checks FROM slo.status WHERE table_name = 'daily' "
                         "AND partition IS NULL")
    assert status == [("fail", "partitions_complete (missing 2026-11-20)")]
    with pytest.raises(Exception, match="2026-11-20"):
        query(root, "SELECT count(*) FROM validated.daily")
    # filled in again: passes, the view serves every day
    sql(root, "INSERT INTO raw.daily VALUES ('2026-11-20', 1)")
    run = build(root)
    assert run.exit_code == 0 and [r.status for r in complete(run)] == ["pass"]
    assert query(root, "SELECT count(*) FROM validated.daily") == [(30,)]


def test_the_failure_shows_in_the_terminal_and_run_results(tmp_path):
    root = write(tmp_path, [daily(gate="filter")])
    load(root, skip={"2026-11-10", "2026-11-11"})
    out = cli(root, "build")
    assert out.returncode == 1, out.stderr
    assert "partitions_complete" in out.stdout and "2026-11-10, 2026-11-11" in out.stdout
    with open(os.path.join(root, "target", "run_results.json")) as fh:
        results = json.load(fh)["results"]
    (r,) = [r for r in results if r["check"] == "partitions_complete"]
    assert r["status"] == "fail" and r["observed"]["missing"] == ["2026-11-10", "2026-11-11"]
    # gate filter: a whole-table failure, like freshness: the view serves nothing until the gap is filled
    assert query(root, "SELECT count(*) FROM validated.daily") == [(0,)]


def test_a_partition_build_keeps_the_failure(tmp_path):
    root = write(tmp_path, [daily()])
    load(root, skip={"2026-11-20"})
    assert build(root).exit_code == 1
    run = build(root, partitions=["2026-11-21"])
    assert [r.status for r in complete(run)] == ["fail"]
    assert query(root, "SELECT status FROM slo.status WHERE table_name = 'daily' AND partition IS NULL") == [("fail",)]


def test_warn_severity_ignore_and_turning_it_off(tmp_path):
    root = write(tmp_path, [daily(checks=[{"partitions_complete": {"severity": "warn"}}])])
    load(root, skip={"2026-11-20"})
    run = build(root)
    assert run.exit_code == 0 and [r.status for r in complete(run)] == ["warn"]
    write(tmp_path, [daily(checks=[{"partitions_complete": {"ignore": ["2026-11-20"]}}])])
    assert build(root).exit_code == 0
    write(tmp_path, [daily(cadence="none")])
    run = build(root)
    assert run.exit_code == 0 and complete(run) == []


def test_a_declared_cadence_and_freshness_lateness(tmp_path):
    root = write(tmp_path, [daily(cadence="day", checks=[{"freshness": {"column": "ds", "max_age": "36h"}}])])
    load(root, n=3)  # three partitions teach nothing, a declared cadence needs none
    sql(root, "DELETE FROM raw.daily WHERE ds = '2026-11-02'")
    run = build(root)
    (r,) = complete(run)
    assert r.status == "fail" and r.observed["missing"] == ["2026-11-02"]
    assert r.observed["late"][:2] == ["2026-11-04", "2026-11-05"]  # the build runs long after 2026-11-03
    assert "overdue" in r.message


def test_declaration_problems(tmp_path):
    from slocompile.api import Project

    for table, message in [
        (daily(cadence="dayly"), "did you mean 'day'"),
        ({"name": "t", "relation": "raw.t", "cadence": "day"}, "has no 'partition'"),
        (daily(checks=[{"partitions_complete": {"where": "x > 0"}}]), "'where' does not apply"),
        ({"name": "t", "relation": "raw.t", "checks": ["partitions_complete"]}, "needs the table's 'partition'"),
    ]:
        write(tmp_path, [table])
        with pytest.raises(SpecError, match=message):
            Project.load(str(tmp_path))
