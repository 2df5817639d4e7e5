"""`slocompile suggest`: profile a table in one scan, write a declaration that builds green on it.

On the template's raw.orders and on a generated table with NULLs, negatives, timestamps (with and
without time zone), decimals, categories, a list column, NaN, an all-NULL column and awkward column
names: the suggestion is written into the project and `slocompile build` exits 0, unpartitioned and
partitioned; then injected faults make the same build fail.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest
import yaml

from slocompile.engines.duckdb import DuckDBEngine
from slocompile.spec.usersql import parse_relation
from slocompile.tools.suggest import monitors_accepted, profile, widen

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
def pristine(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("suggest") / "shop")
    cli("init", root, check=0)
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute("""
        create table raw.events as
        select i as id,
               timestamp '2024-01-01 00:00:00' + i * interval 37 minute as ts,
               timestamptz '2024-01-01 00:00:00+00' + i * interval 1 hour as tstz,
               case when i % 17 = 0 then null else (i % 100) / 100.0 end::double as score,
               (i % 50) - 25 as delta,
               case when i % 13 = 0 then null else ['a', 'b', 'c', 'yes', 'O''Brien'][1 + i % 5] end as category,
               'user_' || i as user_name,
               i % 2 = 0 as flag,
               (i * 1.25 - 300)::decimal(10, 2) as amount,
               date '2024-01-01' + (i // 100)::int as ds,
               [i, i + 1] as pair,
               -i * 1000000 as neg_big,
               i % 3 as "Order Id",
               'x' as "select",
               null::varchar as always_null,
               case when i % 7 = 0 then 'nan'::double else i end as with_nan
        from range(1000) t(i)""")
    con.execute("create table raw.empty_t (a integer, b varchar)")
    con.close()
    return root


@pytest.fixture
def project(pristine, tmp_path) -> str:
    return shutil.copytree(pristine, str(tmp_path / "p"))


def _declaration(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _checks(table: dict, column: str) -> list:
    return next(c for c in table["columns"] if c["name"] == column).get("checks") or []


# ------------------------------------------------------------------------------------ builds green

@pytest.mark.parametrize("partition", [None, "order_date"])
def test_suggest_template_orders_builds_green(project, partition):
    out = os.path.join(project, "slos", "suggested.yml")
    extra = ["--partition", partition] if partition else []
    proc = cli("suggest", "raw.orders", "--name", "orders_suggested", "--out", out, *extra, cwd=project, check=0)
    assert "161 rows" in proc.stdout
    table = _declaration(out)["tables"][0]
    assert table["relation"] == "raw.orders" and table["key"] == ["order_id"]
    assert {"row_count": {"min": 1}} in table["checks"] and "schema" in table["checks"]
    assert table.get("partition") == partition
    assert "not_null" in _checks(table, "order_id") and "unique" in _checks(table, "order_id")
    statuses = next(c for c in _checks(table, "status") if isinstance(c, dict) and "accepted_values" in c)
    assert statuses["accepted_values"] == ["delivered", "placed", "returned", "shipped"]
    amount = next(c for c in _checks(table, "amount") if isinstance(c, dict) and "between" in c)["between"]
    assert amount["min"] < -127.22 and amount["max"] > 0  # the template's negative amounts are inside
    types = {c["name"]: c.get("type") for c in table["columns"]}
    assert types == {"order_id": "integer", "order_date": "date", "customer": "string", "amount": "number",
                     "status": "string"}
    proc = cli("build", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "orders_suggested" in proc.stdout


def test_suggest_generated_table_builds_green(project):
    out = os.path.join(project, "slos", "events.yml")
    cli("suggest", "raw.events", "-o", out, cwd=project, check=0)
    table = _declaration(out)["tables"][0]
    assert table["name"] == "events" and table["key"] == ["id"]
    assert _checks(table, "id") == ["not_null", "unique", {"between": {"min": 0}}]  # keys grow: no max
    assert _checks(table, "delta") == ["not_null", {"between": {"min": -30, "max": 29}}]
    score = _checks(table, "score")
    assert {"between": {"min": 0, "max": 1}} in score                 # a fraction stays within [0, 1]
    nulls = next(c["not_null"] for c in score if isinstance(c, dict) and "not_null" in c)
    assert 0.059 < nulls["max_fraction"] <= 0.1                       # 5.9% missing, with room
    assert {"accepted_values": ["O'Brien", "a", "b", "c", "yes"]} in _checks(table, "category")
    assert "unique" in _checks(table, "user_name") and "unique" in _checks(table, "neg_big")
    amount = next(c["between"] for c in _checks(table, "amount") if isinstance(c, dict) and "between" in c)
    assert amount["min"] <= -300 and amount["max"] >= 948.75
    ts = next(c["between"] for c in _checks(table, "ts") if isinstance(c, dict) and "between" in c)
    assert set(ts) == {"min"} and str(ts["min"]) < "2024-01-01"     # temporal: a lower bound only
    assert _checks(table, "always_null") == [] and _checks(table, "with_nan") == ["not_null"]
    cols = {c["name"]: c for c in table["columns"]}
    assert cols["Order Id"]["type"] == "integer" and cols["select"]["type"] == "string"
    assert "type" not in cols["pair"]                                  # a list: only present
    assert cols["tstz"]["type"] == "timestamp" and cols["flag"]["type"] == "boolean"
    proc = cli("build", "--select", "events", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # the same suggestion catches faults: an unknown category, a duplicate key, an impossible value
    con = duckdb.connect(os.path.join(project, "warehouse.duckdb"))
    con.execute("insert into raw.events (id, category, delta, user_name, neg_big) values (1, 'zzz', 999, 'u', 1)")
    con.close()
    proc = cli("build", "--select", "events", cwd=project, check=1)
    for failed in ("accepted_values_category", "between_delta", "unique_id"):
        assert failed in proc.stdout, proc.stdout


def test_suggest_partitioned_generated_table(project):
    out = os.path.join(project, "slos", "events.yml")
    cli("suggest", "raw.events", "--partition", "ds", "--name", "events_daily", "-o", out, cwd=project, check=0)
    table = _declaration(out)["tables"][0]
    assert table["partition"] == "ds"
    proc = cli("build", "--select", "events_daily", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "10 partitions" in proc.stdout


def test_suggest_empty_table(project):
    out = os.path.join(project, "slos", "empty.yml")
    cli("suggest", "raw.empty_t", "-o", out, cwd=project, check=0)
    table = _declaration(out)["tables"][0]
    assert table["checks"] == ["schema"] and all("checks" not in c for c in table["columns"])
    cli("build", "--select", "empty_t", cwd=project, check=0)


def test_suggest_to_stdout_and_monitor_line(project):
    text = cli("suggest", "raw.orders", cwd=project, check=0).stdout
    assert text.startswith("# Suggested by `slocompile suggest raw.orders`")
    assert "\n    # monitor: all" in text  # raw.orders has no partition: monitors need one
    if monitors_accepted():
        partitioned = cli("suggest", "raw.events", "--partition", "ds", cwd=project, check=0).stdout
        assert "\n    monitor: all" in partitioned
    # the output validates against the editor schema too
    from slocompile.tools import jsonschema as sj

    assert sj.validate(yaml.safe_load(text)) == []


def test_suggest_user_errors(project):
    proc = cli("suggest", "raw.nope", cwd=project, check=2)
    assert "raw.nope does not exist" in proc.stderr
    proc = cli("suggest", "raw.orders", "--partition", "order_dat", cwd=project, check=2)
    assert "did you mean 'order_date'" in proc.stderr
    cli("suggest", "raw.orders", "-o", os.path.join(project, "slos", "orders.yml"), cwd=project, check=2)
    cli("suggest", "not a relation!", cwd=project, check=2)


# ------------------------------------------------------------------------------------ one scan

class CountingEngine(DuckDBEngine):
    def __init__(self, con, path):
        super().__init__(con, path)
        self.queries = []

    def query(self, sql):
        self.queries.append(sql)
        return super().query(sql)


def test_profile_reads_the_table_in_one_scan(pristine):
    con = duckdb.connect(os.path.join(pristine, "warehouse.duckdb"), read_only=True)
    engine = CountingEngine(con, "")
    try:
        prof = profile(engine, parse_relation("raw.events"), "raw.events")
        assert len(engine.queries) == 2                 # one aggregate, one for the category values
        assert engine.queries[0].count("FROM") == 1 and "GROUP BY" not in engine.queries[0]
        assert "GROUPING SETS" in engine.queries[1]
        assert prof.rows == 1000 and prof.column("category").values == ["O'Brien", "a", "b", "c", "yes"]
        engine.queries.clear()
        prof = profile(engine, parse_relation("raw.events"), "raw.events", partition="ds")
        assert len(engine.queries) == 2 and "GROUP BY" in engine.queries[0]
        assert prof.partitions == 10 and prof.min_partition_rows == 100
        engine.queries.clear()
        profile(engine, parse_relation("raw.empty_t"), "raw.empty_t")
        assert len(engine.queries) == 1
    finally:
        con.close()


# ------------------------------------------------------------------------------------ margins

@pytest.mark.parametrize("lo,hi,integer", [
    (0, 1378.75, False), (-127.22, 339.0, False), (0.01, 0.99, False), (5, 5, True), (0, 0, True),
    (0.5, 0.5, False), (-25, 24, True), (1e-9, 3e-9, False), (1, 10 ** 15, True), (-3.5, -1.25, False),
    (-0.01, -0.001, False), (3, 3, False),
])
def test_widen_contains_the_data_and_keeps_signs(lo, hi, integer):
    new_lo, new_hi = widen(lo, hi, 0.1, integer)
    assert new_lo <= lo and new_hi >= hi
    if lo >= 0:
        assert new_lo >= 0
    if hi <= 0:
        assert new_hi <= 0
    if not integer and 0 <= lo <= hi <= 1:
        assert 0 <= new_lo and new_hi <= 1
    if integer:
        assert isinstance(new_lo, int) and isinstance(new_hi, int)
