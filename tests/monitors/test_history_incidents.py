"""History persistence and incident grouping / messages."""
import datetime as dt

from slocompile.monitors.detect import judge_partition
from slocompile.monitors.history import History
from slocompile.monitors.incidents import assign, message


def _day(i):
    return (dt.date(2026, 2, 2) + dt.timedelta(days=i)).isoformat()


def _metrics(i, missing=0.02, rows=1000.0):
    return {(None, "row_count"): rows + i % 4, ("age", "missing_fraction"): missing,
            ("age", "mean"): 40.0 + (i % 3) * 0.1, ("age", "spread"): 30.0, ("age", "std"): 12.0,
            ("city", "distinct_count"): 50.0}


def _run(h, days, **kw):
    out = []
    for i in days:
        j = judge_partition(h, _day(i), _metrics(i, **kw) if i != 25 else _metrics(i, missing=0.5),
                            {"age": {"deciles": [1.0] * 9}})
        h.record(j)
        out.append(j.alerts)
    return out


def test_rows_round_trip_and_same_verdicts():
    h = History(table="users")
    _run(h, range(26))
    rows = h.to_rows()
    assert {len(r) for r in rows["metric_rows"]} == {6}
    assert ("users", "age", "missing_fraction", _day(25), 0.5, True) in rows["metric_rows"]
    h2 = History.from_rows(**rows, table="users")
    assert h2.partitions == h.partitions and h2.values == h.values and h2.alerted == h.alerted
    assert h2.summaries == h.summaries
    a1, a2 = _run(h, [26, 27]), _run(h2, [26, 27])
    assert a1 == a2


def test_rejudging_a_partition_replaces_it():
    h = History(table="users")
    _run(h, range(20))
    j = judge_partition(h, _day(19), _metrics(19, missing=0.9), {})
    h.record(j)
    assert h.partitions.count(_day(19)) == 1
    assert h.values[("age", "missing_fraction")][_day(19)] == 0.9


def _alert(col, metric, direction="fell", score=3.0, kind="count", label=None):
    return {"partition": "2026-04-02", "table": "users", "column": col, "metric": metric,
            "check": f"monitor_{metric}", "observed": 10.0, "expected_value": 100.0, "band": [50.0, 200.0],
            "direction": direction, "score": score, "kind": kind, "label": label or metric.replace("_", " ")}


def test_row_collapse_is_one_incident_listing_each_column():
    alerts = assign([_alert(None, "row_count"), _alert("age", "distinct_count", score=9.0),
                     _alert("city", "distinct_count"), _alert("score", "mean", "rose", kind="location")])
    by = {a["incident"] for a in alerts if a["metric"] in ("row_count", "distinct_count")}
    assert len(by) == 1
    lead = next(a for a in alerts if a["metric"] == "row_count")
    assert lead["cause"] == "row count fell" and lead["incident_columns"] == ["age", "city"]
    other = next(a for a in alerts if a["metric"] == "mean")
    assert other["incident"] not in by and other["cause"] == "mean of score rose"


def test_same_change_on_many_columns_is_one_incident():
    alerts = assign([_alert(c, "missing_fraction", "rose", kind="prop", label="missing fraction")
                     for c in ("a", "b", "c")])
    assert len({a["incident"] for a in alerts}) == 1
    assert alerts[0]["cause"] == "missing fraction of each rose on 3 columns"
    assert [a["column"] for a in alerts] == ["a", "b", "c"]


def test_message_says_what_changed():
    a = _alert("age", "missing_fraction", "rose", kind="prop", label="missing fraction")
    a.update(observed=0.47, expected_value=0.021, band=[0.016, 0.026])
    assert message(a) == "missing fraction of age rose from 2.1% to 47% on 2026-04-02 (normal 1.6%–2.6%)"


def test_a_segments_message_names_the_segment():
    """Segments' metrics are kept under pseudo-columns ("age [country=BR]", "country=BR" for the
    row count); the message names the column and the segment in words."""
    a = _alert("age [country=BR]", "missing_fraction", "rose", kind="prop", label="missing fraction")
    a.update(observed=0.35, expected_value=0.01, band=[0.005, 0.02])
    assert message(a) == ("missing fraction of age in country=BR rose from 1% to 35% on 2026-04-02 "
                          "(normal 0.5%–2%)")
    rows = _alert("country=BR", "row_count", "fell", kind="count", label="row count")
    rows.update(observed=400.0, expected_value=1000.0, band=[800.0, 1200.0])
    assert message(rows).startswith("row count in country=BR fell from 1,000 to 400 on 2026-04-02")
    mean = _alert("spend [plan=pro]", "mean", "rose", kind="location", label="mean")
    mean.update(observed=12.0, expected_value=10.0, band=[9.0, 11.0])
    assert message(mean).startswith("mean of spend in plan=pro rose from 10 to 12")
