"""Schema drift is a data failure (issue 11, item 3): once a table was built, a relation, or a
column its checks, fixes, monitors, partition or key use, that is gone or changed type records a
run that fails the affected checks and the table's schema check (declared, or implied), fires
triggers, and leaves the validated view serving what its gate says, never a binder error.
A table's first build still reports a missing relation or column as a declaration error (exit 2)."""
from __future__ import annotations

import json

import duckdb
import pytest
from proj import build, cli, query, sql, write

from slocompile.errors import SpecError

LOAD = ("CREATE OR REPLACE TABLE raw.t AS SELECT * FROM (VALUES (1, 5.0, DATE '2024-01-01'), "
        "(2, 6.0, DATE '2024-01-02'), (3, -1.0, DATE '2024-01-02')) v(id, amount, ds)")
TRIGGERS = [{"name": "log", "on": ["fail", "recover"],
             "do": [{"command": "cat >> events.jsonl && echo >> events.jsonl"}]}]
CHANGES = {
    "retyped": "ALTER TABLE raw.t ALTER amount TYPE VARCHAR",
    "dropped_column": "ALTER TABLE raw.t DROP COLUMN amount",
    "dropped_relation": "DROP TABLE raw.t",
}


def table(gate: str, declared_type: bool = True, **extra) -> dict:
    amount = {"name": "amount", "checks": [{"between": {"min": 0, "rows": "drop", "max_fraction": 0.5}}]}
    if declared_type:
        amount["type"] = "number"
    return {"name": "t", "relation": "raw.t", "partition": "ds", "gate": gate,
            "columns": [amount, {"name": "id", "checks": ["not_null"]}], **extra}


def project(root, gate: str, declared_type: bool = True, **extra):
    write(root, [table(gate, declared_type, **extra)], triggers=TRIGGERS)
    sql(root, LOAD)
    first = build(root)
    assert first.exit_code == 0, [r.message for r in first.results if r.status != "pass"]
    return first


def events(root) -> list[tuple[str, list[str]]]:
    path = root / "events.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            e = json.loads(line)
            out.append((e["event"], sorted({u["check"] for u in e["results"]})))
    return out


def served(root):
    """What validated.t serves: its rows, or the error a query of it raises."""
    try:
        return sorted(query(root, "SELECT id FROM validated.t"))
    except duckdb.Error as e:
        return str(e)


def by_check(run) -> dict:
    return {r.check: r for r in run.results}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("gate", ["block", "filter", "last_good", "warn"])
def test_drift_fails_the_schema_check_and_the_view_serves_its_gate(tmp_path, gate, change):
    project(tmp_path, gate)
    before = served(tmp_path)
    sql(tmp_path, CHANGES[change])
    run = build(tmp_path)
    assert run.exit_code == 1
    results = by_check(run)
    schema, between = results["schema"], results["between_amount"]
    assert (schema.check_type, schema.status, schema.partition) == ("schema", "fail", None)
    assert between.status == "fail" and between.message.startswith("not measured: ")
    if change == "dropped_relation":
        assert schema.message == "relation raw.t does not exist"
        assert results["not_null_id"].status == "fail"  # nothing can be measured
    else:
        assert schema.message == {"retyped": "amount is VARCHAR, declared number",
                                  "dropped_column": "amount is missing"}[change]
        assert "not_null_id" not in results  # not affected: not measured either (no partial checking)
    # the run is recorded, the whole table fails, the trigger fired
    assert query(tmp_path, "SELECT status, finished_at IS NOT NULL FROM slo.runs WHERE run_id = ?",
                 [run.run_id]) == [("fail", True)]
    failed = query(tmp_path, "SELECT failed_checks FROM slo.status WHERE table_name = 't' AND partition IS NULL")
    assert failed and failed[0][0].startswith("schema, between_amount")
    assert events(tmp_path)[-1] == ("fail", sorted(results))
    # the view serves what the gate says: never a binder error
    now = served(tmp_path)
    if gate == "block":
        assert isinstance(now, str) and "validated.t is blocked by failed SLOs: whole table: schema" in now
    elif gate == "last_good":
        assert now == before == [(1,), (2,)]  # the last good version
    else:
        assert now == []
    assert query(tmp_path, "SELECT count(*) FROM quarantine.t") is not None
    # back as it was: the next build passes and the trigger reports the recovery
    sql(tmp_path, LOAD)
    again = build(tmp_path)
    assert again.exit_code == 0, [r.message for r in again.results if r.status != "pass"]
    assert by_check(again)["schema"].status == "pass"
    assert events(tmp_path)[-1][0] == "recover"
    assert served(tmp_path) == [(1,), (2,)]


