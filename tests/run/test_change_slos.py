"""Change-over-time and drift SLOs (issue 3): `max_increase` / `max_drop` vs a baseline of earlier
partitions, and `drift: {max_psi: ...}` from the monitors' stored summaries.

A daily table is generated with DuckDB SQL (about 400 users a day; every value a hash of day and
user). The first build checks 20 days in order; then one build per day, with faults: day 20 has
half of `age` missing, day 22 half of the rows, day 24 the category 'US' renamed 'USA'. Each fault
must fail its SLO on its day only: the days after are compared with the clean days before.
"""
from __future__ import annotations

import datetime as dt

import pytest
from proj import cli, query, sql, write

from slocompile.api import Project
from slocompile.checks.drift import DEFAULT_BASELINE, MAX_BASELINE
from slocompile.monitors.bands import DEFAULT
from slocompile.spec.model import DIALECTS

DAY0 = dt.date(2026, 5, 1)
HISTORY = 20
MISSING_DAY, FEW_ROWS_DAY, RENAME_DAY = 20, 22, 24


def day(i: int) -> str:
    return (DAY0 + dt.timedelta(days=i)).isoformat()


def rows_of(d: int) -> str:
    missing = "u % 2 = 0" if d == MISSING_DAY else "u % 50 = 0"
    users = 200 if d == FEW_ROWS_DAY else 400
    us = "'USA'" if d == RENAME_DAY else "'US'"
    return f"""
        SELECT DATE '{DAY0}' + {d} AS ds, CAST(u AS INTEGER) AS user_id,
               CASE WHEN {missing} THEN NULL ELSE 18 + (u * 7919 + {d} * 104729) % 60 END AS age,
               ((u * 2654435761 + {d} * 40503) % 1000) / 1000.0 AS score,
               [{us}, 'DE', 'FR', 'IN', 'BR'][1 + (u * 31 + {d} * 17) % 5] AS country
        FROM range(0, {users}) s(u)"""


TABLES = """
tables:
  - name: feat
    relation: raw.feat
    partition: ds
    key: [user_id]
    checks:
      - row_count: {max_drop: 25%}
    columns:
      - name: age
        checks:
          - missing_fraction: {max_increase: 0.05, baseline: 7}
      - name: score
        checks:
          - mean: {min: 0, max: 1, max_increase: 50%, max_drop: 50%}
          - drift: {max_js: 0.05}
      - name: country
        checks:
          - drift: {max_psi: 0.2, severity: warn}
"""


def result(run, check, partition):
    return next(r for r in run.results if r.check == check and r.partition == partition)


def failing(run, partition) -> dict[str, str]:
    return {r.check: r.status for r in run.results if r.partition == partition and r.status != "pass"}


@pytest.fixture(scope="module")
def daily(tmp_path_factory):
    root = write(tmp_path_factory.mktemp("change") / "p", TABLES)
    sql(root, "CREATE TABLE raw.feat AS " + " UNION ALL ".join(rows_of(d) for d in range(HISTORY)))
    project = Project.load(root)
    runs = {"history": project.build(write=False)}
    for d in range(HISTORY, RENAME_DAY + 2):
        sql(root, f"INSERT INTO raw.feat {rows_of(d)}")
        runs[d] = project.build(write=False)
    return root, runs


def test_default_names_say_change(daily):
    _, runs = daily
    names = {r.check for r in runs["history"].results}
    assert {"row_count_change", "missing_fraction_age_change", "mean_score", "drift_score",
            "drift_country"} <= names


def test_history_build_compares_each_partition_with_the_ones_before(daily):
    _, runs = daily
    run = runs["history"]
    assert run.exit_code == 0, [r.message for r in run.results if r.status != "pass"]
    first = result(run, "row_count_change", day(0))
    assert "no baseline yet" in first.message
    second = result(run, "row_count_change", day(1))
    assert second.observed["baseline"] == 400 and second.observed["value"] == 400
    # the table asked for no monitors: the drift SLOs' profiling reports nothing of its own
    assert not [r for r in run.results if r.check_type == "monitor"]


