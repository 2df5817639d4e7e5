"""Bounds and change SLOs on a column's statistics: mean, min, max, stddev, quantile,
distinct_count, missing_fraction."""
from __future__ import annotations

from sqlglot import exp

from slocompile.checks import metrics as m
from slocompile.checks.base import BoundedMetric, column_of, fmt_pct, to_number
from slocompile.dialects.nodes import Quantile, lit
from slocompile.spec.fields import Field


class _ColumnStatistic(BoundedMetric):
    needs_column = True
    fields = {**BoundedMetric.bound_fields}

    def aggregate(self, column: exp.Expression, check) -> exp.Expression:
        raise NotImplementedError(f"{type(self).__name__} must build its aggregate")

    def metrics(self, check):
        return [m.aggregate(self.aggregate(column_of(check), check), check.where)]


class Mean(_ColumnStatistic):
    name, what = "mean", "mean"
    doc = "The mean of the non-NULL values lies within the bounds."

    def aggregate(self, c, check):
        return exp.Avg(this=c)


class Min(_ColumnStatistic):
    name, what = "min", "minimum"
    doc = "The smallest value lies within the bounds."

    def aggregate(self, c, check):
        return exp.Min(this=c)


class Max(_ColumnStatistic):
    name, what = "max", "maximum"
    doc = "The largest value lies within the bounds."

    def aggregate(self, c, check):
        return exp.Max(this=c)


class Stddev(_ColumnStatistic):
    name, what = "stddev", "standard deviation"
    doc = "The sample standard deviation lies within the bounds."

    def aggregate(self, c, check):
        return exp.StddevSamp(this=c)


class DistinctCount(_ColumnStatistic):
    name, what = "distinct_count", "distinct count"
    doc = "The number of distinct non-NULL values lies within the bounds."

    def aggregate(self, c, check):
        return exp.Count(this=exp.Distinct(expressions=[c]))

    def measured(self, check, values):
        return to_number(values[0] or 0)


class QuantileBounds(_ColumnStatistic):
    name, what = "quantile", "quantile"
    doc = "The exact continuous quantile `q` (0.5 = median) lies within the bounds."
    fields = {"q": Field("fraction", required=True, doc="Which quantile, between 0 and 1."),
              **BoundedMetric.bound_fields}

    def aggregate(self, c, check):
        return Quantile(this=c, quantile=lit(float(check.params["q"])))

    def subject(self, check):
        return f"q{check.params['q']:g} of {check.column}"

    def name_suffix(self, params, column):
        q = params.get("q")
        return f"{column}_q{int(round(q * 100))}" if isinstance(q, (int, float)) else column or ""


class MissingFraction(BoundedMetric):
    name, what = "missing_fraction", "missing fraction"
    doc = ("The share of NULLs in the column (per partition when the table has one) lies within the bounds "
           "or changes at most so much: `{max_increase: 25%, baseline: 7}` is a coverage SLO over time.")
    fields = {**BoundedMetric.bound_fields}
    needs_column = True

    def metrics(self, check):
        # the same two metrics as not_null's: a table with both measures them once
        null = exp.Is(this=column_of(check), expression=exp.Null())
        return [m.count_if(null, check.where, stats_prunable=True), m.rows(check.where)]

    def measured(self, check, values):
        missing, total = int(values[0] or 0), int(values[1] or 0)
        return missing / total if total else None

    def format(self, value):
        return fmt_pct(value)


STATISTICS = [Mean, Min, Max, Stddev, DistinctCount, QuantileBounds, MissingFraction]
