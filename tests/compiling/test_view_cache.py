"""The view cache (compiling/viewcache.py): a rebuild of unchanged declarations over unchanged
columns reuses the rendered views, and anything the views depend on renders them again."""
from __future__ import annotations

import json
import os

import pytest
from proj import build, query, sql, write

from slocompile.compiling import compiler
from slocompile.compiling.viewcache import FILE, STATEMENTS


def tables(checks: list | None = None) -> list[dict]:
    return [{"name": "orders", "relation": "raw.orders", "key": ["id"], "partition": "ds", "gate": "filter",
             "columns": [{"name": "amount", "checks": checks or ["not_null"]}, {"name": "id"}, {"name": "ds"}]}]


@pytest.fixture
def root(tmp_path):
    root = write(tmp_path, tables())
    sql(root, ["CREATE TABLE raw.orders (id INT, ds DATE, amount DOUBLE)",
               "INSERT INTO raw.orders VALUES (1, DATE '2026-01-01', 5.0), (2, DATE '2026-01-02', NULL)"])
    return root


@pytest.fixture
def rendered(monkeypatch):
    """The names of the tables whose validated view the compiler renders (the build's probes of
    new views, run.schema_drift.settle_views, build their own trees)."""
    from types import SimpleNamespace

    seen: list[str] = []
    real = compiler.view_trees

    def counting(schemas, table):
        seen.append(table.name)
        return real.validated_view(schemas, table)

    monkeypatch.setattr(compiler, "view_trees", SimpleNamespace(validated_view=counting,
                                                                quarantine_view=real.quarantine_view))
    return seen


def view_sql(root) -> str:
    return query(root, "SELECT sql FROM duckdb_views() WHERE view_name = 'orders' AND schema_name = 'validated'")[0][0]


def test_rebuild_reuses_the_views_and_serves_the_same(root, rendered):
    build(root)
    assert rendered == ["orders"] and os.path.exists(os.path.join(root, "target", FILE))
    first = view_sql(root)
    build(root)
    assert rendered == ["orders"]  # not rendered again
    assert view_sql(root) == first
    assert query(root, "SELECT id FROM validated.orders") == [(1,)]  # the failing day stays hidden


def test_changed_declarations_render_the_views_again(root, rendered):
    build(root)
    write(root, tables(["not_null", {"between": {"min": 0, "max": 1}}]))
    build(root)
    assert rendered == ["orders", "orders"]
    assert query(root, "SELECT id FROM validated.orders") == []  # 5.0 is outside [0, 1]: that day fails too


def test_changed_columns_render_the_views_again(root, rendered):
    build(root)
    sql(root, "ALTER TABLE raw.orders ADD COLUMN note TEXT")
    build(root)
    assert rendered == ["orders", "orders"]
    assert "note" in [r[0] for r in query(root, "DESCRIBE validated.orders")]


def test_a_vars_change_renders_the_views_again(root, rendered):
    from slocompile.api import Project

    write(root, tables(["not_null", {"between": {"min": 0, "max": '{{ var("x", 10) }}'}}]))
    Project.load(root, {"x": 1}).build(write=False)
    Project.load(root, {"x": 2}).build(write=False)
    assert rendered == ["orders", "orders"]


@pytest.mark.parametrize("content", ["not json", "[]", json.dumps({"orders": ["stale-key", "SELECT 1", "SELECT 2"]})])
def test_an_unusable_or_stale_cache_file_is_ignored(root, rendered, content):
    build(root)
    first = view_sql(root)
    with open(os.path.join(root, "target", FILE), "w") as fh:
        fh.write(content)
    build(root)
    assert rendered == ["orders", "orders"] and view_sql(root) == first


def test_entries_of_tables_no_longer_declared_are_dropped(root):
    build(root)
    path = os.path.join(root, "target", FILE)
    with open(path) as fh:
        data = json.load(fh)
    data["gone"] = ["k", "a", "b"]
    with open(path, "w") as fh:
        json.dump(data, fh)
    build(root)
    with open(path) as fh:
        assert [k for k in json.load(fh) if k != STATEMENTS] == ["orders"]