def test_missing_fraction_rise_fails_on_its_day_and_recovery_passes(daily):
    _, runs = daily
    fault = result(runs[MISSING_DAY], "missing_fraction_age_change", day(MISSING_DAY))
    assert fault.status == "fail" and runs[MISSING_DAY].exit_code == 1
    assert fault.observed["baseline"] == pytest.approx(0.02) and fault.observed["value"] == pytest.approx(0.5)
    assert "missing fraction of age rose from 2.00% to 50.00%" in fault.message
    assert "rise <= 0.05 vs the median of up to 7 earlier partitions" in fault.expected
    after = result(runs[MISSING_DAY + 1], "missing_fraction_age_change", day(MISSING_DAY + 1))
    assert after.status == "pass" and after.observed["baseline"] == pytest.approx(0.02)  # the fault day is left out


def test_row_count_drop_fails_and_the_day_after_is_compared_with_clean_days(daily):
    _, runs = daily
    assert failing(runs[FEW_ROWS_DAY], day(FEW_ROWS_DAY)) == {"row_count_change": "fail"}
    drop = result(runs[FEW_ROWS_DAY], "row_count_change", day(FEW_ROWS_DAY))
    assert drop.observed["relative_change"] == pytest.approx(-0.5)
    assert "row count fell from 400 to 200 (-50%)" in drop.message
    assert failing(runs[FEW_ROWS_DAY + 1], day(FEW_ROWS_DAY + 1)) == {}


def test_renamed_category_drifts_as_a_warning(daily):
    _, runs = daily
    run = runs[RENAME_DAY]
    assert failing(run, day(RENAME_DAY)) == {"drift_country": "warn"}
    r = result(run, "drift_country", day(RENAME_DAY))
    assert r.observed["psi"] > 0.2 and r.observed["references"] == DEFAULT_BASELINE
    assert "'USA'" in r.message and "'US'" in r.message
    assert failing(runs[RENAME_DAY + 1], day(RENAME_DAY + 1)) == {}  # back to 'US': no drift
    # a numeric drift SLO stays quiet through the same days: its bins are learned, then compared
    scores = [r for d in range(HISTORY, RENAME_DAY + 2) for r in runs[d].results if r.check == "drift_score"]
    assert scores and all(r.status == "pass" for r in scores)
    assert any(r.observed and "js" in r.observed for r in scores)


def test_change_history_is_read_from_the_meta_schema(daily):
    root, _ = daily
    rows = query(root, "SELECT partition, observed_value FROM slo.results WHERE check_name = "
                       "'missing_fraction_age_change' ORDER BY partition")
    assert dict(rows)[day(MISSING_DAY)] == pytest.approx(0.5)


def test_unpartitioned_table_compares_with_the_previous_build(tmp_path):
    root = write(tmp_path / "p", """
        tables:
          - name: dim
            relation: raw.dim
            checks:
              - row_count: {min: 1, max_drop: 10%}
        """)
    sql(root, "CREATE TABLE raw.dim AS SELECT range AS id FROM range(100)")
    project = Project.load(root)
    first = project.build(write=False)
    assert first.exit_code == 0 and "no baseline yet" in first.results[0].message
    sql(root, "DELETE FROM raw.dim WHERE id < 50")
    second = project.build(write=False)
    assert second.exit_code == 1
    assert second.results[0].observed["baseline"] == 100 and second.results[0].observed["value"] == 50
    third = project.build(write=False)  # still half: the failed build never becomes the baseline
    assert third.exit_code == 1


@pytest.mark.parametrize("check, problem", [
    ("row_count: {baseline: 3}", "'min', 'max', 'max_increase' or 'max_drop'"),
    ("row_count: {min: 1, baseline: 3}", "'baseline' is the window of 'max_increase' / 'max_drop'"),
    ("row_count: {max_drop: 25 percent}", "a percentage of the baseline such as '25%'"),
    ("row_count: {max_drop: -3}", "a percentage of the baseline such as '25%'"),
    ("row_count: {max_drop: 10%, baseline: 0}", "'baseline' must be at least 1"),
    ("drift: {column: v}", "drift needs 'max_psi', 'max_js' or 'max_linf'"),
    ("drift: {column: v, max_psi: 0.2, baseline: 99}", "'baseline' must be between 1 and 28"),
])
def test_declaration_problems(tmp_path, check, problem):
    root = write(tmp_path / "p", f"""
        tables:
          - name: t
            relation: raw.t
            partition: ds
            checks:
              - {check}
        """)
    out = cli(root, "compile")
    assert out.returncode == 2 and problem in out.stderr and "Traceback" not in out.stderr
    assert "tables.yml:6:" in out.stderr


