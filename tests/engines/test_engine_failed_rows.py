"""Failed-row samples and `assert` queries on DuckDB, Postgres and Spark (issue 12, items 1 and 2):
the same build stores the same samples on every engine (ordered, capped, secrets redacted), only
for the checks that failed or warned, in the meta table `failed_rows`, in run_results.json and in
`slocompile show TABLE --failures`."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from enginedata import UNAVAILABLE, engine_params, load_statements, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

SECRET = "s3cr3tvalue"
D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
TABLES = {
    "orders": ([("id", "INT"), ("ds", "DATE"), ("amount", "DOUBLE"), ("email", "VARCHAR"), ("country", "VARCHAR")],
               [(1, D1, 10.0, "a@x", "fr"), (2, D1, -5.0, "a@x", "xx"), (3, D2, 5000.0, "b@x", "de"),
                (None, D2, -1.5, "c@x", None), (5, D2, 20.0, "c@x", "yy"), (6, D3, 30.0, f"{SECRET}@x", "fr")]),
    "countries": ([("code", "VARCHAR")], [("fr",), ("de",)]),
}


def slos(raw: str) -> str:
    return f"""
tables:
  - name: orders
    relation: {raw}.orders
    key: [id]
    partition: ds
    checks:
      - unique: [email]
      - relationship: {{column: country, to: {raw}.countries, field: code}}
      - assert: {{name: big, sql: "select o.id, o.amount from {{{{ this }}}} o where o.amount > 100"}}
      - assert: {{name: some_rows, sql: "count(*) > 0"}}
      - assert:
          name: ranked
          sql: |
            with n as (select id, amount, row_number() over (order by amount) as rn from orders where amount < 50)
            select n.id, n.rn, c.code from n join {raw}.countries c on c.code = 'de' where n.rn <= 3
    columns:
      - name: id
        checks:
          - not_null
          - between: {{min: 0, max: 3, failed_rows: 0}}
      - name: amount
        checks:
          - between: {{min: 0, max: 1000, failed_rows: 1}}
      - name: email
        checks:
          - matches: "^[a-c]@x$"
      - name: country
        checks:
          - accepted_values: {{values: [fr, de, xx], severity: warn}}
      - name: ds
  - name: audited
    relation: {raw}.orders
    key: [id]
    partition: ds
    gate: last_good
    columns:
      - name: amount
        checks:
          - between: {{min: 0, max: 1000, failed_rows: 1}}
      - name: email
        checks:
          - matches: "^[a-c]@x$"
