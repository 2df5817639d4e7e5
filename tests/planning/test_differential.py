"""Differential tests: the planned, fused scans (measure.py) and the naive one-query-per-metric
reference (tests/naive.py) must give the same measurements and the same check results.

Tables are generated from seeds (random.Random), so every failure replays exactly. They hold
NULLs, all-NULL columns, NaN and +-inf, duplicate keys, hostile identifiers and values, several
partitions (one of them a single row), and for one seed no rows at all.

Floats are compared with a relative tolerance of 1e-9 (absolute 1e-12 around zero); NaN equals NaN.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
import sqlglot
import yaml
from naive import measure_naive
from sqlglot import exp

from slocompile.checks import metrics as m
from slocompile.checks.base import EvalContext
from slocompile.checks.evaluate import evaluate_table
from slocompile.compiling.compiler import CompiledTable, compile_project
from slocompile.declarations.loader import load_project
from slocompile.dialects.render import lower, render
from slocompile.engines.duckdb import DuckDBEngine
from slocompile.planning.planner import CATALOG, plan_table
from slocompile.run.measure import measure
from slocompile.sqltrees.scans import scan_sql

REL_TOL, ABS_TOL = 1e-9, 1e-12
NOW = dt.datetime(2024, 3, 1, 12, 0, 0)

# hostile column names: reserved words, spaces, unicode, quotes and backslashes
PART, OID, SEL, NAIVE, WEIRD = "group", "Order Id", "select", "naïve", 'we"ird\\col'
NULL_NUM, NULL_TEXT, TS, CODE = "all_null_num", "all null text", "ts", "code"
DIMS, DIMS_FIELD = 'dims."Codes ✓"', "cödé"
INJECTION = "x'); DROP TABLE raw.t; --"
STRINGS = ["a", "it's", 'say "hi"', "back\\slash", "new\nline", "naïve ☃", INJECTION, "", "123", "A1"]
CODES = ["US", "CN", "IN", "ZZ", "O'K"]


def q(name: str) -> str:
    """A column name quoted for DuckDB user SQL."""
    return exp.to_identifier(name, quoted=True).sql("duckdb")


# ---------------------------------------------------------------- the project: every check type

def statistics(col: str) -> list:
    where = {"where": f"{q(SEL)} > 2"}
    return [{"mean": {"min": -10, "max": 60}}, {"min": {"min": -5}}, {"max": {"max": 95}},
             {"stddev": {"max": 40}}, {"quantile": {"q": 0.5, "min": 10, "max": 80}},
             {"quantile": {"q": 0.9, "max": 90, **where}}, {"distinct_count": {"min": 2}},
             {"mean": {"max": 50, "name": f"mean_where_{col}", **where}},
             {"distinct_count": {"max": 20, "name": f"dc_where_{col}", **where}}]


# segments (group_by): small caps, so partitions have more segments than the cap (pooled: merged
# for counts, min and max; measured again for means, quantiles and distinct counts)
SEGMENTED = [
    {"not_null": {"column": NAIVE, "max_fraction": 0.3, "name": "seg_nn", "group_by": [SEL]}},
    {"row_count": {"min": 2, "name": "seg_rows", "group_by": CODE, "max_segments": 3}},
    {"mean": {"column": NAIVE, "max": 60, "name": "seg_mean", "group_by": [CODE], "max_segments": 2}},
    {"quantile": {"column": NAIVE, "q": 0.5, "max": 60, "name": "seg_median", "group_by": [CODE],
                  "max_segments": 2}},
    {"distinct_count": {"column": WEIRD, "min": 2, "name": "seg_dc", "group_by": [CODE, SEL], "max_segments": 4,
                        "where": f"{q(OID)} > 3"}},
    {"min": {"column": SEL, "min": 1, "name": "seg_min", "group_by": [WEIRD], "max_segments": 3}},
    {"freshness": {"column": TS, "max_age": "30d", "name": "seg_fresh", "group_by": [CODE], "max_segments": 2}},
    {"assert": {"sql": f"sum({q(SEL)}) > 10", "name": "seg_sum", "group_by": [CODE], "max_segments": 2}},
]


def project_yaml(partitioned: bool) -> dict:
    columns = [
        {"name": OID, "type": "integer", "checks": [{"not_null": {"max_count": 1}}]},
        {"name": SEL, "type": "integer", "checks": [
            "not_null", {"not_null": {"max_fraction": 0.2, "name": "nn_sel_frac"}},
            {"between": {"min": 0, "max": 7, "rows": "drop", "max_fraction": 0.3}},
            {"between": {"min": 2, "max": 7, "inclusive": False, "name": "between_excl", "where": f"{q(OID)} < 20"}},
            {"expression": {"sql": f"{q(SEL)} < 8 OR {q(OID)} IS NULL", "max_count": 3}},
            {"unique": {"name": "unique_select"}}, *statistics("select")]},
        {"name": NAIVE, "type": "number", "checks": [
            {"not_null": {"max_fraction": 0.5}},
            {"between": {"min": 0, "max": 100, "name": "between_naive"}},
            {"between": {"min": -1000, "name": "between_naive_where", "where": f"{q(NAIVE)} < 50"}},
            {"unique": {"name": "unique_naive"}},
            *statistics("naive")]},
        {"name": WEIRD, "type": "string", "checks": [
            {"accepted_values": {"values": ["a", "it's", INJECTION, "123", "naïve ☃"], "max_fraction": 0.5}},
            {"accepted_values": {"values": ["back\\slash", 'say "hi"'], "name": "av_where",
                                 "where": f"{q(SEL)} IS NOT NULL"}},
            {"matches": {"pattern": "^[0-9]+$", "max_count": 100}},
            {"matches": {"pattern": "\\\\", "name": "has_backslash", "where": f"{q(OID)} > 3"}},
            {"between": {"min": "a", "max": "m", "name": "between_text"}},
            {"expression": {"sql": f"{q(WEIRD)} <> 'it''s' AND {q(WEIRD)} NOT LIKE '%\\%'", "name": "expr_text"}},
            {"distinct_count": {"min": 1}}, "not_null"]},
        {"name": NULL_NUM, "type": "double", "checks": [
            {"not_null": {"max_fraction": 0.5}}, {"between": {"min": 0, "max": 1}},
            {"accepted_values": {"values": [1, 2.5, -3]}}, {"unique": {"name": "unique_null"}},
            *statistics("null_num")]},
        {"name": NULL_TEXT, "type": "string", "checks": [
            "not_null", {"matches": "x"}, {"accepted_values": {"values": ["x"], "where": f"{q(SEL)} > 0"}},
            {"distinct_count": {"min": 0, "max": 0}}]},
        {"name": TS, "type": "timestamp", "checks": [
            {"freshness": {"max_age": "30d"}}, {"freshness": {"max_age": "100d", "name": "fresh_where",
                                                               "where": f"{q(SEL)} > 5"}},
            {"between": {"min": dt.date(2024, 1, 1), "max": dt.datetime(2024, 2, 20, 12, 0)}},
            {"not_null": {"max_count": 0}}]},
        {"name": CODE, "type": "string", "checks": [
            {"relationship": {"to": DIMS, "field": DIMS_FIELD}},
            {"relationship": {"to": DIMS, "field": DIMS_FIELD, "name": "rel_where", "where": f"{q(SEL)} < 5"}}]},
    ]
    if partitioned:
        columns.insert(0, {"name": PART, "type": "date"})
    table_checks = [
        {"row_count": {"min": 3}}, {"row_count": {"max": 30, "name": "rc_where", "where": f"{q(NAIVE)} > 0"}},
        {"unique": [OID, SEL]}, {"unique": {"columns": [SEL, WEIRD], "name": "unique_where",
                                            "where": f"{q(CODE)} <> 'ZZ'"}},
        {"schema": {"allow_extra": False}},
        {"assert": {"sql": f"count(distinct {q(SEL)}) filter (where {q(OID)} > 5) <= 4", "name": "few_selects"}},
        {"assert": {"sql": f"sum({q(SEL)}) > 10", "name": "sum_where", "where": f"{q(WEIRD)} IS NOT NULL"}},
        {"assert": {"sql": f"count(*) = 0 or avg({q(NAIVE)}) is not null", "name": "avg_defined"}},
        {"assert": {"sql": f"count_if({q(SEL)} > 8) <= 3", "name": "few_nines"}},
        *SEGMENTED,
        # a whole SELECT (dbt's singular test): the rows it returns
        {"assert": {"sql": f"select {q(OID)}, row_number() over (order by {q(OID)}) as n from {{{{ this }}}} "
                           f"where {q(SEL)} > 8", "name": "query_nines"}},
        # another relation (OTHER: other seeded rows) and a custom check type (macros/, CUSTOM)
        {"compare": {"with": OTHER, "on": [OID, WEIRD], "tolerance": "10%",
                     "metrics": ["row_count", f"sum({q(SEL)})", f"count(distinct {q(WEIRD)})"]}},
        {"compare": {"with": OTHER, "on": OID, "metrics": [f"max({q(NAIVE)})"], "where": f"{q(SEL)} > 2",
                     "name": "compare_where"}},
        {"share_above": {"column": WEIRD, "value": "m", "max": 0.9}},
        {"share_above": {"column": SEL, "value": 4, "min": 0.1, "name": "share_sel_where", "where": f"{q(OID)} < 20"}},
    ]
    table = {"name": "t", "relation": "raw.t", "key": [OID], "gate": "warn", "checks": table_checks,
             "columns": columns}
    if partitioned:
        table["partition"] = PART
    return {"tables": [table]}


OTHER = "raw.t_other"  # compare's other relation: rows of another seed
CUSTOM = """/*
kind: metric
params:
  value: value
*/
avg(case when {{ column }} > {{ value }} then 1.0 else 0.0 end)
"""


def write_project(root, tables: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "macros").mkdir(exist_ok=True)
    (root / "macros" / "share_above.sql").write_text(CUSTOM)
    (root / "slocompile.yml").write_text(yaml.safe_dump(
        {"name": "differential", "targets": {"local": {"type": "duckdb", "path": ":memory:"}}}))
    (root / "slos").mkdir(exist_ok=True)
    (root / "slos" / "t.yml").write_text(yaml.safe_dump(tables, allow_unicode=True, sort_keys=False))


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    out = {}
    for partitioned in (True, False):
        root = tmp_path_factory.mktemp("diff_part" if partitioned else "diff_flat")
        write_project(root, project_yaml(partitioned))
        out[partitioned] = load_project(str(root))
    return out


# ---------------------------------------------------------------- seeded data

def generate(seed: int) -> dict[str, list]:
    """Columns of a random table; seed 0 gives an empty table."""
    rng = random.Random(seed)
    days = [dt.date(2024, 2, 1) + dt.timedelta(days=i) for i in range(rng.randint(2, 4))]
    sizes = [0] if seed == 0 else [1] + [rng.randint(2, 40) for _ in days[1:]]  # one single-row partition
    rows = [(day, i) for day, n in zip(days, sizes) for i in range(n)]
    if seed % 3 == 2:
        rows += [(None, 0), (None, 1)]  # rows without a partition value
    rng.shuffle(rows)

    def maybe(value, p_null=0.15):
        return None if rng.random() < p_null else value

    def naive_value():
        r = rng.random()
        if r < 0.05:
            return math.nan
        if r < 0.08:
            return rng.choice([math.inf, -math.inf])
        if r < 0.12:
            return rng.choice([0.0, -0.0])  # equal, but not bit-identical
        return maybe(round(rng.uniform(-20, 120), rng.choice([0, 3, 12])))

    return {
        PART: [d for d, _ in rows],
        OID: [maybe(rng.randint(0, 25), 0.05) for _ in rows],  # duplicate keys happen
        SEL: [maybe(rng.randint(0, 9)) for _ in rows],
        NAIVE: [naive_value() for _ in rows],
        WEIRD: [maybe(rng.choice(STRINGS)) for _ in rows],
        NULL_NUM: [None for _ in rows],
        NULL_TEXT: [None for _ in rows],
        TS: [maybe(dt.datetime(2024, 2, 1) + dt.timedelta(minutes=rng.randint(0, 40 * 24 * 60)), 0.1) for _ in rows],
        CODE: [maybe(rng.choice(CODES), 0.1) for _ in rows],
    }


TYPES = {PART: pa.date32(), OID: pa.int64(), SEL: pa.int32(), NAIVE: pa.float64(), WEIRD: pa.string(),
         NULL_NUM: pa.float64(), NULL_TEXT: pa.string(), TS: pa.timestamp("us"), CODE: pa.string()}


def load_table(con, name: str, columns: dict[str, list]) -> None:
    """CREATE TABLE name AS the given columns (via Arrow: NaN stays NaN, NULL stays NULL)."""
    arrow = pa.table({c: pa.array(v, type=TYPES.get(c, None)) for c, v in columns.items()})
    con.register("_incoming", arrow)
    target = exp.to_table(name, dialect="duckdb")
    con.execute(exp.Create(kind="TABLE", this=target, replace=True,
                           expression=exp.select("*").from_("_incoming")).sql("duckdb"))
    con.unregister("_incoming")


def engine_with(seed: int, partitioned: bool) -> DuckDBEngine:
    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA raw; CREATE SCHEMA dims")
    data = generate(seed)
    if not partitioned:
        data.pop(PART)
    load_table(con, "raw.t", data)
    other = generate(seed + 100 if seed else 0)  # seed 0: both sides empty
    if not partitioned:
        other.pop(PART)
    load_table(con, OTHER, other)
    load_table(con, DIMS, {DIMS_FIELD: ["US", "CN", "O'K", None, "US"]})
    return DuckDBEngine(con, ":memory:")


def fused_table(spec, dialect_strategy: str) -> CompiledTable:
    """The table compiled with a dialect's planning strategy, rendered for DuckDB to run here."""
    table = spec.tables[0]
    if dialect_strategy == "duckdb":
        return compile_project(spec, "duckdb").tables[0]
    plan = plan_table(table, dialect_strategy)
    scans = [(s, None if s.kind == CATALOG else render(scan_sql(table, s), "duckdb")) for s in plan.scans]
    return CompiledTable(table, plan, scans, "", "")


