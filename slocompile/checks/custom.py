"""Custom check types: a project's own check types, defined in SQL under macros/ (declarations.macros).

Three kinds, each judged like the built-in type it resembles:
- `aggregate`: a boolean aggregate expression, TRUE when the check passes (like `assert`); measured
  in the table's fused scan like every built-in aggregate;
- `metric`: a numeric aggregate expression bounded by `min` / `max` (and `max_increase` / `max_drop`
  over earlier partitions) at each use (like `mean`); fused too;
- `rows`: a whole read-only SELECT returning the failing rows (like `assert` with a query), with
  failed-row samples.

The check's params hold everything its judging needs (`kind`, the rendered tree `rendered`, for
`rows` also `query`): a check loaded from one project is judged the same whatever types another
project loaded later registers under the same name.
"""
from __future__ import annotations

from typing import ClassVar

from slocompile.checks import metrics as m
from slocompile.checks.base import BoundedMetric, CheckType, fmt_num
from slocompile.spec.fields import Field

AGGREGATE, METRIC, ROWS = "aggregate", "metric", "rows"
KINDS = (AGGREGATE, METRIC, ROWS)
RENDERED = "rendered"  # params key: the definition's SQL with this use's parameters (a sqlglot tree)
KIND = "kind"          # params key: the definition's kind


class _Bounds(BoundedMetric):
    """The judging of a `metric` custom type (its subject: the type's name)."""
    name = "custom metric"

    def subject(self, check):
        return f"{check.type} of {check.column}" if check.column else check.type


class CustomCheck(CheckType):
    """One custom check type of a project: its parameters are fields like a built-in's."""

    custom: ClassVar[bool] = True

    def __init__(self, name: str, kind: str, fields: dict[str, Field], doc: str, takes_column: bool,
                 defined_at: str):
        self.name = name  # type: ignore[misc]  # per instance: one class serves every custom type
        self.kind = kind
        self.bounds = _Bounds()
        self.bounds.name = name  # type: ignore[misc]  # named in its messages
        self.fields = {**fields, **(_Bounds.bound_fields if kind == METRIC else {})}  # type: ignore[misc]
        self.doc = doc  # type: ignore[misc]
        self.needs_column = takes_column  # type: ignore[misc]
        self.column_level = takes_column  # type: ignore[misc]
        self.has_rows = kind == ROWS  # type: ignore[misc]
        self.defined_at = defined_at  # file:line of the definition, for messages

    def validate(self, params, loc, problems):
        if self.kind == METRIC:
            from slocompile.errors import ProblemCollector

            found = ProblemCollector()
            self.bounds.validate({k: params.get(k) for k in _Bounds.bound_fields}, loc, found)
            for p in found.problems:  # pointing at the definition too
                problems.add(p.location, f"{p.message} (check type defined at {self.defined_at})")

    def referenced_columns(self, check):
        from sqlglot import exp

        if check.params.get(KIND) == ROWS:
            return []
        return [c.name for c in check.params[RENDERED].find_all(exp.Column)]

    def metrics(self, check):
        tree = check.params[RENDERED].copy()
        if check.params.get(KIND) == ROWS:
            return [m.query_rows(tree)]
        return [m.aggregate(tree, check.where)]

    def evaluate(self, check, values, ctx):
        from slocompile.checks.base import Outcome

        v, kind, text = values[0], check.params.get(KIND), check.params.get(f"{RENDERED}_text", check.type)
        if kind == ROWS:
            n = int(v or 0)
            return Outcome(n == 0, n, "0 rows", f"{check.type} returned {n} failing row{'s' * (n != 1)}"
                           + ("" if n == 0 else "; expected none"))
        if kind == METRIC:
            return self.bounds.evaluate(check, values, ctx)
        passed = v is True or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 1)
        shown = "NULL" if v is None else fmt_num(v) if not isinstance(v, bool) else str(v).lower()
        return Outcome(passed, v, "true", f"{check.type}: {text} is {shown}" + ("" if passed else "; expected true"))

    def name_suffix(self, check_params, column):
        if self.kind == METRIC:
            return self.bounds.name_suffix(check_params, column)
        return column or ""
