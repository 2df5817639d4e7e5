"""A change in another relation a table's checks read re-checks what it changes, on DuckDB.

- relationship: each partition's orphans are counted on every build. A referenced key deleted
  after a green build re-checks the partitions it leaves with orphans, and only them; a key added
  back re-checks the partitions it fixes; new keys, new rows repeating known keys and changes in
  columns the check does not read re-check nothing (a dimension that grows every day costs no
  re-check, and a table with more partitions than max_partitions keeps building).
- compare: its `with` relation is cut by the table's partitions. A row deleted or changed there
  re-checks that partition only; a new partition there re-checks nothing that passed. A compare
  and a relationship on the same relation each notice their own changes.
- nothing changed: nothing is checked again; --partition keeps the statuses consistent.
"""
from __future__ import annotations

from proj import build, sql, write

DAYS = ["2026-11-18", "2026-11-19", "2026-11-20"]


def project(tmp_path) -> str:
    root = write(tmp_path, [
        {"name": "orders", "relation": "raw.orders", "partition": "ds", "gate": "filter",
         "columns": [{"name": "user_id", "checks": [{"relationship": {"to": "raw.users", "field": "id"}}]}]},
        {"name": "features", "relation": "raw.features", "partition": "ds", "gate": "filter",
         "checks": [{"compare": {"with": "raw.features_source", "on": ["k"], "metrics": ["row_count", "sum(v)"]}}]}])
    days = ", ".join(f"DATE '{d}'" for d in DAYS)
    sql(root, ["CREATE TABLE raw.users AS SELECT i AS id, 'a' AS name FROM range(6) t(i)",
               # user i % 6 orders on day i % 3 only (6 is a multiple of 3): two users a day
               f"CREATE TABLE raw.orders AS SELECT i AS order_id, i % 6 AS user_id, ([{days}])[i % 3 + 1] AS ds "
               "FROM range(36) t(i)",
               f"CREATE TABLE raw.features AS SELECT i AS k, i * 1.5 AS v, ([{days}])[i % 3 + 1] AS ds "
               "FROM range(30) t(i)",
               "CREATE TABLE raw.features_source AS SELECT * FROM raw.features"])
    first = build(root)
    assert first.exit_code == 0, [r.message for r in first.results if r.status != "pass"]
    return root


def checked(run, table: str) -> tuple:
    return next(t.partitions for t in run.tables if t.table.name == table)


def failed(run, table: str) -> set:
    return {r.partition for r in run.results if r.table == table and r.status == "fail"}


def test_nothing_changed_nothing_checked_again(tmp_path):
    root = project(tmp_path)
    run = build(root)
    assert checked(run, "orders") == () and checked(run, "features") == ()


def test_a_referenced_key_deleted_rechecks_the_partitions_it_leaves_with_orphans(tmp_path):
    root = project(tmp_path)
    sql(root, "DELETE FROM raw.users WHERE id = 1")  # user 1 orders on day 1 only
    run = build(root)
    assert checked(run, "orders") == ("2026-11-19",)
    assert failed(run, "orders") == {"2026-11-19"}
    assert checked(run, "features") == ()  # its references did not change
    again = build(root)  # the failing day only
    assert checked(again, "orders") == ("2026-11-19",)


def test_a_column_the_relationship_does_not_read_checks_nothing_again(tmp_path):
    root = project(tmp_path)
    sql(root, "UPDATE raw.users SET name = 'b' WHERE id = 1")
    assert checked(build(root), "orders") == ()


def test_a_referenced_key_added_back_passes_again(tmp_path):
    root = project(tmp_path)
    sql(root, "DELETE FROM raw.users WHERE id = 1")
    assert build(root).exit_code == 1
    sql(root, "INSERT INTO raw.users VALUES (1, 'a')")
    run = build(root)
    assert run.exit_code == 0 and checked(run, "orders") == ("2026-11-19",)


def test_a_compared_row_deleted_rechecks_its_partition_only(tmp_path):
    root = project(tmp_path)
    sql(root, "DELETE FROM raw.features_source WHERE k = 4")  # day 4 % 3 = 1
    run = build(root)
    assert checked(run, "features") == ("2026-11-19",)
    assert failed(run, "features") == {"2026-11-19"}
    assert checked(run, "orders") == ()


def test_a_compared_value_changed_rechecks_its_partition_only(tmp_path):
    root = project(tmp_path)
    sql(root, "UPDATE raw.features_source SET v = v + 1 WHERE k = 5")  # day 2
    run = build(root)
    assert checked(run, "features") == ("2026-11-20",) and failed(run, "features") == {"2026-11-20"}


def test_a_new_partition_of_the_compared_relation_rechecks_nothing_that_passed(tmp_path):
    root = project(tmp_path)
    sql(root, "INSERT INTO raw.features_source VALUES (99, 1.0, DATE '2026-11-21')")
    assert checked(build(root), "features") == ()


def test_partition_option_records_statuses_the_next_build_accepts(tmp_path):
    root = project(tmp_path)
    run = build(root, partitions=["2026-11-19"], select=["features"])
    assert checked(run, "features") == ("2026-11-19",)
    assert checked(build(root), "features") == ()


def test_new_keys_and_rows_repeating_known_keys_recheck_nothing(tmp_path):
    root = project(tmp_path)
    sql(root, "INSERT INTO raw.users SELECT id, 'again' FROM raw.users")  # a second snapshot, the same keys
    assert checked(build(root), "orders") == ()
    sql(root, "INSERT INTO raw.users VALUES (100, 'new')")  # a dimension that grows
    assert checked(build(root), "orders") == ()
    sql(root, "DELETE FROM raw.users WHERE id = 100")  # a key no order uses
    assert checked(build(root), "orders") == ()


def test_a_growing_dimension_does_not_trip_the_partition_guard(tmp_path):
    root = project(tmp_path)
    with open(f"{root}/slocompile.yml", "a") as f:
        f.write("max_partitions: 2\n")  # fewer than the 3 days the table has (checked before the limit)
    sql(root, "INSERT INTO raw.users VALUES (100, 'new')")
    run = build(root)
    assert run.exit_code == 0 and checked(run, "orders") == ()


def test_a_compare_and_a_relationship_on_one_relation_each_notice_their_changes(tmp_path):
    root = write(tmp_path, [{"name": "clean", "relation": "raw.clean", "partition": "ds", "gate": "filter",
                             "checks": [{"compare": {"with": "raw.orders", "metrics": ["row_count"]}}],
                             "columns": [{"name": "order_id",
                                          "checks": [{"relationship": {"to": "raw.orders", "field": "order_id"}}]},
                                         {"name": "ds"}]}])
    days = ", ".join(f"DATE '{d}'" for d in DAYS)
    sql(root, [f"CREATE TABLE raw.orders AS SELECT i AS order_id, ([{days}])[i % 3 + 1] AS ds FROM range(9) t(i)",
               "CREATE TABLE raw.clean AS SELECT * FROM raw.orders"])
    assert build(root).exit_code == 0
    sql(root, "UPDATE raw.orders SET ds = DATE '2026-11-19' WHERE order_id = 0")  # the same keys, moved a day
    run = build(root)
    assert checked(run, "clean") == ("2026-11-18", "2026-11-19")
    assert {r.partition for r in run.results if r.status == "fail"} == {"2026-11-18", "2026-11-19"}
