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


def _measured(tmp_path, name: str, checks: str, keys: list[tuple[int, int]], grain: bool = True):
    """measure() and the naive queries of a daily table `raw.t` (day, key) with these checks, and
    the queries measure() sent; `grain`: partitioned by `{column: d, granularity: day}`, else by d."""
    partition = "{column: d, granularity: day}" if grain else "d"
    root = write(tmp_path / name, f"""
        tables:
          - name: t
            relation: raw.t
            partition: {partition}
            checks: {checks}
        """)
    rows = ", ".join(f"(DATE '2026-01-01' + {day}, {k})" for day, k in keys)
    sql(root, [f"CREATE TABLE raw.t AS SELECT * FROM (VALUES {rows}) AS v(d, k)"])
    spec = Project.load(root).spec
    compiled = compile_project(spec, "duckdb").tables[0]
    engine = connect(spec.targets["local"], root)
    try:
        recording = Recording(engine)
        fused, naive = measure(recording, compiled), measure_naive(engine, compiled.plan)
    finally:
        engine.close()
    metric = next(x for _, ms in compiled.plan.checks for x in ms if x.label() == "duplicates(k)")
    days = sorted({f"2026-01-0{day + 1}" for day, _ in keys})
    return ({p: fused.get(metric, p) for p in days}, {p: naive.get(metric, p) for p in days},
            [text for text, _ in recording.seen], fused)


def test_a_key_unique_in_the_whole_table_skips_the_count_per_partition(tmp_path):
    """Time partitions at a grain: one whole-table distinct count answers every partition when it
    finds no duplicate; a key repeated across partitions, or within one, runs the count per
    partition as before."""
    checks = "[{unique: [k]}, {row_count: {min: 1}}]"
    unique = [(day, day * 10 + i) for day in range(3) for i in range(4)]
    across = unique + [(2, 0)]  # key 0 again, on another day: no partition has a duplicate
    within = unique + [(1, 10), (1, 10)]  # key 10 three times on day 2
    per_partition = "GROUP BY"
    for name, keys, expected in [("unique", unique, {"2026-01-01": 0, "2026-01-02": 0, "2026-01-03": 0}),
                                 ("across", across, {"2026-01-01": 0, "2026-01-02": 0, "2026-01-03": 0}),
                                 ("within", within, {"2026-01-01": 0, "2026-01-02": 2, "2026-01-03": 0})]:
        fused, naive, sent, meas = _measured(tmp_path, name, checks, keys)
        assert fused == naive == expected, (name, fused, naive)
        counts = [t for t in sent if "DISTINCT" in t]
        assert len(counts) == (1 if name == "unique" else 2), (name, counts)
        assert (per_partition in counts[-1]) == (name != "unique"), (name, counts)
        assert meas.partitions == sorted(expected)
    # a date partition without a grain (a daily snapshot repeats its keys): the count per partition
    fused, naive, sent, _ = _measured(tmp_path, "snapshot", checks, unique, grain=False)
    assert fused == naive and [t for t in sent if "DISTINCT" in t] == [t for t in sent if "DISTINCT" in t
                                                                       and per_partition in t] != []
