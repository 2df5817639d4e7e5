"""Partial shifts among categories: mass moved from one existing value to another, pure Python.

Whole-distribution distances (Jensen-Shannon vs trailing partitions) see a renamed category or a
unit change, but a fault that moves a fraction of the rows between *existing* values hides in the
sampling noise of every other cell. Here each cell's share (a category, or a bin of the frozen
histogram) gets its own prediction from the column's clean history (``bands.fit``: level, trend,
weekday effects), on the arcsine-root scale (Cohen's h), where one unit of deviation means the
same at every base rate. The derived metric ``share_shift`` is how much mass moved from one
category to another (h units): the smaller of the largest fall among the other categories when the
largest riser is left out, and the largest rise when the largest faller is left out. It is judged
later against its *own* history, so its band is calibrated on its own noise like every other
metric. A recoding of part of one category into another moves both; a campaign that grows one
category, or a new one ramping up, shrinks all the others in proportion (so among themselves
nothing moves), and weekday mixes are in the model.

The same on histogram bins (the largest rise of one bin) was tried for numeric floods and left
out: a natural shift of the bulk (a holiday) moves every bin, and the floods that matter are
already seen by the zero, negative and out-of-range fractions.
"""
from __future__ import annotations

import math

import numpy as np

from slocompile.checks import distances as drift
from slocompile.monitors.bands import DEFAULT, MAD_TO_SD, Settings

MAX_CELLS = 20       # categories (by reference share) predicted per column
MIN_SHARE = 0.01     # categories rarer than this in the reference are left to the drift metrics
MIN_REFS = 14        # clean partitions needed for a prediction (two of each weekday)


def _h(x: np.ndarray | float):
    return 2.0 * np.arcsin(np.sqrt(np.clip(x, 0.0, 1.0)))


def _cells(refs: list[dict[str, float]]) -> list[str]:
    mean = drift.pooled(refs)
    keys = [k for k in mean if k != drift.OTHER and mean[k] >= MIN_SHARE]
    return sorted(keys, key=lambda k: (-mean[k], k))[:MAX_CELLS]


def cell_deviations(history, column: str, summary: dict, clean: list[str], time_of, t_new: float,
                    wd_new: int | None, settings: Settings = DEFAULT,
                    start: str | None = None) -> tuple[str, dict[str, tuple[float, float, float]]]:
    """(kind, {cell: (predicted share, observed share, deviation in h)}) of one partition, vs
    predictions from the column's clean partitions ``clean`` (from ``start`` on: after an accepted
    change); ({}, when too few)."""
    kind = "top" if "top" in summary else ""
    cur = drift.shares_of(summary)
    if not kind or not cur:
        return kind, {}
    parts = [q for q in clean if start is None or q >= start]
    series = [(q, drift.shares_of(history.summaries.get(q, {}).get(column))) for q in parts]
    series = [(q, s) for q, s in series if s and kind in history.summaries[q][column]]
    if len(series) < MIN_REFS:
        return kind, {}
    t, wd = time_of([q for q, _ in series])
    cells = _cells([s for _, s in series])
    y = _h(np.array([[s.get(k, 0.0) for k in cells] for _, s in series]))
    pred = predict(t, y, wd, t_new, wd_new, settings)
    out = {}
    for k, p in zip(cells, pred):
        obs = cur.get(k, 0.0)
        out[k] = (float(math.sin(min(max(p, 0.0), math.pi) / 2.0) ** 2), obs, float(_h(obs)) - float(p))
    return kind, out


