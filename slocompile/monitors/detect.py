"""Judge one partition against the history before it: pure Python, no I/O.

``judge_partition`` is the one detection entry point, used by ``backtest`` and by incremental
builds alike. For every alertable metric it takes the metric's clean history (partitions where
neither the column nor the table alerted, unless a change was accepted as the new normal), fits a
band with ``bands.fit`` and reports values outside it. Drift metrics (PSI, Jensen-Shannon,
L-infinity, new and vanished categories) are derived here from the stored summaries of trailing
clean partitions.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from functools import lru_cache, partial

import numpy as np

from slocompile.checks import distances as drift
from slocompile.monitors.bands import (
    DEFAULT,
    DistanceScale,
    LogScale,
    PropScale,
    Scale,
    Settings,
    UnitScale,
    Verdict,
    fit,
    for_column,
    judge,
)
from slocompile.monitors.history import History, Judgement
from slocompile.monitors.incidents import assign, track
from slocompile.monitors.profile import learn_edges
from slocompile.monitors.shares import share_metrics


@dataclass(frozen=True)
class MetricInfo:
    kind: str        # prop | count | scale | location | js  (how bands and floors are set)
    direction: str   # both | up | down
    label: str       # words for messages: "<label> of <column>", or a template with {col}


METRICS: dict[str, MetricInfo] = {
    "row_count": MetricInfo("count", "both", "row count"),
    "duplicate_fraction": MetricInfo("prop", "up", "key duplicate fraction"),
    "missing_fraction": MetricInfo("prop", "both", "missing fraction"),
    "empty_fraction": MetricInfo("prop", "both", "empty-string fraction"),
    "zero_fraction": MetricInfo("prop", "both", "zero fraction"),
    "negative_fraction": MetricInfo("prop", "both", "negative fraction"),
    "true_fraction": MetricInfo("prop", "both", "true fraction"),
    "future_fraction": MetricInfo("prop", "up", "future-timestamp fraction"),
    "out_of_range_fraction": MetricInfo("prop", "up", "out-of-historical-range fraction"),
    "unchanged_fraction": MetricInfo("prop", "up", "share of {col} values unchanged since the previous partition"),
    "distinct_count": MetricInfo("count", "both", "distinct count"),
    "spread": MetricInfo("scale", "both", "spread (90th - 10th percentile)"),
    "lag_spread": MetricInfo("scale", "both", "spread of the lag of {col} (hours)"),
    "mean_length": MetricInfo("scale", "both", "mean length"),
    "mean": MetricInfo("location", "both", "mean"),
    "lag_mean": MetricInfo("location", "both", "mean lag of {col} behind its partition (hours)"),
    # Quantiles, minima and maxima are kept in history (they give the spread that scales
    # location changes, the historical ranges and the histogram edges) but do not alert on their
    # own: on discrete values a median jumps by whole steps, and the mean and spread above
    # already see every shift of the bulk.
    "js": MetricInfo("js", "up", "distribution shift of {col} (Jensen-Shannon bits vs trailing partitions)"),
    # psi and linf are computed and kept too (for change SLOs and reading), but PSI explodes when
    # a thin tail bin empties, and L-inf ignores how rare a value was: JS is the one that alerts
    "new_category_fraction": MetricInfo("prop", "up", "share of {col} values in categories new vs trailing partitions"),
    "vanished_category_fraction": MetricInfo("prop", "up", "share of trailing {col} values in categories now absent"),
    # partial shifts (shares.py): deviations of each category's share from its prediction
    "share_shift": MetricInfo("shares", "up", "share of {col} values moved between categories (Cohen's h)"),
}
# measured against trailing partitions, not levels of their own: after an accepted change their
# reference restarts instead of their baseline
DRIFT_METRICS = {"js", "new_category_fraction", "vanished_category_fraction", "share_shift"}
# Faults, never a new normal however long they last: a level change in these directions is not
# accepted after ``persist`` partitions (a stale copy, a NULL-filled column, a unit change that
# throws values out of range, duplicated keys, renamed categories, recoded shares), only by
# `slocompile accept`. Other levels (volumes, means, spreads, distributions) may move for good.
NEVER_NORMAL = {("missing_fraction", 1), ("empty_fraction", 1), ("duplicate_fraction", 1),
                ("unchanged_fraction", 1), ("out_of_range_fraction", 1), ("future_fraction", 1),
                ("negative_fraction", 1), ("zero_fraction", 1), ("vanished_category_fraction", 1),
                ("share_shift", 1), ("lag_mean", 1)}
# (a new category alone is a launch as often as a fault: a rename also empties the old one)
SPREAD_TO_SD = 2.5631  # (q90 - q10) of a normal distribution in standard deviations


@lru_cache(maxsize=4096)
def _date(p: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(p[:10])
    except ValueError:
        return None


@lru_cache(maxsize=8192)
def _moment(p: str) -> tuple[float, int] | None:
    """(days since year 1, hour of the day) of an hourly partition's text."""
    try:
        t = dt.datetime.fromisoformat(p)
    except ValueError:
        return None
    return t.toordinal() + (t.hour * 3600 + t.minute * 60 + t.second) / 86400.0, t.hour


