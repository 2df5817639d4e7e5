"""Segmented scans' rows -> each metric's value per segment, the cap applied (checks/segments.py).

The grouped scan returns every segment of every partition with its row count. Per partition the
`max_segments` largest are kept; the others become the pooled segment: merged here for counts,
sums, minima and maxima, measured by one more query over the pooled rows for any other aggregate
(only when some partition has more segments than the cap).
"""
from __future__ import annotations

from slocompile.checks import metrics as m
from slocompile.checks import segments
from slocompile.checks.evaluate import Measurements
from slocompile.dialects.render import render
from slocompile.engines.base import Engine, QueryFailed
from slocompile.planning.planner import Scan
from slocompile.spec.model import TableSpec
from slocompile.sqltrees.scans import pooled_sql


def collect(engine: Engine, table: TableSpec, scan: Scan, rows: list, meas: Measurements) -> set:
    """Record the segments of `rows` (a segmented scan's) in `meas`; the partitions seen."""
    width = len(scan.group_by)
    at = 1 if scan.grouped else 0
    found: dict[str | None, dict[tuple, tuple]] = {}  # partition -> segment texts -> (rows, values)
    for row in rows:
        p = row[0] if scan.grouped else None
        texts = tuple(row[at:at + width])
        found.setdefault(p, {})[texts] = (row[at + width], row[at + width + 1:])
    for cap in sorted({x.max_segments for x in scan.metrics}):
        metrics = [x for x in scan.metrics if x.max_segments == cap]
        top: dict[str | None, list[tuple]] = {}
        for p, segs in found.items():
            names = {segments.label(scan.group_by, t): t for t in segs}
            order = segments.ranked([(name, segs[t][0]) for name, t in names.items()])
            kept, rest = [names[n] for n in order[:cap]], [names[n] for n in order[cap:]]
            for i, x in enumerate(scan.metrics):
                if x.max_segments != cap:
                    continue
                per = {segments.label(scan.group_by, t): segs[t][1][i] for t in kept}
                if rest:
                    meas.pooled[(x, p)] = len(rest)
                    if segments.mergeable(x):
                        per[segments.OTHER] = segments.merge(x, [segs[t][1][i] for t in rest])
                meas.segments[(x, p)] = per
            if rest:
                top[p] = kept
        unmerged = [x for x in metrics if not segments.mergeable(x)]
        if top and unmerged:
            _measure_pooled(engine, table, scan, unmerged, top, meas)
    return {p for p in found if scan.grouped}


def _measure_pooled(engine: Engine, table: TableSpec, scan: Scan, metrics: list[m.Metric],
                    top: dict[str | None, list[tuple]], meas: Measurements) -> None:
    sql = render(pooled_sql(table, scan, metrics, top), engine.dialect, copy=False)
    try:
        rows = engine.query(sql)
    except QueryFailed as e:
        for x in metrics:
            meas.errors[x] = (str(e).splitlines() or ["query failed"])[0][:300]
        return
    at = 1 if scan.grouped else 0
    for row in rows:
        p = row[0] if scan.grouped else None
        for i, x in enumerate(metrics):
            meas.segments.setdefault((x, p), {})[segments.OTHER] = row[at + i]
