"""Missing partitions (issue 11, item 2) and the NULL partition's label (item 13) on DuckDB and
Postgres: a day deleted from the middle of a daily table, and an hour from an hourly one, fail
partitions_complete with the partition named (the blocked view names it too); a string partition
holding both NULL and the text '(null)' keeps two partitions. Partition labels are the engine's
own text of the value (CAST ... AS TEXT), so their format is checked per engine here."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from enginedata import UNAVAILABLE, engine_params, load_statements, table_ref, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

ENGINES = [p for p in engine_params() if p.values[0] in ("duckdb", "postgres")]
DAYS = [dt.date(2026, 11, 1) + dt.timedelta(d) for d in range(10)]
HOURS = [dt.datetime(2026, 11, 1) + dt.timedelta(hours=h) for h in range(12)]
TABLES = {
    "daily": ([("ds", "DATE"), ("x", "INT")], [(d, 1) for d in DAYS]),
    "hourly": ([("ts", "TIMESTAMP"), ("x", "INT")], [(h, 1) for h in HOURS]),
    "groups": ([("grp", "TEXT"), ("x", "INT")], [(None, 1), (None, 2), (None, 3), ("(null)", 4), ("a", 5),
                                                 ("a", 6), ("a", 7)]),
}


def names(tag: str) -> dict:
    return {"raw": f"rawmp_{tag}", "validated": f"validatedmp_{tag}", "quarantine": f"quarantinemp_{tag}",
            "meta": f"slomp_{tag}"}


def slos(raw: str) -> str:
    return f"""
tables:
  - name: daily
    relation: {raw}.daily
    partition: ds
    gate: block
  - name: hourly
    relation: {raw}.hourly
    partition: {{column: ts, granularity: hour}}
    gate: filter
  - name: groups
    relation: {raw}.groups
    partition: grp
    gate: filter
    checks:
      - row_count: {{min: 3}}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory, run_tag, spark_warehouse):
    root = str(tmp_path_factory.mktemp("missing_partition"))
    s = names(run_tag)
    targets = {e: target_yaml(e, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
               for e in ("duckdb", "postgres") if e == "duckdb" or not UNAVAILABLE[e]}
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write("name: missing\ntarget: duckdb\ntargets:\n" + "".join(f"  {n}: {t}\n" for n, t in targets.items())
                + f"schemas: {{validated: {s['validated']}, quarantine: {s['quarantine']}, meta: {s['meta']}}}\n")
    with open(os.path.join(root, "slos", "tables.yml"), "w", encoding="utf-8") as f:
        f.write(slos(s["raw"]))
    used = []
    yield lambda engine: (used.append(engine), Project.load(root), s)[1:]
    if "postgres" in used:
        eng = connect(Project.load(root).spec.targets["postgres"], root)
        try:
            for schema in s.values():
                eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            eng.close()


def complete(run, table: str):
    return next(r for r in run.results if r.table == table and r.check_type == "partitions_complete")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_partition_fails_and_is_named(project, engine):
    proj, s = project(engine)
    eng = connect(proj.spec.targets[engine], proj.root)
    try:
        for stmt in load_statements(eng.dialect, s["raw"], TABLES):
            eng.execute(stmt)
        first = proj.build(target=engine, write=False)
        assert {(r.table, r.partition) for r in first.results if r.status != "pass"} == {("groups", "((null)")}
        assert complete(first, "daily").status == complete(first, "hourly").status == "pass"
        assert "daily" in complete(first, "daily").message and "hourly" in complete(first, "hourly").message

        def ref(schema: str, table: str) -> str:
            return table_ref(s[schema], table).sql(eng.dialect, identify=True)

        # the NULL partition and the value '(null)' are two partitions
        rows = {r.partition: (r.status, r.observed) for r in first.results
                if r.table == "groups" and r.check == "row_count"}
        assert rows == {"(null)": ("pass", 3), "((null)": ("fail", 1), "a": ("pass", 3)}
        served = sorted(r[0] for r in eng.query(f"SELECT x FROM {ref('validated', 'groups')}"))
        assert served == [1, 2, 3, 5, 6, 7]

        eng.execute(f"DELETE FROM {ref('raw', 'daily')} WHERE ds = DATE '2026-11-05'")
        eng.execute(f"DELETE FROM {ref('raw', 'hourly')} WHERE ts = TIMESTAMP '2026-11-01 06:00:00'")
        second = proj.build(target=engine, write=False, select=["daily", "hourly"])
        assert second.exit_code == 1
        daily, hourly = complete(second, "daily"), complete(second, "hourly")
        assert daily.status == "fail" and daily.observed["missing"] == ["2026-11-05"]
        assert hourly.status == "fail" and hourly.observed["missing"] == ["2026-11-01 06:00:00"]
        with pytest.raises(Exception, match=r"whole table: partitions_complete \(missing 2026-11-05\)"):
            eng.query(f"SELECT COUNT(*) FROM {ref('validated', 'daily')}")
        # gate filter: a whole-table failure serves nothing until the gap is filled
        assert eng.query(f"SELECT COUNT(*) FROM {ref('validated', 'hourly')}")[0][0] == 0

        eng.execute(f"INSERT INTO {ref('raw', 'daily')} VALUES (DATE '2026-11-05', 1)")
        third = proj.build(target=engine, write=False, select=["daily"])
        assert complete(third, "daily").status == "pass"
        assert eng.query(f"SELECT COUNT(*) FROM {ref('validated', 'daily')}")[0][0] == 10
    finally:
        eng.close()