def _time(parts: list[str], period: int = 7) -> tuple[np.ndarray, np.ndarray | None]:
    """Times (in days) and seasonal groups of partitions: weekdays (``period`` 7), or for hourly
    partitions (24) ``weekday * 24 + hour of the day`` (the daily cycle and the weekly one:
    ``bands.fit``); no groups for partitions that are not dates or times."""
    if period == 24:
        moments = [m for m in map(_moment, parts) if m is not None]
        if len(moments) == len(parts):
            return (np.array([m[0] for m in moments], dtype=float),
                    np.array([(int(m[0]) - 1) % 7 * 24 + m[1] for m in moments], dtype=int))
        return np.arange(len(parts), dtype=float), None
    dates = [d for d in map(_date, parts) if d is not None]
    if len(dates) == len(parts):
        return (np.array([d.toordinal() for d in dates], dtype=float),
                np.array([d.weekday() for d in dates], dtype=int) if period == 7 else None)  # weeks, months: none
    return np.arange(len(parts), dtype=float), None


# ----------------------------------------------------------------------------- state helpers

def historical_range(mins: list[float | None], maxs: list[float | None], settings: Settings = DEFAULT):
    """The range a new partition is compared with: medians of recent partitions' min and max
    (medians, so one faulty partition does not widen it). None with too little history."""
    lows = [x for x in mins[-settings.range_window:] if x is not None and math.isfinite(x)]
    highs = [x for x in maxs[-settings.range_window:] if x is not None and math.isfinite(x)]
    if len(lows) < settings.min_history // 2 or len(highs) < settings.min_history // 2:
        return None
    return float(np.median(lows)), float(np.median(highs))


def ranges_from_history(history: History, columns, before: str | None = None,
                        settings: Settings = DEFAULT) -> dict[str, tuple[float, float]]:
    """{column: (lo, hi)} for the valued columns (numbers, timestamp lags)."""
    parts = history.before(before, settings.range_window) if before else history.partitions[-settings.range_window:]
    out = {}
    for c in columns:
        for pre in ("", "lag_"):
            mn, mx = history.values.get((c, pre + "min")), history.values.get((c, pre + "max"))
            if mn and mx:
                r = historical_range([mn.get(p) for p in parts], [mx.get(p) for p in parts], settings)
                if r:
                    out[c] = r
    return out


def freeze_edges(history: History, settings: Settings = DEFAULT) -> None:
    """Learn histogram edges once, from the first ``min_history`` partitions' deciles."""
    first = history.partitions[:settings.min_history]
    if len(first) < settings.min_history:
        return
    cols = {c for p in first for c, s in history.summaries.get(p, {}).items() if "deciles" in s}
    for c in sorted(cols - set(history.edges)):
        history.edges[c] = learn_edges([history.summaries[p].get(c, {}).get("deciles") for p in first])


# ----------------------------------------------------------------------------- judging

def baseline_context(history: History, partition: str, columns, settings: Settings = DEFAULT):
    """What judging `partition` compares with: ({column (None: the table): its clean partitions
    before it}, the partition's time, its weekday or None). The report replays bands with it."""
    prior = history.before(partition, 2 * settings.window + settings.persist)
    t_arr, wd_arr = _time([partition], settings.period)
    t_new, wd_new = float(t_arr[0]), (None if wd_arr is None else int(wd_arr[0]))
    return {c: _clean(history, prior, c, settings) for c in [None, *columns]}, t_new, wd_new


