"""`slocompile import-dbt`: a dbt project's YAML tests as slocompile declarations.

tests/tools/fixtures/dbt_project is a jaffle-shop style project written for this test: dbt_project.yml
with folder-level `+schema`, a profiles.yml, sources with freshness, three model YAML files using
both `tests:` and `data_tests:`, column- and model-level tests, dbt 1.10 `arguments:`, custom test
names, a custom generic test, package tests, Jinja, a seed file and a singular test.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest
import yaml

from slocompile.declarations.loader import load_project
from slocompile.tools.dbt import check_loads, convert_project

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "dbt_project")
_SCRIPT = os.path.join(os.path.dirname(sys.executable), "slocompile")
COMMAND = [_SCRIPT] if os.path.exists(_SCRIPT) else [sys.executable, "-m", "slocompile"]


def cli(*args, cwd=None, check=None):
    proc = subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=180)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out and "internal error" not in out, out
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode}, expected {check}\n{out}"
    return proc


@pytest.fixture(scope="module")
def result():
    return convert_project(FIXTURE)


def _tables(result) -> dict:
    out = {}
    for text in result.texts.values():
        for t in yaml.safe_load(text)["tables"]:
            out[t["name"]] = t
    return out


def _col(table: dict, name: str) -> list:
    return next(c for c in table["columns"] if c["name"] == name).get("checks") or []


# ------------------------------------------------------------------------------------ conversion

def test_relations_follow_dbt_schema_naming(result):
    t = _tables(result)
    assert t["stg_orders"]["relation"] == "analytics_staging.stg_orders"       # +schema: staging
    assert t["customers"]["relation"] == "analytics.customers"                 # no custom schema
    assert t["revenue_daily"]["relation"] == "analytics_finance.daily_revenue"  # folder schema + alias
    assert t["raw_orders"]["relation"] == "raw_data.raw_orders"                # source schema + identifier
    assert t["country_codes"]["relation"] == "analytics.country_codes"         # a seed
    other = _tables(convert_project(FIXTURE, schema="prod"))
    assert other["stg_orders"]["relation"] == "prod_staging.stg_orders"


def test_column_tests_both_keys(result):
    t = _tables(result)
    assert _col(t["stg_customers"], "customer_id") == ["unique", "not_null"]      # tests:
    assert _col(t["customers"], "customer_id") == ["unique", "not_null"]          # data_tests:
    assert _col(t["stg_orders"], "status") == [{"accepted_values": {
        "values": ["placed", "shipped", "completed", "return_pending", "returned"], "severity": "warn"}}]
    assert {"relationship": {"to": "analytics_staging.stg_customers", "field": "customer_id"}} in \
        _col(t["stg_orders"], "customer_id")
    assert _col(t["stg_payments"], "amount") == [{"between": {"min": 0}}]
    assert _col(t["customers"], "customer_lifetime_value") == [{"between": {"min": 0}},
                                                                {"not_null": {"max_fraction": 0.05}}]
    assert _col(t["customers"], "first_name") == [{"not_null": {"where": "created_at > '2020-01-01'"}}]
    assert any(c["name"] == "created_at" for c in t["customers"]["columns"])  # named by the where: declared


def test_model_level_tests_and_contract(result):
    t = _tables(result)
    assert t["customers"]["checks"] == [{"unique": {"columns": ["customer_id", "first_order"]}},
                                        {"expression": {"sql": "number_of_orders >= 0"}}, "schema"]
    types = {c["name"]: c.get("type") for c in t["customers"]["columns"]}
    assert types["customer_id"] == "integer" and types["first_name"] == "string" and types["first_order"] == "date"
    assert t["orders"]["checks"] == [{"expression": {
        "sql": "amount = credit_card_amount + coupon_amount + bank_transfer_amount + gift_card_amount",
        "severity": "warn"}}]
    assert _col(t["revenue_daily"], "revenue_date") == ["not_null", {"freshness": {"max_age": "2d"}}]
    assert _col(t["orders"], "order_date") == [{"expression": {"sql": "order_date <= current_date",
                                                               "name": "order_date_not_in_future"}}]
    assert {"expression": {"sql": "amount >= 0"}} in _col(t["orders"], "amount")


def test_severity_and_thresholds(result):
    t = _tables(result)
    assert _col(t["orders"], "status") == [
        {"accepted_values": {"values": ["placed", "shipped", "completed", "return_pending", "returned"],
                             "max_count": 100}},
        {"accepted_values": {"values": ["placed", "shipped", "completed", "return_pending", "returned"],
                             "max_count": 10, "severity": "warn", "name": "accepted_values_status_warn"}}]
    # error_if ">5" with dbt's default warn_if "!=0": an error above 5 rows, a warning from 1
    assert _col(t["orders"], "amount")[:2] == [{"not_null": {"max_count": 5}},
                                               {"not_null": {"severity": "warn", "name": "not_null_amount_warn"}}]
    assert _col(t["revenue_daily"], "currency") == [
        {"accepted_values": {"values": ["USD", "EUR"], "max_count": 2, "severity": "warn"}}]  # warn_if ">=3"
    assert _col(t["revenue_daily"], "revenue") == [
        {"not_null": {"severity": "warn"}},                                                  # legacy top-level config
        {"not_null": {"where": "dayofweek(revenue_date) between 1 and 5", "name": "revenue_not_null_on_weekdays"}}]
    assert _col(t["orders"], "order_id") == ["unique", "not_null"]  # unique has no count: stricter, noted
    assert {"relationship": {"to": "analytics.customers", "field": "customer_id", "where": "status != 'returned'"}} \
        in _col(t["orders"], "customer_id")                          # dbt 1.10 `arguments:`


def test_source_freshness(result):
    t = _tables(result)
    assert _col(t["raw_customers"], "_loaded_at") == [
        {"freshness": {"max_age": "24h"}},
        {"freshness": {"max_age": "12h", "severity": "warn", "name": "freshness__loaded_at_warn"}}]
    assert not any(c["name"] == "_loaded_at" for c in t["raw_orders"]["columns"])  # freshness: null


def test_report_names_what_was_not_converted(result):
    report = result.report()
    expected = [
        "models/marts/core/schema.yml:45: orders: dbt_utils.equal_rowcount: dbt_utils package test",
        "models/marts/core/schema.yml:78: orders.amount: is_positive: custom generic test (defined in "
        "macros/test_is_positive.sql)",
        "models/marts/core/schema.yml:81: orders.amount: dbt_expectations.expect_column_values_to_be_between: "
        "dbt_expectations package test",
        "models/marts/core/schema.yml:86: orders.order_date: not_null: where uses Jinja",
        "models/marts/finance/revenue.yml:11: revenue_daily: unique: column_name",
        "models/marts/finance/revenue.yml:33: revenue_daily.revenue: enabled_false_test: disabled",
        "models/staging/schema.yml:41: stg_payments.payment_method: accepted_values: the values are Jinja",
        "tests/assert_revenue_matches_payments.sql: (singular test)",
    ]
    for line in expected:
        assert line in report, line
    assert len(result.not_converted) == len(expected)
    assert "orders.order_id: unique: unique takes no failure count" in report
    assert "max_count counts rows; dbt counted distinct unexpected values" in report
    assert "ignored config: store_failures" in report
    # each file's comment block lists its own items; Jinja in them is escaped, so the file renders
    core = result.texts["models/marts/core/schema.yml"]
    assert "# Not converted:" in core and "line 78: orders.amount: is_positive" in core
    assert "{{ '{{' }} var(\"start_date\") }}" in core
    assert "singular" not in core


def test_output_loads_and_validates(result, tmp_path):
    assert check_loads(result.texts, result.dialect) == []
    from slocompile.tools import jsonschema as sj

    for rel, text in result.texts.items():
        root = tmp_path / "v"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        assert sj.validate_file(str(path), {}) == [], rel


# ------------------------------------------------------------------------------------ CLI, end to end

@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("dbt") / "shop")
    cli("init", root, check=0)
    return root


def test_import_into_a_project_compiles_and_builds(shop, tmp_path):
    root = shutil.copytree(shop, str(tmp_path / "p"))
    proc = cli("import-dbt", FIXTURE, "--prefix", "dbt_", cwd=root, check=0)
    assert "wrote slos/dbt/models/marts/core/schema.yml" in proc.stdout
    assert "not converted (8):" in proc.stdout and "is_positive" in proc.stdout
    spec = load_project(root, env={})
    names = {t.name for t in spec.tables}
    assert {"orders", "dbt_orders", "dbt_stg_orders", "dbt_raw_customers", "dbt_country_codes"} <= names
    cli("compile", cwd=root, check=0)
    cli("compile", "--dialect", "postgres", cwd=root, check=0)

    # real data for the staging models: a build runs the converted checks
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute("create schema analytics_staging")
    con.execute("create table analytics_staging.stg_customers as select * from (values (1), (2), (3)) t(customer_id)")
    con.execute("create table analytics_staging.stg_orders as select * from (values "
                "(10, 'placed', 1), (11, 'shipped', 2), (12, 'lost', 3)) t(order_id, status, customer_id)")
    con.close()
    proc = cli("build", "--select", "dbt_stg_customers", "--select", "dbt_stg_orders", cwd=root, check=0)
    assert "warn" in proc.stdout.lower()          # 'lost' breaks the warn-severity accepted_values
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute("insert into analytics_staging.stg_orders values (13, 'placed', 99)")  # an orphan
    con.close()
    proc = cli("build", "--select", "dbt_stg_orders", cwd=root, check=1)
    assert "relationship_customer_id" in proc.stdout


def test_import_user_errors(shop, tmp_path):
    root = shutil.copytree(shop, str(tmp_path / "p"))
    proc = cli("import-dbt", str(tmp_path), cwd=root, check=2)
    assert "no dbt_project.yml" in proc.stderr
    cli("import-dbt", FIXTURE, "--out", "slos/x", "--prefix", "a_", cwd=root, check=0)
    proc = cli("import-dbt", FIXTURE, "--out", "slos/x", "--prefix", "a_", cwd=root, check=2)
    assert "exists" in proc.stderr and "--force" in proc.stderr
    cli("import-dbt", FIXTURE, "--out", "slos/x", "--prefix", "a_", "--force", cwd=root, check=0)
