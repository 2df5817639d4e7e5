"""A build that finds nothing new (issue 15, item 3), on DuckDB: its catalog reads, status reads and
partition listings are one query each for all tables, its status rows are replaced by one DELETE
and one insert, and its views are left as they are when the warehouse holds them as this build
would create them (run.viewstate). It still records its run, still checks a partition whose
content changed, and creates again every view that is not exactly what it would create: dropped
or replaced by hand, or changed declarations, vars, environment, columns, or cache file.
"""
from __future__ import annotations

import gc
import json
import os

import pytest
from proj import build, query, sql, write
from sqlglot import exp

from slocompile.api import Project
from slocompile.compiling.viewcache import FILE
from slocompile.engines.duckdb import DuckDBEngine
from slocompile.errors import SlocompileError
from slocompile.run import selection
from slocompile.spec.model import TargetSpec
from slocompile.sqltrees import meta
from slocompile.support.gcpause import frozen_after

DAYS = ["2026-11-18", "2026-11-19"]
NAMES = ["t0", "t1", "t2"]


def tables(amount_checks: list | None = None, gate: str = "filter") -> list[dict]:
    """Three tables; `gate` is t0's (the others filter)."""
    return [{"name": n, "relation": f"raw.{n}", "key": ["id"], "partition": "ds",
             "gate": gate if n == "t0" else "filter",
             "checks": [{"row_count": {"min": 1}}],
             "columns": [{"name": "amount", "checks": amount_checks or ["not_null"]}, {"name": "id"},
                         {"name": "ds"}]} for n in NAMES]


@pytest.fixture
def root(tmp_path):
    root = write(tmp_path, tables())
    rows = ", ".join(f"({i}, DATE '{d}', {i}.5)" for i, d in enumerate(DAYS * 2))
    sql(root, [s for n in NAMES for s in (f"CREATE TABLE raw.{n} (id INT, ds DATE, amount DOUBLE)",
                                          f"INSERT INTO raw.{n} VALUES {rows}")])
    first = build(root)
    assert first.exit_code == 0 and all(tr.partitions == tuple(DAYS) for tr in first.tables)
    return root


@pytest.fixture
def executed(monkeypatch) -> list[str]:
    """Every statement the builds send through DuckDBEngine.execute (views are created there)."""
    seen: list[str] = []
    real = DuckDBEngine.execute

    def execute(self, text):
        seen.append(text)
        return real(self, text)

    monkeypatch.setattr(DuckDBEngine, "execute", execute)
    return seen


def created(executed: list[str]) -> list[str]:
    """The views created, as "schema"."name"."""
    return [s.split()[4] for s in executed if s.startswith("CREATE OR REPLACE VIEW")]


def served(root, name: str = "t1") -> dict:
    return dict(query(root, f"SELECT CAST(ds AS TEXT), COUNT(*) FROM validated.{name} GROUP BY 1"))


def test_unchanged_rebuild_creates_no_view_and_still_records_its_run(root, executed):
    build(root)  # the views' text as DuckDB keeps it is recorded after the build that created them
    executed.clear()
    runs = query(root, "SELECT COUNT(*) FROM slo.runs")[0][0]
    run = build(root)
    assert created(executed) == []
    assert all(tr.partitions == () for tr in run.tables)  # nothing new to check
    assert query(root, "SELECT status, finished_at IS NOT NULL FROM slo.runs WHERE run_id = ?", [run.run_id]) == \
        [("pass", True)]
    assert query(root, "SELECT COUNT(*) FROM slo.runs")[0][0] == runs + 1
    assert query(root, "SELECT COUNT(*) FROM slo.results WHERE run_id = ?", [run.run_id])[0][0] == len(run.results)
    # one status row per partition and table, and the whole-table one: replaced, not duplicated
    assert query(root, "SELECT table_name, COUNT(*) FROM slo.status GROUP BY 1 ORDER BY 1") == \
        [(n, len(DAYS) + 1) for n in NAMES]
    assert served(root) == {d: 2 for d in DAYS}


def test_changed_content_and_new_partitions_are_checked_and_not_served_meanwhile(root):
    build(root)
    sql(root, f"UPDATE raw.t1 SET amount = NULL WHERE ds = DATE '{DAYS[1]}'")
    assert served(root) == {DAYS[0]: 2}  # changed since it was checked: not served before the build
    run = build(root)
    assert {tr.table.name: tr.partitions for tr in run.tables} == {"t0": (), "t1": (DAYS[1],), "t2": ()}
    assert {(r.table, r.partition) for r in run.results if r.status == "fail"} == {("t1", DAYS[1])}
    assert served(root) == {DAYS[0]: 2} and served(root, "t0") == {d: 2 for d in DAYS}
    sql(root, f"INSERT INTO raw.t2 VALUES (9, DATE '{DAYS[0]}', 1.0)")  # a row more in a passing partition
    run = build(root)
    assert {tr.table.name: tr.partitions for tr in run.tables} == {"t0": (), "t1": (DAYS[1],), "t2": (DAYS[0],)}
    assert served(root, "t2") == {DAYS[0]: 3, DAYS[1]: 2}
    sql(root, "INSERT INTO raw.t0 VALUES (7, DATE '2026-11-20', 2.0)")  # a new partition
    assert served(root, "t0") == {d: 2 for d in DAYS}  # not served before it is checked
    run = build(root)
    assert {tr.table.name: tr.partitions for tr in run.tables} == {"t0": ("2026-11-20",), "t1": (DAYS[1],), "t2": ()}
    assert served(root, "t0") == {**{d: 2 for d in DAYS}, "2026-11-20": 1}