# ---------------------------------------------------------------- comparison

def same(a, b) -> bool:
    if isinstance(a, Decimal):
        a = float(a)
    if isinstance(b, Decimal):
        b = float(b)
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
            return False
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return type(a) is type(b) and a == b


def measured_pairs(plan, fused, naive):
    for check, metrics in plan.checks:
        for metric in metrics:
            parts = [None] if metric.scope == m.WHOLE_TABLE else fused.partitions
            for p in parts:
                if metric.group_by:  # every segment's value, in rank order, and how many are pooled
                    yield (check.name, metric, p, (list(fused.segments.get((metric, p), {}).items()),
                                                   fused.pooled.get((metric, p))),
                           (list(naive.segments.get((metric, p), {}).items()), naive.pooled.get((metric, p))))
                    continue
                yield check.name, metric, p, fused.get(metric, p), naive.get(metric, p)


def evaluate(plan, meas, ctx):
    return evaluate_table(plan.table, plan.checks, meas, ctx)


def run_both(spec, seed: int, partitioned: bool, strategy: str):
    engine = engine_with(seed, partitioned)
    compiled = fused_table(spec, strategy)
    fused = measure(engine, compiled)
    naive = measure_naive(engine, compiled.plan)
    return compiled, fused, naive


SEEDS = range(8)


