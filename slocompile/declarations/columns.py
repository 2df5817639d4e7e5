"""A column's declared `type`, and the values checks compare with the column, checked at compile time.

`type: integr` would only fail the schema check at build time, and `between: {min: abc}` on a
number column only when the engine casts 'abc': both are reported here, with the line (and the
family the misspelt type was meant to be).
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from slocompile.checks.table_slos import TYPE_FAMILIES
from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.yamlload import Node

FAMILIES = ("integer", "number", "string", "boolean", "date", "timestamp")
# checks whose parameters are values of the column: they must be values the column can hold
VALUE_PARAMS = {"between": ("min", "max"), "accepted_values": ("values",)}
_DATE_TEXT = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}")
_BOOLEAN_TEXT = ("true", "false", "t", "f", "1", "0", "yes", "no")


def check_column_type(declared: str, loc: Location, where: str, dialect: str, problems: ProblemCollector) -> bool:
    """A type family (integer, number, ...) or a type name the dialect (or DuckDB) knows; else a problem."""
    if family_of(declared, dialect) is not None or _parses(declared, dialect) or _parses(declared, "duckdb"):
        return True
    hint = did_you_mean(declared, sorted(TYPE_FAMILIES)) or f"; write a family ({', '.join(FAMILIES)}) or a type " \
        f"name of {dialect}"
    problems.add(loc, f"{where}: unknown type '{declared}'{hint}")
    return False


def family_of(declared: str | None, dialect: str) -> str | None:
    """integer, number, string, boolean, date or timestamp; None when unknown or another kind (a list...)."""
    if not declared:
        return None
    name = declared.strip().lower()
    members = TYPE_FAMILIES.get(name)
    if members is not None:
        return next(f for f in FAMILIES if TYPE_FAMILIES[f] is members)
    return _parsed_family(name, dialect)


@lru_cache(maxsize=1024)
def _parsed_family(name: str, dialect: str) -> str | None:
    for d in (dialect, "duckdb"):
        try:
            t = exp.DataType.build(name, dialect=d)
        except (ParseError, TokenError, ValueError):
            continue
        if t.is_type(*exp.DataType.INTEGER_TYPES):
            return "integer"
        if t.is_type(*exp.DataType.NUMERIC_TYPES):
            return "number"
        if t.is_type(*exp.DataType.TEXT_TYPES):
            return "string"
        if t.is_type(exp.DataType.Type.BOOLEAN):
            return "boolean"
        if t.is_type(exp.DataType.Type.DATE, exp.DataType.Type.DATE32):
            return "date"
        if t.is_type(*exp.DataType.TEMPORAL_TYPES):
            return "timestamp"
        return None
    return None


@lru_cache(maxsize=1024)
def _parses(name: str, dialect: str) -> bool:
    try:
        exp.DataType.build(name, dialect=dialect)
    except (ParseError, TokenError, ValueError):
        return False
    return True


def check_values_fit_column(check_type: str, column: str | None, declared: str | None, params: Node, what: str,
                            dialect: str, problems: ProblemCollector) -> bool:
    """The values of a between or accepted_values check can be compared with the column: of its
    declared family, or (no type declared) not a number beside a text that is not one."""
    names = VALUE_PARAMS.get(check_type)
    if not names or not params.is_map:
        return True
    values = []
    for name in names:
        node = params.value.get(name)
        if node is not None:
            values += [(name, item) for item in node.value] if node.is_list else [(name, node)]
    family = family_of(declared, dialect)
    ok = True
    if family is None:
        kinds = {_kind(n.value) for _, n in values} - {None}
        if "number" in kinds and "text" in kinds:
            name, node = next((k, n) for k, n in values if _kind(n.value) == "text")
            problems.add(node.loc, f"{what}: {name} {node.value!r} is not a number, but other values are; "
                         "a column compares with values of one kind")
            ok = False
        return ok
    for name, node in values:
        if not _fits(node.value, family):
            problems.add(node.loc, f"{what}: {name} {node.value!r} is not {_a(family)} value, but column "
                         f"'{column}' is declared {declared}")
            ok = False
    return ok


def _kind(v) -> str | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)) or (isinstance(v, str) and _is_numeric_text(v)):
        return "number"
    if isinstance(v, str) and not _DATE_TEXT.match(v):
        return "text"
    return None


def _is_numeric_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fits(v, family: str) -> bool:
    if v is None:
        return True
    if family in ("integer", "number"):
        return (isinstance(v, (int, float)) and not isinstance(v, bool)) or (isinstance(v, str) and _is_numeric_text(v))
    if family == "boolean":
        return isinstance(v, bool) or (isinstance(v, (str, int)) and str(v).strip().lower() in _BOOLEAN_TEXT)
    if family in ("date", "timestamp"):
        return isinstance(v, (dt.date, dt.datetime)) or (isinstance(v, str) and bool(_DATE_TEXT.match(v)))
    return True  # a string column: engines compare any literal with it as text


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word
