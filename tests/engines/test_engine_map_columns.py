"""A relation with a MAP column (also one nested in an ARRAY) on Spark and DuckDB: the content
fingerprints (first build, incremental builds, the validated view's check at query time) take
it. Spark's row hash refuses maps; such columns are hashed as their JSON text
(TableSpec.hashed_as_text). Before, Spark's validated view did not bind (nothing was served)
and the second build stopped on the hash."""
from __future__ import annotations

import os

import pytest
from enginedata import engine_params, table_ref, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

CREATE = {  # 3 days x 4 rows; `tags` a map, `history` an array of maps
    "duckdb": "CREATE TABLE {t} AS SELECT DATE '2026-01-01' + CAST(i % 3 AS INT) AS ds, CAST(i AS DOUBLE) AS score, "
              "MAP {{'a': i, 'b': i * 2}} AS tags, [MAP {{'k': i}}] AS history FROM range(12) r(i)",
    "spark": "CREATE TABLE {t} USING parquet AS SELECT date_add(DATE '2026-01-01', CAST(id % 3 AS INT)) AS ds, "
             "CAST(id AS DOUBLE) AS score, map('a', id, 'b', id * 2) AS tags, array(map('k', id)) AS history "
             "FROM range(12)",
}


@pytest.mark.parametrize("engine", [p for p in engine_params() if p.values[0] != "postgres"])
def test_map_columns_are_fingerprinted_and_served(tmp_path, engine, run_tag, spark_warehouse):
    root, raw = str(tmp_path), f"rawmap_{run_tag}"
    schemas = {k: f"{k}map_{run_tag}" for k in ("validated", "quarantine", "meta")}
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write(f"name: maps\ntarget: {engine}\ntargets:\n  {engine}: "
                f"{target_yaml(engine, spark_warehouse, os.path.join(root, 'warehouse.duckdb'))}\n"
                f"schemas: {{validated: {schemas['validated']}, quarantine: {schemas['quarantine']}, "
                f"meta: {schemas['meta']}}}\n")
    with open(os.path.join(root, "slos", "t.yml"), "w", encoding="utf-8") as f:
        f.write(f"tables:\n  - name: feats\n    relation: {raw}.feats\n    partition: ds\n    gate: filter\n"
                "    checks:\n      - row_count: {min: 1}\n"
                "    columns:\n      - name: score\n        checks: [not_null]\n")
    proj = Project.load(root)
    eng = connect(proj.spec.targets[engine], root)
    feats = table_ref(raw, "feats").sql(eng.dialect, identify=True)
    validated = table_ref(schemas["validated"], "feats").sql(eng.dialect, identify=True)
    try:
        eng.execute(f"CREATE SCHEMA IF NOT EXISTS {table_ref(raw, 'x').args['db'].sql(eng.dialect, identify=True)}")
        eng.execute(CREATE[engine].format(t=feats))
        first = proj.build(write=False)
        assert first.exit_code == 0, [r.message for r in first.results if r.status != "pass"]
        assert eng.query(f"SELECT COUNT(*) FROM {validated}") == [(12,)]

        assert proj.build(write=False).tables[0].partitions == ()  # nothing changed: nothing to check
        eng.execute(f"INSERT INTO {feats} SELECT ds, score + 100, tags, history FROM {feats} "
                    "WHERE ds = DATE '2026-01-02'")
        assert eng.query(f"SELECT COUNT(*) FROM {validated}") == [(8,)]  # changed since checked: hidden
        again = proj.build(write=False)
        assert again.tables[0].partitions == ("2026-01-02",)  # the changed day, and only it
        assert eng.query(f"SELECT COUNT(*) FROM {validated}") == [(16,)]
    finally:
        if engine == "spark":
            for schema in (raw, *schemas.values()):
                eng.execute(f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
        eng.close()