@pytest.mark.parametrize("strategy", ["duckdb", "postgres"])  # duckdb: queries alone; postgres: all fused
@pytest.mark.parametrize("partitioned", [True, False], ids=["partitioned", "unpartitioned"])
@pytest.mark.parametrize("seed", SEEDS)
def test_fused_and_naive_agree(specs, seed, partitioned, strategy):
    compiled, fused, naive = run_both(specs[partitioned], seed, partitioned, strategy)
    assert fused.errors == {} and naive.errors == {}
    assert fused.partitions == naive.partitions
    if partitioned and seed:
        assert len(fused.partitions) >= 2
    diffs = [(name, metric.label(), p, f, n) for name, metric, p, f, n in measured_pairs(compiled.plan, fused, naive)
             if not same(f, n)]
    assert diffs == []
    ctx = EvalContext(now=NOW)
    fused_results = evaluate(compiled.plan, fused, ctx)
    naive_results = evaluate(compiled.plan, naive, ctx)
    assert len(fused_results) == len(naive_results)
    for a, b in zip(fused_results, naive_results):
        assert (a.check, a.partition, a.segment, a.status, a.expected, a.message) == (
            b.check, b.partition, b.segment, b.status, b.expected, b.message)
        assert same(a.observed, b.observed), (a.check, a.partition, a.observed, b.observed)


