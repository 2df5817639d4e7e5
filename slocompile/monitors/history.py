"""Metric history of one table: what the monitors remember between builds.

Persisted as three plain row sets (the meta schema stores them as ordinary tables):

- ``metric_rows``:  (table, column, metric, partition, value, alerted)   column None = table-level
- ``summary_rows``: (table, column, partition, summary_json)             bins / top-k counts
- ``state_rows``:   (table, column, key, value_json)                     frozen bin edges, accepted
                                                                         changes, partition list

``History`` is the in-memory form; ``to_rows`` / ``from_rows`` convert both ways losslessly.
"""
from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field


@dataclass
class Judgement:
    """One judged partition: its metrics (profiled and derived), summaries and alerts."""
    partition: str
    metrics: dict[tuple[str | None, str], float]
    summaries: dict[str, dict]
    alerts: list[dict]
    # a column's (or the table's) change accepted as the new normal: (column, metrics, partitions
    # since the change, metrics whose own baseline restarts there)
    accept: list[tuple[str | None, list[str], list[str], list[str]]] = field(default_factory=list)
    abandon: list[tuple[str | None, str]] = field(default_factory=list)  # (column, metric) back to the old level
    # incidents (incidents.track): the open ones after this partition, and what opened or recovered on it
    incidents: dict[str, dict] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Acceptance:
    """`slocompile accept`: from ``start`` on, the level of ``metric`` (None: every metric) of
    ``column`` (None: every column and the table's own metrics) is intended: the baseline."""
    column: str | None
    metric: str | None
    start: str
    reason: str = ""
    by: str = ""
    at: str = ""

    def covers(self, column: str | None, metric: str, partition: str) -> bool:
        return (partition >= self.start and (self.column is None or self.column == column)
                and (self.metric is None or self.metric == metric))