@pytest.mark.parametrize("by_hand", ["DROP VIEW validated.t1",
                                     "CREATE OR REPLACE VIEW validated.t1 AS SELECT * FROM raw.t1",
                                     "DROP VIEW quarantine.t1"])
def test_a_view_dropped_or_replaced_by_hand_is_created_again(root, executed, by_hand):
    build(root)
    sql(root, f"UPDATE raw.t1 SET amount = NULL WHERE ds = DATE '{DAYS[1]}'")
    build(root)  # DAYS[1] of t1 fails: the validated view hides it
    sql(root, by_hand)  # (a view over raw.t1 would serve the failing day as if checked)
    executed.clear()
    build(root)
    assert created(executed) == ['"validated"."t1"', '"quarantine"."t1"']
    assert served(root) == {DAYS[0]: 2}


def test_changed_declarations_and_columns_create_the_views_again(root, executed):
    build(root)
    write(root, tables(["not_null", {"between": {"min": 0, "max": 1}}]))
    executed.clear()
    build(root)  # new checks, the same views (they filter on the statuses): none created
    assert created(executed) == [] and served(root) == {}  # every amount but 0.5 is outside [0, 1]
    write(root, tables(gate="block"))
    executed.clear()
    build(root)
    assert created(executed) == ['"validated"."t0"', '"quarantine"."t0"']
    assert served(root, "t0") == {d: 2 for d in DAYS}
    sql(root, "ALTER TABLE raw.t0 ADD COLUMN note TEXT")
    executed.clear()
    build(root)
    assert created(executed) == ['"validated"."t0"', '"quarantine"."t0"']
    assert "note" in [r[0] for r in query(root, "DESCRIBE validated.t0")]


@pytest.mark.parametrize("how", ["vars", "env"])
def test_a_changed_var_or_environment_variable_creates_the_views_again(root, executed, monkeypatch, how):
    gate = '{{ var("gate", "filter") }}' if how == "vars" else '{{ env_var("SLO_GATE", "filter") }}'
    write(root, tables(gate=gate))

    def rebuild(value: str):
        if how == "env":
            monkeypatch.setenv("SLO_GATE", value)
        Project.load(root, {"gate": value} if how == "vars" else None).build(write=False)

    rebuild("filter")
    rebuild("filter")
    executed.clear()
    rebuild("filter")
    assert created(executed) == []
    rebuild("block")
    assert created(executed) == ['"validated"."t0"', '"quarantine"."t0"']
    executed.clear()
    rebuild("filter")
    assert created(executed) == ['"validated"."t0"', '"quarantine"."t0"']


@pytest.mark.parametrize("edit", ["other text", "no text"])
def test_a_view_cache_entry_that_does_not_match_creates_the_views_again(root, executed, edit):
    build(root)
    path = os.path.join(root, "target", FILE)
    with open(path) as fh:
        data = json.load(fh)
    data["t2"] = data["t2"][:3] if edit == "no text" else [*data["t2"][:3], "CREATE VIEW x AS SELECT 1;",
                                                            data["t2"][4]]
    with open(path, "w") as fh:
        json.dump(data, fh)
    executed.clear()
    build(root)
    assert created(executed) == ['"validated"."t2"', '"quarantine"."t2"']
    executed.clear()
    build(root)  # recorded again by the build that created them
    assert created(executed) == []


def test_statuses_of_many_tables_in_several_deletes(root, monkeypatch):
    monkeypatch.setattr(meta, "DELETE_BATCH", 2)
    sql(root, f"UPDATE raw.t2 SET amount = NULL WHERE ds = DATE '{DAYS[0]}'")
    run = build(root)
    assert [tr.partitions for tr in run.tables] == [(), (), (DAYS[0],)]
    assert query(root, "SELECT table_name, partition, status FROM slo.status WHERE partition IS NOT NULL "
                       "ORDER BY 1, 2") == [(n, d, "fail" if (n, d) == ("t2", DAYS[0]) else "pass")
                                            for n in NAMES for d in DAYS]
    assert query(root, "SELECT COUNT(*) FROM slo.check_status WHERE table_name = 't2' AND partition = ? "
                       "AND status = 'fail'", [DAYS[0]]) == [(1,)]


def test_listings_in_several_queries_still_notice_changed_content(root, monkeypatch):
    monkeypatch.setattr(selection, "LISTING_BATCH", 2)
    sql(root, "DELETE FROM raw.t2 WHERE id = 0")  # a row less in the first day of the table listed alone
    run = build(root)
    assert [tr.partitions for tr in run.tables] == [(), (), (DAYS[0],)]