def test_an_undeclared_type_is_compared_with_the_one_recorded_at_the_previous_build(tmp_path):
    project(tmp_path, "filter", declared_type=False)
    sql(tmp_path, CHANGES["retyped"])
    run = build(tmp_path)
    assert run.exit_code == 1
    schema = by_check(run)["schema"]
    assert schema.message.startswith("amount was DECIMAL(2,1) at the previous build, is VARCHAR now")
    assert served(tmp_path) == []
    again = build(tmp_path)  # the record survives the fallback views: still drift, not a new normal
    assert again.exit_code == 1 and by_check(again)["schema"].message == schema.message
    # declaring the new type (and a rule that fits it) accepts the change
    t = table("filter", declared_type=False)
    t["columns"][0] = {"name": "amount", "type": "string", "checks": [{"not_null": {"rows": "drop"}}]}
    write(tmp_path, [t], triggers=TRIGGERS)
    accepted = build(tmp_path)
    assert accepted.exit_code == 0, [r.message for r in accepted.results if r.status != "pass"]
    assert served(tmp_path) == [(1,), (2,), (3,)]


def test_declared_schema_check_carries_the_drift(tmp_path):
    project(tmp_path, "block", checks=[{"schema": {"name": "columns"}}])
    sql(tmp_path, CHANGES["retyped"])
    run = build(tmp_path)
    results = by_check(run)
    assert "schema" not in results  # no implied check beside the declared one
    assert (results["columns"].status, results["columns"].message) == ("fail", "amount is VARCHAR, declared number")


def test_a_fixed_column_or_a_monitored_one_that_goes_away(tmp_path):
    write(tmp_path, [{"name": "t", "relation": "raw.t", "partition": "ds", "gate": "filter", "row_status": True,
                      "monitor": ["id"], "columns": [{"name": "amount", "fix": [{"clip": [0, 10]}]}]}])
    sql(tmp_path, LOAD)
    assert build(tmp_path).exit_code == 0
    assert query(tmp_path, "SELECT id, amount, _slo_ok FROM validated.t ORDER BY id")[2] == (3, 0, False)
    sql(tmp_path, "ALTER TABLE raw.t DROP COLUMN amount")
    run = build(tmp_path)
    assert run.exit_code == 1 and by_check(run)["schema"].message == "amount is missing"
    assert query(tmp_path, "SELECT * FROM validated.t") == []   # same columns as before, no rows
    assert [c[0] for c in query(tmp_path, "DESCRIBE validated.t")] == ["id", "amount", "ds", "_slo_ok",
                                                                         "_slo_violations", "_slo_fixed"]
    sql(tmp_path, "ALTER TABLE raw.t DROP COLUMN id")
    run = build(tmp_path)
    assert by_check(run)["schema"].message == "amount is missing; id is missing"


def test_a_dropped_partition_column_fails_every_check(tmp_path):
    project(tmp_path, "filter")
    sql(tmp_path, "ALTER TABLE raw.t DROP COLUMN ds")
    run = build(tmp_path)
    results = by_check(run)
    assert results["not_null_id"].message == "not measured: partition column ds is not in raw.t"
    assert results["schema"].message == "ds is missing"
    assert run.tables[0].partitions == () and served(tmp_path) == []


def test_warn_severity_checks_warn_and_the_schema_check_fails(tmp_path):
    t = table("warn")
    t["columns"][0]["checks"] = [{"between": {"min": 0, "severity": "warn"}}]
    write(tmp_path, [t])
    sql(tmp_path, LOAD)
    build(tmp_path)
    sql(tmp_path, CHANGES["retyped"])
    results = by_check(build(tmp_path))
    assert results["between_amount"].status == "warn" and results["schema"].status == "fail"


def test_views_that_do_not_bind_are_never_published(tmp_path):
    """No declared type, no earlier build: only binding the view shows that the rule cannot apply."""
    t = table("filter", declared_type=False)
    write(tmp_path, [t])
    sql(tmp_path, "CREATE TABLE raw.t AS SELECT 1 AS id, 'x' AS amount, DATE '2024-01-01' AS ds")
    done = cli(tmp_path, "build")
    assert done.returncode == 1, done.stderr
    assert "fail schema: its views do not bind on raw.t" in done.stdout
    assert query(tmp_path, "SELECT status FROM slo.runs") == [("fail",)]
    assert served(tmp_path) == []


def test_first_build_keeps_declaration_errors(tmp_path):
    write(tmp_path, [table("filter")])
    with pytest.raises(SpecError, match="relation raw.t does not exist"):
        build(tmp_path)
    sql(tmp_path, "CREATE TABLE raw.t AS SELECT 1 AS id, DATE '2024-01-01' AS ds")
    with pytest.raises(SpecError, match="column 'amount' is not in raw.t"):
        build(tmp_path)
    assert query(tmp_path, "SELECT count(*) FROM slo.runs") == [(0,)]


def test_cli_exit_code_and_artifacts(tmp_path):
    project(tmp_path, "block")
    sql(tmp_path, CHANGES["dropped_relation"])
    done = cli(tmp_path, "build")
    assert done.returncode == 1, done.stderr
    assert "fail schema: relation raw.t does not exist" in done.stdout
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    assert results["status"] == "fail" and {r["check"] for r in results["results"]} >= {"schema", "between_amount"}
    view = (tmp_path / "target" / "compiled" / "duckdb" / "t" / "validated_view.sql").read_text()
    assert "raw" not in view and "blocked by failed SLOs" in view  # what was published
