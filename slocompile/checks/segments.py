"""Segments: `group_by: [col, ...]` on an aggregate check judges it per value of those columns.

A segmented check requests the metrics it would without `group_by`, each marked with the columns
and the cap (`max_segments`); the planner measures all the metrics of one grouping (and filter)
in one grouped scan (planning/planner.py says why). Per partition, the `max_segments` segments
with the most rows are judged apart; the others are pooled into one segment, OTHER, judged on all
their rows together: counts, sums, minima and maxima are merged here from the segments' values,
any other aggregate (a mean, a quantile, a distinct count) is measured again over the pooled rows
(run/segments.py), which only happens in a build where a partition has more segments than the cap.
"""
from __future__ import annotations

from typing import Any

from sqlglot import exp

from slocompile.checks import metrics as m
from slocompile.spec.model import DEFAULT_MAX_SEGMENTS, NULL_PARTITION, CheckSpec

OTHER = "(other)"  # the label of the pooled segment
SEGMENTABLE = (m.ROWS, m.COUNT_IF, m.AGGREGATE)  # metrics with a value per group of rows


def requested(metrics: list[m.Metric], check: CheckSpec) -> list[m.Metric]:
    """The metrics a check reads: per segment when it has `group_by`."""
    group_by = tuple(check.params.get("group_by") or ())
    if not group_by:
        return metrics
    cap = int(check.params.get("max_segments") or DEFAULT_MAX_SEGMENTS)
    return [m.segmented(x, group_by, cap) for x in metrics]


def refusal(check: CheckSpec, metrics: list[m.Metric], judged_apart: bool = False) -> str | None:
    """Why the check cannot take `group_by` (None: it can): only checks whose every metric is an
    aggregate over rows have a value per segment; a row rule without `max_fraction`/`max_count`
    holds for each row, so per segment it says nothing the whole check does not. `judged_apart`:
    the check is judged from monitor history or the partition list, not from a scan."""
    if judged_apart or not metrics or any(x.kind not in SEGMENTABLE for x in metrics):
        return (f"'{check.type}' is not an aggregate over rows; group_by applies to checks with one value per "
                "group of rows (row_count, mean, distinct_count, freshness, quantile, not_null with max_fraction, ...)")
    if check.params.get("rows") is not None and check.params.get("max_fraction") is None \
            and check.params.get("max_count") is None:
        return (f"'{check.type}' without max_fraction or max_count is a rule on each row, the same in every segment; "
                "give max_fraction or max_count to bound violations per segment")
    return None


def label(group_by: tuple[str, ...], texts: tuple[str | None, ...]) -> str:
    """The segment's name in results: `country=US, device=ios` ((null) for NULL)."""
    return ", ".join(f"{c}={NULL_PARTITION if t is None else t}" for c, t in zip(group_by, texts))


def ranked(segments: list[tuple[str, int]]) -> list[str]:
    """Segment labels by rows, most first; ties by label, so every engine ranks alike."""
    return [s for s, _ in sorted(segments, key=lambda sr: (-int(sr[1] or 0), sr[0]))]


def mergeable(metric: m.Metric) -> bool:
    """Whether the pooled segment's value follows from the pooled segments' own values."""
    if metric.kind in (m.ROWS, m.COUNT_IF):
        return True
    e = metric.expr
    if isinstance(e, exp.Count):
        return not isinstance(e.this, exp.Distinct)
    return isinstance(e, (exp.Sum, exp.Min, exp.Max))


def merge(metric: m.Metric, values: list[Any]) -> Any:
    """The value over the union of segments, from each segment's (NULL: no values there)."""
    present = [v for v in values if v is not None]
    if metric.kind in (m.ROWS, m.COUNT_IF) or isinstance(metric.expr, exp.Count):
        return sum(int(v) for v in present)
    if not present:
        return None
    if isinstance(metric.expr, exp.Min):
        return min(present)
    if isinstance(metric.expr, exp.Max):
        return max(present)
    return sum(present)
