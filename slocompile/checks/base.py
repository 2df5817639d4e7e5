"""What a check type is: its YAML parameters, the metrics it requests, how it judges them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, cast

from sqlglot import exp

from slocompile.checks import change
from slocompile.checks import metrics as m
from slocompile.dialects.nodes import and_all, col, count_if, is_true
from slocompile.errors import Location, ProblemCollector
from slocompile.spec.fields import Field
from slocompile.spec.model import CheckSpec


@dataclass(frozen=True)
class Outcome:
    passed: bool
    observed: Any          # JSON-friendly value
    expected: str
    message: str


@dataclass(frozen=True)
class EvalContext:
    now: dt.datetime       # the build's start, UTC, naive
    catalog: dict | None = None
    earlier: tuple = ()    # change checks: the check's values on earlier passing partitions, oldest first
    # partitions_complete: table name -> the labels of the partitions present, as the build listed them
    partitions: dict | None = None
    # schema_changes: table name -> the (column, type) list the previous build recorded (run.schema_changes)
    columns_before: dict | None = None


class CheckType:
    """Base class. Subclasses set the class attributes and implement metrics/evaluate."""

    name: ClassVar[str]
    doc: ClassVar[str] = ""
    fields: ClassVar[dict[str, Field]] = {}
    shorthand: ClassVar[str | None] = None   # the key a non-mapping YAML value fills
    needs_column: ClassVar[bool] = False     # at table level it then takes a `column:` key
    column_level: ClassVar[bool] = True      # may be declared under a column
    table_level: ClassVar[bool] = True       # may be declared under the table's checks
    sql_fields: ClassVar[tuple[str, ...]] = ()  # params holding user SQL, parsed by the validator
    from_monitor_history: ClassVar[bool] = False  # judged from monitor summaries, not from a scan (drift)
    needs_partition: ClassVar[bool] = False  # only meaningful per partition (the loader says so otherwise)
    needs_partition_list: ClassVar[bool] = False  # judged from EvalContext.partitions (not judged without it)
    has_rows: ClassVar[bool] = False  # a failure has offending rows to sample (`failed_rows`, run.failures)
    reads_elsewhere: ClassVar[bool] = False  # its metrics read another relation (`Metric.target`: run.references)

    def validate(self, params: dict, loc: Location, problems: ProblemCollector) -> None:
        """Cross-field rules beyond each field's type."""

    def referenced_columns(self, check: CheckSpec) -> list[str]:
        cols = [check.column] if check.column else []
        for key in self.sql_fields:
            cols += [c.name for c in check.params[key].find_all(exp.Column)]
        return cols + list(check.params.get("group_by") or ())  # segments (checks/segments.py)

    def metrics(self, check: CheckSpec) -> list[m.Metric]:
        raise NotImplementedError(f"{type(self).__name__} must request metrics")

    def evaluate(self, check: CheckSpec, values: list, ctx: EvalContext) -> Outcome:
        raise NotImplementedError(f"{type(self).__name__} must evaluate its metrics")

    def row_violation(self, check: CheckSpec) -> exp.Expression | None:
        """For row rules: a condition TRUE exactly on violating rows (never NULL)."""
        return None

    def violation_filter(self, check: CheckSpec) -> exp.Expression | None:
        """For row rules: the WHERE of the violating rows (row_violation without its COALESCEs: a
        WHERE drops NULL as it drops FALSE, and the bare comparisons let an engine skip blocks by
        their statistics)."""
        return None

    def name_suffix(self, check_params: dict, column: str | None) -> str:
        """The part of the default name after the type: the column(s) it is about."""
        return column or ""

    def status_label(self, check_name: str, observed: Any) -> str:
        """How a failed result names the check in its partition's status row (failed_checks)."""
        return check_name


