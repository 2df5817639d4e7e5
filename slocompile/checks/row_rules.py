"""Row rules: conditions every row must meet. Each also bounds the violations as an SLO."""
from __future__ import annotations

from sqlglot import exp

from slocompile.checks import metrics as m
from slocompile.checks.base import RowRule, column_of
from slocompile.dialects.nodes import RegexSearch, lit, not_, or_all
from slocompile.spec.fields import Field


class NotNull(RowRule):
    name = "not_null"
    doc = "The column has no NULLs (or at most `max_fraction` / `max_count` of them): a coverage SLO."
    fields = {**RowRule.row_fields}
    prunable = True

    def condition(self, check):
        return exp.Is(this=column_of(check), expression=exp.Null())


class Between(RowRule):
    name = "between"
    doc = "Non-NULL values lie within [min, max] (bounds inclusive unless `inclusive: false`)."
    fields = {
        "min": Field("scalar", doc="Lower bound."),
        "max": Field("scalar", doc="Upper bound."),
        "inclusive": Field("bool", default=True, doc="Whether values equal to a bound pass."),
        **RowRule.row_fields,
    }
    prunable = True

    def validate(self, params, loc, problems):
        lo, hi = params.get("min"), params.get("max")
        if lo is None and hi is None:
            problems.add(loc, "between needs 'min', 'max' or both")
        elif lo is not None and hi is not None and type(lo) is type(hi) and lo > hi:
            problems.add(loc, f"between: min ({lo}) is greater than max ({hi})")

    def condition(self, check):
        c, p = column_of(check), check.params
        below, above = (exp.LT, exp.GT) if p["inclusive"] else (exp.LTE, exp.GTE)
        parts = []
        if p.get("min") is not None:
            parts.append(below(this=c, expression=lit(p["min"])))
        if p.get("max") is not None:
            parts.append(above(this=c.copy(), expression=lit(p["max"])))
        return or_all(parts)


class AcceptedValues(RowRule):
    name = "accepted_values"
    doc = "Non-NULL values are among `values`."
    fields = {"values": Field("scalar_list", required=True, doc="The allowed values."), **RowRule.row_fields}
    shorthand = "values"

    def condition(self, check):
        return exp.Not(this=exp.In(this=column_of(check), expressions=[lit(v) for v in check.params["values"]]))

    def metrics(self, check):
        # few distinct values are expected: engines may count violations once per value
        return [m.count_if(self.condition(check), check.where, per_value=True), m.rows(check.where)]


class Matches(RowRule):
    name = "matches"
    doc = "Non-NULL values match the regular expression `pattern` (anywhere; anchor with ^ and $)."
    fields = {"pattern": Field("str", required=True, doc="A regular expression."), **RowRule.row_fields}
    shorthand = "pattern"

    def validate(self, params, loc, problems):
        import re

        if params.get("pattern"):
            try:
                re.compile(params["pattern"])
            except re.error as e:
                problems.add(loc, f"matches: invalid regular expression: {e}")

    def condition(self, check):
        return not_(RegexSearch(this=column_of(check), expression=lit(check.params["pattern"])))


class Expression(RowRule):
    name = "expression"
    doc = "A boolean SQL expression over the row's columns holds (a NULL result counts as a pass)."
    fields = {"sql": Field("sql", required=True, doc="Boolean SQL expression over the row."),
              **RowRule.row_fields}
    shorthand = "sql"
    needs_column = False
    sql_fields = ("sql",)

    def condition(self, check):
        return not_(check.params["sql"].copy())

    def name_suffix(self, params, column):
        return column or ""


ROW_RULES = [NotNull, Between, AcceptedValues, Matches, Expression]
