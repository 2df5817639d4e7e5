"""schema_changes on DuckDB, Postgres and Spark (issue 12, item 4): every build records the
relation's columns and types; the next build reports the added, removed and retyped columns by
name (declared or not), and `on` chooses which of them fail."""
from __future__ import annotations

import os

import pytest
from enginedata import UNAVAILABLE, engine_params, load_statements, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

BEFORE = {"t": ([("a", "INT"), ("b", "VARCHAR"), ("c", "INT")], [(1, "x", 2)])}
AFTER = {"t": ([("a", "INT"), ("b", "INT"), ("d", "DOUBLE")], [(1, 7, 2.5)])}


def slos(raw: str) -> str:
    return f"""
tables:
  - name: t
    relation: {raw}.t
    checks:
      - schema_changes
      - schema_changes: {{name: only_added, on: [added], severity: warn}}
      - schema_changes: {{name: only_removed, on: removed}}
    columns:
      - name: a
        checks: [not_null]
"""


def load(project: Project, root: str, raw: str, tables: dict) -> None:
    eng = connect(project.spec.targets["t"], root)
    try:
        for stmt in load_statements(eng.dialect, raw, tables):
            eng.execute(stmt)
    finally:
        eng.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory, run_tag, spark_warehouse):
    """engine -> the results of three builds: first, after the change, and once more."""
    out = {}
    for engine in ("duckdb", "postgres", "spark"):
        if UNAVAILABLE[engine]:
            continue
        root = str(tmp_path_factory.mktemp(f"schema_changes_{engine}"))
        raw = f"rawsc_{run_tag}"
        schemas = {"meta": f"slosc_{run_tag}", "validated": f"valsc_{run_tag}", "quarantine": f"quasc_{run_tag}",
                   "versions": f"versc_{run_tag}"}
        target = target_yaml(engine, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
        os.makedirs(os.path.join(root, "slos"))
        with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
            f.write(f"name: sc\ntarget: t\ntargets:\n  t: {target}\nschemas: {{"
                    + ", ".join(f"{k}: {v}" for k, v in schemas.items()) + "}\n")
        with open(os.path.join(root, "slos", "t.yml"), "w", encoding="utf-8") as f:
            f.write(slos(raw))
        project = Project.load(root)
        runs = []
        for tables in (BEFORE, AFTER, AFTER):
            load(project, root, raw, tables)
            runs.append({r.check: r for r in project.build().results if r.check_type == "schema_changes"})
        out[engine] = runs
        if engine == "postgres":
            eng = connect(project.spec.targets["t"], root)
            try:
                for schema in [raw, *schemas.values()]:
                    eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                eng.close()
    return out


def names(result) -> dict:
    o = result.observed
    return {"removed": o["removed"], "retyped": [r["column"] for r in o["retyped"]], "added": o["added"]}


@pytest.mark.parametrize("engine", engine_params())
def test_first_build_records_and_passes(builds, engine):
    first = builds[engine][0]
    assert {c: r.status for c, r in first.items()} == {"schema_changes": "pass", "only_added": "pass",
                                                       "only_removed": "pass"}
    assert first["schema_changes"].message == "first build: 3 columns recorded"


@pytest.mark.parametrize("engine", engine_params())
def test_changes_are_reported_by_name_and_on_chooses_what_fails(builds, engine):
    changed = builds[engine][1]
    for r in changed.values():
        assert names(r) == {"removed": ["c"], "retyped": ["b"], "added": ["d"]}
        assert r.message.startswith("removed: c; retyped: b (")
        assert r.message.endswith("); added: d")
    assert {c: r.status for c, r in changed.items()} == {"schema_changes": "fail", "only_added": "warn",
                                                         "only_removed": "fail"}


@pytest.mark.parametrize("engine", engine_params())
def test_the_build_after_compares_with_the_changed_columns(builds, engine):
    again = builds[engine][2]
    assert {c: r.status for c, r in again.items()} == {"schema_changes": "pass", "only_added": "pass",
                                                       "only_removed": "pass"}
    assert again["schema_changes"].message == "the 3 columns are unchanged since the previous build"


@pytest.mark.parametrize("engine", engine_params())
def test_engines_agree(builds, engine):
    assert [{c: (r.status, names(r)) for c, r in b.items()} for b in builds[engine]] == \
        [{c: (r.status, names(r)) for c, r in b.items()} for b in builds["duckdb"]]
