"""slocompile.integrations.dagster with the real Dagster, executed in process (issue 14, item 8):
one asset check per check (and `monitor` per monitored table), every result from ONE build, a
failing error-severity check fails as ERROR, a warning as WARN, a subset of checks builds only
their tables, a broken project fails the step with slocompile's message, and the Dagster snippet
of docs/orchestrators.md runs."""
from __future__ import annotations

import os

import pytest
from orchestrators import docs_block, require
from proj import query, sql, write

require("dagster")

import dagster as dg  # noqa: E402  (after the skip)

from slocompile.integrations.dagster import asset_checks, asset_specs  # noqa: E402

TABLES = [
    {"name": "orders", "relation": "raw.orders", "checks": [{"row_count": {"min": 3}},
                                                           {"row_count": {"max": 1000, "name": "not-too-many"}}],
     "columns": [{"name": "country", "checks": [{"accepted_values": {"values": ["US"], "severity": "warn"}}]}]},
    {"name": "payments", "relation": "raw.payments", "checks": [{"row_count": {"min": 3}}]},
    {"name": "events", "relation": "raw.events", "partition": "ds", "monitor": "all",
     "checks": [{"row_count": {"min": 1}}]},
]


def data(root, orders: int, country: str = "US") -> None:
    sql(root, [f"CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id, '{country}' AS country FROM range({orders})",
               "CREATE OR REPLACE TABLE raw.payments AS SELECT range AS id FROM range(5)",
               "CREATE OR REPLACE TABLE raw.events AS SELECT "
               "CAST(DATE '2026-12-01' + INTERVAL (range % 3) DAY AS DATE) AS ds, range AS v FROM range(30)"])


def evaluations(result) -> dict:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def runs(root) -> list[str]:
    return [r[0] for r in query(root, "SELECT run_id FROM slo.runs ORDER BY started_at")]


@pytest.fixture
def project(tmp_path) -> str:
    root = write(tmp_path, TABLES)
    data(root, 1, country="XX")  # orders: row_count fails (error), accepted_values warns
    return root


def test_one_build_answers_every_asset_check(project):
    checks = asset_checks(project)
    specs = {(s.asset_key.to_user_string(), s.name) for s in checks.check_specs}
    assert specs == {("orders", "row_count"), ("orders", "not_too_many"), ("orders", "accepted_values_country"),
                     ("payments", "row_count"), ("events", "row_count"), ("events", "monitor"),
                     ("events", "schema_changes"), ("events", "partitions_complete")}  # the last two: monitor: all
    result = dg.materialize([checks, *asset_specs(project)], selection=dg.AssetSelection.all_asset_checks())
    assert result.success  # a failing check is a failed check, not a failed run
    found = evaluations(result)
    assert set(found) == specs
    failed = found[("orders", "row_count")]
    assert (failed.passed, failed.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert failed.description == "row count is 1; expected >= 3"
    assert failed.metadata["observed"].value == "1" and failed.metadata["expected"].value == ">= 3"
    warned = found[("orders", "accepted_values_country")]
    assert (warned.passed, warned.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert found[("orders", "not_too_many")].metadata["slocompile/run_id"].value == failed.metadata[
        "slocompile/run_id"].value
    assert all(found[k].passed for k in [("payments", "row_count"), ("events", "row_count"), ("events", "monitor")])
    assert found[("events", "row_count")].metadata["results"].value == 3  # one per partition
    # all of it from one build, recorded as any build is
    run_ids = runs(project)
    assert run_ids == [failed.metadata["slocompile/run_id"].value]
    assert query(project, "SELECT count(DISTINCT table_name) FROM slo.results") == [(3,)]


def test_a_subset_of_checks_builds_only_their_tables(project):
    checks = asset_checks(project, key_prefix=["warehouse"])
    payments = dg.AssetCheckKey(dg.AssetKey(["warehouse", "payments"]), "row_count")
    result = dg.materialize([checks], selection=dg.AssetSelection.checks(payments))
    assert result.success
    assert [(e.asset_key.to_user_string(), e.check_name, e.passed) for e in result.get_asset_check_evaluations()] \
        == [("warehouse/payments", "row_count", True)]
    assert query(project, "SELECT DISTINCT table_name FROM slo.results") == [("payments",)]


def test_select_and_asset_key_shape_the_checks(project):
    checks = asset_checks(project, select="orders", asset_key=lambda table: ["shop", "raw", table])
    assert {s.asset_key.to_user_string() for s in checks.check_specs} == {"shop/raw/orders"}
    [spec] = asset_specs(project, select=["payments"])
    assert spec.key.to_user_string() == "payments" and spec.metadata["slocompile/relation"] == "raw.payments"


def test_a_build_that_cannot_run_fails_the_step_with_the_message(project):
    checks = asset_checks(project)
    with open(os.path.join(project, "slos", "tables.yml"), "a") as fh:
        fh.write("  - name: broken\n    relation: raw.broken\n    checks: [{row_count: {min: many}}]\n")
    result = dg.materialize([checks], selection=dg.AssetSelection.all_asset_checks(), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    text = str(failure.event_specific_data.error_display_string if hasattr(failure.event_specific_data,
                                                                            "error_display_string") else
               failure.event_specific_data)
    assert "slocompile build could not run (exit code 2)" in text and "tables.yml:" in text
    assert "Traceback" not in text.split("slocompile build could not run")[1].split("\n")[0]


def test_docs_snippet_runs(project, monkeypatch, capsys):
    """The Dagster file of docs/orchestrators.md, run as written (`python definitions.py`) next to
    the project folder `slo`; its Definitions load."""
    os.rename(project, os.path.join(os.path.dirname(project), "slo"))
    monkeypatch.chdir(os.path.dirname(project))
    namespace: dict = {"__name__": "__main__"}
    exec(compile(docs_block("definitions.py"), "docs/orchestrators.md: definitions.py", "exec"), namespace)
    dg.Definitions.validate_loadable(namespace["defs"])
    printed = capsys.readouterr().out.splitlines()
    assert "orders row_count failed (ERROR)" in printed and "orders accepted_values_country failed (WARN)" in printed
    assert "payments row_count passed" in printed