def test_results_mix_pass_and_fail(specs):
    """The random tables exercise both outcomes, so agreement is not agreement on 'pass' alone."""
    statuses = set()
    for seed in (1, 2, 3):
        compiled, fused, _ = run_both(specs[True], seed, True, "duckdb")
        statuses |= {r.status for r in evaluate(compiled.plan, fused, EvalContext(now=NOW))}
    assert {"pass", "fail"} <= statuses


@pytest.mark.parametrize("strategy", ["duckdb", "postgres"])
def test_empty_table_counts_are_zero_not_null(specs, strategy):
    compiled, fused, naive = run_both(specs[False], 0, False, strategy)
    # (segmented metrics have no segment, hence no value, in an empty table)
    counted = {metric for _, ms in compiled.plan.checks for metric in ms
               if metric.kind in m.COUNT_KINDS and not metric.group_by}
    assert counted
    for metric in counted:
        # unpartitioned: every scan returns exactly one row, so the 0 comes from the SQL, not a default
        assert (metric, None) in fused.values, metric.label()
        assert fused.values[(metric, None)] == 0, metric.label()
        assert naive.values[(metric, None)] == 0, metric.label()
    results = {r.check: r for r in evaluate(compiled.plan, fused, EvalContext(now=NOW))}
    assert results["row_count"].observed == 0 and results["row_count"].status == "fail"
    assert results["not_null_select"].observed == {"rows": 0, "fraction": 0.0, "total": 0}
    assert results["distinct_count_na_ve"].observed == 0
    assert results["few_nines"].observed is True  # COUNT_IF over no rows is 0, not NULL


