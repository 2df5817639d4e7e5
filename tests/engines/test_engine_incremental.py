"""Changed partitions on every engine (issue 11, item 1): after a green build, an UPDATE or DELETE
in a partition is noticed by the validated views at once (gate filter hides the partition, gate
block refuses it, naming it, as it refuses a partition that arrived after the build) and the next
build checks that partition again, and only it. Rows whose partition is NULL are verified too.
The content fingerprint's SQL differs per dialect (dialects/render.py _row_hash), so this runs on
DuckDB, Postgres and Spark alike.
"""
from __future__ import annotations

import datetime as dt
import os

import pytest
from enginedata import UNAVAILABLE, engine_params, load_statements, table_ref, target_yaml

from slocompile.api import Project
from slocompile.engines.connect import connect

DAYS = [dt.date(2026, 11, 18), dt.date(2026, 11, 19), dt.date(2026, 11, 20)]
COLUMNS = [("ds", "DATE"), ("user_id", "INT"), ("spend", "DOUBLE")]
ROWS = [(d, u, 10.0 * u + i) for i, d in enumerate(DAYS) for u in range(1, 5)] + [(None, 7, 1.0), (None, 8, 2.0)]
LABELS = tuple(d.isoformat() for d in DAYS) + ("(null)",)


def names(tag: str) -> dict:
    return {"raw": f"rawinc_{tag}", "validated": f"validatedinc_{tag}", "quarantine": f"quarantineinc_{tag}",
            "meta": f"sloinc_{tag}"}


def slos(raw: str) -> str:
    return "tables:\n" + "".join(f"""
  - name: uf_{gate}
    relation: {raw}.uf_{gate}
    partition: ds
    gate: {gate}
    checks:
      - row_count: {{min: 2}}
    columns:
      - name: user_id
      - name: spend
        checks: [not_null]
      - name: ds
""" for gate in ("filter", "block"))


@pytest.fixture(scope="module")
def project(tmp_path_factory, run_tag, spark_warehouse):
    root = str(tmp_path_factory.mktemp("incremental"))
    s = names(run_tag)
    targets = {e: target_yaml(e, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
               for e in ("duckdb", "postgres", "spark") if e == "duckdb" or not UNAVAILABLE[e]}
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write("name: incremental\ntarget: duckdb\ntargets:\n" + "".join(f"  {n}: {t}\n" for n, t in targets.items())
                + f"schemas: {{validated: {s['validated']}, quarantine: {s['quarantine']}, meta: {s['meta']}}}\n")
    with open(os.path.join(root, "slos", "tables.yml"), "w", encoding="utf-8") as f:
        f.write(slos(s["raw"]))
    used = []
    yield lambda engine: (used.append(engine), Project.load(root), s)[1:]
    for engine in set(used) - {"duckdb"}:
        eng = connect(Project.load(root).spec.targets[engine], root)
        try:
            for schema in s.values():
                eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if eng.dialect == "postgres"
                            else f"DROP DATABASE IF EXISTS `{schema}` CASCADE")
        finally:
            eng.close()


class Warehouse:
    """SQL on one engine's raw and validated tables."""

    def __init__(self, project, engine: str, s: dict):
        self.eng = connect(project.spec.targets[engine], project.root)
        self.s = s

    def ref(self, kind: str, gate: str) -> str:
        return table_ref(self.s[kind], f"uf_{gate}").sql(self.eng.dialect, identify=True)

    def change(self, gate: str, set_sql: str | None, where_sql: str) -> None:
        """UPDATE ... SET set_sql WHERE where_sql (DELETE when set_sql is None); Spark's parquet
        tables take neither: the table is rewritten with the changed rows, as a reload would."""
        raw = self.ref("raw", gate)
        if self.eng.dialect != "spark":
            self.eng.execute(f"DELETE FROM {raw} WHERE {where_sql}" if set_sql is None
                             else f"UPDATE {raw} SET {set_sql} WHERE {where_sql}")
            return
        col, value = set_sql.split(" = ") if set_sql else ("", "")
        exprs = ", ".join(f"CASE WHEN {where_sql} THEN {value} ELSE `{c}` END AS `{c}`" if c == col.strip('"`')
                          else f"`{c}`" for c, _ in COLUMNS)
        keep = f"WHERE NOT ({where_sql})" if set_sql is None else ""
        tmp = table_ref(self.s["raw"], f"uf_{gate}_tmp").sql("spark", identify=True)
        self.eng.execute(f"DROP TABLE IF EXISTS {tmp}")
        self.eng.execute(f"CREATE TABLE {tmp} USING parquet AS SELECT {exprs} FROM {raw} {keep}")
        self.eng.execute(f"INSERT OVERWRITE TABLE {raw} SELECT * FROM {tmp}")
        self.eng.execute(f"DROP TABLE {tmp}")

    def copy_day(self, gate: str, source: str, day: str) -> None:
        """A new partition `day` arrives: a copy of the rows of `source`."""
        raw = self.ref("raw", gate)
        self.eng.execute(f"INSERT INTO {raw} SELECT DATE '{day}', user_id, spend FROM {raw} WHERE ds = DATE '{source}'")

    def per_day(self, gate: str, where: str = "") -> dict:
        rows = self.eng.query(f"SELECT ds, COUNT(*) FROM {self.ref('validated', gate)} {where} GROUP BY ds")
        return {(d.isoformat() if d is not None else None): int(n) for d, n in rows}

    def close(self):
        self.eng.close()


