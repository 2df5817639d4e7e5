"""Measurements -> check results -> partition statuses. Pure Python, no I/O."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from typing import Any

from slocompile import checks as registry
from slocompile.checks import change, segments
from slocompile.checks import metrics as m
from slocompile.checks.base import EvalContext, to_number
from slocompile.checks.baselines import Baselines
from slocompile.spec.model import CheckSpec, TableSpec

PASS, FAIL, WARN, ERROR = "pass", "fail", "warn", "error"


@dataclass
class Result:
    table: str
    check: str
    check_type: str
    column: str | None
    partition: str | None
    status: str
    severity: str
    observed: object
    expected: str
    message: str
    segment: str | None = None  # group_by: the segment judged (`country=US`, or segments.OTHER)

    def as_dict(self) -> dict[str, Any]:
        # asdict() deep-copies every observed value: a build of thousands of partitions spent
        # seconds there (benchmarks/partition_grain_bench.py); the fields are plain values
        if is_dataclass(self.observed):
            return asdict(self)
        return {"table": self.table, "check": self.check, "check_type": self.check_type, "column": self.column,
                "partition": self.partition, "status": self.status, "severity": self.severity,
                "observed": self.observed, "expected": self.expected, "message": self.message,
                "segment": self.segment}

    @property
    def observed_number(self) -> float | None:
        v = self.observed
        if isinstance(v, dict):  # a row rule's fraction, a change check's value
            v = v.get("fraction", v.get("rows", v.get("value")))
        try:
            return to_number(v) if v is not None and not isinstance(v, (list, str)) else None
        except (TypeError, ValueError):
            return None

    @property
    def observed_text(self) -> str | None:
        return None if self.observed is None else _to_json(self.observed)


_to_json = json.JSONEncoder(default=str).encode  # json.dumps(v, default=str) without a new encoder a call


@dataclass
class Measurements:
    """Values by (metric, partition); partition None for whole-table metrics or unpartitioned tables."""

    values: dict[tuple[m.Metric, str | None], Any]
    partitions: list[str | None]
    errors: dict[m.Metric, str]  # metric -> engine error text
    # segmented metrics: (metric, partition) -> {segment: value}, the largest segments first, the
    # pooled one (segments.OTHER) last; pooled: (metric, partition) -> how many segments it pools
    segments: dict[tuple[m.Metric, str | None], dict[str, Any]] = field(default_factory=dict)
    pooled: dict[tuple[m.Metric, str | None], int] = field(default_factory=dict)

    def get(self, metric: m.Metric, partition: str | None) -> Any:
        key = (metric, None if metric.scope == m.WHOLE_TABLE else partition)
        return self.values.get(key, metric.default)

    def by_segment(self, metrics: list[m.Metric], partition: str | None) -> list[tuple[str, list, int]]:
        """(segment, the metrics' values there, segments pooled) per segment of `partition`, in rank order."""
        keys = [(x, None if x.scope == m.WHOLE_TABLE else partition) for x in metrics]
        found = [self.segments.get(k, {}) for k in keys]
        names = list(dict.fromkeys(s for values in found for s in values))
        if segments.OTHER in names:  # pooled last, whichever metric listed it first
            names = [s for s in names if s != segments.OTHER] + [segments.OTHER]
        pooled = max((self.pooled.get(k, 0) for k in keys), default=0)
        return [(s, [v.get(s, x.default) for x, v in zip(metrics, found)], pooled if s == segments.OTHER else 0)
                for s in names]


def evaluate_table(table: TableSpec, checks: list[tuple[CheckSpec, list[m.Metric]]], meas: Measurements,
                   ctx: EvalContext, baselines: Baselines | None = None) -> list[Result]:
    """Judge every check (with the metrics it reads, as planned) on every measured partition (in
    partition order: a change check compares each with the ones before it). Checks judged from
    monitor history (drift) are not here."""
    out = []
    baselines = baselines or Baselines(table.partition is not None)
    for check, metrics in checks:
        ctype = registry.get(check.type)
        if ctype.from_monitor_history:
            continue
        if ctype.needs_partition_list and check.table not in (ctx.partitions or {}):
            continue  # judged by builds, which list the partitions (partitions_complete)
        tracked = change.has_change(check.params)
        whole = all(x.scope == m.WHOLE_TABLE for x in metrics)
        partitions = [None] if whole else meas.partitions
        broken = [meas.errors[x] for x in metrics if x in meas.errors]
        segmented = bool(metrics) and bool(metrics[0].group_by)
        for p in partitions:
            base: dict[str, Any] = dict(table=check.table, check=check.name, check_type=check.type, column=check.column,
                        partition=p, severity=check.severity)
            if broken:
                out.append(Result(**base, status=ERROR, observed=None, expected="",
                                  message=f"could not be measured: {broken[0]}"))
                continue
            cases = meas.by_segment(metrics, p) if segmented else [(None, [meas.get(x, p) for x in metrics], 0)]
            for segment, values, pooled in cases:
                series = baselines_key(check.name, segment)
                here = replace(ctx, earlier=baselines.earlier(series, p)) if tracked else ctx
                outcome = ctype.evaluate(check, values, here)
                if tracked:
                    baselines.record(series, p, outcome.observed.get("value"), outcome.passed)
                status = PASS if outcome.passed else (FAIL if check.severity == "error" else WARN)
                message = outcome.message if segment is None else _in_segment(segment, pooled, outcome.message)
                out.append(Result(**base, status=status, observed=outcome.observed, expected=outcome.expected,
                                  message=message, segment=segment))
    return out


def baselines_key(check: str, segment: str | None) -> str:
    """The history a change check compares with: the check's, per segment when it has group_by."""
    return check if segment is None else f"{check}\x1f{segment}"


def _in_segment(segment: str, pooled: int, message: str) -> str:
    if segment == segments.OTHER:
        return f"segment {segment} ({pooled} segment{'s' if pooled != 1 else ''} past the cap, pooled): {message}"
    return f"segment {segment}: {message}"


def partition_statuses(results: list[Result]) -> dict[str | None, list[str]]:
    """partition -> names of failed error-severity checks (an empty list means it passed), as the
    check type labels them (partitions_complete adds the partitions it misses)."""
    out: dict[str | None, list[str]] = {}
    seen: set[tuple[str | None, str]] = set()
    for r in results:
        failed = out.setdefault(r.partition, [])
        if r.status in (FAIL, ERROR) and r.severity == "error" and (r.partition, r.check) not in seen:
            seen.add((r.partition, r.check))  # once (monitor alerts share a check name across columns)
            ctype = registry.REGISTRY.get(r.check_type)
            failed.append(ctype.status_label(r.check, r.observed) if ctype is not None else r.check)
    return out


def exit_code(results: list[Result]) -> int:
    return 1 if any(r.status in (FAIL, ERROR) and r.severity == "error" for r in results) else 0


def counts(results: list[Result]) -> dict[str, int]:
    c = {"passed": 0, "failed": 0, "warned": 0, "errored": 0}
    key = {PASS: "passed", FAIL: "failed", WARN: "warned", ERROR: "errored"}
    for r in results:
        c[key[r.status]] += 1
    return c