def _clean(history: History, prior: list[str], column: str | None, settings: Settings) -> list[str]:
    return [q for q in prior if not history.column_alerted(q, column)][-settings.window:]


def _drift_vs(history: History, column: str, summary: dict, kind: str, parts: list[str], settings: Settings):
    found = [history.summaries.get(q, {}).get(column) for q in reversed(parts)]
    refs = [r for r in found if r and kind in r and drift.shares_of(r)][:settings.drift_window]
    if len(refs) < 3:
        return None
    cur, ref = drift.shares_of(summary), drift.pooled([drift.shares_of(r) for r in refs])
    out: dict[str, float | str] = {"psi": drift.psi(cur, ref), "js": drift.js(cur, ref)}
    if kind == "top":
        out["linf"] = drift.linf(cur, ref)
        out["new_category_fraction"], out["vanished_category_fraction"] = drift.novelty(summary, refs)
        moved = [f"{v!r} {100 * a:.3g}% -> {100 * b:.3g}%" for v, a, b in drift.top_changes(cur, ref, 3)
                 if abs(a - b) >= 0.005]
        if moved:
            out["detail"] = "largest moves: " + ", ".join(moved)
    return out


def _drift(history: History, column: str, summary: dict, clean: list[str], settings: Settings,
           partition: str = "") -> dict:
    """PSI and Jensen-Shannon (bins or categories) and, for categories, L-inf and the shares of
    new and vanished categories, vs the pooled summaries of trailing clean partitions. After an
    accepted change the reference is the partitions since; while they are few, the smaller
    distance to either side counts (a return to the old normal is no drift)."""
    kind = "bins" if "bins" in summary else "top" if "top" in summary else None
    if kind is None or not drift.shares_of(summary):
        return {}
    start = history.reference(column, partition) if partition else history.references.get(column)
    if start is None:
        return _drift_vs(history, column, summary, kind, clean, settings) or {}
    post = [q for q in clean if q >= start]
    new = _drift_vs(history, column, summary, kind, post, settings)
    if len(post) >= settings.min_history:
        return new or {}
    old = _drift_vs(history, column, summary, kind, [q for q in clean if q < start], settings)
    if not new or not old:
        return new or old or {}
    return min(new, old, key=lambda d: d["js"])


def _scale(info: MetricInfo, history: History, column, clean: list[str], ys: list[float],
           settings: Settings, metric: str) -> Scale:
    if info.kind == "prop":
        return PropScale(settings.floor_prop)
    if info.kind == "count":
        if metric != "row_count":
            return LogScale(settings.floor_log, 1.0)
        # fewer rows than the weekly pattern predicts: a missing share of the partition; more rows
        # are holidays and campaigns unless doubled (duplicated rows show in key duplicates too)
        volume = LogScale(settings.floor_volume, 1.0)
        volume.floor_up = settings.floor_log
        return volume
    if info.kind == "scale":
        # eps: a tenth of the column's typical standard deviation, so that a spread that is
        # usually 0 (mostly one value) does not turn tiny wobbles into huge log ratios
        std = history.values.get((column, "lag_std" if metric.startswith("lag_") else "std"), {})
        xs = [std[q] for q in clean if q in std and math.isfinite(std[q])]
        eps = 0.1 * float(np.median(xs)) if xs else 0.0
        return LogScale(settings.floor_log, eps if eps > 0 else 1e-12)
    if info.kind == "location":
        pre = "lag_" if metric.startswith("lag_") else ""
        unit = 0.0
        for m, f in ((pre + "spread", 1 / SPREAD_TO_SD), (pre + "std", 1.0)):
            s = history.values.get((column, m), {})
            xs = [s[q] for q in clean if q in s and math.isfinite(s[q])]
            if xs:
                unit = float(np.median(xs)) * f
            if unit > 0:
                break
        if unit <= 0:
            unit = 1e-9 * max(1.0, float(np.median(np.abs(ys))) if ys else 1.0)
        return UnitScale(settings.floor_location, unit)
    if info.kind == "shares":
        return DistanceScale(settings.floor_shares)
    # js: what a shift of floor_location standard deviations does to a normal, d^2 / (8 ln 2) bits
    return DistanceScale(settings.floor_location ** 2 / (8 * math.log(2)))


