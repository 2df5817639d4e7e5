"""AST -> SQL text for one dialect. The one place where dialects differ.

Project nodes (sqlnodes.py) are rewritten into each dialect's own construct;
a construct a dialect cannot express raises UnsupportedConstruct, and sqlglot
itself runs with unsupported_level=RAISE so nothing degrades silently.
"""
from __future__ import annotations

from sqlglot import exp
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


_REWRITES = {QueryError: _query_error, Quantile: _quantile, RegexSearch: _regex_search}


def lower(tree: exp.Expression, dialect: str) -> exp.Expression:
    """Replace project nodes by the dialect's constructs (on a copy)."""
    if not any(isinstance(n, tuple(_REWRITES)) for n in tree.walk()):
        return tree

    def fn(node):
        rewrite = _REWRITES.get(type(node))
        return rewrite(node, dialect) if rewrite else node

    return tree.transform(fn)


def render(tree: exp.Expression, dialect: str, pretty: bool = False) -> str:
    try:
        return lower(tree, dialect).sql(dialect=dialect, identify=True, pretty=pretty,
                                        unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise UnsupportedConstruct(str(e).splitlines()[0], dialect) from None