@pytest.mark.parametrize("strategy", ["duckdb", "postgres"])
@pytest.mark.parametrize("partitioned", [True, False], ids=["partitioned", "unpartitioned"])
def test_all_null_columns_count_zero_not_null(specs, partitioned, strategy):
    compiled, fused, _ = run_both(specs[partitioned], 3, partitioned, strategy)
    for (metric, _p), value in fused.values.items():
        if metric.kind in m.COUNT_KINDS:
            assert value is not None, metric.label()
    rows = {p: fused.get(m.rows(), p) for p in fused.partitions}
    results = evaluate(compiled.plan, fused, EvalContext(now=NOW))
    by = {(r.check, r.partition): r for r in results}
    for p in fused.partitions:
        assert by[("not_null_all_null_num", p)].observed["rows"] == rows[p]
        assert by[("between_all_null_num", p)].observed == {"rows": 0, "fraction": 0.0, "total": rows[p]}
        assert by[("accepted_values_all_null_num", p)].observed["rows"] == 0
        assert by[("unique_null", p)].observed == 0
        assert by[("distinct_count_all_null_text", p)].observed == 0
        assert by[("matches_all_null_text", p)].observed["rows"] == 0
        assert by[("mean_all_null_num", p)].observed is None  # undefined, reported as a failure
        assert by[("mean_all_null_num", p)].status == "fail"


def test_hostile_values_are_counted_as_data(specs):
    """accepted_values holding an injection attempt counts rows equal to it like any other value."""
    engine = engine_with(5, False)
    data = generate(5)
    compiled = fused_table(specs[False], "duckdb")
    fused = measure(engine, compiled)
    accepted = {"a", "it's", INJECTION, "123", "naïve ☃"}
    expected_bad = sum(1 for v in data[WEIRD] if v is not None and v not in accepted)
    result = next(r for r in evaluate(compiled.plan, fused, EvalContext(now=NOW))
                  if r.check == "accepted_values_we_ird_col")
    assert result.observed["rows"] == expected_bad
    assert engine.query("SELECT count(*) FROM raw.t")[0][0] == len(data[OID])


