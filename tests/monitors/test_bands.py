"""The learned band: robust fit (seasonality, trend, outliers), floors, history rules."""
import datetime as dt
import math

import numpy as np
import pytest

from slocompile.monitors.bands import (
    DEFAULT,
    LogScale,
    PropScale,
    Settings,
    UnitScale,
    fit,
    for_column,
    judge,
    sensitive,
    settings_for,
)
from slocompile.monitors.detect import _clean, judge_partition
from slocompile.monitors.history import History

START = dt.date(2026, 1, 5)  # a Monday


def day(i: int) -> str:
    return (START + dt.timedelta(days=i)).isoformat()


class Replay:
    """Feed one metric dict per day through judge_partition + History.record."""

    def __init__(self, settings=DEFAULT):
        self.history = History(table="t")
        self.settings = settings
        self.i = 0

    def step(self, metrics: dict, summaries: dict | None = None):
        j = judge_partition(self.history, day(self.i), metrics, summaries or {}, self.settings)
        self.history.record(j)
        self.i += 1
        return j.alerts


def _series(n, f, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    wd = (np.arange(n) % 7).astype(int)  # day 0 is a Monday
    y = np.array([f(i) for i in range(n)]) + rng.normal(0, noise, n)
    return t, wd, y


def test_weekly_seasonality_is_learned():
    t, wd, y = _series(28, lambda i: 10.0 + (3.0 if i % 7 >= 5 else 0.0), noise=0.1)
    saturday = fit(t, y, wd, 33.0, 5)   # day 33 is a Saturday
    tuesday = fit(t, y, wd, 29.0, 1)
    assert saturday.seasonal and tuesday.seasonal
    assert saturday.pred == pytest.approx(13.0, abs=0.2)
    assert tuesday.pred == pytest.approx(10.0, abs=0.2)
    assert saturday.sd < 0.5


def test_no_seasonality_without_weekly_pattern():
    t, wd, y = _series(28, lambda i: 10.0, noise=1.0, seed=3)
    assert not fit(t, y, wd, 28.0, 0).seasonal


def test_slow_trend_is_extrapolated():
    t, wd, y = _series(28, lambda i: 100.0 + 2.0 * i, noise=0.5, seed=1)
    f = fit(t, y, wd, 28.0, 0)
    assert f.pred == pytest.approx(156.0, abs=1.0)
    assert f.slope == pytest.approx(2.0, abs=0.1)


def test_outliers_in_history_move_nothing():
    t, wd, y = _series(28, lambda i: 5.0, noise=0.2, seed=2)
    clean = fit(t, y, wd, 28.0, 0)
    y[[3, 11, 20]] = [500.0, -300.0, 900.0]
    dirty = fit(t, y, wd, 28.0, 0)
    assert abs(dirty.pred - 5.0) < 0.25 and abs(clean.pred - 5.0) < 0.25   # noise sd is 0.2
    assert dirty.sd < 2 * clean.sd


def test_floor_keeps_immaterial_but_significant_changes_quiet():
    t, wd, _ = _series(28, lambda i: 0.0)
    scale = PropScale(DEFAULT.floor_prop)
    y = scale.fwd(np.full(28, 0.020) + np.random.default_rng(0).normal(0, 1e-4, 28))
    f = fit(t, y, wd, 28.0, 0)
    tiny = judge(f, scale, 0.026, "both")     # 30 sd away, but 0.6 percentage points
    big = judge(f, scale, 0.47, "both")
    assert not tiny.alert and tiny.score < 1
    assert big.alert and big.direction == 1
    assert big.lo < 0.02 < big.hi


def test_direction_limits_alerts():
    t, wd, _ = _series(28, lambda i: 0.0)
    scale = PropScale(DEFAULT.floor_prop)
    f = fit(t, scale.fwd(np.full(28, 0.5)), wd, 28.0, 0)
    assert not judge(f, scale, 0.0, "up").alert
    assert judge(f, scale, 0.0, "both").alert


def test_log_and_unit_scales_round_trip():
    s = LogScale(math.log(2), 1.0)
    assert s.inv(float(s.fwd(np.array([99.0]))[0])) == pytest.approx(99.0)
    u = UnitScale(1.0, 4.0)
    assert u.inv(float(u.fwd(np.array([10.0]))[0])) == pytest.approx(10.0)


def _missing(i, value=0.02):
    return {(None, "row_count"): 1000.0 + (i % 3), ("age", "missing_fraction"): value + 0.001 * (i % 5)}


def test_minimum_history_before_alerting():
    r = Replay(Settings(min_history=14))
    for i in range(13):
        r.step(_missing(i))
    assert r.step(_missing(13, 0.6)) == []           # 13 partitions of history: no verdict yet
    r = Replay(Settings(min_history=14))
    for i in range(14):
        r.step(_missing(i))
    alerts = r.step(_missing(14, 0.6))
    assert [(a["column"], a["metric"]) for a in alerts] == [("age", "missing_fraction")]


def test_alerted_partition_is_kept_out_and_recovery_is_quiet():
    r = Replay()
    for i in range(30):
        r.step(_missing(i))
    fault = r.step(_missing(30, 0.47))
    assert [a["metric"] for a in fault] == ["missing_fraction"]
    assert fault[0]["partition"] == day(30)
    assert "missing fraction of age rose from" in fault[0]["message"]
    assert r.step(_missing(31)) == []                 # the day after: back to normal, no alert
    # the faulty day is not part of any later baseline
    for i in range(32, 40):
        assert r.step(_missing(i)) == []
    clean = _clean(r.history, r.history.before(day(40)), "age", DEFAULT)
    assert day(30) not in clean and day(31) in clean


def test_table_alert_keeps_partition_out_of_column_baselines():
    r = Replay()
    for i in range(20):
        r.step(_missing(i))
    alerts = r.step({(None, "row_count"): 100.0, ("age", "missing_fraction"): 0.02})
    assert [a["metric"] for a in alerts] == ["row_count"]
    assert day(20) not in _clean(r.history, r.history.before(day(21)), "age", DEFAULT)


def test_lasting_level_change_becomes_normal():
    r = Replay()
    for _ in range(30):
        r.step({(None, "row_count"): 1000.0})
    out = [bool(r.step({(None, "row_count"): 400.0})) for _ in range(8)]
    assert out[:2] == [True, True]                  # alerts while it may still be a fault
    assert not any(out[2:])                         # then the new volume is normal
    assert r.history.regimes[(None, "row_count")] == day(30)
    assert r.step({(None, "row_count"): 1000.0}) == []   # and the old level is no alert
    assert (None, "row_count") not in r.history.regimes


def test_lasting_fault_never_becomes_normal():
    """A NULL-filled share of a column is a fault however long it lasts: every partition alerts,
    in one incident that opens once and recovers once."""
    r = Replay()
    for _ in range(30):
        r.step({("s", "missing_fraction"): 0.02})
    held = [r.step({("s", "missing_fraction"): 0.30}) for _ in range(7)]
    assert all(held)                                 # marked on all 7 partitions
    assert len({a["incident"] for alerts in held for a in alerts}) == 1
    assert not r.history.regimes
    assert r.step({("s", "missing_fraction"): 0.02}) == []
    events = [(e["event"], e["partition"], e["partitions"]) for e in r.history.events]
    assert events == [("open", day(30), 1), ("recover", day(37), 7)]


def test_faults_on_consecutive_days_are_no_new_level():
    r = Replay()
    for _ in range(30):
        r.step({("s", "missing_fraction"): 0.02})
    out = [bool(r.step({("s", "missing_fraction"): v})) for v in (0.3, 0.9, 0.5, 0.99)]
    assert out == [True, True, True, True]
    assert not r.history.regimes


def _numeric_day(rng, mu, with_bins, edges):
    x = rng.normal(mu, 1, 4000)
    q = np.quantile(x, np.linspace(0.1, 0.9, 9))
    m = {(None, "row_count"): 4000.0, ("x", "mean"): float(x.mean()), ("x", "std"): float(x.std()),
         ("x", "spread"): float(q[8] - q[0]), ("x", "missing_fraction"): 0.0}
    s = {"x": {"deciles": q.tolist()}}
    if with_bins:
        s["x"]["bins"] = np.histogram(x, [-np.inf, *edges, np.inf])[0].tolist()
    return m, s


@pytest.mark.parametrize("shift", [1.5, -2.0, 3.0])
def test_lasting_distribution_shift_settles(shift):
    rng = np.random.default_rng(0)
    edges = list(np.quantile(rng.normal(0, 1, 100000), np.linspace(0.1, 0.9, 9)))
    r = Replay()
    alerted = []
    for i in range(80):
        alerts = r.step(*_numeric_day(rng, shift if i >= 40 else 0.0, i >= 14, edges))
        if alerts:
            alerted.append(i)
    assert alerted == [40, 41]          # a retrained model: two days of alerts, then the new normal


def test_category_launch_settles_and_rename_is_caught():
    r = Replay()
    base = {"web": 400, "ios": 350, "android": 250}

    def day_(top):
        n = sum(top.values())
        return {(None, "row_count"): float(n), ("d", "missing_fraction"): 0.0}, {"d": {"top": top, "nonnull": n}}

    for _ in range(30):
        assert r.step(*day_(base)) == []
    renamed = r.step(*day_({"web": 400, "IOS": 350, "android": 250}))
    assert {a["metric"] for a in renamed} >= {"new_category_fraction", "vanished_category_fraction"}
    assert all("largest moves: 'IOS' 0% -> 35%, 'ios' 35% -> 0%" in a["message"] for a in renamed)
    assert len({a["incident"] for a in renamed}) == 1
    assert r.step(*day_(base)) == []                     # fixed the next day: quiet
    launched = dict(base, tv=300)
    out = [bool(r.step(*day_(launched))) for _ in range(10)]
    assert out == [True, True] + [False] * 8             # a big launch: two days, then normal


def _hour(i: int) -> str:
    return (dt.datetime(2026, 3, 2) + dt.timedelta(hours=i)).isoformat(sep=" ")


def _hourly_rows(i: int) -> float:
    """Rows of hour i: a daily cycle (nights a third of the afternoons) with a little noise."""
    return 1000.0 * (1.0 + 0.5 * math.sin(2 * math.pi * (i % 24) / 24)) * (1 + 0.01 * ((i * 7919) % 5 - 2))


def test_hourly_partitions_learn_a_daily_cycle():
    settings = settings_for(None, [_hour(0), _hour(1), _hour(2)])   # read from the spacing
    assert settings.period == 24 and settings_for("hour").period == 24 and settings_for("day") == DEFAULT
    assert settings_for(None, [day(0), day(1)]) == DEFAULT
    history = History(table="t")
    alerts = {}
    for i in range(24 * 16):
        rows = _hourly_rows(i) * (0.5 if i == 24 * 15 + 6 else 1.0)   # half of the busiest hour missing
        j = judge_partition(history, _hour(i), {(None, "row_count"): rows}, {}, settings)
        history.record(j)
        alerts[i] = j.alerts
    assert [i for i, a in alerts.items() if a] == [24 * 15 + 6]     # the cycle itself is normal
    # judged with the weekly settings, the cycle is noise: a band that wide misses the missing half
    history = History(table="t")
    found = []
    for i in range(24 * 16):
        rows = _hourly_rows(i) * (0.5 if i == 24 * 15 + 6 else 1.0)
        j = judge_partition(history, _hour(i), {(None, "row_count"): rows}, {}, DEFAULT)
        history.record(j)
        found += [i] if j.alerts else []
    assert 24 * 15 + 6 not in found


@pytest.mark.parametrize("factor,alerts", [(1.0, False), (2.0, True), (0.5, False)])
def test_sensitivity_scales_what_is_detectable(factor, alerts):
    """2% -> 5% missing (Cohen's h 0.17) is below the default floor (0.2); twice as sensitive, it alerts."""
    settings = sensitive(DEFAULT, factor)
    assert settings.z == DEFAULT.z / factor and settings.floor_prop == DEFAULT.floor_prop / factor
    r = Replay(settings)
    for i in range(30):
        assert r.step(_missing(i)) == []
    assert bool(r.step(_missing(30, 0.05))) is alerts


def test_a_columns_sensitivity_overrides_the_tables():
    """age declares `sensitivity: 2`, income nothing: the same 2% -> 5% rise alerts on age (and on
    age's segments) only; a column declaring `low` on a `high` table is judged as low."""
    def metrics(i, value=0.02):
        return {(None, "row_count"): 1000.0 + (i % 3),
                **{(c, "missing_fraction"): value + 0.001 * (i % 5) for c in ("age", "income", "age [country=BR]")}}

    settings = sensitive(DEFAULT, 1.0, {"age": 2.0})
    assert for_column(settings, "age").z == DEFAULT.z / 2 and for_column(settings, "income") is settings
    r = Replay(settings)
    for i in range(30):
        assert r.step(metrics(i)) == []
    assert sorted(a["column"] for a in r.step(metrics(30, 0.05))) == ["age", "age [country=BR]"]
    low_on_high = sensitive(DEFAULT, 1.4, {"age": 0.7})
    assert low_on_high.z == DEFAULT.z / 1.4
    assert for_column(low_on_high, "age").z == pytest.approx(DEFAULT.z / 0.7)
    assert for_column(low_on_high, "age").floor_prop == pytest.approx(DEFAULT.floor_prop / 0.7)


def _weekly_hourly_rows(i: int) -> float:
    """Rows of hour i: the daily cycle of ``_hourly_rows``, and weekends (days 5, 6 of each week:
    2026-03-02 is a Monday) with 40% fewer rows."""
    return _hourly_rows(i) * (0.6 if (i // 24) % 7 >= 5 else 1.0)


def _replay_hours(settings, hours: int, fault: int | None = None) -> list[int]:
    history = History(table="t")
    found = []
    for i in range(hours):
        rows = _weekly_hourly_rows(i) * (0.7 if i == fault else 1.0)
        j = judge_partition(history, _hour(i), {(None, "row_count"): rows}, {}, settings)
        history.record(j)
        found += [i] if j.alerts else []
    return found


def test_hourly_partitions_learn_the_weekly_cycle_on_top_of_the_daily_one():
    """Four weeks of hours with a daily cycle and quiet weekends. With two weeks of history the
    weekends are normal and a weekday hour with 30% fewer rows alerts; the daily cycle alone
    (``weekly`` off) takes the weekend for an anomaly."""
    hourly = settings_for("hour")
    assert hourly.weekly and hourly.window == 14 * 24
    fault = 24 * 23 + 15                                        # a Wednesday afternoon, week 4
    assert [i for i in _replay_hours(hourly, 24 * 28, fault) if i >= 24 * 14] == [fault]
    daily_only = Settings(**{**hourly.__dict__, "weekly": False})
    assert [i for i in _replay_hours(daily_only, 24 * 28) if i >= 24 * 14 and (i // 24) % 7 >= 5]


@pytest.mark.parametrize("grain", ["week", "month"])
def test_weekly_and_monthly_partitions_learn_level_and_trend_only(grain):
    """No seasonal cycle (the weekday of a month's first day means nothing): a growing table's
    trend is normal, half of one partition's rows missing alerts once 14 partitions are known."""
    settings = settings_for(grain)
    assert settings.period == 1 and not settings.weekly and settings.min_history == DEFAULT.min_history
    start = dt.date(2024, 1, 1)
    parts = [(start + dt.timedelta(weeks=i)).isoformat() if grain == "week" else
             dt.date(2024 + i // 12, 1 + i % 12, 1).isoformat() for i in range(24)]
    history = History(table="t")
    found = []
    for i, p in enumerate(parts):
        rows = 1000.0 * 1.02 ** i * (1 + 0.01 * ((i * 7919) % 5 - 2)) * (0.5 if i == 20 else 1.0)
        j = judge_partition(history, p, {(None, "row_count"): rows}, {}, settings)
        history.record(j)
        found += [i] if j.alerts else []
    assert found == [20]