@dataclass
class MetricResult:
    verdict: Verdict
    info: MetricInfo
    scale: Scale
    recovered: bool = False   # back inside the band from before an accepted level change


def _fit_parts(history: History, column, metric: str, info: MetricInfo, parts: list[str], clean: list[str],
               t_new: float, wd_new: int | None, settings: Settings, current: dict | None):
    series = history.values[(column, metric)]
    ys = [series[q] for q in parts]
    scale = _scale(info, history, column, clean, ys, settings, metric)
    t, wd = _time(parts, settings.period)
    y = scale.fwd(np.array(ys))
    f = fit(t, y, wd, t_new, wd_new, settings)
    if info.kind == "location" and metric.endswith("mean") and current:
        # a mean is only as certain as today's sample: add its standard error, so that one extreme
        # row of a heavy-tailed column is no shift of the bulk (a real shift dwarfs the error)
        std = current.get((column, "lag_std" if metric.startswith("lag_") else "std"))
        n = current.get((None, "row_count"), 0.0) * (1.0 - current.get((column, "missing_fraction"), 0.0))
        if std is not None and n >= 1 and math.isfinite(std):
            assert isinstance(scale, UnitScale)  # _scale: a location metric's
            f = replace(f, extra_sd=std / math.sqrt(n) / scale.unit)
    return f, scale


