"""Learned normal bands for one metric series: pure numpy, no I/O.

The band of a new value is predicted from the metric's clean history (partitions that did not
alert) by a robust model

    y(t) = level + slope * (t - t_new) + weekday_effect[weekday(t)] + noise

fitted with medians only (Theil-Sen slope, per-weekday medians of the detrended residuals, MAD
noise scale), so a few outliers in the history move nothing. Values are first mapped to a scale
on which a change of one unit means the same everywhere (see ``Scale``): proportions by the
arcsine-root (Cohen's h), counts and spreads by logarithms, locations in units of the column's
within-partition spread. A new value is anomalous when it lies further from the prediction than
both ``z`` robust standard deviations (statistically surprising) and the scale's materiality floor
(large enough to matter): one global set of settings, no per-column thresholds.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Settings:
    """The one global set of monitor settings."""
    min_history: int = 14       # clean partitions needed before a metric may alert
    window: int = 28            # most recent clean partitions that form the baseline
    z: float = 5.0              # robust z a change must exceed ...
    floor_prop: float = 0.2     # ... and Cohen's h for proportions (0% -> 1%, 50% -> 60%)
    floor_log: float = math.log(2.0)  # ... and log ratio for counts and spreads (x2 or /2)
    floor_volume: float = math.log(1 / 0.72)  # ... and log ratio for a drop of the row count (28% fewer)
    floor_location: float = 0.8       # ... and shift in within-partition standard deviations
    #                             (drift: the Jensen-Shannon of a normal shifted that far)
    floor_shares: float = 0.05        # ... and Cohen's h of mass moved between two categories
    #                             (a fifth of a 25% category recoded as another: 0.12; a campaign
    #                             growing one category by half shrinks the next largest by < 0.05)
    drift_window: int = 7       # clean partitions pooled as the drift reference
    range_window: int = 28      # partitions whose min/max medians form the historical range
    persist: int = 3            # consecutive alerts after which a new level is accepted as normal
    seasonal_gain: float = 0.8  # seasonal profile kept only if it cuts the noise scale below this
    period: int = 7             # the seasonal cycle in partitions: weekdays of daily partitions, or
    #                             the hours of the day of hourly ones (``settings_for``)
    weekly: bool = False        # hourly: weekday effects on top of the daily cycle (two weeks of history)
    sensitivity: float = 1.0    # the factor z and the floors were divided by (``sensitive``)
    # per column (by name) its own sensitivity, overriding the table's (``for_column``)
    columns: tuple[tuple[str, float], ...] = ()


DEFAULT = Settings()
# hourly partitions: a daily cycle of 24 and a weekly one (weekday effects on top of the hours);
# two weeks of history before alerting and as the baseline, as for daily partitions (two of each
# weekday: a first weekend judged by the weekdays alone would be taken for a fault, then for a new
# level, cutting the history the weekly cycle is learned from)
HOURLY = Settings(period=24, window=14 * 24, min_history=14 * 24, drift_window=24, range_window=7 * 24, weekly=True)


def sensitive(settings: Settings, factor: float, columns: dict[str, float] | None = None) -> Settings:
    """A table's `sensitivity`: the z a change must exceed and every materiality floor divided by
    ``factor`` (2: changes half as large alert; 0.5: only changes twice as large), instead of the
    factor ``settings`` had; ``columns``: a factor per column of its own (``for_column``)."""
    rel = factor / settings.sensitivity
    extra = {"columns": tuple(sorted(columns.items()))} if columns is not None else {}
    if rel == 1.0 and not extra:
        return settings
    scaled = {k: getattr(settings, k) / rel for k in
              ("z", "floor_prop", "floor_log", "floor_volume", "floor_location", "floor_shares")}
    return Settings(**{**settings.__dict__, **scaled, "sensitivity": factor, **extra})


def for_column(settings: Settings, column: str | None) -> Settings:
    """The settings a column's metrics are judged with: its own sensitivity when it declares one
    (a segment's pseudo-column "age [country=BR]" takes age's), else the table's."""
    if not settings.columns or column is None:
        return settings
    factor = dict(settings.columns).get(column.split(" [", 1)[0])
    return settings if factor is None else sensitive(settings, factor)


def settings_for(grain: str | None, partitions: Sequence[str] = (), base: Settings = DEFAULT) -> Settings:
    """The settings of a table: its declared time grain (``partition: {granularity: hour}``) or,
    without one, the spacing of its partitions (timestamps an hour apart) decide the cycle:
    hours a daily and a weekly one, days a weekly one, weeks and months none (level and trend
    only: a yearly cycle would need years of history)."""
    if grain is None and len(partitions) >= 2 and all(len(p) > 10 for p in partitions[-3:]):
        ts = sorted(dt.datetime.fromisoformat(p) for p in partitions[-50:])
        gaps = [(b - a).total_seconds() for a, b in zip(ts, ts[1:]) if b > a]
        grain = "hour" if gaps and min(gaps) <= 3600 else None
    if grain in ("week", "month"):
        return replace(base, period=1)
    if grain != "hour":
        return base
    return Settings(**{**base.__dict__, **{k: getattr(HOURLY, k) for k in
                                           ("period", "window", "min_history", "drift_window", "range_window",
                                            "weekly")}})


