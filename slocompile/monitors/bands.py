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

import math
from dataclasses import dataclass

import numpy as np

MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Settings:
    """The one global set of monitor settings."""
    min_history: int = 14       # clean partitions needed before a metric may alert
    window: int = 28            # most recent clean partitions that form the baseline
    z: float = 5.0              # robust z a change must exceed ...
    floor_prop: float = 0.2     # ... and Cohen's h for proportions (0% -> 1%, 50% -> 60%)
    floor_log: float = math.log(1.5)  # ... and log ratio for counts and spreads (x1.5 or /1.5)
    floor_location: float = 1.0       # ... and shift in within-partition standard deviations
    floor_psi: float = 0.25     # ... and population stability index (the usual "major shift")
    floor_linf: float = 0.1     # ... and L-infinity distance between category shares
    drift_window: int = 7       # clean partitions pooled as the drift reference
    range_window: int = 28      # partitions whose min/max medians form the historical range
    persist: int = 3            # consecutive alerts after which a new level is accepted as normal
    seasonal_gain: float = 0.8  # weekday profile kept only if it cuts the noise scale below this


DEFAULT = Settings()


# ----------------------------------------------------------------------------- scales

class Scale:
    """Maps a metric's values to the scale on which bands are fitted, and back."""
    kind = "identity"

    def __init__(self, floor: float):
        self.floor = floor

    def fwd(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float)

    def inv(self, y: float) -> float:
        return float(y)


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

def theil_sen(t: np.ndarray, y: np.ndarray) -> float:
    """Median of pairwise slopes (0 when fewer than 3 distinct times)."""
    i, j = np.triu_indices(len(t), k=1)
    dt = t[j] - t[i]
    ok = dt != 0
    if ok.sum() < 3:
        return 0.0
    return float(np.median((y[j][ok] - y[i][ok]) / dt[ok]))


def mad_sd(r: np.ndarray) -> float:
    if len(r) == 0:
        return 0.0
    return float(MAD_TO_SD * np.median(np.abs(r - np.median(r))))


@dataclass
class Fit:
    pred: float          # predicted value at the new partition (transformed scale)
    sd: float            # prediction standard deviation (transformed scale)
    n: int               # clean points used
    slope: float
    seasonal: bool


def _fit_once(t, y, wd, t_new, weekly: bool):
    season = np.zeros(7)
    counts = np.bincount(wd, minlength=7) if weekly else np.zeros(7, dtype=int)
    slope = level = 0.0
    for _ in range(3 if weekly else 1):
        z = y - season[wd]
        slope = theil_sen(t, z)
        level = float(np.median(z - slope * (t - t_new)))
        if not weekly:
            break
        r = y - level - slope * (t - t_new)
        new = np.zeros(7)
        for d in range(7):
            if counts[d] >= 2:
                new[d] = np.median(r[wd == d])
        present = counts >= 2
        if present.any():
            new[present] -= np.median(new[present])
        season = new
    resid = y - (level + slope * (t - t_new) + season[wd])
    return level, slope, season, counts, resid


def fit(t: np.ndarray, y: np.ndarray, wd: np.ndarray | None, t_new: float, wd_new: int | None,
        settings: Settings = DEFAULT) -> Fit:
    """Robust prediction of the value at ``t_new`` from clean points (t, y, weekday)."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(y)
    level, slope, season, counts, resid = _fit_once(t, y, np.zeros(n, dtype=int), t_new, False)
    sd = mad_sd(resid)
    seasonal = False
    if wd is not None and wd_new is not None and n >= 14:
        wd = np.asarray(wd, dtype=int)
        l2, s2, season2, counts2, r2 = _fit_once(t, y, wd, t_new, True)
        sd2 = mad_sd(r2)
        if sd2 < settings.seasonal_gain * sd and counts2[wd_new] >= 2:
            level, slope, season, counts, resid, sd, seasonal = l2, s2, season2, counts2, r2, sd2, True
    pred = level + (season[wd_new] if seasonal else 0.0)
    # out-of-sample inflation: the level/slope and the weekday median are estimates too
    infl = 1.0 + 4.0 / max(n, 1) + (1.57 / counts[wd_new] if seasonal else 0.0)
    return Fit(pred=float(pred), sd=float(sd * math.sqrt(infl)), n=n, slope=float(slope), seasonal=seasonal)


@dataclass
class Verdict:
    alert: bool
    direction: int       # +1 rose, -1 fell, 0 inside
    lo: float            # band in the metric's own units
    hi: float
    expected: float      # predicted value in the metric's own units
    score: float         # |deviation| / allowed deviation (>1 means outside)


def judge(fitted: Fit, scale: Scale, value: float, direction: str, settings: Settings = DEFAULT) -> Verdict:
    """Is ``value`` outside the band? ``direction``: both | up | down."""
    half = max(settings.z * fitted.sd, scale.floor)
    y = float(scale.fwd(np.array([value]))[0]) if math.isfinite(value) else math.copysign(1e300, value)
    dev = y - fitted.pred
    lo, hi = fitted.pred - half, fitted.pred + half
    up_ok = direction in ("both", "up")
    down_ok = direction in ("both", "down")
    out = (dev > half and up_ok) or (-dev > half and down_ok)
    return Verdict(alert=bool(out), direction=(1 if dev > 0 else -1) if out else 0,
                   lo=scale.inv(lo), hi=scale.inv(hi), expected=scale.inv(fitted.pred),
                   score=abs(dev) / half if half > 0 else math.inf)