def _fit_all(t: np.ndarray, y: np.ndarray, wd: np.ndarray | None, t_new: float, period: int = 7):
    """``bands.fit``'s robust model (Theil-Sen slope, weekday medians of the detrended residuals)
    for every column of ``y`` at once: (level, slope, season [period, cells], residuals)."""
    n, k = y.shape
    i, j = np.triu_indices(n, k=1)
    dt = t[j] - t[i]
    ok = dt != 0
    i, j, dt = i[ok], j[ok], dt[ok]
    season = np.zeros((period, k))
    groups = [] if wd is None else [np.flatnonzero(wd == d) for d in range(period)]
    present = [g for g in range(len(groups)) if len(groups[g]) >= 2]
    level = slope = np.zeros(k)
    for _ in range(3 if present else 1):
        z = y - (season[wd] if wd is not None else 0.0)
        # no two partitions at different times (snapshots of builds in one second): no trend to learn
        slope = np.median((z[j] - z[i]) / dt[:, None], axis=0) if len(dt) else np.zeros(k)
        level = np.median(z - slope * (t - t_new)[:, None], axis=0)
        if not present:
            break
        r = y - level - slope * (t - t_new)[:, None]
        new = np.zeros((period, k))
        for g in present:
            new[g] = np.median(r[groups[g]], axis=0)
        new[present] -= np.median(new[present], axis=0)
        season = new
    resid = y - (level + slope * (t - t_new)[:, None] + (season[wd] if wd is not None else 0.0))
    return level, slope, season, resid


def _mad(r: np.ndarray) -> np.ndarray:
    return MAD_TO_SD * np.median(np.abs(r - np.median(r, axis=0)), axis=0)


def predict(t: np.ndarray, y: np.ndarray, wd: np.ndarray | None, t_new: float, wd_new: int | None,
            settings: Settings = DEFAULT) -> np.ndarray:
    """Each column's predicted value at ``t_new``: with weekday effects where they cut the noise
    scale below ``seasonal_gain`` of the plain trend's (as ``bands.fit`` decides per metric)."""
    t = np.asarray(t, dtype=float)
    level, _slope, _s, resid = _fit_all(t, y, None, t_new)
    if wd is not None and wd_new is not None:  # the position in the cycle (shares: no weekly cycle of hours)
        wd, wd_new = np.asarray(wd, dtype=int) % settings.period, wd_new % settings.period
    if wd is None or wd_new is None or len(t) < 2 * settings.period or int(np.sum(wd == wd_new)) < 2:
        return level
    l2, _s2, season, r2 = _fit_all(t, y, np.asarray(wd, dtype=int), t_new, settings.period)
    seasonal = _mad(r2) < settings.seasonal_gain * _mad(resid)
    return np.where(seasonal, l2 + season[wd_new], level)


def share_metrics(history, column: str, summary: dict, clean: list[str], time_of, t_new: float,
                  wd_new: int | None, settings: Settings = DEFAULT,
                  start: str | None = None) -> tuple[dict[str, float], str | None]:
    """({"share_shift": value}, detail text or None) of one column and partition."""
    kind, dev = cell_deviations(history, column, summary, clean, time_of, t_new, wd_new, settings, start)
    if not dev:
        return {}, None
    up = max(dev, key=lambda k: dev[k][2])
    down = min(dev, key=lambda k: dev[k][2])
    # mass moved between two categories: the others' shares among themselves stay put. One category
    # growing (a launch, a campaign) shrinks all the others in proportion, which leaves the largest
    # fall among the rest (the riser left out) near 0; and one shrinking leaves no rise among the rest.
    value = max(0.0, min(_beyond(dev, up, -1), _beyond(dev, down, 1)))
    moved = "; ".join(f"{k!r} {_pct(p)} -> {_pct(o)}" for k, (p, o, _d) in ((down, dev[down]), (up, dev[up])))
    return {"share_shift": value}, f"shares expected -> observed: {moved}"


def _beyond(dev: dict[str, tuple[float, float, float]], left_out: str, sign: int) -> float:
    """The largest move in direction ``sign`` (h units) of a category's share among the
    categories but ``left_out`` (shares renormalized without it, predicted and observed)."""
    rest = [k for k in dev if k != left_out]
    p_rest = sum(dev[k][0] for k in rest)
    o_rest = sum(dev[k][1] for k in rest)
    if len(rest) < 2 or p_rest <= 0 or o_rest <= 0:
        return 0.0
    return max(sign * float(_h(dev[k][1] / o_rest) - _h(dev[k][0] / p_rest)) for k in rest)


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%"
