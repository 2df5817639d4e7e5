"""Golden SQL: each scenario compiled for every dialect equals tests/compiling/golden/<scenario>/<dialect>.sql,
and every golden file re-parses in its dialect.

Regenerate (after reviewing the change!) with `pytest tests/compiling/test_golden.py --update-goldens`
or SLOCOMPILE_UPDATE_GOLDENS=1. A plain run never writes.
"""
from __future__ import annotations

import os
import pathlib
import textwrap

import pytest
import sqlglot
from sqlglot import exp

from slocompile.api import Project
from slocompile.errors import SlocompileError

GOLDEN = pathlib.Path(__file__).parent / "golden"
DIALECTS = ["duckdb", "postgres", "snowflake", "bigquery", "spark", "databricks", "trino", "redshift"]
NO_EXACT_QUANTILE = {"bigquery", "trino"}
INJECTION = "x'); DROP TABLE raw.t; --"

PROJECT = "name: golden\ntargets: {local: {type: duckdb, path: warehouse.duckdb}}\n"

SCENARIOS = {
    # every check type except quantile (see `quantile` below), with and without `where`
    "all_checks": """
tables:
  - name: orders
    relation: raw.orders
    key: [order_id]
    checks:
      - row_count: {min: 10, max: 1000000}
      - row_count: {min: 1, name: recent_rows, where: "amount > 0"}
      - unique: [order_id]
      - unique: {columns: [customer, order_date], name: one_order_a_day}
      - unique: {columns: [customer], name: unique_customer_where, where: "status <> 'returned'"}
      - freshness: {column: updated_at, max_age: 36h}
      - relationship: {column: country, to: dims.countries, field: code}
      - relationship: {column: country, to: dims.countries, field: code, name: rel_where, where: "amount > 0"}
      - schema: {allow_extra: false}
      - assert: {name: few_returns, sql: "count(*) filter (where status = 'returned') <= 0.1 * count(*)"}
      - assert: {name: big_sum, sql: "sum(amount) > 0", where: "status = 'placed'"}
      - assert: {name: no_negative, sql: "count_if(amount < 0) = 0"}
    columns:
      - name: order_id
        type: integer
        checks: [not_null]
      - name: order_date
        type: date
      - name: updated_at
        type: timestamp
      - name: customer
        type: string
        checks:
          - not_null: {max_fraction: 0.05}
          - missing_fraction: {max: 0.1, max_increase: 25%, baseline: 7}
          - matches: {pattern: "^[a-z]+[0-9]*$", max_count: 3}
      - name: country
        type: string
        checks:
          - accepted_values: {values: [US, CN, IN], max_fraction: 0.01}
      - name: status
        type: string
        checks:
          - accepted_values: [placed, shipped, delivered, returned]
      - name: amount
        type: number
        checks:
          - between: {min: 0, max: 10000, rows: drop}
          - between: {min: 1, inclusive: false, name: positive_placed, where: "status = 'placed'"}
          - expression: {sql: "amount < 5000 or status <> 'placed'", max_fraction: 0.2}
          - mean: {min: 10, max: 500}
          - mean: {max: 100, name: mean_where, where: "status = 'returned'"}
          - min: {min: 0}
          - max: {max: 10000}
          - stddev: {max: 1000}
          - distinct_count: {min: 2}
          - distinct_count: {max: 50, name: dc_where, where: "country = 'US'", severity: warn}
""",
    # quantile: exact on 6 dialects; bigquery and trino must refuse it (test below)
    "quantile": """
tables:
  - name: scores
    relation: raw.scores
    columns:
      - name: score
        checks:
          - quantile: {q: 0.5, min: 0.1, max: 0.9}
          - quantile: {q: 0.99, max: 1, where: "score is not null"}
""",
    # a partitioned table with a block gate, drop rules and a whole-table check
    "partitioned_block": """
tables:
  - name: user_features
    relation: raw.user_features
    key: [user_id]
    partition: ds
    gate: block
    checks:
      - row_count: {min: 1000}
      - freshness: {column: ds, max_age: 2d}
    columns:
      - name: user_id
        checks: [not_null]
      - name: age
        checks:
          - between: {min: 0, max: 120, rows: drop}
          - not_null: {rows: drop, max_fraction: 0.05}
      - name: ds
""",
    # a filter gate, partitioned and unpartitioned
    "filter_gate": """
tables:
  - name: events
    relation: raw.events
    partition: event_date
    gate: filter
    checks:
      - row_count: {min: 1}
    columns:
      - name: kind
        checks:
          - accepted_values: {values: [click, view], rows: drop, max_fraction: 0.5}
      - name: event_date
  - name: dims
    relation: raw.dims
    gate: filter
    checks:
      - unique: [code]
""",
    # time partitions (issue 16): an hourly table (filter: content fingerprints per hour), a weekly
    # one (last_good: versions labelled by week) and a monthly one (block); keys unique per partition
    "time_partitions": """
tables:
  - name: events
    relation: raw.events
    key: [event_id]
    partition: {column: event_ts, granularity: hour}
    gate: filter
    checks:
      - row_count: {min: 1}
    columns:
      - name: kind
        checks:
          - accepted_values: {values: [click, view], rows: drop, max_fraction: 0.5}
      - name: event_ts
  - name: weekly
    relation: raw.weekly
    key: [user_id]
    partition: {column: loaded_at, granularity: week}
    gate: last_good
    checks:
      - row_count: {min: 1}
  - name: monthly
    relation: raw.monthly
    partition: {column: billed_on, granularity: month}
    gate: block
    columns:
      - name: amount
        checks: [not_null]
""",
    # segments (group_by): one grouped scan per grouping and filter, the other checks in the fused scan
    "segments": """
tables:
  - name: orders
    relation: raw.orders
    key: [order_id]
    partition: ds
    checks:
      - row_count: {min: 1}
      - row_count: {min: 10, group_by: [country]}
      - row_count: {max_drop: 50%, group_by: [country, device], name: rows_by_country_device}
      - freshness: {column: updated_at, max_age: 36h, group_by: country}
      - assert: {name: positive_sum, sql: "sum(amount) > 0", group_by: [country], max_segments: 20}
    columns:
      - name: order_id
      - name: updated_at
      - name: device
      - name: country
        checks:
          - not_null: {max_fraction: 0.1, group_by: [device]}
      - name: amount
        checks:
          - not_null
          - mean: {min: 1, max: 500, group_by: [country]}
          - distinct_count: {min: 2, group_by: [country], where: "amount > 0"}
          - between: {min: 0, max: 1000, max_fraction: 0.01, group_by: country}
  - name: customers
    relation: raw.customers
    checks:
      - row_count: {min: 1, group_by: [tier]}
    columns:
      - name: tier
      - name: age
        checks:
          - mean: {max: 90, group_by: tier}
""",
    # hostile identifiers and values: reserved words, spaces, unicode, quotes, backslashes, injection
    "hostile": r"""
tables:
  - name: 'Order "Items" ✓'
    relation: 'raw."Order Items"'
    key: ["Order Id"]
    partition: "group"
    gate: block
    checks:
      - unique: {columns: ["select", "naïve"], name: "it's \"unique\""}
      - relationship: {column: "we\"ird\\col", to: 'dims."Codes ✓"', field: "cödé"}
      - assert: {sql: "count(distinct \"select\") > 0", name: "x'); DROP TABLE raw.t; --"}
    columns:
      - name: "select"
        checks:
          - not_null: {rows: drop, where: "\"Order Id\" > 0"}
      - name: "naïve"
        checks:
          - between: {min: -1.5, max: 1e6, rows: drop}
      - name: "we\"ird\\col"
        checks:
          - accepted_values:
              values: ["it's", "say \"hi\"", "back\\slash", "new\nline", "x'); DROP TABLE raw.t; --", "naïve ☃"]
              rows: drop
          - matches: {pattern: "^\\d+\\\\$"}
          - expression: {sql: "\"we\"\"ird\\col\" <> 'it''s'"}
      - name: "Order Id"
      - name: "group"
""",
    # row fixes in order (clip, fill_null, replace with failing()), per-row status columns, a block gate
    "fixes": """
tables:
  - name: predictions
    relation: raw.predictions
    gate: block
    row_status: true
    columns:
      - name: score
        checks:
          - between: {min: 0, max: 1}
          - not_null: {rows: drop, max_fraction: 0.1}
        fix:
          - replace: {when: "failing('features') and model_version <> 'v0'", value: baseline_score}
          - clip: [0, 1]
          - fill_null: 0.5
      - name: baseline_score
        fix:
          - clip: {min: 0}
      - name: label
        fix:
          - fill_null: "it's unknown"
          - replace: {when: "label = 'x'", value: null}
      - name: day
        fix:
          - clip: [2024-01-01, 2030-12-31]
      - name: model_version
  - name: features
    relation: raw.features
    row_status: true
    checks:
      - row_count: {min: 1}
    columns:
      - name: f
        checks:
          - not_null: {max_fraction: 0.5}
""",
    # write-audit-publish: unpartitioned and per partition, with a drop rule and a fix
    "last_good": """
tables:
  - name: orders
    relation: raw.orders
    gate: last_good
    keep: 5
    checks:
      - row_count: {min: 1}
    columns:
      - name: amount
        checks:
          - between: {min: 0, rows: drop}
  - name: events
    relation: raw.events
    partition: ds
    gate: last_good
    columns:
      - name: kind
        checks:
          - accepted_values: {values: [a, b], rows: drop}
        fix:
          - fill_null: a
      - name: ds
""",
    # `where` filters on every kind of metric
    "where_filters": """
tables:
  - name: payments
    relation: raw.payments
    partition: paid_on
    checks:
      - row_count: {min: 1, where: "method = 'card'"}
      - unique: {columns: [payment_id], where: "method = 'card'"}
      - assert: {sql: "avg(amount) > 1", where: "amount is not null and method in ('card', 'cash')"}
    columns:
      - name: amount
        checks:
          - not_null: {where: "method = 'card'"}
          - between: {min: 0, where: "method <> 'refund'", rows: drop}
          - mean: {min: 1, where: "method = 'card'"}
          - distinct_count: {min: 1, where: "method = 'card'"}
      - name: method
      - name: payment_id
      - name: paid_on
""",
    # failed-row samples (`failed_rows`) and `assert` with a whole SELECT (dbt's singular test): its own
    # query counts the rows it returns; `{{ this }}` and declared tables resolve to their relations;
    # schema_changes reads the catalog (no SQL)
    "failed_rows": """
tables:
  - name: orders
    relation: raw.orders
    key: [order_id]
    partition: {column: placed_at, granularity: day}
    checks:
      - unique: {columns: [customer, sku], failed_rows: 5}
      - relationship: {column: customer, to: dims.customers, field: id, where: "amount > 0"}
      - assert:
          name: refunds_match
          sql: |
            with r as (select order_id, sum(amount) as refunded from refunds group by order_id)
            select o.order_id, o.amount, r.refunded,
                   row_number() over (partition by o.customer order by o.order_id) as nth
            from {{ this }} o join r on r.order_id = o.order_id
            where r.refunded > o.amount
          failed_rows: 0
      - assert: "select * from {{ this }} where amount < 0"
      - schema_changes: {on: [removed, retyped]}
    columns:
      - name: order_id
        checks: [not_null]
      - name: amount
        checks:
          - between: {min: 0, max: 10000, failed_rows: 3, where: "customer <> 'test'"}
      - name: customer
        checks:
          - accepted_values: {values: [a, b]}
          - matches: "^[a-z]+$"
      - name: sku
      - name: placed_at
  - name: refunds
    relation: raw.refunds
    columns:
      - name: order_id
        checks:
          - expression: "order_id > 0"
""",
    # custom check types (macros/*.sql): an aggregate and a metric fused into the table's scan with the
    # built-ins, a rows type as its own query; parameters become literals, quoted columns, relations
    "custom_checks": {
        "macros/positive_share.sql": """
/*
kind: metric
doc: The share of rows whose column is positive.
params:
  strict: {type: bool, default: true}
*/
avg(case when {{ column }} > 0 or (not {{ strict }} and {{ column }} = 0) then 1.0 else 0.0 end)
""",
        "macros/totals_add_up.sql": """
/*
kind: aggregate
params:
  parts: columns
  total: column
  statuses: {type: values, default: [placed, shipped]}
  slack: {type: number, default: 0.01}
*/
abs(sum({{ total }}) - sum({{ parts }})) <= {{ slack }} and count_if(status not in ({{ statuses }})) = 0
""",
        "macros/no_orphan_refunds.sql": """
/*
kind: rows
params:
  refunds: relation
  label: {type: string, default: "it's refunded twice"}
*/
select o.order_id, {{ label }} as why
from {{ this }} o join {{ refunds }} r on r.order_id = o.order_id
group by o.order_id
having count(*) > 1
""",
        "slos/tables.yml": """
tables:
  - name: orders
    relation: raw.orders
    partition: order_date
    checks:
      - row_count: {min: 1}
      - totals_add_up: {parts: amount, total: amount, statuses: [placed, "x'); DROP TABLE raw.t; --"]}
      - totals_add_up: {parts: amount, total: amount, where: "amount > 0", name: positive_totals}
      - no_orphan_refunds: {refunds: raw.refunds, failed_rows: 5}
    columns:
      - name: order_id
      - name: order_date
      - name: amount
        checks:
          - positive_share: {min: 0.9}
          - positive_share: {strict: false, max_drop: 10%, name: nonnegative_share}
          - not_null
      - name: status
""",
    },
    # compare: this side's metrics in the table's fused scan, the other relation's in one scan of it,
    # keys on one side only in one full outer join (per partition label; `where` on both sides)
    "compare": """
tables:
  - name: orders
    relation: raw.orders
    partition: order_date
    checks:
      - row_count: {min: 1}
      - compare: {with: legacy.orders, on: [order_id], metrics: [row_count, sum(amount), count(distinct customer)],
                  tolerance: 0.5%}
      - compare: {with: legacy.orders, metrics: [max(amount)], where: "status <> 'test'", name: max_amount}
  - name: events
    relation: raw.events
    partition: {column: event_ts, granularity: hour}
    checks:
      - compare: {with: events_v2, on: [event_id, user_id]}
  - name: events_v2
    relation: raw.events_v2
  - name: dims
    relation: raw.dims
    checks:
      - compare: {with: raw.dims_old, on: code, metrics: [row_count, count(distinct label)]}
""",
}


