"""Distinct counts on DuckDB may index an array by value (planner.Strategy.dense_keys, DuckDB's perfect
hash aggregate): the measurements equal the naive queries' (duplicates, NULLs, negative keys, dates),
the setting is raised for the distinct scan only, sized by the table's rows, and put back after it."""
from __future__ import annotations

from naive import measure_naive
from proj import sql, write

from slocompile.api import Project
from slocompile.compiling.compiler import compile_project
from slocompile.engines.connect import connect
from slocompile.run.measure import measure
from slocompile.sqltrees.scans import DEFAULT_DENSE_BITS, MAX_DENSE_BITS, dense_keys

ROWS = 5000  # 13 bits: the distinct scan may use 2**14 slots, above the default 2**12
SETTING = "SELECT current_setting('perfect_ht_threshold')"


class Recording:
    """The real DuckDB engine, noting the setting each query runs under."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def query(self, text):
        self.seen.append((text, self.engine.con.execute(SETTING).fetchone()[0]))
        return self.engine.query(text)


def test_dense_distinct_counts_equal_the_naive_ones_and_the_setting_is_scoped(tmp_path):
    root = write(tmp_path, """
        tables:
          - name: t
            relation: raw.t
            checks:
              - unique: [k]
              - unique: {columns: [n], name: unique_n}
            columns:
              - name: k
                checks: [{distinct_count: {min: 1}}]
              - name: n
                checks: [{distinct_count: {min: 1}}]
              - name: d
                checks: [{distinct_count: {min: 1}}]
        """)
    # k: dense around 10**9 with every 97th key twice and every 1000th NULL; n: negative, few values
    sql(root, ["CREATE TABLE raw.t AS SELECT CASE WHEN i % 1000 = 0 THEN NULL WHEN i % 97 = 0 THEN 1000000000 + i - 1 "
               f"ELSE 1000000000 + i END::BIGINT AS k, (i % 50) - 25 AS n, DATE '2026-01-01' + (i % 40)::INT AS d "
               f"FROM range({ROWS}) AS r(i)"])
    spec = Project.load(root).spec
    compiled = compile_project(spec, "duckdb").tables[0]
    dense = [sql for scan, sql in compiled.scans if scan.dense_keys]
    assert len(dense) == 1 and "DISTINCT" in dense[0]
    engine = connect(spec.targets["local"], root)
    try:
        recording = Recording(engine)
        fused = measure(recording, compiled)
        naive = measure_naive(engine, compiled.plan)
        assert engine.con.execute(SETTING).fetchone()[0] == DEFAULT_DENSE_BITS  # put back
    finally:
        engine.close()
    raised = {text: bits for text, bits in recording.seen if bits != DEFAULT_DENSE_BITS}
    assert raised == {dense[0]: ROWS.bit_length() + 1}
    values = {m.label(): (fused.get(m, None), naive.get(m, None)) for _, ms in compiled.plan.checks for m in ms}
    keys = [None if i % 1000 == 0 else 10**9 + i - (i % 97 == 0) for i in range(ROWS)]
    present = [k for k in keys if k is not None]
    assert values['COUNT(DISTINCT "k")'] == (len(set(present)),) * 2
    assert values["duplicates(k)"] == (len(present) - len(set(present)),) * 2 == (51, 51)
    assert values["duplicates(n)"] == (ROWS - 50,) * 2 and values['COUNT(DISTINCT "d")'] == (40, 40)
    assert all(f == n for f, n in values.values()), values


def test_the_array_is_sized_by_the_rows_and_capped():
    assert dense_keys(0) is None and dense_keys(2000) is None  # no more than the default
    setting, reset = dense_keys(10_000_000) or (None, None)
    assert setting is not None and reset is not None
    assert setting.sql("duckdb") == "SET perfect_ht_threshold = 25"
    assert reset.sql("duckdb") == "RESET perfect_ht_threshold"
    capped = dense_keys(2**40)
    assert capped is not None and capped[0].sql("duckdb").endswith(f"= {MAX_DENSE_BITS}")
