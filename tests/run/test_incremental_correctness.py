"""Incremental builds never serve data as checked when it is not the data that was checked (issue 11,
items 1 and 6), on DuckDB.

- a partition whose content changed after a green build (UPDATE, DELETE, INSERT) is checked again
  by the next build, and only it;
- before that build, the validated view already refuses it: gate filter hides it, gate block raises
  naming it; a whole-table read and a one-partition read both see that; the same for a partition
  that arrived after the last build (never checked);
- unchanged data: nothing is checked again;
- `--partition` values are validated against the partition column's type, and a partition the
  table does not have is named (exit 2).
"""
from __future__ import annotations

import duckdb
import pytest
from proj import build, cli, query, sql, write

DAYS = ["2026-11-18", "2026-11-19", "2026-11-20"]


def tables(gate: str, name: str = "user_features") -> list[dict]:
    return [{"name": name, "relation": f"raw.{name}", "partition": "ds", "key": ["user_id"], "gate": gate,
             "checks": [{"row_count": {"min": 2}}],
             "columns": [{"name": "user_id", "checks": ["not_null"]},
                         {"name": "spend_30d", "checks": ["not_null"]},
                         {"name": "ds"}]}]


def load(root, name: str = "user_features") -> None:
    rows = ", ".join(f"(DATE '{d}', {u}, {10.0 * u + i})" for i, d in enumerate(DAYS) for u in range(1, 5))
    sql(root, [f"CREATE TABLE raw.{name} (ds DATE, user_id INT, spend_30d DOUBLE)",
               f"INSERT INTO raw.{name} VALUES {rows}"])


def project(tmp_path, gate: str) -> str:
    root = write(tmp_path, tables(gate))
    load(root)
    first = build(root)
    assert first.exit_code == 0, [r.message for r in first.results if r.status != "pass"]
    assert first.tables[0].partitions == tuple(DAYS)
    return root


def rows_per_day(root) -> dict:
    return dict(query(root, "SELECT CAST(ds AS TEXT), COUNT(*) FROM validated.user_features GROUP BY 1"))


def one_day(root, day: str):
    return query(root, f"SELECT COUNT(*) FROM validated.user_features WHERE ds = DATE '{day}'")[0][0]


def checked(run) -> tuple:
    return run.tables[0].partitions


def failed(run) -> set:
    return {(r.check, r.partition) for r in run.results if r.status == "fail"}


# ---------------------------------------------------------------- changed partitions, gate filter

def test_update_after_green_build_filter_hides_then_rebuild_fails_that_day(tmp_path):
    root = project(tmp_path, "filter")
    assert rows_per_day(root) == {d: 4 for d in DAYS}
    sql(root, "UPDATE raw.user_features SET spend_30d = NULL WHERE ds = '2026-11-20'")
    # before the next build: the changed day is no longer served as checked
    assert rows_per_day(root) == {"2026-11-18": 4, "2026-11-19": 4}
    assert one_day(root, "2026-11-20") == 0 and one_day(root, "2026-11-19") == 4
    run = build(root)
    assert checked(run) == ("2026-11-20",)
    assert run.exit_code == 1 and failed(run) == {("not_null_spend_30d", "2026-11-20")}
    assert rows_per_day(root) == {"2026-11-18": 4, "2026-11-19": 4}
    again = build(root)  # the failing day is checked again, nothing else
    assert checked(again) == ("2026-11-20",)


def test_update_back_to_the_checked_content_is_served_again(tmp_path):
    root = project(tmp_path, "filter")
    sql(root, "UPDATE raw.user_features SET spend_30d = spend_30d + 1 WHERE ds = '2026-11-19'")
    assert one_day(root, "2026-11-19") == 0
    sql(root, "UPDATE raw.user_features SET spend_30d = spend_30d - 1 WHERE ds = '2026-11-19'")
    assert one_day(root, "2026-11-19") == 4
    assert checked(build(root)) == ()


def test_delete_rows_from_a_partition_is_checked_again(tmp_path):
    root = project(tmp_path, "filter")
    sql(root, "DELETE FROM raw.user_features WHERE ds = '2026-11-19' AND user_id > 1")
    assert one_day(root, "2026-11-19") == 0
    run = build(root)
    assert checked(run) == ("2026-11-19",)
    assert failed(run) == {("row_count", "2026-11-19")}


