"""The view contract on DuckDB, through `Project.load(path).build()`.

validated + quarantine = raw, row for row, in every partition the views show; quarantine names
exactly the `rows: drop` rules each row broke; gates block / filter / warn; the raw table is
never written; the meta schema records runs, results and statuses; values are data, not SQL.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter

import duckdb
import pyarrow as pa
import pytest
import yaml
from sqlglot import exp

from slocompile.api import Project
from slocompile.errors import SlocompileError

PART, OID, SEL, NAIVE, WEIRD, CODE = "ds", "Order Id", "select", "naïve", 'we"ird\\col', "code"
INJECTION = "x'); DROP TABLE raw.t; --"
D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)
TYPES = {PART: pa.date32(), OID: pa.int64(), SEL: pa.int64(), NAIVE: pa.float64(), WEIRD: pa.string(),
         CODE: pa.string()}


def q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def rel(schema: str, name: str) -> str:
    return exp.Table(this=exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True)).sql("duckdb")


# ---------------------------------------------------------------- project helpers

def write_project(root, tables: list[dict], data: dict[str, dict[str, list]]) -> str:
    """slocompile.yml + slos/tables.yml + raw tables in root/warehouse.duckdb; returns the root."""
    (root / "slos").mkdir(parents=True, exist_ok=True)
    (root / "slocompile.yml").write_text(yaml.safe_dump(
        {"name": "views", "target": "local", "targets": {"local": {"type": "duckdb", "path": "warehouse.duckdb"}}}))
    (root / "slos" / "tables.yml").write_text(yaml.safe_dump({"tables": tables}, allow_unicode=True, sort_keys=False))
    for relation, columns in data.items():
        load(root, relation, columns)
    return str(root)


def load(root, relation: str, columns: dict[str, list]) -> None:
    """(Re)create a raw table from columns (via Arrow, so NaN stays NaN and NULL stays NULL)."""
    schema, name = relation.split(".", 1)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        con.execute(exp.Create(kind="SCHEMA", exists=True, this=exp.Table(db=exp.to_identifier(schema))).sql("duckdb"))
        con.register("_incoming", pa.table({c: pa.array(v, type=TYPES.get(c)) for c, v in columns.items()}))
        con.execute(exp.Create(kind="TABLE", replace=True, this=exp.to_table(relation, dialect="duckdb"),
                               expression=exp.select("*").from_("_incoming")).sql("duckdb"))
    finally:
        con.close()


def query(root, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def build(root):
    return Project.load(str(root)).build(write=False)


def norm(row) -> tuple:
    """Rows as hashable, comparable tuples: NaN equals NaN."""
    return tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in row)


def checksum(root, relation: str) -> str:
    rows = sorted(repr(norm(r)) for r in query(root, f"SELECT * FROM {relation}"))
    columns = query(root, f"DESCRIBE {relation}")
    return hashlib.sha256(repr((columns, rows)).encode()).hexdigest()


# ---------------------------------------------------------------- the data and its rules

def orders(passing: bool = False) -> dict[str, list]:
    """Three partitions (D3 holds a single row unless `passing`), NULLs, NaN, inf and hostile strings."""
    rows = [
        (D1, 1, 1, 10.0, "a", "US"), (D1, 2, None, 50.0, "it's", "CN"), (D1, 3, 3, math.nan, INJECTION, "us"),
        (D1, 3, 4, math.inf, "back\\slash", None), (D1, None, 5, -1.0, None, "IN"), (D1, 200, 5, None, "a", "IN"),
        (D2, 5, 2, 99.5, 'say "hi"', "US"), (D2, 6, 6, 100.0, "new\nline", "XX1"), (D2, 150, 1, 0.0, "it's", "CN"),
        (D2, 7, None, None, None, None), (D2, 300, 9, -math.inf, INJECTION, "IN"),
        (D3, 8, 1, 5.0, "a", "US"),
    ] + ([(D3, 9, 7, 150.0, "zz", "us")] if passing else [])
    return {c: [r[i] for r in rows] for i, c in enumerate([PART, OID, SEL, NAIVE, WEIRD, CODE])}


ACCEPTED = ["a", "it's", INJECTION]
BIG = 'big "order" it\'s'   # a check name with quotes


def drop_rules() -> dict[str, list]:
    lenient = {"rows": "drop", "max_fraction": 1.0}
    return {
        SEL: [{"not_null": lenient}],
        NAIVE: [{"between": {"min": 0, "max": 100, **lenient}}],
        WEIRD: [{"accepted_values": {"values": ACCEPTED, **lenient}}],
        CODE: [{"matches": {"pattern": "^[A-Z]{2}$", **lenient}},
               {"not_null": {"severity": "warn"}}],  # rows: keep: never in quarantine
        OID: [{"expression": {"sql": f"{q(OID)} < 100", "where": f"{q(SEL)} > 2", "name": BIG, **lenient}}],
    }


def expected_violations(row: dict) -> list[str]:
    """The drop rules a row breaks, in declaration order, as SQL decides them."""
    sel, naive, weird, code, oid = row[SEL], row[NAIVE], row[WEIRD], row[CODE], row[OID]
    broken = []
    if sel is not None and sel > 2 and oid is not None and not oid < 100:
        broken.append(BIG)
    if sel is None:
        broken.append("not_null_select")
    # DuckDB orders NaN above every number, so NaN is out of [0, 100]
    if naive is not None and (math.isnan(naive) or naive < 0 or naive > 100):
        broken.append("between_na_ve")
    if weird is not None and weird not in ACCEPTED:
        broken.append("accepted_values_we_ird_col")
    if code is not None and not re.search("^[A-Z]{2}$", code):
        broken.append("matches_code")
    return broken


def orders_table(gate: str, name: str = 'Order "Items" ✓', extra_checks=()) -> dict:
    rules = drop_rules()
    columns = [{"name": c, "checks": rules.get(c, [])} for c in [PART, OID, SEL, NAIVE, WEIRD, CODE]]
    return {"name": name, "relation": "raw.orders", "partition": PART, "gate": gate,
            "checks": [{"row_count": {"min": 2}}, *extra_checks], "columns": columns}


@pytest.fixture
def project(tmp_path):
    def make(gate: str, passing: bool = False, **kw):
        return write_project(tmp_path, [orders_table(gate, **kw)], {"raw.orders": orders(passing)})
    return make


# ---------------------------------------------------------------- validated + quarantine = raw

def by_partition(rows, part_index: int) -> dict:
    out: dict = {}
    for r in rows:
        out.setdefault(r[part_index], Counter())[norm(r)] += 1
    return out


@pytest.mark.parametrize("gate,passing", [("warn", False), ("filter", False), ("block", True), ("filter", True)])
def test_validated_plus_quarantine_is_raw_row_for_row(project, tmp_path, gate, passing):
    name = 'Order "Items" ✓'
    project(gate, passing=passing)
    run = build(tmp_path)
    assert run.exit_code == (0 if passing else 1)  # failing: D3 has a single row
    raw = query(tmp_path, "SELECT * FROM raw.orders")
    validated = query(tmp_path, f"SELECT * FROM {rel('validated', name)}")
    quarantine = query(tmp_path, f"SELECT * FROM {rel('quarantine', name)}")
    shown = {r[0] for r in validated} | {r[0] for r in quarantine}
    assert shown == ({D1, D2} if gate == "filter" and not passing else {D1, D2, D3})
    raw_p, val_p = by_partition(raw, 0), by_partition(validated, 0)
    quar_p = by_partition([r[:-1] for r in quarantine], 0)
    for p in shown:
        assert val_p.get(p, Counter()) + quar_p.get(p, Counter()) == raw_p[p], p


@pytest.mark.parametrize("gate", ["warn", "filter"])
def test_quarantine_names_exactly_the_broken_drop_rules(project, tmp_path, gate):
    name = 'Order "Items" ✓'
    project(gate)
    build(tmp_path)
    columns = [PART, OID, SEL, NAIVE, WEIRD, CODE]
    quarantined = [(dict(zip(columns, r[:-1])), r[-1]) for r in
                   query(tmp_path, f"SELECT * FROM {rel('quarantine', name)}")]
    assert quarantined
    for row, names in quarantined:
        assert names.split(", ") == expected_violations(row), row
    validated = [dict(zip(columns, r)) for r in query(tmp_path, f"SELECT * FROM {rel('validated', name)}")]
    assert all(expected_violations(row) == [] for row in validated)
    raw = [dict(zip(columns, r)) for r in query(tmp_path, "SELECT * FROM raw.orders")]
    visible = {D1, D2, D3} if gate == "warn" else {D1, D2}
    assert len(quarantined) == sum(1 for r in raw if expected_violations(r) and r[PART] in visible)


def test_null_where_filter_keeps_the_row_in_a_view(tmp_path):
    """A rule whose `where` is NULL on a row does not apply to it: the row stays validated."""
    table = {"name": "t", "relation": "raw.t", "columns": [
        {"name": "a", "checks": [{"not_null": {"rows": "drop", "where": "b > 0", "max_count": 10}}]},
        {"name": "b"}]}
    write_project(tmp_path, [table], {"raw.t": {"a": [None, None, 1], "b": [None, 1, 1]}})
    build(tmp_path)
    assert Counter(query(tmp_path, "SELECT * FROM validated.t")) == Counter([(1, 1), (None, None)])
    assert query(tmp_path, "SELECT * FROM quarantine.t") == [(None, 1, "not_null_a")]


# ---------------------------------------------------------------- gates

def test_block_gate_fails_queries_until_a_passing_build(project, tmp_path):
    project("block", name="orders")
    assert build(tmp_path).exit_code == 1
    with pytest.raises(duckdb.Error) as err:
        query(tmp_path, "SELECT count(*) FROM validated.orders")
    text = str(err.value)
    assert "validated.orders" in text and "row_count" in text and "2024-01-03" in text
    with pytest.raises(duckdb.Error):
        query(tmp_path, f"SELECT {q(OID)} FROM validated.orders WHERE {q(PART)} = DATE '2024-01-01'")
    load(tmp_path, "raw.orders", orders(passing=True))  # a second row for 2024-01-03
    assert build(tmp_path).exit_code == 0
    assert query(tmp_path, "SELECT count(*) FROM validated.orders")[0][0] > 0


def test_filter_gate_hides_only_the_failed_partition(project, tmp_path):
    project("filter", name="orders")
    assert build(tmp_path).exit_code == 1
    shown = {r[0] for r in query(tmp_path, f"SELECT DISTINCT {q(PART)} FROM validated.orders")}
    assert shown == {D1, D2}
    assert D3 not in {r[0] for r in query(tmp_path, f"SELECT {q(PART)} FROM quarantine.orders")}


def test_filter_gate_hides_partitions_not_yet_checked(project, tmp_path):
    project("filter", passing=True, name="orders")
    assert build(tmp_path).exit_code == 0
    data = orders(passing=True)
    d4 = dt.date(2024, 1, 4)
    for _ in range(2):
        for c, v in zip(data, (d4, 10, 1, 1.0, "a", "US")):
            data[c].append(v)
    load(tmp_path, "raw.orders", data)
    shown = {r[0] for r in query(tmp_path, f"SELECT DISTINCT {q(PART)} FROM validated.orders")}
    assert shown == {D1, D2, D3}
    assert build(tmp_path).exit_code == 0
    shown = {r[0] for r in query(tmp_path, f"SELECT DISTINCT {q(PART)} FROM validated.orders")}
    assert shown == {D1, D2, D3, d4}


def test_filter_gate_hides_an_unpartitioned_table_that_fails(tmp_path):
    table = {"name": "t", "relation": "raw.t", "gate": "filter", "checks": [{"row_count": {"min": 3}}]}
    write_project(tmp_path, [table], {"raw.t": {"a": [1, 2]}})
    assert build(tmp_path).exit_code == 1
    assert query(tmp_path, "SELECT * FROM validated.t") == []
    load(tmp_path, "raw.t", {"a": [1, 2, 3]})
    assert build(tmp_path).exit_code == 0
    assert len(query(tmp_path, "SELECT * FROM validated.t")) == 3


def test_warn_gate_serves_everything(project, tmp_path):
    project("warn", name="orders")
    assert build(tmp_path).exit_code == 1
    shown = {r[0] for r in query(tmp_path, f"SELECT DISTINCT {q(PART)} FROM validated.orders")}
    assert shown == {D1, D2, D3}


@pytest.mark.parametrize("gate", ["block", "filter", "warn"])
def test_raw_table_is_never_written(project, tmp_path, gate):
    project(gate, name="orders")
    before = checksum(tmp_path, "raw.orders")
    build(tmp_path)
    build(tmp_path)
    assert checksum(tmp_path, "raw.orders") == before


# ---------------------------------------------------------------- meta schema

def test_meta_tables_record_runs_results_and_status(project, tmp_path):
    project("filter", name="orders")
    first = build(tmp_path)
    runs = query(tmp_path, "SELECT run_id, status, passed, failed, warned, errored, finished_at FROM slo.runs")
    assert len(runs) == 1
    run_id, status, *numbers, finished = runs[0]
    assert (run_id, status) == (first.run_id, "fail") and finished is not None
    c = Counter(r.status for r in first.results)
    assert numbers == [c["pass"], c["fail"], c["warn"], c["error"]]
    assert sum(numbers) == len(first.results)

    results = query(tmp_path, "SELECT check_name, partition, status FROM slo.results WHERE run_id = ?", [run_id])
    table = Project.load(str(tmp_path)).spec.tables[0]
    partitions = {str(d) for d in (D1, D2, D3)}
    per_partition = [ch for ch in table.checks if ch.type != "partitions_complete"]  # implied, whole-table
    assert Counter((r[0], r[1]) for r in results) == Counter(
        [(ch.name, p) for ch in per_partition for p in partitions] + [("partitions_complete", None)])
    assert ("row_count", "2024-01-03", "fail") in results and ("row_count", "2024-01-01", "pass") in results

    status = query(tmp_path, "SELECT partition, status, failed_checks FROM slo.status WHERE table_name = 'orders'")
    assert sorted(s[:2] for s in status if s[0] is not None) == [("2024-01-01", "pass"), ("2024-01-02", "pass"),
                                                                 ("2024-01-03", "fail")]
    assert [s[:2] for s in status if s[0] is None] == [(None, "pass")]  # whole table: partitions_complete
    assert [s[2] for s in status if s[1] == "fail"] == ["row_count"]

    second = build(tmp_path)
    assert query(tmp_path, "SELECT count(*) FROM slo.runs")[0][0] == 2
    assert query(tmp_path, "SELECT status FROM slo.runs WHERE run_id = ?", [second.run_id]) == [("fail",)]
    assert len(query(tmp_path, "SELECT * FROM slo.status WHERE table_name = 'orders'")) == 4


def test_passing_build_is_recorded_as_pass(tmp_path):
    table = {"name": "t", "relation": "raw.t", "checks": [{"row_count": {"min": 1}}]}
    write_project(tmp_path, [table], {"raw.t": {"a": [1]}})
    run = build(tmp_path)
    assert query(tmp_path, "SELECT status, passed, failed FROM slo.runs WHERE run_id = ?", [run.run_id]) == [
        ("pass", 1, 0)]
    assert query(tmp_path, "SELECT partition, status FROM slo.status") == [(None, "pass")]


# ---------------------------------------------------------------- injection attempts are data

def test_injection_in_values_and_names_is_data(tmp_path):
    hostile_name = "x'); DROP TABLE raw.t; --"
    table = {"name": "t", "relation": "raw.t", "gate": "filter", "columns": [{"name": "v", "checks": [
        {"accepted_values": {"values": [INJECTION, "ok"], "rows": "drop", "max_count": 1, "name": hostile_name}}]}]}
    write_project(tmp_path, [table], {"raw.t": {"v": [INJECTION, "ok", "bad", "x", None]}})
    run = build(tmp_path)
    result = next(r for r in run.results if r.check == hostile_name)
    assert result.observed["rows"] == 2 and result.status == "fail"
    assert len(query(tmp_path, "SELECT * FROM raw.t")) == 5
    load(tmp_path, "raw.t", {"v": [INJECTION, "ok", "bad", None]})
    assert build(tmp_path).exit_code == 0
    assert Counter(query(tmp_path, "SELECT v FROM validated.t")) == Counter([(INJECTION,), (None,), ("ok",)])
    assert query(tmp_path, "SELECT * FROM quarantine.t") == [("bad", hostile_name)]


def test_statements_in_user_sql_are_rejected_with_file_and_line(tmp_path):
    table = {"name": "t", "relation": "raw.t", "columns": [{"name": "v", "checks": [
        {"not_null": {"where": "v = 'a'; DROP TABLE raw.t; --"}}]}]}
    write_project(tmp_path, [table], {"raw.t": {"v": ["a"]}})
    with pytest.raises(SlocompileError) as err:
        Project.load(str(tmp_path))
    assert "slos/tables.yml:" in str(err.value) and "';'" in str(err.value)
    assert query(tmp_path, "SELECT v FROM raw.t") == [("a",)]
