"""User SQL from YAML: parsed by sqlglot and held to one expression over the table's columns."""
from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.sqlfunctions import is_aggregate, refusal

# Functions the project itself provides inside user SQL, and where each may be used; they are
# allowed only where the caller passes them in `functions` (e.g. failing() in the `when` of a fix).
PROJECT_FUNCTIONS: dict[str, str] = {"failing": "the 'when' of a fix"}

_STATEMENTS = (exp.Query, exp.DDL, exp.DML, exp.Command, exp.Set, exp.Use, exp.Transaction,
               exp.Commit, exp.Rollback, exp.Pragma, exp.Describe, exp.Copy, exp.Show, exp.Merge,
               exp.Alter, exp.Drop, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.TruncateTable)
_FORBIDDEN = (exp.Star, exp.Placeholder, exp.Parameter, exp.Into, exp.Lateral, exp.Table)

ROW, AGGREGATE = "row", "aggregate"


def parse_user_sql(text: str, dialect: str, mode: str, columns: set[str] | None,
                   loc: Location | None, what: str, problems: ProblemCollector,
                   functions: frozenset[str] = frozenset()) -> exp.Expression | None:
    """Parse `text` as one expression; record every problem at `loc` and return None if any.

    mode ROW: a condition over one row (no aggregates, windows or subqueries).
    mode AGGREGATE: a condition over the table that uses at least one aggregate.
    """
    declared = frozenset(columns) if columns is not None else None
    tree, messages = _checked(text, dialect, mode, declared, functions)
    for message in messages:
        problems.add(loc, f"{what}: {message}")
    if messages:
        return None
    assert tree is not None  # _checked returns a tree exactly when it found no problem
    return tree.copy()


@functools.lru_cache(maxsize=4096)
def _checked(text: str, dialect: str, mode: str, columns: frozenset[str] | None,
             functions: frozenset[str]) -> tuple[exp.Expression | None, tuple[str, ...]]:
    """(the quoted tree, no problems) or (None, problems): projects repeat the same filters many
    times, so each is checked once; callers get a copy of the tree."""
    parsed, error = _parse(text, dialect)
    if error:
        return None, (error,)
    assert parsed is not None  # _parse returns a tree exactly when there is no error
    root = parsed.copy()
    if isinstance(root, _STATEMENTS):
        return None, (f"{_a(root.key.upper())} statement is not allowed: write one SQL expression",)
    found: list[str] = []
    for node in root.walk():
        if isinstance(node, (exp.Subquery, exp.Query, exp.Exists)):
            found.append("subqueries are not allowed")
            break
        if isinstance(node, _STATEMENTS):
            found.append(f"{_a(node.key.upper())} statement is not allowed")
            break
        if isinstance(node, _FORBIDDEN) and not (isinstance(node, exp.Star) and isinstance(node.parent, exp.Count)):
            found.append(f"{node.key} is not allowed in an expression")
            break
        if isinstance(node, exp.Func) and not (isinstance(node, exp.Anonymous) and node.name.lower() in functions):
            fn = node.name.lower() if isinstance(node, exp.Anonymous) else ""
            if fn in PROJECT_FUNCTIONS:
                found.append(f"{fn}() is only allowed in {PROJECT_FUNCTIONS[fn]}")
            elif (why := refusal(node, dialect)) is not None:  # unknown, a table function, files, settings...
                found.append(why)
        if isinstance(node, exp.Window):
            found.append("window functions are not allowed")
            break
        if isinstance(node, exp.Column):
            if node.table:
                found.append(f"write column names without a table qualifier ({node.sql(dialect)})")
            elif typo_of(node.name, columns):
                found.append(f"unknown column '{node.name}'{typo_of(node.name, columns)}")
    has_agg = any(is_aggregate(n, dialect) for n in root.walk())
    if mode == ROW and has_agg:
        found.append("aggregate functions are not allowed in a row expression")
    if mode == AGGREGATE and not has_agg:
        found.append("must use an aggregate function such as count(*), avg(x) or min(x)")
    return (None, tuple(found)) if found else (_quote_columns(root), ())


@functools.lru_cache(maxsize=4096)
def _parse(text: str, dialect: str) -> tuple[exp.Expression | None, str | None]:
    """(tree, None) or (None, message). Cached: projects repeat the same filters many times;
    callers get a copy."""
    d = sqlglot.Dialect.get_or_raise(dialect)
    try:
        tokens = d.tokenize(text)
        if any(t.token_type == TokenType.SEMICOLON for t in tokens):
            return None, "';' is not allowed: write one SQL expression, not statements"
        trees = d.parser().parse(tokens, text)
    except (ParseError, TokenError) as e:
        return None, f"invalid SQL: {first_line(e)}"
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        return None, "write exactly one SQL expression"
    tree = trees[0]
    assert isinstance(tree, exp.Expression)  # every node sqlglot builds is one (exp.Expr is its base)
    return tree, None


def _quote_columns(root: exp.Expression) -> exp.Expression:
    # Quote identifiers as written so that mixed case and reserved words keep their meaning everywhere.
    for node in root.find_all(exp.Column):
        ident = node.this
        if isinstance(ident, exp.Identifier):
            ident.set("quoted", True)
    return root


def _a(word: str) -> str:
    return ("an " if word[:1] in "AEIOU" else "a ") + word


def first_line(e: Exception) -> str:
    """A sqlglot parse error in one line: its first error and where it is in the SQL."""
    errors = getattr(e, "errors", None)
    if errors:
        first = errors[0]
        desc = first.get("description") or str(e)
        if desc.startswith("Required keyword:"):  # "... missing for <class 'sqlglot...GT'>": Python, not SQL
            desc = "incomplete expression"
        line, col = first.get("line"), first.get("col")
        return f"{desc} (at line {line}, column {col} of the SQL)" if line else desc
    return str(e).splitlines()[0]


def typo_of(name: str, declared) -> str:
    """' (did you mean 'x'?)' when `name` is not among the `declared` columns but close to one: a
    likely typo, reported at compile time. '' otherwise: `columns:` need not list every column of
    the relation, and a column it does not list is checked against the relation at build time."""
    if declared is None or name in declared:
        return ""
    return did_you_mean(name, declared)


def parse_relation(text: str, dialect: str = "duckdb") -> exp.Table:
    """'schema.table' (quoted parts allowed) -> a clean, fully quoted Table; ValueError otherwise."""
    return _relation(text, dialect).copy()


@functools.lru_cache(maxsize=1024)
def _relation(text: str, dialect: str) -> exp.Table:  # every relationship check parses its `to` again
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except TokenError as e:
        raise ValueError(f"is not a relation name: {e}") from None
    parts: list[str] = []
    expect_name = True
    for t in tokens:
        if expect_name and t.token_type in (TokenType.VAR, TokenType.IDENTIFIER) or (
            expect_name and t.token_type not in (TokenType.DOT, TokenType.STRING, TokenType.NUMBER)
            and t.text.isidentifier()
        ):
            parts.append(t.text)
            expect_name = False
        elif not expect_name and t.token_type == TokenType.DOT:
            expect_name = True
        else:
            raise ValueError(f"{text!r} is not a relation name (write schema.table)")
    if expect_name or not 1 <= len(parts) <= 3:
        raise ValueError(f"{text!r} is not a relation name (write schema.table)")
    idents = [exp.to_identifier(p, quoted=True) for p in parts]
    table = exp.Table(this=idents[-1])
    if len(idents) >= 2:
        table.set("db", idents[-2])
    if len(idents) == 3:
        table.set("catalog", idents[0])
    return table