# ----------------------------------------------------------------------------- scales

class Scale:
    """Maps a metric's values to the scale on which bands are fitted, and back."""
    kind = "identity"
    floor_up: float | None = None  # a rise's floor when it differs from a fall's

    def __init__(self, floor: float):
        self.floor = floor

    def fwd(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float)

    def inv(self, y: float) -> float:
        return float(y)


class DistanceScale(Scale):
    """Distances between distributions: used as they are, never below 0."""
    kind = "distance"

    def inv(self, y: float) -> float:
        return float(max(y, 0.0))


class PropScale(Scale):
    """Cohen's h: 2 asin(sqrt(p)); equal steps are equally detectable at any base rate."""
    kind = "prop"

    def fwd(self, x):
        return 2.0 * np.arcsin(np.sqrt(np.clip(np.asarray(x, dtype=float), 0.0, 1.0)))

    def inv(self, y):
        return float(math.sin(min(max(y, 0.0), math.pi) / 2.0) ** 2)


class LogScale(Scale):
    """Counts, spreads: log(x + eps); eps keeps zero finite (a collapse to zero is a huge drop)."""
    kind = "log"

    def __init__(self, floor: float, eps: float):
        super().__init__(floor)
        self.eps = eps

    def fwd(self, x):
        return np.log(np.maximum(np.asarray(x, dtype=float), 0.0) + self.eps)

    def inv(self, y):
        return float(max(math.exp(min(y, 700.0)) - self.eps, 0.0))


class UnitScale(Scale):
    """Locations in units of the column's typical within-partition spread."""
    kind = "location"

    def __init__(self, floor: float, unit: float):
        super().__init__(floor)
        self.unit = unit

    def fwd(self, x):
        return np.asarray(x, dtype=float) / self.unit

    def inv(self, y):
        return float(y * self.unit)


# ----------------------------------------------------------------------------- robust fit

def _med(a) -> float:
    """Median of a 1-d array (np.median's overhead dominates on the short series used here)."""
    s = np.sort(np.asarray(a, dtype=float).ravel())
    n = s.size
    if n == 0:
        return math.nan
    m = n // 2
    return float(s[m]) if n % 2 else 0.5 * float(s[m - 1] + s[m])


@lru_cache(maxsize=256)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


def theil_sen(t: np.ndarray, y: np.ndarray) -> float:
    """Median of pairwise slopes (0 when fewer than 3 pairs with distinct times)."""
    i, j = _pairs(len(t))
    dt = t[j] - t[i]
    ok = dt != 0
    if ok.sum() < 3:
        return 0.0
    return float(_med((y[j][ok] - y[i][ok]) / dt[ok]))


def mad_sd(r: np.ndarray) -> float:
    if len(r) == 0:
        return 0.0
    return float(MAD_TO_SD * _med(np.abs(r - _med(r))))


