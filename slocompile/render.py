"""AST -> SQL text for one dialect. The one place where dialects differ.

Project nodes (sqlnodes.py) are rewritten into each dialect's own construct;
a construct a dialect cannot express raises UnsupportedConstruct, and sqlglot
itself runs with unsupported_level=RAISE so nothing degrades silently.
"""
from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, UnsupportedError

from .sqlnodes import QueryError, Quantile, RegexSearch


class UnsupportedConstruct(Exception):
    """`construct` cannot be expressed in `dialect`."""

    def __init__(self, construct: str, dialect: str, hint: str = ""):
        self.construct, self.dialect = construct, dialect
        super().__init__(f"{construct} cannot be expressed in {dialect}" + (f": {hint}" if hint else ""))


def _anon(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _query_error(node: QueryError, dialect: str) -> exp.Expression:
    msg = node.this
    if dialect == "duckdb":
        return _anon("error", msg)
    if dialect in ("spark", "databricks"):
        return _anon("raise_error", msg)
    if dialect == "bigquery":
        return _anon("ERROR", msg)
    if dialect == "trino":
        return _anon("fail", msg)
    # postgres, redshift, snowflake: no error function; casting the (non-constant) message to an
    # integer fails at query time and the engine's error text quotes the message.
    return exp.cast(msg, exp.DataType.Type.INT)


def _quantile(node: Quantile, dialect: str) -> exp.Expression:
    col, q = node.this, node.args["quantile"]
    if dialect == "duckdb":
        return _anon("quantile_cont", col, q)
    if dialect in ("spark", "databricks"):
        return _anon("percentile", col, q)  # exact, unlike percentile_approx
    if dialect in ("postgres", "snowflake", "redshift"):
        order = exp.Order(expressions=[exp.Ordered(this=col)])
        return exp.WithinGroup(this=exp.PercentileCont(this=q), expression=order)
    raise UnsupportedConstruct("an exact quantile", dialect,
                               "it has only approximate or window-only percentiles; use min/max/mean bounds")


def _regex_search(node: RegexSearch, dialect: str) -> exp.Expression:
    value, pattern = node.this, node.expression
    if dialect == "snowflake":  # REGEXP_LIKE anchors the whole value there
        return exp.GT(this=_anon("REGEXP_INSTR", value, pattern), expression=exp.Literal.number(0))
    return exp.RegexpLike(this=value, expression=pattern)


# aggregates that skip NULLs, so AGG(x) FILTER (WHERE c) = AGG(CASE WHEN c THEN x END)
_NULL_SKIPPING = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Stddev, exp.StddevSamp, exp.StddevPop,
                  exp.Variance, exp.VariancePop)


def _aggregate_filter(node: exp.Filter, dialect: str) -> exp.Expression:
    """Redshift has no FILTER clause (sqlglot keeps it there): rewrite it into the aggregate's argument;
    COUNT(*) becomes COUNT(CASE WHEN c THEN 1 END), 0 rather than NULL on an empty table."""
    if dialect != "redshift" or not isinstance(node.expression, exp.Where):
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
    """Trino's LISTAGG requires WITHIN GROUP (ORDER BY ...): order by the value itself."""
    if dialect != "trino" or isinstance(node.this, exp.Order):
        return node
    ordered = exp.Order(this=node.this.copy(), expressions=[exp.Ordered(this=node.this.copy())])
    return exp.GroupConcat(this=ordered, separator=node.args.get("separator"))


_REWRITES = {QueryError: _query_error, Quantile: _quantile, RegexSearch: _regex_search, exp.Filter: _aggregate_filter,
             exp.GroupConcat: _group_concat, exp.CountIf: _count_if}


_REWRITE_TYPES = tuple(_REWRITES)


def lower(tree: exp.Expression, dialect: str, copy: bool = True) -> exp.Expression:
    """Replace project nodes by the dialect's constructs (on a copy unless `copy` is False), innermost
    first so that a rewritten node's arguments (say, the LISTAGG inside a QueryError's message) are
    lowered too."""
    if copy:
        if not any(isinstance(n, _REWRITE_TYPES) for n in tree.walk()):
            return tree  # nothing to rewrite: no copy needed
        tree = tree.copy()
    for node in reversed(list(tree.dfs())):  # descendants before their ancestors
        rewrite = _REWRITES.get(type(node))
        new = rewrite(node, dialect) if rewrite else node
        if new is not node:
            tree = new if node is tree else tree
            node.replace(new)
    return tree


def render(tree: exp.Expression, dialect: str, pretty: bool = False, copy: bool = True) -> str:
    """SQL text of `tree` for `dialect`. copy=False skips the defensive copies (about half the cost
    of rendering a large plan) for callers that built `tree` for this call and drop it after."""
    try:
        lowered = lower(tree, dialect, copy)
        return Dialect.get_or_raise(dialect).generate(lowered, copy=copy, identify=True, pretty=pretty,
                                                      unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise UnsupportedConstruct(str(e).splitlines()[0], dialect) from None