def test_a_listing_that_fails_raises_the_tables_own_error(root):
    sql(root, ["ALTER TABLE raw.t1 RENAME TO t1_data",
               "CREATE VIEW raw.t1 AS SELECT id, ds, amount FROM raw.t1_data"])
    build(root)
    sql(root, "CREATE OR REPLACE VIEW raw.t1 AS SELECT id, ds, CASE WHEN id = 1 THEN error('boom') ELSE amount END "
              "AS amount FROM raw.t1_data")
    # each table lists its own again; the failing one is a problem of that table (exit 2), naming it
    with pytest.raises(SlocompileError, match=r"table 't1': cannot fingerprint the content of the partitions "
                                              r"of raw\.t1: .*boom"):
        build(root)


def test_duckdb_columns_of_reads_what_columns_reads(tmp_path):
    target = TargetSpec(name="local", type="duckdb", options={"path": "w.duckdb"}, loc=None)  # type: ignore[arg-type]
    other = str(tmp_path / "other.duckdb")
    engine = DuckDBEngine.open(target, str(tmp_path))
    try:
        for s in ["CREATE SCHEMA raw", "CREATE SCHEMA other_schema",
                  'CREATE TABLE raw."Mixed Case" (b INT, "a b" DECIMAL(18, 3), c STRUCT(x INT, y TEXT[]))',
                  "CREATE TABLE other_schema.t (z DATE)", "CREATE TABLE raw.t (y TEXT, x INT)",
                  "CREATE VIEW raw.v AS SELECT x, y, 1 AS one FROM raw.t", "CREATE TABLE main.m (k BIGINT)",
                  f"ATTACH '{other}' AS other", "CREATE SCHEMA other.raw", "CREATE TABLE other.raw.t (w BOOLEAN)"]:
            engine.execute(s)
        relations = [table_ref(*r) for r in [("raw", "Mixed Case"), ("raw", "t"), ("other_schema", "t"),
                                                      ("raw", "v"), (None, "m"), ("raw", "missing"),
                                                      ("raw", "t", "other"), ("raw", "t", "w")]]
        assert engine.columns_of(relations) == [engine.columns(r) for r in relations]
        assert engine.columns_of(relations)[0] == [("b", "INTEGER"), ("a b", "DECIMAL(18,3)"),
                                                   ("c", "STRUCT(x INTEGER, y VARCHAR[])")]
        views = [table_ref("raw", "v"), table_ref("raw", "t"), table_ref(None, "v")]
        shown = engine.view_definitions(views)
        assert shown[0].startswith("CREATE VIEW") and shown[1:] == [None, None]
    finally:
        engine.close()


def table_ref(schema, name, catalog=None) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True),
                     db=exp.to_identifier(schema, quoted=True) if schema else None,
                     catalog=exp.to_identifier(catalog, quoted=True) if catalog else None)


def test_frozen_after_leaves_the_collector_as_it_found_it():
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with frozen_after():
                assert not gc.isenabled()
                kept = [object() for _ in range(10)]
            assert gc.isenabled() == enabled and gc.get_freeze_count() >= len(kept)
        finally:
            gc.unfreeze()
            gc.enable()


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """What the builds render of the statements kept across builds: 'setup', 'listing'."""
    from slocompile.compiling import compiler

    seen: list[str] = []
    real_setup, real_listing = compiler._setup_if_rendered, selection._listing_sql
    monkeypatch.setattr(compiler, "_setup_if_rendered", lambda *a: seen.append("setup") or real_setup(*a))
    monkeypatch.setattr(selection, "_listing_sql", lambda *a: seen.append("listing") or real_listing(*a))
    return seen


def test_setup_and_listing_sql_are_kept_across_builds_and_rendered_again_when_an_input_changes(root, renders,
                                                                                              monkeypatch):
    from slocompile.compiling import cache

    build(root)
    assert renders == ["listing"]  # (the setup: kept by the fixture's first build)
    renders.clear()
    build(root)
    assert renders == []
    sql(root, "ALTER TABLE raw.t1 ADD COLUMN note TEXT")  # the columns hashed
    build(root)
    assert renders == ["listing"]
    sql(root, f"UPDATE raw.t1 SET note = 'x' WHERE ds = DATE '{DAYS[0]}'")  # only the new column changed
    renders.clear()
    run = build(root)
    assert renders == [] and [tr.partitions for tr in run.tables] == [(), (DAYS[0],), ()]
    with open(os.path.join(root, "slocompile.yml"), "a") as fh:  # the declarations (any YAML file)
        fh.write("schemas: {meta: slo2}\n")
    build(root)
    assert renders == ["setup"]  # (a new meta schema: a first build, which lists no contents)
    assert query(root, "SELECT COUNT(*) FROM slo2.runs") == [(1,)]
    renders.clear()
    monkeypatch.setattr(cache, "_code_stamp", lambda: "another version of slocompile")  # the code
    build(root)
    assert renders == ["setup", "listing"]
