"""Shares moved between existing categories (monitors.shares): recodings alert, natural mixes do not."""
import datetime as dt

import numpy as np
import pytest

from slocompile.monitors.bands import DEFAULT
from slocompile.monitors.detect import judge_partition
from slocompile.monitors.history import History

START = dt.date(2026, 1, 5)  # a Monday
BASE = {"US": 0.27, "IN": 0.14, "BR": 0.10, "DE": 0.08, "GB": 0.07, "FR": 0.06, "JP": 0.06, "MX": 0.05,
        "CA": 0.05, "ES": 0.04, "IT": 0.04, "KR": 0.04}


def _day(i: int) -> str:
    return (START + dt.timedelta(days=i)).isoformat()


def _counts(shares: dict[str, float], rng, n: int = 8000) -> dict:
    keys = list(shares)
    p = np.array([shares[k] for k in keys])
    drawn = rng.multinomial(n, p / p.sum())
    top = {k: int(c) for k, c in zip(keys, drawn) if c}
    return {"top": top, "nonnull": int(sum(top.values()))}


def _replay(shares_of_day, days: int = 50, seed: int = 0) -> dict[int, list[str]]:
    """Judge `days` partitions of a categorical column; {day: metrics alerting on the column}."""
    rng = np.random.default_rng(seed)
    history = History(table="t")
    out = {}
    for i in range(days):
        summary = _counts(shares_of_day(i), rng)
        metrics = {(None, "row_count"): 8000.0, ("country", "missing_fraction"): 0.0}
        j = judge_partition(history, _day(i), metrics, {"country": summary}, DEFAULT)
        history.record(j)
        out[i] = [a["metric"] for a in j.alerts]
    return out


def _recoded(shares: dict[str, float], frac: float, src: str = "US", dst: str = "IN") -> dict[str, float]:
    out = dict(shares)
    out[src] -= frac * shares[src]
    out[dst] += frac * shares[src]
    return out


@pytest.mark.parametrize("frac", [0.4, 0.25])
def test_a_share_recoded_into_another_category_alerts(frac):
    alerts = _replay(lambda i: _recoded(BASE, frac) if i == 40 else BASE)
    assert "share_shift" in alerts[40]
    assert not any(alerts[i] for i in alerts if i != 40)


def test_campaigns_launches_and_weekday_mixes_stay_quiet():
    def campaign(i):  # one country's weight x1.6 for five days: every other share shrinks in proportion
        return dict(BASE, BR=BASE["BR"] * (1.6 if 38 <= i < 43 else 1.0))

    def launch(i):  # a new category ramping up to 18% over 20 days: the others shrink in proportion
        share = 0.18 * min(1.0, max(0, i - 30) / 20)
        return {**{k: v * (1 - share) for k, v in BASE.items()}, **({"NL": share} if share else {})}

    def weekly(i):  # weekends: more US, fewer IN, every week
        return _recoded(BASE, 0.3, "IN", "US") if (START + dt.timedelta(days=i)).weekday() >= 5 else BASE

    for pattern in (campaign, launch, weekly):
        alerts = _replay(pattern, days=60)
        assert not [i for i, a in alerts.items() if "share_shift" in a], pattern.__name__


def test_a_recoding_that_lasts_keeps_alerting_until_accepted():
    from slocompile.monitors.history import Acceptance

    rng = np.random.default_rng(1)
    history = History(table="t")
    flagged = []
    for i in range(50):
        if i == 45:
            history.acceptances = [Acceptance("country", "share_shift", _day(40), "intended", "ana")]
        summary = _counts(_recoded(BASE, 0.4) if i >= 40 else BASE, rng)
        j = judge_partition(history, _day(i), {(None, "row_count"): 8000.0}, {"country": summary}, DEFAULT)
        history.record(j)
        flagged += [i] if any(a["metric"] == "share_shift" for a in j.alerts) else []
    assert flagged == [40, 41, 42, 43, 44]   # never the new normal by itself; accepted from day 45 on
    assert [e["event"] for e in history.events] == ["open", "recover"]