def checked(run, gate: str):
    return next(t.partitions for t in run.tables if t.table.name == f"uf_{gate}")


def failed(run, gate: str) -> set:
    return {(r.check, r.partition) for r in run.results if r.status == "fail" and r.table == f"uf_{gate}"}


@pytest.mark.parametrize("engine", engine_params())
def test_changed_partitions_are_refused_then_checked_again(project, engine):
    proj, s = project(engine)
    wh = Warehouse(proj, engine, s)
    try:
        for gate in ("filter", "block"):
            for stmt in load_statements(wh.eng.dialect, s["raw"], {f"uf_{gate}": (COLUMNS, ROWS)}):
                wh.eng.execute(stmt)
        first = proj.build(target=engine, write=False)
        assert first.exit_code == 0, [r.message for r in first.results if r.status != "pass"]
        assert checked(first, "filter") == checked(first, "block") == tuple(sorted(LABELS))
        full = {d.isoformat(): 4 for d in DAYS} | {None: 2}
        assert wh.per_day("filter") == wh.per_day("block") == full

        same = proj.build(target=engine, write=False)  # unchanged data: nothing checked again
        assert checked(same, "filter") == checked(same, "block") == ()

        # a day that arrives after the build has not been checked: block refuses it by name
        wh.copy_day("block", "2026-11-19", "2026-11-23")
        with pytest.raises(Exception, match="partition 2026-11-23 has not been checked yet"):
            wh.per_day("block")
        assert wh.per_day("block", "WHERE ds = DATE '2026-11-19'") == {"2026-11-19": 4}
        wh.change("block", None, "ds = DATE '2026-11-23'")  # and goes again

        day3 = "ds = DATE '2026-11-20'"
        for gate in ("filter", "block"):
            wh.change(gate, "spend = NULL", day3)
        # before the next build: filter hides the changed day, block refuses it by name
        assert wh.per_day("filter") == {k: v for k, v in full.items() if k != "2026-11-20"}
        assert wh.per_day("filter", "WHERE ds = DATE '2026-11-19'") == {"2026-11-19": 4}
        with pytest.raises(Exception, match="partition 2026-11-20 changed since it was checked"):
            wh.per_day("block")
        assert wh.per_day("block", "WHERE ds = DATE '2026-11-19'") == {"2026-11-19": 4}

        second = proj.build(target=engine, write=False)
        for gate in ("filter", "block"):
            assert checked(second, gate) == ("2026-11-20",)
            assert failed(second, gate) == {("not_null_spend", "2026-11-20")}
        with pytest.raises(Exception, match="blocked by failed SLOs: 2026-11-20: not_null_spend"):
            wh.per_day("block")

        # a DELETE in a passing partition, and a change to the rows whose partition is NULL
        wh.change("filter", None, "ds = DATE '2026-11-18' AND user_id = 4")
        wh.change("filter", "spend = 3.0", "ds IS NULL AND user_id = 7")
        assert set(wh.per_day("filter")) == {"2026-11-19"}
        third = proj.build(target=engine, write=False)
        assert checked(third, "filter") == ("(null)", "2026-11-18", "2026-11-20")
        assert failed(third, "filter") == {("not_null_spend", "2026-11-20")}
        assert wh.per_day("filter") == {"2026-11-18": 3, "2026-11-19": 4, None: 2}
    finally:
        wh.close()