FILTERED = [f"count(*) filter (where {q(SEL)} > 2)", f"count(distinct {q(SEL)}) filter (where {q(NAIVE)} < 50)",
            f"sum({q(NAIVE)}) filter (where {q(SEL)} is null)", f"avg({q(SEL)}) filter (where {q(NAIVE)} > 0)",
            f"min({q(WEIRD)}) filter (where {q(SEL)} > 1)", f"stddev_samp({q(OID)}) filter (where {q(SEL)} < 5)",
            f"count(distinct {q(SEL)}) filter (where {q(OID)} > 5) <= 4",
            f"count_if({q(SEL)} > 2)", f"count_if({q(NAIVE)} > 0) filter (where {q(SEL)} < 5)"]


@pytest.mark.parametrize("dialect", ["redshift", "postgres", "duckdb"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dialect_rewrites_of_aggregates_keep_the_numbers(seed, dialect):
    """Redshift has no FILTER (WHERE ...), and COUNT_IF is NULL on no rows (DuckDB; sqlglot's SUM(CASE ...)
    for Postgres and Redshift): render.py rewrites both into COUNT(CASE ...), which gives the same values
    where there are rows and 0 where there are none (seed 0 is the empty table)."""
    engine = engine_with(seed, partitioned=False)
    for text in FILTERED:
        tree = sqlglot.parse_one(text, read="duckdb")
        rewritten = lower(tree, dialect)
        assert not list(rewritten.find_all(exp.CountIf))
        assert dialect != "redshift" or not list(rewritten.find_all(exp.Filter))
        original = engine.query(exp.select(tree).from_("raw.t").sql("duckdb"))[0][0]
        if original is None and tree.find(exp.CountIf) is not None:
            original = 0  # DuckDB's own COUNT_IF is NULL on an empty input
        assert same(engine.query(exp.select(rewritten).from_("raw.t").sql("duckdb"))[0][0], original), text


@pytest.mark.parametrize("strategy", ["duckdb", "postgres"])
@pytest.mark.parametrize("partition", ["n", "d", "_slo_partition", "m0"])
def test_partition_named_like_an_internal_alias(tmp_path, strategy, partition):
    """The scans' own aliases (n, d, m0, _slo_partition) must not capture a column of that name."""
    slos = {"tables": [{"name": "t", "relation": "raw.t", "partition": partition, "key": ["k"],
                        "checks": [{"unique": {"columns": ["k", "v"], "name": "kv"}}, {"row_count": {"min": 1}}],
                        "columns": [{"name": "v", "checks": [{"not_null": {"max_count": 5}}, {"mean": {"min": 0}}]}]}]}
    write_project(tmp_path, slos)
    spec = load_project(str(tmp_path))
    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA raw")
    load_table(con, "raw.t", {partition: [1, 1, 1, 2, 2], "k": [7, 7, 8, 7, 9], "v": [1, 1, None, 2, 3]})
    engine = DuckDBEngine(con, ":memory:")
    compiled = fused_table(spec, strategy)
    fused, naive = measure(engine, compiled), measure_naive(engine, compiled.plan)
    assert [(n, p, f) for n, _, p, f, x in measured_pairs(compiled.plan, fused, naive) if not same(f, x)] == []
    key = {r.partition: r.observed for r in evaluate(compiled.plan, fused, EvalContext(now=NOW))
           if r.check == "key"}
    assert key == {"1": 1, "2": 0}


def test_segments_past_the_cap_are_pooled_and_remeasured(specs):
    """The seeded tables have more segments than the small caps: the pooled segment is merged (row
    counts, min, freshness) or measured again (mean, median, distinct count), and agrees with the naive reference."""
    compiled, fused, naive = run_both(specs[True], 1, True, "duckdb")
    pooled = {metric.label() for (metric, _), n in fused.pooled.items() if n}
    assert any(label.startswith("row_count BY") for label in pooled)
    assert any(label.startswith("avg(") or label.startswith("AVG(") for label in pooled), pooled
    results = [r for r in evaluate(compiled.plan, fused, EvalContext(now=NOW)) if r.segment == "(other)"]
    assert {r.check for r in results} >= {"seg_rows", "seg_mean", "seg_median", "seg_fresh"}
    assert all("past the cap, pooled" in r.message for r in results)
