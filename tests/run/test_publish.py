"""Write-audit-publish (gate: last_good): a build writes a new version, audits it, and publishes it only
if it passes; the view keeps serving the last good version otherwise; keep: N; rollback; per-partition
publishing for partitioned tables."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from proj import build, cli, columns, query, sql, write

GOOD = "CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id, range * 10.0 AS amount FROM range({n})"
BAD = "CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id, -1.0 AS amount FROM range(2)"


def orders(keep=None, fix=False):
    t = {"name": "orders", "relation": "raw.orders", "gate": "last_good", "checks": [{"row_count": {"min": 3}}],
         "columns": [{"name": "amount", "checks": [{"between": {"min": 0, "rows": "drop", "max_fraction": 0.5}}]}]}
    if keep:
        t["keep"] = keep
    if fix:
        t["row_status"] = True
        t["columns"][0]["fix"] = [{"clip": [None, 25]}]
    return t


def served(root, table="orders") -> list[tuple]:
    return sorted(query(root, f"SELECT * FROM validated.{table}"))


def meta(root, table="orders") -> list[tuple]:
    return query(root, "SELECT version, partition, status FROM slo.versions WHERE table_name = ? "
                       "ORDER BY version, partition", [table])


def published(root, table="orders") -> dict:
    return dict(query(root, "SELECT partition, version FROM slo.published WHERE table_name = ?", [table]))


def test_the_view_serves_the_last_good_version(tmp_path):
    write(tmp_path, [orders()])
    sql(tmp_path, GOOD.format(n=4))
    assert build(tmp_path).exit_code == 0
    v1 = served(tmp_path)
    assert v1 == [(i, i * 10.0, 1) for i in range(4)]            # the version is a column of the view
    sql(tmp_path, BAD)
    assert build(tmp_path).exit_code == 1                         # audited: row_count fails
    assert served(tmp_path) == v1                                 # still version 1
    assert meta(tmp_path) == [(1, None, "pass"), (2, None, "fail")] and published(tmp_path) == {None: 1}
    sql(tmp_path, GOOD.format(n=5))
    assert build(tmp_path).exit_code == 0
    assert served(tmp_path) == [(i, i * 10.0, 3) for i in range(5)]
    assert published(tmp_path) == {None: 3}


def test_no_good_version_yet_is_a_query_time_error(tmp_path):
    write(tmp_path, [orders()])
    sql(tmp_path, BAD)
    assert build(tmp_path).exit_code == 1
    for view in ("validated.orders", "quarantine.orders"):
        with pytest.raises(Exception, match="validated.orders has no version that passed its SLOs yet"):
            query(tmp_path, f"SELECT count(*) FROM {view}")


def test_validated_plus_quarantine_is_the_published_version(tmp_path):
    write(tmp_path, [orders(fix=True)])
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.orders AS SELECT * FROM (VALUES (1, 10.0), (2, -5.0), (3, 30.0), "
                  "(4, 20.0)) t(id, amount)")
    build(tmp_path)
    sql(tmp_path, BAD)
    build(tmp_path)
    val = query(tmp_path, "SELECT id, amount, _slo_version, _slo_fixed FROM validated.orders ORDER BY id")
    quar = query(tmp_path, "SELECT id, amount, _slo_version, _slo_violations FROM quarantine.orders")
    assert [(r[0], float(r[1]), r[2], r[3]) for r in val] == [(1, 10.0, 1, None), (3, 25.0, 1, "amount"),
                                                              (4, 20.0, 1, None)]
    assert [(r[0], float(r[1]), r[2], r[3]) for r in quar] == [(2, -5.0, 1, "between_amount")]
    assert Counter(r[0] for r in val + quar) == Counter([1, 2, 3, 4])


def test_keep_n_versions_and_never_the_published_one(tmp_path):
    write(tmp_path, [orders(keep=2)])
    sql(tmp_path, GOOD.format(n=3))
    build(tmp_path)                                   # v1 pass
    sql(tmp_path, BAD)
    for _ in range(3):
        build(tmp_path)                               # v2, v3, v4 fail
    assert meta(tmp_path) == [(1, None, "pass"), (3, None, "fail"), (4, None, "fail")]
    assert query(tmp_path, "SELECT DISTINCT _slo_version FROM slo_versions.orders ORDER BY 1") == [(1,), (3,), (4,)]
    assert {r[2] for r in served(tmp_path)} == {1}
    sql(tmp_path, GOOD.format(n=6))
    build(tmp_path)                                   # v5 pass: v1 and v3 go
    assert meta(tmp_path) == [(4, None, "fail"), (5, None, "pass")]
    assert query(tmp_path, "SELECT DISTINCT _slo_version FROM slo_versions.orders ORDER BY 1") == [(4,), (5,)]


def test_rollback_republishes_an_earlier_version(tmp_path):
    write(tmp_path, [orders()])
    for n in (3, 4, 5):
        sql(tmp_path, GOOD.format(n=n))
        build(tmp_path)
    assert published(tmp_path) == {None: 3}
    done = cli(tmp_path, "rollback", "orders")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "validated.orders: now serves version 2 (was 3)\n"
    assert len(served(tmp_path)) == 4
    done = cli(tmp_path, "rollback", "orders", "--to", "1")
    assert done.stdout == "validated.orders: now serves version 1 (was 2)\n"
    assert {r[2] for r in served(tmp_path)} == {1} and len(served(tmp_path)) == 3
    listing = cli(tmp_path, "versions", "orders").stdout.splitlines()
    assert [line.split()[:4] for line in listing[1:]] == [["*", "1", "-", "pass"], ["2", "-", "pass", "4"],
                                                          ["3", "-", "pass", "5"]]
    done = cli(tmp_path, "rollback", "orders", "--to", "3")
    assert done.stdout == "validated.orders: now serves version 3 (was 1)\n"


def test_rollback_errors_exit_2(tmp_path):
    write(tmp_path, [orders(), {"name": "other", "relation": "raw.orders"}])
    sql(tmp_path, GOOD.format(n=3))
    assert cli(tmp_path, "rollback", "orders").stderr == \
        "error: no slo.published table on this target: run `slocompile build` first\n"
    build(tmp_path)
    sql(tmp_path, BAD)
    build(tmp_path)
    for args, message in [
        (("orders",), "error: table 'orders' has no earlier passing version than 1 left (keep: 3)\n"),
        (("orders", "--to", "2"), "error: version 2 of table 'orders' did not pass its SLOs (fail); only passing "
                                  "versions can be published\n"),
        (("orders", "--to", "7"), "error: table 'orders' has no version 7; kept versions: 1, 2\n"),
        (("other",), "error: table 'other' has gate warn; only gate last_good tables have versions\n"),
        (("ordres",), "error: unknown table 'ordres' (did you mean 'orders'?)\n"),
    ]:
        done = cli(tmp_path, "rollback", *args)
        assert (done.returncode, done.stderr) == (2, message)


# ---------------------------------------------------------------- partitioned: publish per partition

EVENTS = ("CREATE OR REPLACE TABLE raw.events AS SELECT * FROM (VALUES {rows}) t(ds, n, ts)")


# one timestamp for every load: a reload writes a partition's rows unchanged, so its content is too
# (a partition whose content changed is audited again)
LOADED_AT = dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


def events_rows(spec: dict[str, int]) -> str:
    rows = [f"('{ds}', {i}, TIMESTAMP '{LOADED_AT}')" for ds, n in spec.items() for i in range(n)]
    return EVENTS.format(rows=", ".join(rows))


def events(**kw):
    return {"name": "events", "relation": "raw.events", "partition": "ds", "gate": "last_good",
            "checks": [{"row_count": {"min": 2}}, {"freshness": {"column": "ts", "max_age": "10d"}}], **kw}


def per_partition(root) -> dict:
    return dict(query(root, "SELECT ds, list(DISTINCT _slo_version)::TEXT || ':' || count(*)::TEXT "
                            "FROM validated.events GROUP BY ds"))


def test_each_partition_serves_its_last_good_version(tmp_path):
    write(tmp_path, [events()])
    sql(tmp_path, events_rows({"a": 2, "b": 1}))
    assert build(tmp_path).exit_code == 1
    assert per_partition(tmp_path) == {"a": "[1]:2"}                  # b failed: not published
    assert meta(tmp_path, "events") == [(1, "a", "pass"), (1, "b", "fail")]
    sql(tmp_path, events_rows({"a": 2, "b": 3, "c": 2}))            # b fixed, c new; a unchanged
    assert build(tmp_path).exit_code == 0
    assert per_partition(tmp_path) == {"a": "[1]:2", "b": "[2]:3", "c": "[2]:2"}
    sql(tmp_path, events_rows({"a": 1, "b": 3, "c": 2}))            # a is reloaded, broken
    assert build(tmp_path, partitions=["a"]).exit_code == 1
    assert per_partition(tmp_path) == {"a": "[1]:2", "b": "[2]:3", "c": "[2]:2"}   # a keeps version 1
    assert published(tmp_path, "events") == {"a": 1, "b": 2, "c": 2}
    sql(tmp_path, events_rows({"a": 4, "b": 3, "c": 2}))
    assert build(tmp_path).exit_code == 0                             # a failed last time: re-checked
    assert per_partition(tmp_path) == {"a": "[4]:4", "b": "[2]:3", "c": "[2]:2"}


def test_a_failing_whole_table_slo_publishes_no_partition(tmp_path):
    write(tmp_path, [events(checks=[{"row_count": {"min": 2}}, {"schema": {"allow_extra": False}}],
                            columns=[{"name": "ds"}, {"name": "n"}, {"name": "ts"}])])
    sql(tmp_path, events_rows({"a": 2}))
    build(tmp_path)
    sql(tmp_path, events_rows({"a": 2, "b": 2}))
    sql(tmp_path, "ALTER TABLE raw.events ADD COLUMN surprise INT")    # breaks the whole-table schema SLO
    assert build(tmp_path).exit_code == 1
    assert per_partition(tmp_path) == {"a": "[1]:2"}
    assert meta(tmp_path, "events")[-1] == (2, "b", "fail")


def test_no_new_partition_audits_what_is_served(tmp_path):
    """Whole-table SLOs judge the data the view would serve: with nothing new, the published versions."""
    write(tmp_path, [events()])
    sql(tmp_path, events_rows({"a": 2, "b": 2}))
    build(tmp_path)
    run = build(tmp_path)
    assert run.exit_code == 0 and run.staged["events"].version is None
    assert [r.check for r in run.results] == ["freshness_ts", "partitions_complete"]  # the whole-table SLOs
    assert per_partition(tmp_path) == {"a": "[1]:2", "b": "[1]:2"}


def test_rollback_of_a_partitioned_table(tmp_path):
    write(tmp_path, [events()])
    sql(tmp_path, events_rows({"a": 2}))
    build(tmp_path)
    sql(tmp_path, events_rows({"a": 3, "b": 2}))
    build(tmp_path, partitions=["a", "b"])
    assert per_partition(tmp_path) == {"a": "[2]:3", "b": "[2]:2"}
    done = cli(tmp_path, "rollback", "events")
    assert done.stdout.splitlines() == [
        "validated.events partition a: now serves version 1 (was 2)",
        "validated.events partition b: now serves nothing (no earlier passing version is kept) (was 2)"]
    assert per_partition(tmp_path) == {"a": "[1]:2"}
    assert cli(tmp_path, "rollback", "events", "--to", "2").returncode == 0
    assert per_partition(tmp_path) == {"a": "[2]:3", "b": "[2]:2"}


def test_versions_follow_new_columns_of_the_relation(tmp_path):
    write(tmp_path, [orders()])
    sql(tmp_path, GOOD.format(n=3))
    build(tmp_path)
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id, range * 1.0 AS amount, 'x' AS note "
                  "FROM range(3)")
    assert build(tmp_path).exit_code == 0
    assert columns(tmp_path, "validated.orders") == ["id", "amount", "_slo_version", "note"]
    assert {r[3] for r in served(tmp_path)} == {"x"}


def test_a_relation_with_a_slo_version_column_is_refused(tmp_path):
    write(tmp_path, [orders()])
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.orders AS SELECT 1 AS id, 1.0 AS amount, 1 AS _slo_version")
    done = cli(tmp_path, "build")
    assert done.returncode == 2
    assert "raw.orders has a column named _slo_version, which gate last_good uses" in done.stderr


def test_keep_needs_last_good(tmp_path):
    write(tmp_path, [{"name": "t", "relation": "raw.t", "keep": 2}, {"name": "u", "relation": "raw.u",
                                                                     "gate": "last_good", "keep": 0}])
    done = cli(tmp_path, "compile")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: slos/tables.yml:4:9: table 't': 'keep' counts the versions of gate last_good (this table's gate is "
        "warn)",
        "error: slos/tables.yml:8:9: table 'u': 'keep' must be at least 1 (the published version)",
        "2 problems found"]