def test_rendered_statements_are_kept_under_the_declarations_vars_environment_and_inputs(root, monkeypatch):
    """ViewCache.rendered (the meta DDL, the listings of partition contents): reused only when the
    declarations, vars, the environment a file reads with env_var(), the name and inputs match."""
    from slocompile.compiling.viewcache import ViewCache

    made: list[str] = []

    def rendered(variables: dict, what: str = "s", parts: object = 1) -> list[str] | None:
        views = ViewCache(root, variables)
        out = views.rendered(what, parts, lambda: made.append(what) or [f"SELECT {len(made)}"])
        views.save(["orders"])
        return out

    assert rendered({}) == ["SELECT 1"] and rendered({}) == ["SELECT 1"] and made == ["s"]
    assert rendered({"x": 1}) == ["SELECT 2"]  # vars
    assert rendered({"x": 1}, parts=2) == ["SELECT 3"]  # inputs
    assert rendered({"x": 1}, what="t") == ["SELECT 4"] and rendered({"x": 1}, parts=2) == ["SELECT 5"]  # (one kept)
    write(root, tables(["not_null", {"between": {"min": '{{ env_var("LOW", "0") }}'}}]))  # declarations
    assert rendered({}) == ["SELECT 6"] and rendered({}) == ["SELECT 6"]
    monkeypatch.setenv("LOW", "1")  # the environment, read by env_var()
    assert rendered({}) == ["SELECT 7"]


@pytest.fixture
def probes_built(monkeypatch):
    """The names of the tables whose views the build's binding probes (run.schema_drift) were
    rendered for from new trees, not taken from the cache."""
    from types import SimpleNamespace

    from slocompile.run import schema_drift

    seen: list[str] = []
    real = schema_drift.views

    def counting(schemas, table):
        seen.append(table.name)
        return real.validated_view(schemas, table)

    monkeypatch.setattr(schema_drift, "views", SimpleNamespace(
        validated_view=counting, quarantine_view=real.quarantine_view, view_name=real.view_name))
    return seen


def fresh_warehouse(root, load: str) -> None:
    os.remove(os.path.join(root, "warehouse.duckdb"))
    sql(root, load)


def test_a_new_warehouse_binds_the_views_with_the_cached_probes(root, probes_built):
    build(root)
    assert probes_built == ["orders"]  # the first build's views are new: probed
    fresh_warehouse(root, "CREATE TABLE raw.orders AS SELECT 1 AS id, DATE '2026-01-01' AS ds, 5.0 AS amount")
    assert build(root).exit_code == 0
    assert probes_built == ["orders"]  # probed again (new views), the probes from the cache
    assert query(root, "SELECT id FROM validated.orders") == [(1,)]


def test_a_cached_probe_still_finds_views_that_no_longer_bind(root, probes_built):
    """The cache key has the columns' names, not their types: the engine binds the cached probe."""
    write(root, tables([{"between": {"min": 0, "rows": "drop", "max_fraction": 0.5}}]))
    build(root)
    fresh_warehouse(root, "CREATE TABLE raw.orders AS SELECT 1 AS id, DATE '2026-01-01' AS ds, 'x' AS amount")
    run = build(root)
    assert probes_built == ["orders"]
    schema = [r for r in run.results if r.check_type == "schema"]
    assert run.exit_code == 1 and "its views do not bind on raw.orders" in schema[0].message
    assert query(root, "SELECT id FROM validated.orders") == []


def test_the_probes_outlive_builds_that_do_not_probe(root, probes_built):
    build(root)
    build(root)  # the same columns: nothing probed, the probes kept
    with open(os.path.join(root, "target", FILE)) as fh:
        assert "view probes orders" in json.load(fh)[STATEMENTS]
    fresh_warehouse(root, "CREATE TABLE raw.orders AS SELECT 1 AS id, DATE '2026-01-01' AS ds, 5.0 AS amount")
    build(root)
    assert probes_built == ["orders"]  # the first build's, not rendered again