@dataclass
class History:
    table: str = ""
    partitions: list[str] = field(default_factory=list)                     # sorted
    values: dict[tuple[str | None, str], dict[str, float]] = field(default_factory=dict)
    alerted: dict[str, set[tuple[str | None, str]]] = field(default_factory=dict)
    summaries: dict[str, dict[str, dict]] = field(default_factory=dict)
    edges: dict[str, list[float]] = field(default_factory=dict)              # frozen bin edges
    # changes accepted as the new normal: their partitions count as clean for the metrics that
    # alerted (accepted), level metrics' baselines restart at the change (regimes), and so does the
    # column's drift reference (references)
    accepted: dict[tuple[str | None, str], list[str]] = field(default_factory=dict)
    regimes: dict[tuple[str | None, str], str] = field(default_factory=dict)
    references: dict[str | None, str] = field(default_factory=dict)
    # the incidents open after each partition ({partition: {id: incident}}, partitions with none
    # left out), persisted with the state: judging a partition continues those of the one before it
    incidents: dict[str, dict[str, dict]] = field(default_factory=dict)
    # changes declared intended (`slocompile accept`; their own meta table, not the state rows)
    acceptances: list[Acceptance] = field(default_factory=list)
    # incident events of the partitions recorded since loading (open, recover): not persisted here
    events: list[dict] = field(default_factory=list)

    # ------------------------------------------------------------------ updates
    def record(self, j: Judgement) -> None:
        """Add (or replace) a judged partition."""
        p = j.partition
        if p in self.alerted:
            self.forget(p)
        bisect.insort(self.partitions, p)
        for k, v in j.metrics.items():
            self.values.setdefault(k, {})[p] = v
        self.alerted[p] = {(a["column"], a["metric"]) for a in j.alerts}
        self.summaries[p] = j.summaries
        if j.incidents:
            self.incidents[p] = j.incidents
        self.events += j.events
        for col, metrics, run, levels in j.accept:
            for m in metrics:
                self.accepted[(col, m)] = sorted(set(self.accepted.get((col, m), [])) | set(run))
            for m in levels:
                self.regimes[(col, m)] = run[0]
            self.references[col] = run[0]
        for col, metric in j.abandon:  # back to the old level: the change was a fault after all
            start = self.regimes.pop((col, metric), None)
            if start is None:
                continue
            for key in [k for k in self.accepted if k[0] == col]:
                kept = [q for q in self.accepted[key] if q < start]
                if kept:
                    self.accepted[key] = kept
                else:
                    del self.accepted[key]
            for key in [k for k, v in self.regimes.items() if k[0] == col and v >= start]:
                del self.regimes[key]
            if self.references.get(col, "") >= start:
                del self.references[col]

    def forget(self, p: str) -> None:
        self.partitions.remove(p)
        for series in self.values.values():
            series.pop(p, None)
        self.alerted.pop(p, None)
        self.summaries.pop(p, None)
        self.incidents.pop(p, None)

    # ------------------------------------------------------------------ queries
    def before(self, p: str, limit: int | None = None) -> list[str]:
        """Recorded partitions strictly before ``p``, oldest first (the last ``limit``)."""
        i = bisect.bisect_left(self.partitions, p)
        return self.partitions[max(0, i - limit) if limit else 0:i]

    def column_alerted(self, p: str, column: str | None) -> bool:
        """Did the column (or, for None, the table) alert on ``p``? Table alerts count for all."""
        hits = self.alerted.get(p, ())
        for col, metric in hits:
            if col is None or col == column:
                if (col, metric) in self.accepted and p in self.accepted[(col, metric)]:
                    continue
                if self.user_accepted(col, metric, p):
                    continue
                return True
        return False

    def open_before(self, p: str) -> dict[str, dict]:
        """The incidents open after the partition recorded just before ``p``."""
        prev = self.before(p, 1)
        return self.incidents.get(prev[0], {}) if prev else {}

    def user_accepted(self, column: str | None, metric: str, p: str) -> str | None:
        """The start of the latest `slocompile accept` covering this metric on ``p``, or None."""
        starts = [a.start for a in self.acceptances if a.covers(column, metric, p)]
        return max(starts) if starts else None

    def regime(self, column: str | None, metric: str, p: str) -> str | None:
        """Where the baseline of a level metric judged on ``p`` starts: an automatically accepted
        level change or a declared one, whichever is later (None: all history)."""
        starts = [s for s in (self.regimes.get((column, metric)), self.user_accepted(column, metric, p)) if s]
        return max(starts) if starts else None

    def reference(self, column: str | None, p: str) -> str | None:
        """Where the drift reference of ``column`` judged on ``p`` starts (as ``regime``)."""
        starts = [a.start for a in self.acceptances if p >= a.start and (a.column is None or a.column == column)]
        starts += [self.references[column]] if column in self.references else []
        return max(starts) if starts else None

    # ------------------------------------------------------------------ persistence
    def to_rows(self) -> dict[str, list[tuple]]:
        t = self.table
        metric_rows = [(t, col, metric, p, v, (col, metric) in self.alerted.get(p, ()))
                       for (col, metric), series in self.values.items() for p, v in series.items()]
        summary_rows = [(t, col, p, json.dumps(s, sort_keys=True))
                        for p, cols in self.summaries.items() for col, s in cols.items()]
        state_rows: list[tuple[str, str | None, str, str]] = [(t, col, "edges", json.dumps(e))
                                                             for col, e in self.edges.items()]
        state_rows += [(t, col, f"accepted:{metric}", json.dumps(ps))
                       for (col, metric), ps in self.accepted.items()]
        state_rows += [(t, col, f"regime:{metric}", json.dumps(p)) for (col, metric), p in self.regimes.items()]
        state_rows += [(t, col, "reference", json.dumps(p)) for col, p in self.references.items()]
        state_rows += [(t, None, f"incidents@{p}", json.dumps(inc, sort_keys=True))
                       for p, inc in self.incidents.items()]
        # partitions that were judged but produced no metric still need a trace
        state_rows += [(t, None, "partitions", json.dumps(self.partitions))]
        return {"metric_rows": metric_rows, "summary_rows": summary_rows, "state_rows": state_rows}

    @classmethod
    def from_rows(cls, metric_rows=(), summary_rows=(), state_rows=(), table: str = "") -> History:
        h = cls(table=table)
        parts = set()
        for _t, col, metric, p, v, alerted in metric_rows:
            h.values.setdefault((col, metric), {})[p] = float(v)
            h.alerted.setdefault(p, set())
            parts.add(p)
            if alerted:
                h.alerted[p].add((col, metric))
        for _t, col, p, s in summary_rows:
            h.summaries.setdefault(p, {})[col] = json.loads(s)
            parts.add(p)
        for _t, col, key, v in state_rows:
            if key == "edges":
                h.edges[col] = json.loads(v)
            elif key.startswith("accepted:"):
                h.accepted[(col, key.split(":", 1)[1])] = json.loads(v)
            elif key.startswith("regime:"):
                h.regimes[(col, key.split(":", 1)[1])] = json.loads(v)
            elif key == "reference":
                h.references[col] = json.loads(v)
            elif key.startswith("incidents@"):
                h.incidents[key.split("@", 1)[1]] = json.loads(v)
            elif key == "partitions":
                parts.update(json.loads(v))
        h.partitions = sorted(parts)
        for p in h.partitions:
            h.alerted.setdefault(p, set())
            h.summaries.setdefault(p, {})
        for series in h.values.values():  # keep every series in partition order
            items = sorted(series.items())
            series.clear()
            series.update(items)
        return h
