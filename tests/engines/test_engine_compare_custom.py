"""`compare` and custom check types on DuckDB, Postgres and Spark (issue 12, items 5 and 6): the same
build gives the same results (metrics of both sides, keys on one side only, custom aggregates,
metrics and rows) and the same failed-row samples on every engine."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from enginedata import UNAVAILABLE, engine_params, load_statements, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
ORDERS = [("id", "INT"), ("ds", "DATE"), ("amount", "DOUBLE"), ("status", "VARCHAR")]
TABLES = {
    "orders": (ORDERS, [(1, D1, 10.0, "placed"), (2, D1, 0.0, "placed"), (3, D2, 30.5, "shipped"),
                        (4, D2, -2.0, "lost"), (None, D2, 1.0, "placed"), (1, D2, 3.0, "shipped")]),
    "orders_old": (ORDERS, [(1, D1, 10.0, "placed"), (2, D1, 0.0, "placed"), (5, D2, 30.5, "shipped"),
                            (4, D2, -2.0, "lost"), (None, D2, 1.0, "placed"), (1, D2, 3.25, "shipped"),
                            (7, dt.date(2026, 1, 3), 1.0, "placed")]),
    "dims": ([("code", "VARCHAR"), ("label", "VARCHAR")], [("a", "A"), ("b", "B"), ("c", None)]),
    "dims_old": ([("code", "VARCHAR"), ("label", "VARCHAR")], [("a", "A"), ("b", "B"), ("d", "D")]),
}
MACROS = {
    "share.sql": """/*
kind: metric
params:
  strict: {type: bool, default: true}
*/
avg(case when {{ column }} > 0 or (not {{ strict }} and {{ column }} = 0) then 1.0 else 0.0 end)
""",
    "known_status.sql": """/*
kind: aggregate
params:
  statuses: values
*/
count(case when {{ column }} not in ({{ statuses }}) then 1 end) = 0
""",
    "flips.sql": """/*
kind: rows
params:
  key: column
  label: {type: string, default: "two statuses"}
*/
select t.{{ key }}, {{ label }} as why
from {{ this }} t
where t.{{ key }} is not null
group by t.{{ key }}
having count(distinct t.status) > 1
""",
}


def slos(raw: str) -> str:
    return f"""
