"""Fixes, write-audit-publish (gate last_good, rollback) and change SLOs on every engine.

Three builds of one project on the same data per engine. Build 1: every SLO passes; build 2: the
feature table lost most of its rows (row_count's min and its max_drop vs the previous build fail)
and the orders got a negative amount. The predictions view then serves `baseline_score` through
`replace: {when: "failing('user_features')"}`, the orders view keeps serving the version of build
1; build 3 (orders only) passes and publishes version 3, and rollback republishes version 1.
DuckDB is checked against hand-worked values; Postgres and Spark must give the same results and
the same view rows.
"""
from __future__ import annotations

import os

import pytest
from enginedata import UNAVAILABLE, close, engine_params, load_statements, normal, sorted_rows, table_ref, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

FEATURES = [("uid", "INT")]
PREDICTIONS = [("uid", "INT"), ("score", "DOUBLE"), ("baseline_score", "DOUBLE"), ("model_version", "TEXT")]
ORDERS = [("id", "INT"), ("amount", "DOUBLE")]
PREDICTION_ROWS = [(1, 0.3, 0.2, "v1"), (2, 1.5, 0.25, "v1"), (3, None, 0.2, "v1"), (4, -0.5, 0.1, "v0")]
DAY1 = {"features": (FEATURES, [(i,) for i in range(5)]), "predictions": (PREDICTIONS, PREDICTION_ROWS),
        "orders": (ORDERS, [(1, 10.0), (2, 20.0)])}
DAY2 = {"features": (FEATURES, [(i,) for i in range(2)]), "predictions": (PREDICTIONS, PREDICTION_ROWS),
        "orders": (ORDERS, [(1, 10.0), (2, 20.0), (3, -1.0)])}
DAY3 = {"orders": (ORDERS, [(1, 10.0), (2, 20.0), (4, 40.0)])}


def slos(raw: str) -> str:
    return f"""
tables:
  - name: user_features
    relation: {raw}.features
    checks:
      - row_count: {{min: 3, max_drop: 25%}}
  - name: predictions
    relation: {raw}.predictions
    row_status: true
    columns:
      - name: score
        fix:
          - replace: {{when: "failing('user_features') and model_version <> 'v0'", value: baseline_score}}
          - clip: [0, 1]
          - fill_null: 0.5
      - name: uid
      - name: baseline_score
      - name: model_version
  - name: orders
    relation: {raw}.orders
    gate: last_good
    columns:
      - name: id
      - name: amount
        checks:
          - between: {{min: 0}}
"""