def test_insert_into_an_existing_partition_is_checked_again(tmp_path):
    root = project(tmp_path, "filter")
    sql(root, "INSERT INTO raw.user_features VALUES (DATE '2026-11-18', 9, 1.0)")
    assert one_day(root, "2026-11-18") == 0
    run = build(root)
    assert checked(run) == ("2026-11-18",) and run.exit_code == 0
    assert one_day(root, "2026-11-18") == 5


def test_unchanged_data_checks_nothing_again(tmp_path):
    root = project(tmp_path, "filter")
    run = build(root)
    assert checked(run) == () and run.exit_code == 0
    assert rows_per_day(root) == {d: 4 for d in DAYS}


def test_first_build_hashes_content_in_its_check_scan(tmp_path):
    """A build that checks every partition fingerprints their content in the fused check scan (no
    second hashed read of the table); what it records is what the separate listing of a later build
    computes, so nothing is checked again. A change of the checks (all partitions again) also takes
    the content from its scan."""
    root = project(tmp_path, "filter")
    run = build(root)
    assert checked(run) == () and run.tables[0].compiled.content_metric is None  # listed, not scanned
    from slocompile.api import Project
    from slocompile.dialects.render import render
    from slocompile.sqltrees.content import partition_contents

    table = Project.load(root).spec.tables[0]
    listed = dict(query(root, render(partition_contents(table, ["ds", "user_id", "spend_30d"]), "duckdb")))
    stored = dict(query(root, "SELECT partition, fingerprint FROM slo.status WHERE partition IS NOT NULL"))
    assert {p: f.split(":", 1)[1] for p, f in stored.items()} == listed
    spec = tables("filter")
    spec[0]["checks"] = [{"row_count": {"min": 1}}]
    write(tmp_path, spec)
    again = build(root)
    assert checked(again) == tuple(DAYS) and again.tables[0].compiled.content_metric is not None
    assert checked(build(root)) == ()


def test_new_partition_only_is_checked(tmp_path):
    root = project(tmp_path, "filter")
    sql(root, "INSERT INTO raw.user_features VALUES (DATE '2026-11-21', 1, 1.0), (DATE '2026-11-21', 2, 2.0)")
    assert checked(build(root)) == ("2026-11-21",)


def test_status_from_before_content_fingerprints_is_checked_again(tmp_path):
    """A status row written by an older slocompile (the checks' fingerprint only) does not say what
    content was checked: the next build checks the partition again."""
    root = project(tmp_path, "filter")
    sql(root, "UPDATE slo.status SET fingerprint = SUBSTRING(fingerprint, 1, 16) WHERE partition IS NOT NULL")
    assert checked(build(root)) == tuple(DAYS)
    assert checked(build(root)) == ()


# ---------------------------------------------------------------- changed partitions, gate block

def test_update_after_green_build_block_refuses_the_changed_day(tmp_path):
    root = project(tmp_path, "block")
    sql(root, "UPDATE raw.user_features SET spend_30d = NULL WHERE ds = '2026-11-20'")
    with pytest.raises(duckdb.Error, match="partition 2026-11-20 changed since it was checked"):
        rows_per_day(root)
    with pytest.raises(duckdb.Error, match="partition 2026-11-20 changed since it was checked"):
        one_day(root, "2026-11-20")
    assert one_day(root, "2026-11-19") == 4  # reading another day does not hash the changed one
    run = build(root)
    assert checked(run) == ("2026-11-20",) and failed(run) == {("not_null_spend_30d", "2026-11-20")}
    with pytest.raises(duckdb.Error, match="blocked by failed SLOs: 2026-11-20: not_null_spend_30d"):
        rows_per_day(root)


def test_block_delete_then_rebuild_passes_and_serves(tmp_path):
    root = project(tmp_path, "block")
    sql(root, "DELETE FROM raw.user_features WHERE ds = '2026-11-18' AND user_id = 4")
    with pytest.raises(duckdb.Error, match="partition 2026-11-18 changed"):
        rows_per_day(root)
    run = build(root)
    assert checked(run) == ("2026-11-18",) and run.exit_code == 0
    assert rows_per_day(root) == {"2026-11-18": 3, "2026-11-19": 4, "2026-11-20": 4}


def test_block_refuses_a_partition_never_checked_until_it_is_built(tmp_path):
    """A partition that arrived after the last build has no status: gate block refuses to serve it
    as if it had been checked; the checked days stay readable one by one; a build checks it."""
    root = project(tmp_path, "block")
    sql(root, "INSERT INTO raw.user_features VALUES (DATE '2026-11-21', 1, 1.0), (DATE '2026-11-21', 2, 2.0)")
    with pytest.raises(duckdb.Error, match="partition 2026-11-21 has not been checked yet"):
        rows_per_day(root)
    assert one_day(root, "2026-11-19") == 4
    run = build(root)
    assert checked(run) == ("2026-11-21",) and run.exit_code == 0
    assert rows_per_day(root)["2026-11-21"] == 2