def test_drift_needs_a_partition(tmp_path):
    root = write(tmp_path / "p", """
        tables:
          - name: t
            relation: raw.t
            columns:
              - name: v
                checks:
                  - drift: {max_psi: 0.2}
        """)
    out = cli(root, "compile")
    assert out.returncode == 2 and "tables.yml:7:" in out.stderr and "needs the table's 'partition'" in out.stderr


def test_a_monitor_change_rechecks_the_partitions(tmp_path):
    root = write(tmp_path / "p", "tables: [{name: t, relation: raw.t, partition: ds, monitor: [v]}]")
    sql(root, "CREATE TABLE raw.t AS SELECT DATE '2026-01-01' + (range % 5)::INT AS ds, range AS v, "
              "range AS w FROM range(50)")
    assert len(Project.load(root).build(write=False).tables[0].partitions) == 5
    assert Project.load(root).build(write=False).tables[0].partitions == ()
    write(root, "tables: [{name: t, relation: raw.t, partition: ds, monitor: [v, w]}]")
    assert len(Project.load(root).build(write=False).tables[0].partitions) == 5


def test_drift_constants_match_the_monitor_settings():
    assert (DEFAULT_BASELINE, MAX_BASELINE) == (DEFAULT.drift_window, DEFAULT.window)


def test_the_spec_declaration_compiles(tmp_path):
    """SPEC §3's table declaration, with its change SLO, compiles for every dialect."""
    root = write(tmp_path / "p", """
        tables:
          - name: user_features
            relation: raw.user_features
            key: [user_id]
            partition: ds
            gate: block
            monitor: all
            checks:
              - row_count: {min: 1000}
              - row_count: {max_drop: 25%}
              - freshness: {column: feature_ts, max_age: 36h}
              - unique: [user_id]
              - assert: {name: joe_and_fred_same_salary,
                         sql: "count(distinct salary) filter (where name in ('Joe', 'Fred')) <= 1"}
              - relationship: {column: country, to: dims.countries, field: code}
            columns:
              - name: age
                type: integer
                checks:
                  - not_null: {max_fraction: 0.05}
                  - between: {min: 0, max: 120, rows: drop}
              - name: country
                checks:
                  - accepted_values: {values: [US, CN, IN], max_fraction: 0.01}
                  - missing_fraction: {max_increase: 25%, baseline: 7}
                  - drift: {max_psi: 0.2}
              - name: churn_score
                fix:
                  - clip: [0, 1]
                  - fill_null: 0.5
        """)
    for dialect in DIALECTS:
        out = cli(root, "compile", "--dialect", dialect)
        assert out.returncode == 0, (dialect, out.stderr)


def test_an_undeclared_column_is_checked_against_the_relation_at_build(tmp_path):
    """`columns:` need not list every column: a check on an unlisted column compiles, and the build
    verifies it against the relation (a near miss of a declared column is a typo at compile time)."""
    root = write(tmp_path / "p", """
        tables:
          - name: t
            relation: raw.t
            checks:
              - freshness: {column: updated_at, max_age: 3650d}
              - assert: {name: nonneg, sql: "min(amount) >= 0"}
            columns:
              - name: id
                checks: [not_null]
        """)
    sql(root, "CREATE TABLE raw.t AS SELECT 1 AS id, 5.0 AS amount, TIMESTAMP '2026-11-01' AS updated_at")
    assert cli(root, "build").returncode == 0
    sql(root, "CREATE OR REPLACE TABLE raw.t AS SELECT 1 AS id, 5.0 AS amount")
    # once built, a column that went away is schema drift: failed checks (issue 11, tests/run/test_schema_drift.py)
    out = cli(root, "build")
    assert out.returncode == 1 and "fail schema: updated_at is missing" in out.stdout
    assert "not measured: column updated_at is not in raw.t" in out.stdout
    # on a table's first build it is a mistake in the declaration, with file and line
    fresh = write(tmp_path / "q", (tmp_path / "p" / "slos" / "tables.yml").read_text())
    sql(fresh, "CREATE OR REPLACE TABLE raw.t AS SELECT 1 AS id, 5.0 AS amount")
    out = cli(fresh, "build")
    assert out.returncode == 2 and "tables.yml:5:" in out.stderr and "column 'updated_at' is not in raw.t" in out.stderr