def judge_metric(history: History, column: str | None, metric: str, value: float, clean: list[str],
                 t_new: float, wd_new: int | None, settings: Settings = DEFAULT,
                 current: dict | None = None, partition: str = "") -> MetricResult | None:
    """Verdict for one metric value against its clean history, or None (not enough history).

    After an accepted level change (``History.regimes``) only partitions since the change form
    the baseline; until there are ``min_history`` of them, the model fitted before the change is
    moved to their median level, and a value that fits the band from before the change counts
    as a recovery, not an alert."""
    info = METRICS.get(metric)
    if info is None or value is None:
        return None
    series = history.values.get((column, metric))
    if not series:
        return None
    parts = [q for q in clean if q in series and series[q] is not None and math.isfinite(series[q])]
    start = None if metric in DRIFT_METRICS else \
        history.regime(column, metric, partition) if partition else history.regimes.get((column, metric))
    if start is not None:
        post = [q for q in parts if q >= start]
        if not post and partition and history.user_accepted(column, metric, partition):
            return None  # the first partition of a declared new level: nothing to judge it by yet
        if len(post) >= settings.min_history or len(post) == len(parts):
            parts = post
        else:
            pre = [q for q in parts if q < start]
            if len(pre) < settings.min_history:
                return None
            f_old, scale = _fit_parts(history, column, metric, info, pre, clean, t_new, wd_new,
                                               settings, current)
            old = judge(f_old, scale, value, info.direction, settings)
            if not old.alert:
                return MetricResult(old, info, scale, recovered=True)
            shift = 0.0
            if post:
                t_post, wd_post = _time(post, settings.period)
                y_post = scale.fwd(np.array([series[q] for q in post]))
                shift = float(np.median(y_post - f_old.at(t_post, wd_post)))
            return MetricResult(judge(replace(f_old, pred=f_old.pred + shift), scale, value, info.direction,
                                      settings), info, scale)
    # a derived share deviation needs min_history partitions before its first value: half as many
    # of its own then (it is a deviation from a prediction already: level and cycle are removed)
    if len(parts) < (settings.min_history // 2 if info.kind == "shares" else settings.min_history):
        return None
    f, scale = _fit_parts(history, column, metric, info, parts, clean, t_new, wd_new, settings, current)
    return MetricResult(judge(f, scale, value, info.direction, settings), info, scale)


def _level_change(history: History, column, metric: str, partition: str, value: float, res: MetricResult,
                  settings: Settings) -> list[str] | None:
    """The run of partitions to accept as a new normal level, when this alert is the
    ``persist``-th in a row of the same metric, on the same side of the band, at one stable level
    (the run's values agree within the band's width); else None. A fault that moves a metric on
    several days in a row, differently each day, is no new level."""
    if settings.persist < 2 or (metric, res.verdict.direction) in NEVER_NORMAL:
        return None
    run = history.before(partition, settings.persist - 1)
    if len(run) < settings.persist - 1:
        return None
    series = history.values.get((column, metric), {})
    verdict = res.verdict
    vals = []
    for q in run:
        v = series.get(q)
        if (column, metric) not in history.alerted.get(q, ()) or v is None:
            return None
        if (verdict.direction > 0 and not v > verdict.hi) or (verdict.direction < 0 and not v < verdict.lo):
            return None
        vals.append(v)
    ys = res.scale.fwd(np.array(vals + [value]))
    if not np.all(np.isfinite(ys)) or float(ys.max() - ys.min()) > verdict.half:
        return None
    return run + [partition]


def judge_partition(history: History, partition: str, metrics: dict, summaries: dict | None = None,
                    settings: Settings = DEFAULT, trace: list | None = None) -> Judgement:
    """Judge one partition's profile against the partitions recorded before it.

    Returns the partition's metrics (with derived drift metrics added), its summaries, its
    alerts (dicts: partition, table, column, check, metric, observed, expected (band text),
    expected_value, band [lo, hi], direction, score, message, incident, cause) and the level
    changes to accept or abandon (applied by ``History.record``). ``trace``, when given, receives
    (partition, column, metric, score, direction) for every metric judged (score > 1 = outside).
    A metric does not alert while there is too little history (``min_history``)."""
    summaries = summaries or {}
    metrics = dict(metrics)
    columns = sorted({c for c, _ in metrics if c is not None} | set(summaries), key=str)
    clean, t_new, wd_new = baseline_context(history, partition, columns, settings)
    details = {}
    for c in columns:
        if c in summaries:
            cs = for_column(settings, c)
            for m, v in _drift(history, c, summaries[c], clean[c], cs, partition).items():
                if m == "detail":
                    details[c] = v
                elif v is not None and math.isfinite(v):
                    metrics[(c, m)] = v
            extra, detail = share_metrics(history, c, summaries[c], clean[c], partial(_time, period=settings.period),
                                          t_new, wd_new, cs, history.reference(c, partition))
            for m, v in extra.items():
                metrics[(c, m)] = v
                if detail:
                    details[(c, m)] = detail
    alerts, abandon = [], []
    runs: dict[str | None, list] = {}  # per column: (metric, run or None) of today's alerts
    for (c, m), v in sorted(metrics.items(), key=lambda kv: (kv[0][0] is not None, str(kv[0][0]), kv[0][1])):
        cs = for_column(settings, c)
        res = judge_metric(history, c, m, v, clean.get(c, []), t_new, wd_new, cs, metrics, partition)
        if res is None:
            continue
        verdict, info = res.verdict, res.info
        if trace is not None:
            trace.append((partition, c, m, verdict.score, verdict.direction))
        if res.recovered:
            abandon.append((c, m))
        if not verdict.alert:
            continue
        runs.setdefault(c, []).append((m, _level_change(history, c, m, partition, v, res, cs)))
        alerts.append({
            "partition": partition, "table": history.table, "column": c, "check": f"monitor_{m}",
            "metric": m, "observed": v, "expected_value": verdict.expected,
            "band": [verdict.lo, verdict.hi], "direction": "rose" if verdict.direction > 0 else "fell",
            "score": verdict.score, "kind": info.kind, "label": info.label,
            **({"detail": details[(c, m)]} if (c, m) in details else
               {"detail": details[c]} if c in details and m in DRIFT_METRICS else {}),
        })
    # A column's change is accepted as the new normal only when every metric it alerts on today
    # has held one stable level for ``persist`` partitions: those alerts end.
    # The run's partitions become clean for the column (whatever else alerted on them); the
    # baselines of the level metrics alerting today restart at the change.
    accept = []
    for c, rs in runs.items():
        if all(r is not None for _, r in rs):
            run = rs[0][1]
            ms = {m for m, _ in rs} | {m for q in run for cc, m in history.alerted.get(q, ()) if cc == c}
            accept.append((c, sorted(ms), run, [m for m, _ in rs if m not in DRIFT_METRICS]))
    done = {(c, m) for c, ms, _, _ in accept for m in ms}
    alerts = assign([a for a in alerts if (a["column"], a["metric"]) not in done], history.table)
    incidents, events = track(history.open_before(partition), partition, alerts, history.table)
    return Judgement(partition=partition, metrics=metrics, summaries=summaries, alerts=alerts,
                     accept=accept, abandon=abandon, incidents=incidents, events=events)