tables:
  - name: orders
    relation: {raw}.orders
    partition: ds
    checks:
      - compare: {{with: {raw}.orders_old, on: [id], metrics: [row_count, sum(amount), count(distinct status)],
                  tolerance: 1%}}
      - compare: {{with: {raw}.orders_old, metrics: [sum(amount)], where: "status <> 'lost'", name: exact_sum}}
      - flips: {{key: id}}
    columns:
      - name: amount
        checks:
          - share: {{min: 0.6}}
          - share: {{strict: false, min: 0.6, name: nonnegative}}
      - name: status
        checks:
          - known_status: {{statuses: [placed, shipped]}}
  - name: dims
    relation: {raw}.dims
    checks:
      - compare: {{with: {raw}.dims_old, on: code, metrics: [row_count, count(label)]}}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory, run_tag, spark_warehouse):
    """engine -> (the build's results by (check, partition), its failed-row samples)."""
    out = {}
    for engine in ("duckdb", "postgres", "spark"):
        if UNAVAILABLE[engine]:
            continue
        root = str(tmp_path_factory.mktemp(f"compare_{engine}"))
        raw, meta = f"rawcc_{run_tag}", f"slocc_{run_tag}"
        schemas = (raw, meta, f"valcc_{run_tag}", f"quacc_{run_tag}", f"vercc_{run_tag}")
        target = target_yaml(engine, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
        os.makedirs(os.path.join(root, "slos"))
        os.makedirs(os.path.join(root, "macros"))
        with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
            f.write(f"name: cc\ntarget: t\ntargets:\n  t: {target}\nschemas: {{meta: {meta}, validated: {schemas[2]}, "
                    f"quarantine: {schemas[3]}, versions: {schemas[4]}}}\n")
        with open(os.path.join(root, "slos", "t.yml"), "w", encoding="utf-8") as f:
            f.write(slos(raw))
        for name, text in MACROS.items():
            with open(os.path.join(root, "macros", name), "w", encoding="utf-8") as f:
                f.write(text)
        project = Project.load(root)
        eng = connect(project.spec.targets["t"], root)
        try:
            for stmt in load_statements(eng.dialect, raw, TABLES):
                eng.execute(stmt)
        finally:
            eng.close()
        run = project.build()
        results = {(r.table, r.check, r.partition): (r.status, r.observed, r.message) for r in run.results}
        samples = {t: project.failures(t)["rows"] for t in ("orders", "dims")}
        out[engine] = (results, samples)
        if engine == "postgres":
            eng = connect(project.spec.targets["t"], root)
            try:
                for schema in schemas:
                    eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                eng.close()
    return out


@pytest.mark.parametrize("engine", engine_params())
def test_compare_results(built, engine):
    results = built[engine][0]
    name = next(c for t, c, _ in results if t == "orders" and c.startswith("compare_"))  # its name has the tag
    assert results[("orders", name, "2026-01-01")][0] == "pass"
    status, observed, message = results[("orders", name, "2026-01-02")]
    assert status == "fail"
    assert observed == {"row_count": {"here": 4, "other": 4}, "sum(amount)": {"here": 32.5, "other": 32.75},
                        "count(distinct status)": {"here": 3, "other": 3}, "keys_only_here": 1, "keys_only_other": 1}
    assert message.startswith("1 key only here, 1 only in ")
    assert results[("orders", "exact_sum", "2026-01-02")][:2] == ("fail", {"sum(amount)": {"here": 34.5,
                                                                                         "other": 34.75}})
    # the other side's 2026-01-03 is no partition of orders (None: the whole-table rows check)
    assert {p for t, _, p in results if t == "orders"} == {"2026-01-01", "2026-01-02", None}
    dims = next(v for (t, c, _), v in results.items() if t == "dims" and c.startswith("compare_"))
    assert dims[:2] == ("fail", {"row_count": {"here": 3, "other": 3}, "count(label)": {"here": 2, "other": 3},
                                 "keys_only_here": 1, "keys_only_other": 1})


@pytest.mark.parametrize("engine", engine_params())
def test_custom_check_results(built, engine):
    results = built[engine][0]
    assert results[("orders", "share_amount", "2026-01-01")][:2] == ("fail", 0.5)
    assert results[("orders", "nonnegative", "2026-01-01")][:2] == ("pass", 1.0)
    assert results[("orders", "share_amount", "2026-01-02")][:2] == ("pass", 0.75)
    assert results[("orders", "known_status_status", "2026-01-02")][:2] == ("fail", False)
    assert results[("orders", "known_status_status", "2026-01-01")][:2] == ("pass", True)
    assert results[("orders", "flips", None)][:2] == ("fail", 1)


@pytest.mark.parametrize("engine", engine_params())
def test_samples(built, engine):
    samples = built[engine][1]
    assert [(r["partition"], r["values"]) for r in samples["orders"] if r["check"].startswith("compare_")] == [
        ("2026-01-02", {"id": 3, "_slo_side": "here"}), ("2026-01-02", {"id": 5, "_slo_side": "there"})]
    assert [r["values"] for r in samples["orders"] if r["check"] == "flips"] == [{"id": 1, "why": "two statuses"}]
    assert [r["values"] for r in samples["dims"]] == [{"code": "c", "_slo_side": "here"},
                                                      {"code": "d", "_slo_side": "there"}]


@pytest.mark.parametrize("engine", engine_params())
def test_engines_agree(built, engine):
    assert built[engine] == built["duckdb"]