def write_project(root: pathlib.Path, slos: str | dict[str, str]) -> pathlib.Path:
    """A project whose slos/tables.yml is `slos`, or with the files `slos` maps (path -> text)."""
    (root / "slos").mkdir(parents=True, exist_ok=True)
    (root / "slocompile.yml").write_text(PROJECT)
    for rel, text in (slos.items() if isinstance(slos, dict) else [("slos/tables.yml", slos)]):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    return root


def compiled_text(root: pathlib.Path, dialect: str) -> str:
    compiled = Project.load(str(root)).compile(dialect=dialect, write=False)
    return "".join(f"-- file: {name}\n{sql}\n" for name, sql in sorted(compiled.files().items()))


def update_requested(config) -> bool:
    return bool(config.getoption("--update-goldens", default=False)) or os.environ.get(
        "SLOCOMPILE_UPDATE_GOLDENS") == "1"


CASES = [(s, d) for s in SCENARIOS for d in DIALECTS if not (s == "quantile" and d in NO_EXACT_QUANTILE)]


@pytest.mark.parametrize("scenario,dialect", CASES)
def test_compiled_sql_matches_golden(tmp_path, request, scenario, dialect):
    text = compiled_text(write_project(tmp_path, SCENARIOS[scenario]), dialect)
    golden = GOLDEN / scenario / f"{dialect}.sql"
    if update_requested(request.config):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden}: run pytest --update-goldens and review the diff"
    assert text == golden.read_text(), f"{golden} differs: review, then run pytest --update-goldens"


