"""AST -> SQL text for one dialect.

Project nodes (nodes.py) and the constructs some dialects lack are rewritten into each dialect's
own, as its entry in rules.py says (render.py never tests a dialect's name); a construct a
dialect cannot express raises UnsupportedConstruct, and sqlglot itself runs with
unsupported_level=RAISE so nothing degrades silently.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, UnsupportedError

from slocompile.dialects.nodes import HashedAsText, Quantile, QueryError, RegexSearch, RowHash, TimeBucket, ValueTest
from slocompile.dialects.rules import rules


class UnsupportedConstruct(Exception):
    """`construct` cannot be expressed in `dialect`."""

    def __init__(self, construct: str, dialect: str, hint: str = ""):
        self.construct, self.dialect = construct, dialect
        super().__init__(f"{construct} cannot be expressed in {dialect}" + (f": {hint}" if hint else ""))


def _anon(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _query_error(node: QueryError, dialect: str) -> exp.Expression:
    msg = node.this
    fn = rules(dialect).error_function
    if fn:
        return _anon(fn, msg)
    # no error function (postgres, redshift, snowflake): casting the (non-constant) message to an
    # integer fails at query time and the engine's error text quotes the message.
    return exp.cast(msg, exp.DataType.Type.INT)


def _within_group(x: exp.Expression, q: exp.Expression) -> exp.Expression:
    order = exp.Order(expressions=[exp.Ordered(this=x)])
    return exp.WithinGroup(this=exp.PercentileCont(this=q), expression=order)


def _quantile(node: Quantile, dialect: str) -> exp.Expression:
    col, q = node.this, node.args["quantile"]
    r = rules(dialect)
    if r.quantile_function:
        return _anon(r.quantile_function, col, q)
    if r.quantile_within_group:
        return _within_group(col, q)
    raise UnsupportedConstruct("an exact quantile", dialect,
                               "it has only approximate or window-only percentiles; use min/max/mean bounds")


def _regex_search(node: RegexSearch, dialect: str) -> exp.Expression:
    value, pattern = node.this, node.expression
    if rules(dialect).regex_instr:
        return exp.GT(this=_anon("REGEXP_INSTR", value, pattern), expression=exp.Literal.number(0))
    return exp.RegexpLike(this=value, expression=pattern)


# aggregates that skip NULLs, so AGG(x) FILTER (WHERE c) = AGG(CASE WHEN c THEN x END)
_NULL_SKIPPING = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Stddev, exp.StddevSamp, exp.StddevPop,
                  exp.Variance, exp.VariancePop)


def _aggregate_filter(node: exp.Filter, dialect: str) -> exp.Expression:
    """A dialect without the FILTER clause (Redshift; sqlglot keeps it there): rewrite it into the
    aggregate's argument; COUNT(*) becomes COUNT(CASE WHEN c THEN 1 END), 0 rather than NULL on an
    empty table."""
    if rules(dialect).aggregate_filter or not isinstance(node.expression, exp.Where):
        return node
    agg, cond = node.this, node.expression.this
    target = agg.this.expressions[0] if isinstance(agg.this, exp.Distinct) and len(agg.this.expressions) == 1 \
        else agg.this
    if not isinstance(agg, _NULL_SKIPPING) or target is None or isinstance(target, exp.Distinct):
        raise UnsupportedConstruct(f"FILTER (WHERE ...) on {agg.sql('duckdb')}", dialect,
                                   "write the aggregate over CASE WHEN ... END instead")
    value = exp.Literal.number(1) if isinstance(target, exp.Star) else target.copy()
    target.replace(exp.Case(ifs=[exp.If(this=cond.copy(), true=value)]))
    return agg


def _count_if(node: exp.CountIf, dialect: str) -> exp.Expression:
    """COUNT_IF in user SQL: NULL on no rows in DuckDB, and sqlglot writes it as SUM(CASE ... ELSE 0 END)
    (also NULL) for Postgres and Redshift; COUNT(CASE WHEN c THEN 1 END) is 0 everywhere."""
    if isinstance(node.this, exp.Distinct):
        return node
    return exp.Count(this=exp.Case(ifs=[exp.If(this=node.this.copy(), true=exp.Literal.number(1))]))


def _group_concat(node: exp.GroupConcat, dialect: str) -> exp.Expression:
    """Order the parts by their value, so a message (a blocked view's) reads the same on every
    engine and run; Trino's LISTAGG requires the order anyway. sqlglot writes Redshift's inside
    the parentheses, where Redshift rejects it: WITHIN GROUP there."""
    if isinstance(node.this, exp.Order):
        return node
    by = [exp.Ordered(this=node.this.copy(), nulls_first=True)]  # never NULL; BigQuery writes no NULLS clause
    if rules(dialect).ordered_agg_within_group:
        return exp.WithinGroup(this=node.copy(), expression=exp.Order(expressions=by))
    return exp.GroupConcat(this=exp.Order(this=node.this.copy(), expressions=by), separator=node.args.get("separator"))


def _approx_distinct(node: exp.ApproxDistinct, dialect: str) -> exp.Expression:
    """Postgres has no approximate distinct count (sqlglot writes APPROX_DISTINCT, which does not
    exist there): count exactly. DuckDB's HyperLogLog has a fixed size: no accuracy argument."""
    r = rules(dialect)
    if not r.approx_distinct:
        return exp.Count(this=exp.Distinct(expressions=[node.this.copy()]))
    if not r.approx_distinct_accuracy and node.args.get("accuracy") is not None:
        return exp.ApproxDistinct(this=node.this.copy())
    return node


def _is_nan(node: exp.IsNan, dialect: str) -> exp.Expression:
    """Postgres has no isnan (sqlglot writes IS_NAN); its float NaN equals itself: x = 'NaN'."""
    if rules(dialect).isnan:
        return node
    nan = exp.cast(exp.Literal.string("NaN"), exp.DataType.Type.DOUBLE)
    return exp.paren(exp.EQ(this=exp.cast(node.this.copy(), exp.DataType.Type.DOUBLE), expression=nan))


def _time_to_unix(node: exp.TimeToUnix, dialect: str) -> exp.Expression:
    """Epoch seconds of a timestamp, fractions included as in DuckDB's EPOCH (Postgres: DATE_PART
    ('epoch', x), a double). Spark's UNIX_TIMESTAMP truncates to whole seconds: use microseconds."""
    if not rules(dialect).epoch_micros:
        return node
    micros = _anon("UNIX_MICROS", exp.cast(node.this.copy(), exp.DataType.Type.TIMESTAMP))
    return exp.paren(exp.Div(this=exp.cast(micros, exp.DataType.Type.DOUBLE),
                             expression=exp.Literal.number(1000000)))


def _percentile_cont(node: exp.PercentileCont, dialect: str) -> exp.Expression:
    """DuckDB's function form QUANTILE_CONT(x, q), q a fraction or a list of fractions (a list of
    results), in the dialect's exact quantile: Postgres PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY
    x) (an array q gives an array), Spark's exact PERCENTILE(x, q) (sqlglot writes a two-argument
    PERCENTILE_CONT there). The WITHIN GROUP form (no `expression`) is left as it is, and so is
    a list where the within-group form takes none (Snowflake, Redshift)."""
    q = node.args.get("expression")
    if q is None:
        return node
    r = rules(dialect)
    if r.quantile_within_group:
        return _within_group(node.this.copy(), q.copy()) if r.quantile_array or not isinstance(q, exp.Array) \
            else node
    if r.quantile_function:
        return _anon(r.quantile_function, node.this.copy(), q.copy())
    return node


def _any_value(node: exp.AnyValue, dialect: str) -> exp.Expression:
    """Postgres has ANY_VALUE only from version 16: the first non-NULL value of ARRAY_AGG (DuckDB's
    ANY_VALUE skips NULLs too)."""
    if rules(dialect).any_value:
        return node
    x = node.this
    agg = exp.Filter(this=exp.ArrayAgg(this=x.copy()),
                     expression=exp.Where(this=exp.Not(this=exp.Is(this=x.copy(), expression=exp.Null()))))
    return exp.Bracket(this=exp.paren(agg), expressions=[exp.Literal.number(1)], offset=1)


def _row_hash(node: RowHash, dialect: str) -> exp.Expression:
    """A number per row, summed per partition into its content fingerprint: wide enough (or cast
    to a decimal) that the SUM of any number of rows neither overflows nor rounds."""
    cols = [c.copy() for c in node.expressions]
    form = rules(dialect).row_hash

    def decimal(e: exp.Expression, digits: int) -> exp.Expression:
        return exp.cast(e, exp.DataType.build(f"DECIMAL({digits}, 0)"))

    if form == "hash":  # DuckDB (UBIGINT, summed as HUGEINT), Snowflake (NUMBER(19,0), summed as NUMBER(38,0))
        return _anon("HASH", *cols)
    if form == "hashtext":  # Postgres: any type has a text form; a BIGINT, summed as NUMERIC
        row = exp.cast(_anon("ROW", *cols), exp.DataType.Type.TEXT)
        return _anon("HASHTEXTEXTENDED", row, exp.Literal.number(0))
    if form == "xxhash64":  # Spark 4's ANSI mode raises when a BIGINT SUM overflows
        return decimal(_anon("XXHASH64", *cols), 20)
    if form == "farm_fingerprint":
        json = _anon("TO_JSON_STRING", exp.Struct(expressions=cols))
        return exp.cast(_anon("FARM_FINGERPRINT", json), exp.DataType.Type.BIGDECIMAL)
    if form == "trino":
        json = _anon("JSON_FORMAT", exp.cast(_anon("ROW", *cols), exp.DataType.Type.JSON))
        return decimal(_anon("FROM_BIG_ENDIAN_64", _anon("XXHASH64", _anon("TO_UTF8", json))), 38)
    if form == "md5":  # the first 60 bits of an MD5 of the values as text, a NULL told apart from any text
        parts = [exp.Coalesce(this=exp.DPipe(this=exp.Literal.string("v"),
                                             expression=exp.cast(c, exp.DataType.Type.TEXT)),
                              expressions=[exp.Literal.string("n")]) for c in cols]
        text: exp.Expression = parts[0]
        for p in parts[1:]:
            text = exp.DPipe(this=exp.DPipe(this=text, expression=exp.Literal.string("|")), expression=p)
        digits = exp.Substring(this=exp.MD5(this=text), start=exp.Literal.number(1), length=exp.Literal.number(15))
        return decimal(_anon("STRTOL", digits, exp.Literal.number(16)), 38)
    raise UnsupportedConstruct("a row hash (the content fingerprint of gates filter and block)", dialect)


def _time_bucket(node: TimeBucket, dialect: str) -> exp.Expression:
    """DATE_TRUNC(unit, CAST(x AS TIMESTAMP)), a DATE unless the unit is an hour. The cast makes a
    timestamp with a time zone a local one in the session's zone (the project's: the build sets it),
    and a date a timestamp, so one spelling serves every column type."""
    r = rules(dialect)
    unit = str(node.args["unit"].name).upper()
    naive = exp.cast(node.this.copy(), exp.DataType.Type.TIMESTAMP)
    var = exp.Var(this=r.week_unit if unit == "WEEK" else unit)
    trunc = exp.DatetimeTrunc if r.datetime_trunc else exp.TimestampTrunc
    start = trunc(this=naive, unit=var)
    return start if unit == "HOUR" else exp.cast(start, exp.DataType.Type.DATE)


def _hashed_as_text(node: HashedAsText, dialect: str) -> exp.Expression:
    """The column's JSON text (Spark's TO_JSON takes maps, arrays and structs); elsewhere its text."""
    if rules(dialect).row_hash == "xxhash64":
        return _anon("TO_JSON", node.this.copy())
    return exp.cast(node.this.copy(), exp.DataType.Type.TEXT)


def _value_test(node: ValueTest, dialect: str) -> exp.Expression:
    """The condition, or `column` IN (SELECT CASE WHEN condition THEN column END FROM (SELECT column
    FROM source [WHERE ...] GROUP BY column)): the condition sits in the CASE, not in a WHERE, which
    DuckDB would push down into the scan of every row. A NULL value meets no condition either way."""
    if not rules(dialect).value_test_once:
        return node.this.copy()
    column, where = node.args["column"], node.args.get("where")
    values = exp.Select(expressions=[column.copy()]).from_(node.args["source"].copy(), copy=False)
    if where is not None:
        values.set("where", exp.Where(this=where.copy()))
    values.set("group", exp.Group(expressions=[column.copy()]))
    meeting = exp.Select(expressions=[exp.Case(ifs=[exp.If(this=node.this.copy(), true=column.copy())])]).from_(
        exp.Subquery(this=values, alias=exp.TableAlias(this=exp.to_identifier("_slo_v", quoted=True))), copy=False)
    return exp.In(this=column.copy(), query=exp.Subquery(this=meeting))


# each rewrite takes a node of its key's type
_REWRITES: dict[type[exp.Expr], Callable[[Any, str], exp.Expression]] = {
    QueryError: _query_error, Quantile: _quantile, RegexSearch: _regex_search, exp.Filter: _aggregate_filter,
    exp.GroupConcat: _group_concat, exp.CountIf: _count_if, exp.ApproxDistinct: _approx_distinct,
    exp.IsNan: _is_nan, exp.TimeToUnix: _time_to_unix, exp.PercentileCont: _percentile_cont,
    exp.AnyValue: _any_value, RowHash: _row_hash, TimeBucket: _time_bucket, HashedAsText: _hashed_as_text,
    ValueTest: _value_test}

_dialect = functools.lru_cache(maxsize=None)(Dialect.get_or_raise)  # one instance per dialect name


def lower(tree: exp.Expr, dialect: str, copy: bool = True) -> exp.Expr:
    """Replace project nodes by the dialect's constructs (on a copy unless `copy` is False), innermost
    first so that a rewritten node's arguments (say, the LISTAGG inside a QueryError's message) are
    lowered too."""
    nodes = _rewritable(tree)
    if not nodes:
        return tree  # nothing to rewrite: no copy needed
    if copy:
        tree = tree.copy()
        nodes = _rewritable(tree)
    for node in nodes:
        new = _REWRITES[type(node)](node, dialect)
        if new is not node:
            tree = new if node is tree else tree
            node.replace(new)
    return tree


def _rewritable(tree: exp.Expr) -> list[exp.Expr]:
    """The nodes lower() rewrites, descendants before their ancestors (reversed dfs() order). A plain
    stack over the arguments: dfs() makes a generator per node, a large part of rendering a plan."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if type(node) in _REWRITES:
            found.append(node)
        for value in reversed(node.args.values()):
            if type(value) is list:
                stack.extend(v for v in reversed(value) if hasattr(v, "parent"))
            elif hasattr(value, "parent"):
                stack.append(value)
    return found[::-1]


def render(tree: exp.Expr, dialect: str, pretty: bool = False, copy: bool = True) -> str:
    """SQL text of `tree` for `dialect`. copy=False skips the defensive copies (about half the cost
    of rendering a large plan) for callers that built `tree` for this call and drop it after."""
    try:
        lowered = lower(tree, dialect, copy)
        return _dialect(dialect).generate(lowered, copy=copy, identify=True, pretty=pretty,
                                          unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise UnsupportedConstruct(str(e).splitlines()[0], dialect) from None