"""


def expected() -> list[tuple]:
    return [
        ("accepted_values_country", "2026-01-02", {"id": 5, "country": "yy"}),
        ("between_amount", "2026-01-01", {"id": 2, "amount": -5}),  # failed_rows: 1 (of 3 failing rows)
        ("big", None, {"id": 3, "amount": 5000}),
        ("matches_email", "2026-01-03", {"id": 6, "email": "env_var('FR_SECRET')@x"}),
        ("not_null_id", "2026-01-02", {"id": None}),
        # amounts under 50 ranked: -5 (id 2), -1.5 (NULL id), 10 (id 1); joined with 'de'
        ("ranked", None, {"id": None, "rn": 2, "code": "de"}),
        ("ranked", None, {"id": 1, "rn": 3, "code": "de"}),
        ("ranked", None, {"id": 2, "rn": 1, "code": "de"}),
        ("relationship_country", "2026-01-01", {"id": 2, "country": "xx"}),
        ("relationship_country", "2026-01-02", {"id": 5, "country": "yy"}),
        ("unique_email", "2026-01-01", {"email": "a@x", "_slo_rows": 2}),
        ("unique_email", "2026-01-02", {"email": "c@x", "_slo_rows": 2}),
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory, run_tag, spark_warehouse):
    """engine -> (the build, its samples as `show --failures` reads them, run_results.json)."""
    os.environ["FR_SECRET"] = SECRET
    out = {}
    for engine in ("duckdb", "postgres", "spark"):
        if UNAVAILABLE[engine]:
            continue
        root = str(tmp_path_factory.mktemp(f"failed_rows_{engine}"))
        raw, meta = f"rawfr_{run_tag}", f"slofr_{run_tag}"
        target = target_yaml(engine, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
        os.makedirs(os.path.join(root, "slos"))
        with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
            f.write(f"name: fr\ntarget: t\ntargets:\n  t: {target}\n"
                    "vars: {token: \"{{ env_var('FR_SECRET') }}\"}\n"
                    f"schemas: {{meta: {meta}, validated: valfr_{run_tag}, quarantine: quafr_{run_tag}, "
                    f"versions: verfr_{run_tag}}}\n")
        with open(os.path.join(root, "slos", "orders.yml"), "w", encoding="utf-8") as f:
            f.write(slos(raw))
        project = Project.load(root)
        eng = connect(project.spec.targets["t"], root)
        try:
            for stmt in load_statements(eng.dialect, raw, TABLES):
                eng.execute(stmt)
        finally:
            eng.close()
        run = project.build()
        with open(os.path.join(root, "target", "run_results.json"), encoding="utf-8") as f:
            results = json.load(f)
        out[engine] = (run, project.failures("orders"), results, project, project.failures("audited"))
        if engine == "postgres":
            eng = connect(project.spec.targets["t"], root)
            try:
                for schema in (raw, meta, f"valfr_{run_tag}", f"quafr_{run_tag}", f"verfr_{run_tag}"):
                    eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                eng.close()
    return out


def stored(found: dict) -> list[tuple]:
    return [(r["check"], r["partition"], r["values"]) for r in found["rows"]]


@pytest.mark.parametrize("engine", engine_params())
def test_samples_are_the_failing_rows_capped_and_redacted(built, engine):
    run, found, _, _, _ = built[engine]
    assert found["run_id"] == run.run_id
    assert stored(found) == expected()
    # passing checks (some_rows), and a check with failed_rows: 0 (between_id), store nothing
    assert {r["check"] for r in found["rows"]} & {"some_rows", "between_id"} == set()
    assert any(r.status == "fail" for r in run.results if r.check == "between_id")


@pytest.mark.parametrize("engine", engine_params())
def test_a_last_good_tables_samples_are_read_from_its_audited_version(built, engine):
    """The samples of a staged table read its audit view, which publishing replaces: they are
    read before (on Postgres the publish's DDL would lock them out; Spark reads them on the
    publishing connection)."""
    found = built[engine][4]
    assert stored(found) == [("between_amount", "2026-01-01", {"id": 2, "amount": -5}),
                             ("matches_email", "2026-01-03", {"id": 6, "email": "env_var('FR_SECRET')@x"})]


@pytest.mark.parametrize("engine", engine_params())
def test_engines_store_identical_samples(built, engine):
    assert built[engine][1]["rows"] == built["duckdb"][1]["rows"]


@pytest.mark.parametrize("engine", engine_params())
def test_run_results_carry_each_failed_results_rows(built, engine):
    _, found, results, _, _ = built[engine]
    by_result = {(r["check"], r["partition"]): r.get("failed_rows") for r in results["results"]
                 if r["table"] == "orders"}
    assert by_result[("relationship_country", "2026-01-02")] == [{"id": 5, "country": "yy"}]
    assert by_result[("accepted_values_country", "2026-01-02")] == [{"id": 5, "country": "yy"}]  # a warning
    assert [by_result[k] for k in by_result if k[0] == "some_rows"] == [None, None, None]  # passed
    assert SECRET not in json.dumps(results)
    assert sum(len(v or []) for v in by_result.values()) == len(found["rows"])


@pytest.mark.parametrize("engine", engine_params())
def test_assert_query_counts_the_rows_it_returns(built, engine):
    run = built[engine][0]
    by = {r.check: r for r in run.results}
    assert (by["big"].status, by["big"].observed) == ("fail", 1)
    assert (by["ranked"].status, by["ranked"].observed) == ("fail", 3)
    assert by["some_rows"].status == "pass"
