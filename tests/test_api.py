"""The Python API (docs/api.md): Project.load(...).build(...), .compile(...), result objects.

Every Python block of docs/api.md runs here, in order, next to a project made by `slocompile init`;
the other tests pin what the page promises.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import sqlglot

from slocompile import Project
from slocompile.errors import SlocompileError, SpecError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCRIPT = os.path.join(os.path.dirname(sys.executable), "slocompile")
COMMAND = [_SCRIPT] if os.path.exists(_SCRIPT) else [sys.executable, "-m", "slocompile"]
CONTRACT = {"table", "check", "column", "partition", "status", "severity", "observed", "expected", "message"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("api") / "shop")
    proc = subprocess.run([*COMMAND, "init", root], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def shop(pristine, tmp_path) -> str:
    return shutil.copytree(pristine, str(tmp_path / "shop"))


def test_docs_api_examples_run(shop, monkeypatch):
    with open(os.path.join(REPO, "docs", "api.md"), encoding="utf-8") as fh:
        blocks = re.findall(r"```python\n(.*?)```", fh.read(), re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(os.path.dirname(shop))
    namespace: dict = {"__name__": "docs_api"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)
        except Exception as e:  # name the block that broke
            raise AssertionError(f"docs/api.md python block {i + 1} failed: {type(e).__name__}: {e}") from e


def test_build_returns_result_objects(shop):
    project = Project.load(shop)
    run = project.build(target="local")
    assert run.exit_code == 0 and run.status == "pass"
    assert run.target == "local" and run.dialect == "duckdb" and run.run_id
    assert run.started_at <= run.finished_at
    assert [t.table.name for t in run.tables] == ["orders"]
    assert run.tables[0].partitions and all(isinstance(p, str) for p in run.tables[0].partitions)
    assert run.results == [r for t in run.tables for r in t.results]
    for r in run.results:
        assert CONTRACT <= set(r.as_dict())
        assert r.status in ("pass", "fail", "warn", "error") and r.severity in ("error", "warn")
        assert (r.column is None) == (r.check in ("row_count", "key", "partitions_complete")), r  # table-level
    # the artifacts agree with the objects
    with open(os.path.join(shop, "target", "run_results.json"), encoding="utf-8") as fh:
        artifact = json.load(fh)
    assert [(x["check"], x["partition"], x["status"]) for x in artifact["results"]] == \
        [(r.check, r.partition, r.status) for r in run.results]
    # incremental: a second build checks no partition again
    again = project.build()
    assert again.exit_code == 0 and [t.partitions for t in again.tables] == [()]
    assert [r.check for r in again.results] == ["partitions_complete"]  # whole-table: judged every build


def test_failing_build_and_vars(shop):
    run = Project.load(shop, vars={"min_orders": 10 ** 6}).build(full_refresh=True)
    assert run.exit_code == 1 and run.status == "fail"
    fails = [r for r in run.results if r.status == "fail"]
    assert fails and {r.check for r in fails} == {"row_count"}
    assert all(r.partition is not None and r.expected == ">= 1000000" for r in fails)
    # no write: nothing under target/ changes
    before = os.path.getmtime(os.path.join(shop, "target", "run_results.json"))
    Project.load(shop).build(full_refresh=True, write=False)
    assert os.path.getmtime(os.path.join(shop, "target", "run_results.json")) == before


def test_select_and_progress(shop):
    events = []
    run = Project.load(shop).build(select=["orders"], progress=lambda *a: events.append((a[0], a[2], a[3])))
    assert events == [("start", 1, 1), ("done", 1, 1)] and run.exit_code == 0
    with pytest.raises(SlocompileError):
        Project.load(shop).build(select=["nope"])


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery", "spark", "trino"])
def test_compile_for_a_dialect(shop, dialect):
    compiled = Project.load(shop).compile(dialect=dialect, write=False)
    assert compiled.dialect == dialect
    assert not os.path.exists(os.path.join(shop, "target", "compiled"))
    (orders,) = compiled.tables
    assert orders.table.name == "orders" and orders.scans
    for _, sql in orders.scans:
        if sql:
            sqlglot.parse_one(sql, read=dialect)
    sqlglot.parse_one(orders.validated_view, read=dialect)
    assert set(compiled.files()) >= {"_setup/meta.sql", "orders/checks.sql", "orders/validated_view.sql"}


def test_compile_writes_target(shop):
    Project.load(shop).compile(target="local")
    assert os.path.isfile(os.path.join(shop, "target", "compiled", "duckdb", "orders", "checks.sql"))
    assert os.path.isfile(os.path.join(shop, "target", "manifest.json"))


def test_load_errors_are_located(shop):
    path = os.path.join(shop, "slos", "orders.yml")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("- not_null\n", "- not_nul\n", 1))
    with pytest.raises(SpecError) as info:
        Project.load(shop)
    (problem,) = info.value.problems
    assert problem.location.file == os.path.join("slos", "orders.yml") and problem.location.line > 0
    assert "not_nul" in problem.message and "did you mean 'not_null'" in problem.message
    with pytest.raises(SlocompileError):
        Project.load(os.path.join(shop, "nowhere"))


def test_conveniences(shop):
    project = Project.load(shop)
    text = project.suggest("raw.orders", name="orders_profiled")
    assert text.startswith("# Suggested by") and "name: orders_profiled" in text
    detailed = project.suggest("raw.orders", detailed=True)
    assert detailed.profile.rows == 161 and detailed.yaml.count("tables:") == 1
    assert Project.schema()["$schema"].endswith("2020-12/schema")
    assert Project.schema("project")["required"] == ["name"]
    with pytest.raises(ValueError):
        Project.schema("nope")
    paths = project.write_schemas()
    assert set(paths) == {"declarations", "project"} and all(os.path.isfile(p) for p in paths.values())
