"""The history change SLOs compare with: each check's values on earlier partitions (or builds).

Read once per table from slo.results before the table's results are judged (the latest result
of each partition counts: re-checking a partition replaces its value), then extended in partition
order while the build judges, so a build checking many partitions compares each with the ones
before it, recorded or just measured. Only partitions where the check passed enter a baseline
(checks/change.py says why).
"""
from __future__ import annotations

import bisect
import math

from slocompile.checks import change
from slocompile.sqltrees import meta


class Baselines:
    def __init__(self, partitioned: bool, series: dict[str, list[tuple]] | None = None):
        # check name -> [(order key, value, passed)] sorted by key: the partition text, or the
        # build's time for an unpartitioned table (each build is one observation)
        self.partitioned = partitioned
        self.series = series or {}

    def earlier(self, check: str, partition: str | None) -> tuple:
        rows = self.series.get(check, [])
        if self.partitioned:
            rows = rows[:bisect.bisect_left(rows, (partition,))] if partition is not None else []
        return tuple(v for _, v, ok in rows if ok)

    def record(self, check: str, partition: str | None, value, passed: bool) -> None:
        if not self.partitioned or partition is None:
            return  # an unpartitioned build's own value is history from the next build on
        rows = self.series.setdefault(check, [])
        i = bisect.bisect_left(rows, (partition,))
        if i < len(rows) and rows[i][0] == partition:
            del rows[i]
        rows.insert(i, (partition, value, passed))


def load(engine, schemas, table) -> Baselines:
    """The recorded history of `table`'s change checks (nothing to read when it has none)."""
    from slocompile.dialects.render import render

    base = Baselines(table.partition is not None)
    names = [c.name for c in table.checks if change.has_change(c.params)]
    if not names:
        return base
    latest: dict[tuple, tuple] = {}
    for name, partition, value, status, checked_at in engine.query(
            render(meta.check_history(schemas, table.name, names), engine.dialect)):
        if status == "error":
            continue
        key = (name, partition if base.partitioned else str(checked_at))
        if key not in latest or str(checked_at) > str(latest[key][3]):
            latest[key] = (value, status, partition, checked_at)
    for (name, order), (value, status, _, _) in sorted(latest.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        number = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        base.series.setdefault(name, []).append((order, number, status == "pass"))
    return base