def golden_files():
    return sorted(GOLDEN.glob("*/*.sql"))


def test_every_scenario_has_all_goldens():
    assert {(p.parent.name, p.stem) for p in golden_files()} == set(CASES)


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_golden_reparses_in_its_dialect(path):
    statements = [s for s in sqlglot.parse(path.read_text(), read=path.stem) if s is not None]
    assert statements
    assert not any(isinstance(s, exp.Command) for s in statements)  # nothing fell back to raw text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hostile_names_and_values_survive_the_round_trip(dialect):
    """Re-parsed in its dialect, the hostile golden still holds each value and name exactly."""
    trees = sqlglot.parse((GOLDEN / "hostile" / f"{dialect}.sql").read_text(), read=dialect)
    strings = {lit.this for t in trees if t for lit in t.find_all(exp.Literal) if lit.is_string}
    names = {i.this for t in trees if t for i in t.find_all(exp.Identifier)}
    assert {"it's", 'say "hi"', "back\\slash", "new\nline", INJECTION, "naïve ☃", "^\\d+\\\\$"} <= strings
    assert {'Order "Items" ✓', "Order Items", "Order Id", "select", "naïve", 'we"ird\\col', "Codes ✓",
            "cödé", "group"} <= names
    assert not any(isinstance(s, (exp.Drop, exp.Command)) for t in trees if t for s in t.walk())


