"""The history change SLOs compare with: each check's values on earlier partitions (or builds).

A build reads the recorded history once per table (run/baselines.py loads it from slo.results;
the latest result of each partition counts: re-checking a partition replaces its value), then
extends it in partition order while it judges, so a build checking many partitions compares each
with the ones before it, recorded or just measured. Only partitions where the check passed enter
a baseline (checks/change.py says why).
"""
from __future__ import annotations

import bisect


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