def group_medians(values: np.ndarray, groups: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` per group 0..k-1 (0 for empty groups) and the group sizes, vectorised."""
    counts = np.bincount(groups, minlength=k)
    order = np.lexsort((values, groups))
    v = values[order]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    med = np.zeros(k)
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    med[has] = (v[lo] + v[hi]) / 2.0
    return med, counts


@dataclass
class Fit:
    pred: float          # predicted value at the new partition (transformed scale)
    sd: float            # prediction standard deviation (transformed scale)
    n: int               # clean points used
    slope: float
    seasonal: bool
    t_new: float = 0.0
    wd_new: int = 0
    season: np.ndarray | None = None   # effects of the cycle's positions (used when seasonal)
    extra_sd: float = 0.0  # today's own sampling error: widens the decision, not the shown band
    period: int = 7        # positions in the cycle: a seasonal group is ``day * period + position``
    week: np.ndarray | None = None  # hourly partitions: weekday effects on top of the daily cycle

    def effect(self, wd) -> np.ndarray:
        """The seasonal part of the model at seasonal groups ``wd`` (0 when not seasonal)."""
        wd = np.asarray(wd, dtype=int)
        out = np.zeros(wd.shape)
        if self.seasonal:
            assert self.season is not None
            out = out + self.season[wd % self.period]
        if self.week is not None:
            out = out + self.week[wd // self.period]
        return out

    def at(self, t: np.ndarray, wd: np.ndarray | None) -> np.ndarray:
        """The fitted model at other times (e.g. to measure a level change after them)."""
        t = np.asarray(t, dtype=float)
        base = self.pred - float(self.effect(self.wd_new))
        out = base + self.slope * (t - self.t_new)
        if wd is not None:
            out = out + self.effect(wd)
        return out


def _fit_once(t, y, factors: list[tuple[np.ndarray, int]], t_new):
    """Level, slope and the effects of each seasonal factor (groups, size), by backfitting medians."""
    seasons = [np.zeros(k) for _, k in factors]
    counts = [np.bincount(g, minlength=k) for g, k in factors]

    def others(skip: int):
        return sum((seasons[i][g] for i, (g, _) in enumerate(factors) if i != skip), np.zeros(len(y)))

    slope = level = 0.0
    for _ in range(3 if factors else 1):
        z = y - others(-1)
        slope = theil_sen(t, z)
        level = float(_med(z - slope * (t - t_new)))
        for j, (g, k) in enumerate(factors):
            r = y - level - slope * (t - t_new) - others(j)
            new, _ = group_medians(r, g, k)
            present = counts[j] >= 2
            new[~present] = 0.0
            if present.any():
                new[present] -= _med(new[present])
            seasons[j] = new
    resid = y - (level + slope * (t - t_new) + others(-1))
    return level, slope, seasons, counts, resid


def fit(t: np.ndarray, y: np.ndarray, wd: np.ndarray | None, t_new: float, wd_new: int | None,
        settings: Settings = DEFAULT) -> Fit:
    """Robust prediction of the value at ``t_new`` from clean points (t, y, seasonal group).

    The seasonal group is the position in the cycle (weekday, or hour of the day), plus for hourly
    partitions ``weekday * 24``: their weekday effects are tried on top of the daily cycle once two
    weeks of history hold every hour (``Settings.weekly``). Each part is kept only if it cuts the
    noise scale below ``seasonal_gain`` of the model without it."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(y)
    k = settings.period
    level, slope, _s, _c, resid = _fit_once(t, y, [], t_new)
    sd = mad_sd(resid)
    season, week, counts, wcounts, seasonal = np.zeros(k), None, np.zeros(k, dtype=int), None, False
    if wd is not None and wd_new is not None and n >= 2 * k:
        wd = np.asarray(wd, dtype=int)
        pos, pos_new = wd % k, wd_new % k
        l2, s2, (season2,), (counts2,), r2 = _fit_once(t, y, [(pos, k)], t_new)
        sd2 = mad_sd(r2)
        if sd2 < settings.seasonal_gain * sd and counts2[pos_new] >= 2:
            level, slope, season, counts, resid, sd, seasonal = l2, s2, season2, counts2, r2, sd2, True
        day, day_new = wd // k, wd_new // k
        if settings.weekly and n >= 14 * k and int(np.sum(day == day_new)) >= 2 * k:
            l3, s3, effects, sizes, r3 = _fit_once(t, y, ([(pos, k)] if seasonal else []) + [(day, 7)], t_new)
            sd3 = mad_sd(r3)
            if sd3 < settings.seasonal_gain * sd:
                level, slope, resid, sd, week, wcounts = l3, s3, r3, sd3, effects[-1], sizes[-1]
                if seasonal:
                    season, counts = effects[0], sizes[0]
    pos_new = (wd_new or 0) % k
    pred = level + (season[pos_new] if seasonal else 0.0)
    # out-of-sample inflation: the level/slope and the seasonal medians are estimates too
    infl = 1.0 + 4.0 / max(n, 1) + (1.57 / counts[pos_new] if seasonal else 0.0)
    if week is not None and wcounts is not None:
        day_new = (wd_new or 0) // k
        pred += week[day_new]
        infl += 1.57 / wcounts[day_new]
    return Fit(pred=float(pred), sd=float(sd * math.sqrt(infl)), n=n, slope=float(slope), seasonal=seasonal,
               t_new=float(t_new), wd_new=int(wd_new or 0), season=season, period=k, week=week)


@dataclass
class Verdict:
    alert: bool
    direction: int       # +1 rose, -1 fell, 0 inside
    lo: float            # band in the metric's own units
    hi: float
    expected: float      # predicted value in the metric's own units
    score: float         # deviation in an alerting direction / allowed deviation (>1: outside)
    half: float = 0.0    # allowed deviation (transformed scale)


def judge(fitted: Fit, scale: Scale, value: float, direction: str, settings: Settings = DEFAULT) -> Verdict:
    """Is ``value`` outside the band? ``direction``: both | up | down.

    Outside means further from the prediction than both ``z`` prediction standard deviations
    (including today's own sampling error, ``extra_sd``) and the scale's materiality floor. The
    band reported (lo, hi) is the history's: prediction +- max(z sd, floor)."""
    y = float(scale.fwd(np.array([value]))[0]) if math.isfinite(value) else math.copysign(1e300, value)
    dev = y - fitted.pred
    floor = scale.floor_up if dev > 0 and scale.floor_up is not None else scale.floor
    half = max(settings.z * math.hypot(fitted.sd, fitted.extra_sd), floor)
    shown = max(settings.z * fitted.sd, floor)
    up_ok = direction in ("both", "up")
    down_ok = direction in ("both", "down")
    signed = max(dev if up_ok else -math.inf, -dev if down_ok else -math.inf)
    out = signed > half
    return Verdict(alert=bool(out), direction=(1 if dev > 0 else -1) if out else 0,
                   lo=scale.inv(fitted.pred - shown), hi=scale.inv(fitted.pred + shown),
                   expected=scale.inv(fitted.pred), score=signed / half if half > 0 else math.inf, half=half)
