"""The profile SQL on a tiny hand-made DuckDB table with known answers."""
import datetime as dt
import math

import duckdb
import pytest
from sqlglot import exp

from slocompile.dialects.render import render
from slocompile.engines.duckdb import DuckDBEngine
from slocompile.monitors.profile import learn_edges, list_partitions, profile
from slocompile.monitors.runner import discover_columns, make_spec, profile_all
from slocompile.sqltrees.profiles import ProfiledColumn, ProfiledTable, base_query

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create schema raw")
    c.execute('create table raw.t (ds date, id int, x double, "select" int, c varchar, b boolean, '
              'ts timestamp, "all null" double)')
    c.execute("""insert into raw.t values
        ('2026-01-01', 1,  1.0,   5, 'US', true,  '2026-01-01 03:00', null),
        ('2026-01-01', 2,  0.0,   5, 'US', false, '2026-01-01 05:00', null),
        ('2026-01-01', 3, -2.0, null, '',  true,  '2026-01-03 00:00', null),
        ('2026-01-01', 4, 'NaN', null, null, null, null,             null),
        ('2026-01-02', 1,  1.0,   5, 'US', true,  '2026-01-02 03:00', null),
        ('2026-01-02', 2,  7.0,   6, 'IN', true,  '2025-12-31 02:00', null),
        ('2026-01-02', 2,  7.0,   6, 'IN', true,  '2025-12-31 02:00', null)""")
    return DuckDBEngine(c, ":memory:")  # the monitors read through the Engine interface


def _spec(partition_kind="date"):
    cols = (ProfiledColumn("x", "numeric"), ProfiledColumn("select", "numeric"), ProfiledColumn("c", "categorical"),
            ProfiledColumn("b", "boolean"), ProfiledColumn("ts", "timestamp"), ProfiledColumn("all null", "numeric"))
    return ProfiledTable(exp.to_table("raw.t"), "ds", ("id",), cols, partition_kind)


def test_sql_is_quoted_and_counts_with_count_case(con):
    sql = render(base_query(_spec()), "duckdb")
    assert '"select"' in sql and '"all null"' in sql
    assert "COUNT(CASE WHEN" in sql and "SUM(CASE" not in sql


def test_known_answers(con):
    prof = profile(con, _spec())
    m1, m2 = prof.metrics["2026-01-01"], prof.metrics["2026-01-02"]
    assert m1[(None, "row_count")] == 4
    assert m1[("x", "missing_fraction")] == pytest.approx(0.25)        # NaN counts as missing
    assert m1[("x", "zero_fraction")] == pytest.approx(1 / 3)
    assert m1[("x", "negative_fraction")] == pytest.approx(1 / 3)
    assert m1[("x", "mean")] == pytest.approx(-1 / 3)
    assert m1[("x", "min")] == -2.0 and m1[("x", "max")] == 1.0
    assert m1[("select", "missing_fraction")] == 0.5
    assert m1[("select", "distinct_count")] == 1
    assert m1[("c", "missing_fraction")] == 0.25
    assert m1[("c", "empty_fraction")] == pytest.approx(1 / 3)
    assert m1[("b", "true_fraction")] == pytest.approx(2 / 3)
    assert m1[("ts", "lag_q50")] == pytest.approx(-5.0)                # 05:00 -> 5 h after the start
    assert m1[("ts", "future_fraction")] == pytest.approx(1 / 3)       # 2026-01-03 is after the day
    assert m1[(None, "duplicate_fraction")] == 0.0
    assert m2[(None, "duplicate_fraction")] == pytest.approx(1 / 3)
    assert m2[("ts", "lag_mean")] == pytest.approx((-3 + 46 + 46) / 3)
    # stale copies: id 1 kept x = 1.0 and c = 'US'; id 2 changed both
    assert m2[("x", "unchanged_fraction")] == pytest.approx(0.5)
    assert m2[("c", "unchanged_fraction")] == pytest.approx(0.5)
    assert ("x", "unchanged_fraction") not in m1                       # no previous partition
    assert prof.summaries["2026-01-01"]["c"] == {"top": {"US": 2, "": 1}, "nonnull": 3}
    assert prof.summaries["2026-01-02"]["c"]["top"] == {"IN": 2, "US": 1}


