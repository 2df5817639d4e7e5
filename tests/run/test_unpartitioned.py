"""Tables without partitions are first-class (issue 12 item 8): each build is a snapshot in the
history. Change SLOs compare a build with the builds before it, `monitor:` learns each metric's
band from build-to-build snapshots, and `freshness` works on any date or timestamp column and on
the table's last load time where the engine records one (DuckDB: nothing, said clearly)."""
from __future__ import annotations

import time

import pytest
from proj import cli, query, sql, write

from slocompile.api import Project
from slocompile.errors import SlocompileError

MONITORED = """
tables:
  - name: dim
    relation: raw.dim
    key: [id]
    monitor: all
"""


def rows(build: int, nulls: bool = False) -> list[str]:
    """The table as a load replaces it: 500 rows, a little different every build."""
    v = "NULL" if nulls else f"(i * 7919 + {build} * 104729) % 1000 / 10.0"
    return ["CREATE OR REPLACE TABLE raw.dim AS SELECT CAST(i AS INTEGER) AS id, "
            f"CASE WHEN i % 2 = 0 THEN {v} ELSE (i * 31 + {build}) % 1000 / 10.0 END AS v, "
            f"['a', 'b', 'c'][1 + (i + {build}) % 3] AS c FROM range(500) t(i)"]


def next_second() -> None:
    """Snapshots are labelled by the build's start, to the second: one build per second."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # builds in one second share a time: no NaN trend
def test_monitors_learn_from_build_to_build_snapshots(tmp_path):
    root = write(tmp_path, MONITORED)
    project = Project.load(root)
    for build in range(15):
        sql(root, rows(build))
        next_second()
        run = project.build(write=False)
        monitor = [r for r in run.results if r.check_type == "monitor"]
        assert monitor and all(r.partition is None and r.status == "pass" for r in monitor), monitor
    assert "learning" not in monitor[0].message  # fifteen snapshots of history
    sql(root, rows(15, nulls=True))  # a load that lost half of `v`
    next_second()
    run = project.build(write=False)
    alerts = [r for r in run.results if r.check_type == "monitor" and r.status == "warn"]
    assert {(r.column, r.check) for r in alerts} >= {("v", "monitor_missing_fraction")}
    assert all(r.partition is None for r in alerts)
    snapshots = query(root, "SELECT count(DISTINCT partition) FROM slo.monitor_metrics WHERE table_name = 'dim'")
    assert snapshots == [(16,)]


def test_monitor_on_a_table_without_partition_loads(tmp_path):
    root = write(tmp_path, MONITORED)
    assert Project.load(root).spec.tables[0].monitor is not None


def test_change_slos_compare_with_the_median_of_earlier_builds(tmp_path):
    root = write(tmp_path, """
        tables:
          - name: dim
            relation: raw.dim
            columns:
              - name: v
                checks:
                  - missing_fraction: {max_increase: 0.1, baseline: 3}
                  - mean: {max_increase: 50%}
        """)
    project = Project.load(root)
    for build in range(3):
        sql(root, rows(build))
        assert project.build(write=False).exit_code == 0
    sql(root, rows(3, nulls=True))
    run = project.build(write=False)
    failed = {r.check for r in run.results if r.status == "fail"}
    assert failed == {"missing_fraction_v_change"}
    assert [r.partition for r in run.results] == [None, None]


@pytest.mark.parametrize("column, value", [("ts", "now() - INTERVAL 2 HOUR"), ("d", "current_date - 3"),
                                           ("tz", "now() - INTERVAL 2 HOUR")])
def test_freshness_on_any_date_or_timestamp_column(tmp_path, column, value):
    root = write(tmp_path, f"""
        tables:
          - name: dim
            relation: raw.dim
            checks:
              - freshness: {{column: {column}, max_age: 1d}}
        """)
    kind = {"ts": "TIMESTAMP", "d": "DATE", "tz": "TIMESTAMPTZ"}[column]
    sql(root, f"CREATE TABLE raw.dim AS SELECT CAST({value} AS {kind}) AS {column}")
    run = Project.load(root).build(write=False)
    expected = "fail" if column == "d" else "pass"
    assert [(r.check, r.status) for r in run.results] == [(f"freshness_{column}", expected)]


def test_last_load_time_freshness_says_duckdb_records_none(tmp_path):
    root = write(tmp_path, """
        tables:
          - name: dim
            relation: raw.dim
            checks:
              - freshness: {max_age: 1d}
        """)
    sql(root, "CREATE TABLE raw.dim AS SELECT 1 AS id")
    spec = Project.load(root).spec
    assert spec.tables[0].checks[0].column is None and spec.tables[0].checks[0].name == "freshness_last_load"
    with pytest.raises(SlocompileError, match=r"slos/tables.yml:5:.*DuckDB does not record when a table was last "
                                              r"loaded"):
        Project.load(root).build(write=False)
    proc = cli(root, "build")
    assert proc.returncode == 2 and "give freshness a `column:`" in proc.stderr
    assert cli(root, "compile").returncode == 0  # nothing to compile: the engine is asked at build time


def test_backtest_says_there_is_nothing_to_replay(tmp_path):
    root = write(tmp_path, MONITORED)
    sql(root, rows(0))
    proc = cli(root, "backtest")
    assert proc.returncode == 2 and "judge each build as a snapshot" in proc.stderr
    assert "no partitions to replay" in proc.stderr
