"""Measurements -> check results -> partition statuses. Pure Python, no I/O."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, is_dataclass, replace
from typing import Any

from slocompile import checks as registry
from slocompile.checks import change
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

    def as_dict(self) -> dict[str, Any]:
        # asdict() deep-copies every observed value: a build of thousands of partitions spent
        # seconds there (benchmarks/partition_grain_bench.py); the fields are plain values
        if is_dataclass(self.observed):
            return asdict(self)
        return {"table": self.table, "check": self.check, "check_type": self.check_type, "column": self.column,
                "partition": self.partition, "status": self.status, "severity": self.severity,
                "observed": self.observed, "expected": self.expected, "message": self.message}

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

    def get(self, metric: m.Metric, partition: str | None) -> Any:
        key = (metric, None if metric.scope == m.WHOLE_TABLE else partition)
        return self.values.get(key, metric.default)


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
        for p in partitions:
            base: dict[str, Any] = dict(table=check.table, check=check.name, check_type=check.type, column=check.column,
                        partition=p, severity=check.severity)
            if broken:
                out.append(Result(**base, status=ERROR, observed=None, expected="",
                                  message=f"could not be measured: {broken[0]}"))
                continue
            here = replace(ctx, earlier=baselines.earlier(check.name, p)) if tracked else ctx
            outcome = ctype.evaluate(check, [meas.get(x, p) for x in metrics], here)
            if tracked:
                baselines.record(check.name, p, outcome.observed.get("value"), outcome.passed)
            status = PASS if outcome.passed else (FAIL if check.severity == "error" else WARN)
            out.append(Result(**base, status=status, observed=outcome.observed, expected=outcome.expected,
                              message=outcome.message))
    return out


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