def names(tag: str) -> dict:
    return {"raw": f"rawfx_{tag}", "validated": f"validatedfx_{tag}", "quarantine": f"quarantinefx_{tag}",
            "meta": f"slofx_{tag}", "versions": f"slofxv_{tag}"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, run_tag, spark_warehouse):
    """engine -> (project, build 1, build 2, view rows after build 2, rows after a rollback), on first use."""
    root = str(tmp_path_factory.mktemp("fixes_publish"))
    s = names(run_tag)
    targets = {e: target_yaml(e, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
               for e in ("duckdb", "postgres", "spark") if e == "duckdb" or not UNAVAILABLE[e]}
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write("name: fixes_publish\ntarget: duckdb\ntargets:\n" + "".join(f"  {n}: {t}\n" for n, t in targets.items())
                + f"schemas: {{validated: {s['validated']}, quarantine: {s['quarantine']}, meta: {s['meta']}, "
                f"versions: {s['versions']}}}\n")
    with open(os.path.join(root, "slos", "tables.yml"), "w", encoding="utf-8") as f:
        f.write(slos(s["raw"]))
    cache: dict[str, dict] = {}

    def get(engine_name: str) -> dict:
        if engine_name not in cache:
            cache[engine_name] = _scenario(Project.load(root), engine_name, s)
        return cache[engine_name]

    yield get
    for name in cache:
        if name != "duckdb":
            _drop(Project.load(root), name, s)


def _load(project, engine_name: str, schema: str, data: dict) -> None:
    eng = connect(project.spec.targets[engine_name], project.root)
    try:
        for stmt in load_statements(eng.dialect, schema, data):
            eng.execute(stmt)
    finally:
        eng.close()


def _views(project, engine_name: str, s: dict) -> dict:
    eng = connect(project.spec.targets[engine_name], project.root)
    try:
        out = {}
        for kind in ("validated", "quarantine"):
            for table in ("predictions", "orders"):
                ref = table_ref(s[kind], table).sql(eng.dialect, identify=True)
                out[(kind, table)] = sorted_rows(eng.query(f"SELECT * FROM {ref}"))
        return out
    finally:
        eng.close()


def _drop(project, engine_name: str, s: dict) -> None:
    eng = connect(project.spec.targets[engine_name], project.root)
    try:
        for schema in s.values():
            eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if eng.dialect == "postgres"
                        else f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
    finally:
        eng.close()


def _scenario(project, engine_name: str, s: dict) -> dict:
    if engine_name != "duckdb":
        _drop(project, engine_name, s)
    _load(project, engine_name, s["raw"], DAY1)
    first = project.build(target=engine_name, write=False)
    _load(project, engine_name, s["raw"], DAY2)
    second = project.build(target=engine_name, write=False)
    views = _views(project, engine_name, s)
    versions = project.versions("orders", target=engine_name)
    _load(project, engine_name, s["raw"], DAY3)
    third = project.build(target=engine_name, select=["orders"], write=False)  # version 3 passes
    rollback = project.rollback("orders", target=engine_name)
    after = _views(project, engine_name, s)[("validated", "orders")]
    return {"first": first, "second": second, "third": third, "views": views, "versions": versions,
            "rollback": rollback, "after_rollback": after}


def _results(run) -> dict:
    return {(r.table, r.check, r.partition): (r.status, normal(r.observed), r.expected) for r in run.results}


def test_duckdb_reference(runs):
    d = runs("duckdb")
    assert d["first"].exit_code == 0, [r.message for r in d["first"].results if r.status != "pass"]
    res = _results(d["second"])
    assert d["second"].exit_code == 1
    assert res[("user_features", "row_count", None)][0] == "fail"
    observed = res[("user_features", "row_count", None)][1]
    assert observed["baseline"] == 5 and observed["value"] == 2 and observed["relative_change"] == -0.6
    assert res[("orders", "between_amount", None)][0] == "fail"
    views = d["views"]
    scores = {r[0]: r[1] for r in views[("validated", "predictions")]}
    # user_features fails: v1 rows serve baseline_score; the v0 row keeps its clipped score
    assert scores == {1: 0.2, 2: 0.25, 3: 0.2, 4: 0}
    assert [r[:2] for r in views[("validated", "orders")]] == [(1, 10), (2, 20)]  # version 1: no -1.0 row
    assert [(v["version"], v["status"], v["published"]) for v in d["versions"]] == [(1, "pass", True),
                                                                                 (2, "fail", False)]
    assert d["rollback"] == {None: (3, 1)}
    assert [r[:2] for r in d["after_rollback"]] == [(1, 10), (2, 20)]


@pytest.mark.parametrize("engine", [p for p in engine_params() if p.values[0] != "duckdb"])
def test_engine_matches_duckdb(runs, engine):
    ref, got = runs("duckdb"), runs(engine)
    for build in ("first", "second", "third"):
        a, b = _results(ref[build]), _results(got[build])
        assert a.keys() == b.keys()
        diff = {k: (a[k], b[k]) for k in a if not close(list(a[k]), list(b[k]))}
        assert not diff, diff
    for key, rows in ref["views"].items():
        assert close(rows, got["views"][key]), (key, rows, got["views"][key])
    assert [(v["version"], v["published"]) for v in ref["versions"]] == \
        [(v["version"], v["published"]) for v in got["versions"]]
    assert got["rollback"] == ref["rollback"] and close(ref["after_rollback"], got["after_rollback"])
