"""A whole read-only SELECT from YAML (`assert` with a query: dbt's singular test).

One statement, a query (SELECT, WITH, UNION, ...); joins, subqueries, CTEs and window functions are
fine. Refused: DDL and DML anywhere (SELECT ... INTO too), table functions, relations named by a
path or file (DuckDB reads `FROM 'x.csv'`), and every function spec.sqlfunctions refuses (files,
network, settings, ...). `{{ this }}` renders THIS, which the loader resolves to the check's own
relation; a bare name of a declared table to that table's relation.
"""
from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from slocompile.errors import Location, ProblemCollector
from slocompile.spec.sqlfunctions import refusal
from slocompile.spec.usersql import first_line
from slocompile.spec.yamlload import THIS

_QUERY_START = re.compile(r"\s*\(*\s*(select|with)\b", re.IGNORECASE)
_WRITES = (exp.DDL, exp.DML, exp.Command, exp.Set, exp.Use, exp.Transaction, exp.Commit, exp.Rollback,
           exp.Pragma, exp.Describe, exp.Copy, exp.Show, exp.Merge, exp.Alter, exp.Drop, exp.Create, exp.Insert,
           exp.Update, exp.Delete, exp.TruncateTable, exp.Into)
_NOT_ALLOWED = (exp.Placeholder, exp.Parameter, exp.Lateral)
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def looks_like_query(text: str) -> bool:
    """Whether `text` is written as a whole query (SELECT or WITH first) rather than an expression."""
    return bool(_QUERY_START.match(text or ""))


def parse_user_query(text: str, dialect: str, loc: Location | None, what: str,
                     problems: ProblemCollector) -> exp.Query | None:
    """The query tree, or None with every problem recorded at `loc`."""
    tree, messages = checked_query(text, dialect)
    for message in messages:
        problems.add(loc, f"{what}: {message}")
    return tree


def checked_query(text: str, dialect: str) -> tuple[exp.Query | None, list[str]]:
    d = sqlglot.Dialect.get_or_raise(dialect)
    try:
        tokens = d.tokenize(text)
        if any(t.token_type == TokenType.SEMICOLON for t in tokens):
            return None, ["';' is not allowed: write one SELECT statement"]
        trees = [t for t in d.parser().parse(tokens, text) if t is not None]
    except (ParseError, TokenError) as e:
        return None, [f"invalid SQL: {first_line(e)}"]
    if len(trees) != 1:
        return None, ["write exactly one SELECT statement"]
    root = trees[0]
    if not isinstance(root, exp.Query):
        return None, [f"must be a SELECT statement, not {root.key.upper()}"]
    found: list[str] = []
    for node in root.walk():
        if isinstance(node, _WRITES):
            found.append(f"{'SELECT ... INTO' if isinstance(node, exp.Into) else node.key.upper()} is not "
                         "allowed: the query must only read")
        elif isinstance(node, _NOT_ALLOWED):
            found.append(f"{node.key} is not allowed in the query")
        elif isinstance(node, exp.Table):
            found += _table_problem(node)
        elif isinstance(node, exp.Func) and not isinstance(node.parent, exp.Table):
            why = refusal(node, dialect)
            if why is not None:
                found.append(why)
        if found:
            break
    if found:
        return None, found
    for ident in root.find_all(exp.Identifier):  # as written: mixed case and reserved words keep their meaning
        ident.set("quoted", True)
    return root, []


def _table_problem(node: exp.Table) -> list[str]:
    if not isinstance(node.this, exp.Identifier):
        name = node.this.sql() if isinstance(node.this, exp.Expression) else str(node.this)
        return [f"table functions are not allowed in the query ({name[:60]})"]
    for part in (node.args.get("catalog"), node.args.get("db"), node.this):
        if isinstance(part, exp.Identifier) and not _PLAIN_NAME.match(part.name):
            return [f"relation '{part.name}' is not a plain name: reading files or paths is not allowed"]
    return []


def resolve(query: exp.Expression, this: exp.Table, declared: dict[str, exp.Table]) -> exp.Expression:
    """`query` with THIS replaced by `this` and the bare names of declared tables by their relations
    (a name a CTE of the query defines stays the CTE's)."""
    ctes = {c.alias_or_name for c in query.find_all(exp.CTE)}
    for node in list(query.find_all(exp.Table)):
        if node.args.get("db") is not None or node.name in ctes:
            continue
        target = this if node.name == THIS else declared.get(node.name)
        if target is None:
            continue
        alias = node.args.get("alias") or (exp.TableAlias(this=exp.to_identifier(node.name, quoted=True))
                                           if node.name != THIS else None)
        new = target.copy()
        if alias is not None:
            new.set("alias", alias)
        node.replace(new)
    return query
