"""Project-owned sqlglot nodes for constructs that differ per dialect.

They never reach sqlglot's generator: render.py rewrites each into the
dialect's own construct (or refuses with a message naming the dialect).
"""
from __future__ import annotations

import functools

from sqlglot import exp


class QueryError(exp.Expression, exp.Func):
    """Raise an error at query time with the text `this` (a string expression)."""

    arg_types = {"this": True}


class Quantile(exp.Expression, exp.Func):
    """Exact continuous quantile of `this` at fraction `quantile`."""

    arg_types = {"this": True, "quantile": True}


class RegexSearch(exp.Expression, exp.Func):
    """TRUE when the regular expression `expression` matches anywhere in `this`."""

    arg_types = {"this": True, "expression": True}


class RowHash(exp.Expression, exp.Func):
    """A hash of one row's values (`expressions`: its columns) as a number whose SUM over any
    number of rows neither overflows nor loses digits: summed per partition, the partition's
    content fingerprint (sqltrees/content.py). Equal values hash equal on one engine."""

    arg_types = {"expressions": True}
    is_var_len_args = True


class HashedAsText(exp.Expression, exp.Func):
    """A column RowHash reads as its JSON text: its type is one the engine's hash refuses (Spark
    hashes no MAP). Equal values give equal text on one engine, so equal hashes."""

    arg_types = {"this": True}


class TimeBucket(exp.Expression, exp.Func):
    """The start of the hour, day, week (Monday) or month (`unit`, a string literal) that the date
    or timestamp `this` falls in, in the session's time zone: a TIMESTAMP for hours, else a DATE.
    A table's partition when it declares a granularity (sqltrees/scans.py partition_expr)."""

    arg_types = {"this": True, "unit": True}


class ValueTest(exp.Expression, exp.Func):
    """TRUE on a row whose value of `column` meets `this`, a condition on that column alone that is
    never TRUE on NULL (accepted_values' NOT IN): the condition itself, or, where the dialect tests
    few distinct values faster than many rows (rules.value_test_once), `column` IN the values of
    `source` (filtered by `where`) that meet it, each value tested once."""

    arg_types = {"this": True, "column": True, "source": True, "where": False}


def col(name: str) -> exp.Column:
    """A quoted column reference: names from YAML never pass through the parser."""
    return exp.Column(this=exp.to_identifier(name, quoted=True))


def named(e: exp.Expression, name: str) -> exp.Alias:
    """`e AS "name"`, the name quoted like col()'s."""
    return exp.Alias(this=e, alias=exp.to_identifier(name, quoted=True))


def lit(value) -> exp.Expression:
    """An escaped literal for a YAML value (strings, numbers, booleans, dates)."""
    import datetime as dt
    import math

    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("NaN and infinite values cannot be used as SQL literals")
        if value < 0:
            return exp.Neg(this=exp.Literal.number(-value))
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"cannot make a SQL literal of {type(value).__name__}")


def count_if(condition: exp.Expression) -> exp.Expression:
    """COUNT(CASE WHEN c THEN 1 END): 0, not NULL, on an empty input."""
    return exp.Count(this=exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))]))


def is_true(condition: exp.Expression) -> exp.Expression:
    """COALESCE(c, FALSE): a NULL comparison is not a violation."""
    return exp.Coalesce(this=exp.Paren(this=condition), expressions=[exp.false()])


def and_all(conditions) -> exp.Expression | None:
    conditions = [c for c in conditions if c is not None]
    if not conditions:
        return None
    out = conditions[0]
    for c in conditions[1:]:
        out = exp.And(this=_paren(out), expression=_paren(c))
    return out


def or_all(conditions) -> exp.Expression | None:
    conditions = [c for c in conditions if c is not None]
    if not conditions:
        return None
    out = conditions[0]
    for c in conditions[1:]:
        out = exp.Or(this=_paren(out), expression=_paren(c))
    return out


def _paren(e: exp.Expression) -> exp.Expression:
    return e if isinstance(e, (exp.Paren, exp.Column, exp.Boolean, exp.Coalesce, exp.Is, exp.EQ)) else exp.Paren(this=e)


def not_(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=_paren(e))


def sql_text(e: exp.Expression, dialect: str | None = "duckdb") -> str:
    """`e.sql(dialect)`, memoised: plans, manifests and check names print the same filters many
    times. The key adds the tree's strings to its structure, whose equality ignores their case."""
    strings = tuple(v for node in e.walk() for v in node.args.values() if isinstance(v, str))
    return _sql_text(e, strings, dialect)


@functools.lru_cache(maxsize=4096)
def _sql_text(e: exp.Expression, strings: tuple[str, ...], dialect: str | None) -> str:
    return e.sql(dialect)