# ---------------------------------------------------------------- rows whose partition is NULL

@pytest.mark.parametrize("gate", ["filter", "block"])
def test_null_partition_rows_are_verified_too(tmp_path, gate):
    root = write(tmp_path, tables(gate))
    load(root)
    sql(root, "INSERT INTO raw.user_features VALUES (NULL, 1, 1.0), (NULL, 2, 2.0)")
    assert build(root).exit_code == 0
    assert rows_per_day(root)[None] == 2
    sql(root, "UPDATE raw.user_features SET spend_30d = 5 WHERE ds IS NULL AND user_id = 1")
    if gate == "filter":
        assert None not in rows_per_day(root) and rows_per_day(root)["2026-11-18"] == 4
    else:
        with pytest.raises(duckdb.Error, match=r"partition \(null\) changed since it was checked"):
            rows_per_day(root)
    run = build(root)
    assert checked(run) == ("(null)",) and run.exit_code == 0
    assert rows_per_day(root)[None] == 2


# ---------------------------------------------------------------- --partition is validated

def test_partition_value_not_a_date_exits_2(tmp_path):
    root = project(tmp_path, "filter")
    for bad in ("2026-13-45", "2026-11-20'", "20261120"):
        r = cli(root, "build", "--partition", bad)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert "not a date written YYYY-MM-DD" in r.stderr and "partition column 'ds'" in r.stderr, r.stderr
        assert repr(bad) in r.stderr


def test_partition_that_does_not_exist_exits_2_with_the_nearest(tmp_path):
    root = project(tmp_path, "filter")
    r = cli(root, "build", "--partition", "2026-11-25", "--partition", "2026-11-19")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "has no partition '2026-11-25'" in r.stderr and "nearest: 2026-11-20" in r.stderr, r.stderr
    assert "2026-11-19'" not in r.stderr.split("nearest")[0]
    r = cli(root, "build", "--partition", "2026-11-19", "--partition", "2026-11-20")
    assert r.returncode == 0, r.stdout + r.stderr


def test_partition_values_checked_against_an_integer_column(tmp_path):
    root = write(tmp_path, [{"name": "t", "relation": "raw.t", "partition": "batch", "gate": "filter",
                             "checks": [{"row_count": {"min": 1}}]}])
    sql(root, ["CREATE TABLE raw.t (batch INT, v INT)", "INSERT INTO raw.t VALUES (1, 1), (5, 2), (9, 3)"])
    assert build(root).exit_code == 0
    r = cli(root, "build", "--partition", "x1")
    assert r.returncode == 2 and "not an integer" in r.stderr, r.stderr
    r = cli(root, "build", "--partition", "6")
    assert r.returncode == 2 and "nearest: 5, 9" in r.stderr, r.stderr
    run = build(root, partitions=["5"])
    assert checked(run) == ("5",) and run.exit_code == 0


def test_selected_partition_is_checked_and_its_content_recorded(tmp_path):
    root = project(tmp_path, "filter")
    sql(root, "UPDATE raw.user_features SET spend_30d = 1 WHERE ds = '2026-11-18'")
    run = build(root, partitions=["2026-11-18"])
    assert checked(run) == ("2026-11-18",) and run.exit_code == 0
    assert one_day(root, "2026-11-18") == 4
    assert checked(build(root)) == ()


def test_last_good_reloaded_partition_is_audited_again(tmp_path):
    """Gate last_good serves the copy it audited; a reloaded partition is copied and audited again
    by the next incremental build, and only it."""
    root = project(tmp_path, "last_good")
    assert checked(build(root)) == ()
    sql(root, "UPDATE raw.user_features SET spend_30d = NULL WHERE ds = '2026-11-19'")
    assert rows_per_day(root) == {d: 4 for d in DAYS}  # the audited copy
    run = build(root)
    assert checked(run) == ("2026-11-19",) and failed(run) == {("not_null_spend_30d", "2026-11-19")}
    assert query(root, "SELECT COUNT(*) FROM validated.user_features WHERE spend_30d IS NULL")[0][0] == 0
    assert checked(build(root)) == ("2026-11-19",)  # still failing: checked again