@pytest.mark.parametrize("dialect", sorted(NO_EXACT_QUANTILE))
def test_exact_quantile_fails_compile_naming_check_and_dialect(tmp_path, dialect):
    root = write_project(tmp_path, SCENARIOS["quantile"])
    with pytest.raises(SlocompileError) as err:
        Project.load(str(root)).compile(dialect=dialect, write=False)
    text = str(err.value)
    assert "quantile_score_q50" in text and dialect in text and "slos/tables.yml:" in text
    assert "quantile_score_q99" in text


def test_redshift_gets_no_aggregate_filter_clause():
    """Redshift has no FILTER (WHERE ...): the user's assert is rewritten into COUNT(CASE ...)."""
    text = (GOLDEN / "all_checks" / "redshift.sql").read_text()
    assert "FILTER(" not in text.upper().replace(" ", "")
    assert "COUNT(CASE WHEN \"status\" = 'returned' THEN 1 END) <= 0.1 * COUNT(*)" in text


def test_postgres_and_redshift_count_if_counts():
    """sqlglot writes COUNT_IF as SUM(CASE ... ELSE 0 END) there, which is NULL on an empty table."""
    for dialect in ("postgres", "redshift"):
        text = (GOLDEN / "all_checks" / f"{dialect}.sql").read_text()
        assert "COUNT(CASE WHEN \"amount\" < 0 THEN 1 END) = 0" in text and "ELSE 0" not in text


def test_trino_listagg_has_within_group():
    """Trino's grammar requires LISTAGG(...) WITHIN GROUP (ORDER BY ...)."""
    text = (GOLDEN / "partitioned_block" / "trino.sql").read_text()
    assert text.count("LISTAGG(") == text.count("WITHIN GROUP (ORDER BY") == 1


def test_unsupported_filter_names_check_and_dialect(tmp_path):
    slos = """
    tables:
      - name: t
        relation: raw.t
        checks:
          - assert: {name: listed, sql: "array_length(array_agg(a) filter (where a > 0)) > 0"}
    """
    root = write_project(tmp_path, slos)
    Project.load(str(root)).compile(dialect="postgres", write=False)
    with pytest.raises(SlocompileError) as err:
        Project.load(str(root)).compile(dialect="redshift", write=False)
    assert "check 'listed'" in str(err.value) and "redshift" in str(err.value)
