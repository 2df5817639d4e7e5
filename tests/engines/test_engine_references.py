"""A change in another relation a table's checks read, on DuckDB, Postgres and Spark: each
partition's orphans (relationship) and the content of a compare's other relation by partition are
read by each engine, and an incremental build re-checks what the change affects: the partition a
removed key leaves with orphans, the one partition whose compared rows changed, nothing for a
change the checks do not read."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from enginedata import engine_params, load_statements, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

DAYS = [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)]
ORDERS = [("order_id", "INT"), ("user_id", "INT"), ("amount", "DOUBLE"), ("ds", "DATE")]
# user i % 6 orders on day i % 3 only
ORDER_ROWS = [(i, i % 6, i * 1.5, DAYS[i % 3]) for i in range(18)]
USERS = [("id", "INT"), ("name", "VARCHAR")]


def tables(users: list, source: list) -> dict:
    return {"users": (USERS, users), "orders": (ORDERS, ORDER_ROWS), "orders_source": (ORDERS, source)}


SLOS = """tables:
  - name: orders
    relation: {raw}.orders
    partition: ds
    gate: filter
    checks:
      - compare: {{with: {raw}.orders_source, on: [order_id], metrics: [row_count, sum(amount)]}}
    columns:
      - name: user_id
        checks:
          - relationship: {{to: {raw}.users, field: id}}
      - name: order_id
      - name: amount
      - name: ds
"""


@pytest.mark.parametrize("engine", engine_params())
def test_changes_elsewhere_recheck_what_they_affect(tmp_path, engine, run_tag, spark_warehouse):
    root, raw = str(tmp_path), f"rawref_{run_tag}"
    schemas = {k: f"{k}ref_{run_tag}" for k in ("validated", "quarantine", "meta")}
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write(f"name: refs\ntarget: {engine}\ntargets:\n  {engine}: "
                f"{target_yaml(engine, spark_warehouse, os.path.join(root, 'warehouse.duckdb'))}\n"
                f"schemas: {{validated: {schemas['validated']}, quarantine: {schemas['quarantine']}, "
                f"meta: {schemas['meta']}}}\n")
    with open(os.path.join(root, "slos", "t.yml"), "w", encoding="utf-8") as f:
        f.write(SLOS.format(raw=raw))
    proj = Project.load(root)
    eng = connect(proj.spec.targets[engine], root)
    users = [(i, "a") for i in range(6)]

    def load(users: list, source: list) -> None:
        for stmt in load_statements(eng.dialect, raw, tables(users, source)):
            eng.execute(stmt)

    def rebuilt() -> tuple:
        run = proj.build(write=False)
        return run.tables[0].partitions, {r.partition for r in run.results if r.status == "fail"}

    try:
        load(users, ORDER_ROWS)
        first = proj.build(write=False)
        assert first.exit_code == 0, [r.message for r in first.results if r.status != "pass"]
        assert rebuilt() == ((), set())  # nothing changed

        load([(i, "renamed") for i in range(6)], ORDER_ROWS)  # a column the relationship does not read
        assert rebuilt() == ((), set())
        load([(i, "a") for i in range(6) if i != 1], ORDER_ROWS)  # user 1 (day 2's orders) removed
        assert rebuilt() == (("2026-01-02",), {"2026-01-02"})
        load(users + [(99, "new")], ORDER_ROWS)  # user 1 back, and a new user
        assert rebuilt() == (("2026-01-02",), set())

        changed = [r if r[0] != 5 else (5, 5, 99.0, r[3]) for r in ORDER_ROWS]  # order 5: day 3
        load(users + [(99, "new")], changed)
        assert rebuilt() == (("2026-01-03",), {"2026-01-03"})
    finally:
        if engine == "spark":
            for schema in (raw, *schemas.values()):
                eng.execute(f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
        elif engine == "postgres":
            for schema in (raw, *schemas.values()):
                eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        eng.close()