class RowRule(CheckType):
    """A rule each row must satisfy; the SLO bounds the count or fraction of violations."""

    row_fields: ClassVar[dict[str, Field]] = {
        "max_fraction": Field("fraction", doc="Largest allowed fraction of violating rows (default 0)."),
        "max_count": Field("int", doc="Largest allowed number of violating rows (default 0)."),
        "rows": Field("enum", default="keep", choices=("keep", "drop"),
                      doc="drop: violating rows leave the validated view and go to quarantine."),
    }
    needs_column = True
    has_rows = True
    prunable: ClassVar[bool] = False  # violation filter answerable from zone maps (null / range)

    def condition(self, check: CheckSpec) -> exp.Expression:
        """The violation condition on a row; may be NULL where the rule does not apply."""
        raise NotImplementedError(f"{type(self).__name__} must define its violation condition")

    def row_violation(self, check: CheckSpec) -> exp.Expression:
        cond = is_true(self.condition(check))
        if check.where is not None:
            # a NULL filter is no violation: without COALESCE the row would be in neither view
            cond = exp.And(this=is_true(check.where.copy()), expression=cond)
        return cond

    def violation_filter(self, check: CheckSpec) -> exp.Expression:
        return cast(exp.Expression, and_all([check.where.copy() if check.where is not None else None,
                                             self.condition(check)]))

    def metrics(self, check: CheckSpec) -> list[m.Metric]:
        cond = self.condition(check)
        return [m.count_if(cond, check.where, stats_prunable=self.prunable), m.rows(check.where)]

    def evaluate(self, check: CheckSpec, values: list, ctx: EvalContext) -> Outcome:
        bad, total = int(values[0] or 0), int(values[1] or 0)
        fraction = bad / total if total else 0.0
        max_count, max_fraction = check.params.get("max_count"), check.params.get("max_fraction")
        limits = []
        passed = True
        if max_count is not None:
            limits.append(f"<= {max_count} rows")
            passed &= bad <= max_count
        if max_fraction is not None:
            limits.append(f"<= {fmt_pct(max_fraction)}")
            passed &= fraction <= max_fraction
        if not limits:
            limits.append("0 rows")
            passed = bad == 0
        expected = " and ".join(limits)
        observed = {"rows": bad, "fraction": round(fraction, 6), "total": total}
        what = f"{bad} of {total} rows ({fmt_pct(fraction)}) violate {check.type}"
        return Outcome(passed, observed, expected, what + ("" if passed else f"; expected {expected}"))


class BoundedMetric(CheckType):
    """A table SLO on one measured number: `min` / `max` bounds, and/or a change over time
    (`max_increase` / `max_drop` vs a baseline of earlier partitions, see change.py)."""

    bound_fields: ClassVar[dict[str, Field]] = {
        "min": Field("number", doc="Smallest allowed value (inclusive)."),
        "max": Field("number", doc="Largest allowed value (inclusive)."),
        **change.CHANGE_FIELDS,
    }
    what: ClassVar[str] = "value"

    def validate(self, params, loc, problems):
        lo, hi = params.get("min"), params.get("max")
        if lo is None and hi is None and not change.has_change(params):
            problems.add(loc, f"{self.name} needs 'min', 'max', 'max_increase' or 'max_drop'")
        elif lo is not None and hi is not None and lo > hi:
            problems.add(loc, f"{self.name}: min ({lo}) is greater than max ({hi})")
        change.validate(self.name, params, loc, problems)

    def measured(self, check: CheckSpec, values: list) -> float | None:
        return to_number(values[0])

    def subject(self, check: CheckSpec) -> str:
        return f"{self.what} of {check.column}" if check.column else self.what

    def format(self, value: float) -> str:
        return fmt_num(value)

    def evaluate(self, check: CheckSpec, values: list, ctx: EvalContext) -> Outcome:
        value = self.measured(check, values)
        params = check.params
        if not change.has_change(params):
            return judge_bounds(check, value, self.subject(check), self.format)
        passed, observed, expected, message = change.judge(params, value, ctx.earlier, self.subject(check),
                                                           self.format)
        if params.get("min") is not None or params.get("max") is not None:
            bounded = judge_bounds(check, value, self.subject(check), self.format)
            passed, expected = passed and bounded.passed, f"{bounded.expected}; {expected}"
            message = bounded.message if not bounded.passed else message
        return Outcome(passed, observed, expected, message)

    def name_suffix(self, check_params: dict, column: str | None) -> str:
        """A change-only check is named `<type>_<column>_change`, apart from a bounds check."""
        base = super().name_suffix(check_params, column)
        only_change = change.has_change(check_params) and check_params.get("min") is None \
            and check_params.get("max") is None
        return "_".join(p for p in (base, "change") if p) if only_change else base


def judge_bounds(check: CheckSpec, value: float | None, subject: str, fmt=None) -> Outcome:
    fmt = fmt or fmt_num
    lo, hi = check.params.get("min"), check.params.get("max")
    expected = bounds_text(lo, hi, fmt)
    if value is None:
        return Outcome(False, None, expected, f"{subject} is undefined (no non-NULL values); expected {expected}")
    passed = (lo is None or value >= lo) and (hi is None or value <= hi)
    msg = f"{subject} is {fmt(value)}" + ("" if passed else f"; expected {expected}")
    return Outcome(passed, value, expected, msg)


def bounds_text(lo, hi, fmt=None) -> str:
    fmt = fmt or fmt_num
    if lo is not None and hi is not None:
        return f"between {fmt(lo)} and {fmt(hi)}"
    return f">= {fmt(lo)}" if lo is not None else f"<= {fmt(hi)}"


def to_number(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return v if v == v else float("nan")
    return float(v)


def fmt_num(v) -> str:
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}"
    return str(v)


def fmt_pct(f: float) -> str:
    if f == 0:
        return "0%"
    p = f * 100
    return f"{p:.2f}%" if p >= 0.01 else f"{p:.2g}%"


def column_of(check: CheckSpec) -> exp.Column:
    return col(cast(str, check.column))  # called by column checks only, which the loader gives a column


__all__ = ["CheckType", "RowRule", "BoundedMetric", "Outcome", "EvalContext", "count_if"]