def test_all_null_column(con):
    m = profile(con, _spec()).metrics["2026-01-01"]
    assert m[("all null", "missing_fraction")] == 1.0
    assert m[("all null", "distinct_count")] == 0
    for k in ("mean", "q50", "zero_fraction", "std"):
        assert ("all null", k) not in m       # undefined, not 0


def test_empty_partition_set(con):
    prof = profile(con, _spec(), [])
    assert prof.metrics == {} and prof.summaries == {}


def test_restricted_partitions_and_previous(con):
    prof = profile(con, _spec(), [D2], pairs=[(D2, D1)])
    assert list(prof.metrics) == ["2026-01-02"]
    assert prof.metrics["2026-01-02"][("x", "unchanged_fraction")] == pytest.approx(0.5)


def test_ranges_and_bins_fused(con):
    prof = profile(con, _spec(), [D1], ranges={D1: {"x": (-1.0, 0.5)}}, edges={"x": [0.0, 1.0]})
    m, s = prof.metrics["2026-01-01"], prof.summaries["2026-01-01"]
    assert m[("x", "out_of_range_fraction")] == pytest.approx(2 / 3)  # -2 and 1 are outside
    assert s["x"]["bins"] == [1, 1, 1]                                 # <0, [0,1), >=1


def test_learn_edges_dedupes():
    assert learn_edges([[1, 1, 2], [1, 1, 3], [1, 1, 2]]) == [1.0, 2.0]
    assert learn_edges([]) == []


def test_discovery_and_profile_all(con):
    cols = discover_columns(con, "raw.t", exclude=["ds", "id"], partition="ds")
    fams = {c.name: c.family for c in cols}
    assert fams == {"x": "numeric", "select": "numeric", "c": "categorical", "b": "boolean",
                    "ts": "timestamp", "all null": "numeric"}
    spec = make_spec("raw.t", "ds", ["id"], cols, engine=con)
    assert spec.partition_kind == "date"
    parts, prof = profile_all(con, spec)
    assert parts == list_partitions(con, spec) == [D1, D2]
    assert set(prof.metrics) == {"2026-01-01", "2026-01-02"}
    assert all(math.isfinite(v) for m in prof.metrics.values() for v in m.values())


def test_table_without_key(con):
    spec = ProfiledTable(exp.to_table("raw.t"), "ds", (), (ProfiledColumn("x", "numeric"),))
    m = profile(con, spec).metrics["2026-01-02"]
    assert (None, "duplicate_fraction") not in m and ("x", "unchanged_fraction") not in m
    assert m[("x", "mean")] == pytest.approx(5.0)


def test_monitor_family_of_duckdb_types():
    from slocompile.monitors.runner import monitor_family
    assert [monitor_family(t) for t in ("BIGINT", "DECIMAL(18,2)", "VARCHAR", "BOOLEAN", "TIMESTAMP_S", "DATE",
                                   "ENUM('a', 'b')", "INTERVAL", "VARCHAR[]", "STRUCT(a INTEGER)", "BLOB")] == [
        "numeric", "numeric", "string", "boolean", "timestamp", "timestamp", "categorical", None, None, None, None]


def test_backtest_window_and_history_out(con):
    from slocompile.monitors import History, detect_range
    h = History()
    alerts = detect_range(con, "raw.t", "ds", ["id"], [("x", "numeric"), ("c", "categorical")], start="2026-01-02",
                      end=D2, history_out=h)
    assert alerts == []                       # two partitions: far too little history to alert
    assert h.partitions == ["2026-01-01", "2026-01-02"] and h.table == "t"
