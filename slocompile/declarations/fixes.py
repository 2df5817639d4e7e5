"""Row fixes (row triggers): `fix:` on a column post-processes its values in the validated view.

    fix:
      - replace: {when: "failing('user_features')", value: baseline_score}
      - clip: [0, 1]
      - fill_null: 0.5

Fixes apply in order to the column's value: inside a fix, the column's own name means its value
after the fixes before it; every other column is read as it is in the raw row (before its own
fixes). Fixes change values, never which rows the view holds: row rules and gates judge raw
values, so validated + quarantine = raw still holds row for row.

`failing('<table>')` (only in the `when` of a `replace`) is TRUE while that table's latest status
has a failed error-severity SLO: it reads the meta status table at query time, so the view follows
the other table's builds without being rebuilt itself.

`row_status: true` on a table adds `_slo_ok`, `_slo_violations` and `_slo_fixed` to its validated
view: the row rules each row breaks (those not dropping rows, which are in quarantine), the columns
a fix changed, and whether neither happened.

This module parses and checks the fixes; sqltrees/fixes.py writes them into the view's SQL.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlglot import exp

from slocompile.dialects.nodes import lit
from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.model import TableSpec

KINDS = ("clip", "fill_null", "replace")


class Failing(exp.Expression, exp.Func):
    """failing('<table>') from a fix's `when`; expanded by sqltrees.fixes.expand_failing with the meta schema."""

    arg_types = {"this": True}


@dataclass(frozen=True, eq=False)
class Fix:
    kind: str                               # clip | fill_null | replace
    loc: Location
    lo: object = None                       # clip: lower bound (None: none)
    hi: object = None                       # clip: upper bound (None: none)
    value: object = None                    # fill_null: a literal; replace: an expression
    when: exp.Expression | None = None      # replace: the condition
    text: dict = field(default_factory=dict)  # as written, for messages and the manifest
    failing: tuple[tuple[str, Location], ...] = ()  # tables named in failing(), with the location

    def referenced_columns(self) -> list[str]:
        out = []
        for tree in (self.when, self.value if isinstance(self.value, exp.Expression) else None):
            if tree is not None:
                out += [c.name for c in tree.find_all(exp.Column)]
        return out

    def describe(self) -> dict:
        if self.kind == "clip":
            return {"clip": [self.lo, self.hi]}
        if self.kind == "fill_null":
            return {"fill_null": self.value}
        return {"replace": dict(self.text)}


# ------------------------------------------------------------------ declarations

def parse_fixes(node, column: str, where: str, dialect: str, known: set[str] | None,
                problems: ProblemCollector) -> tuple[Fix, ...]:
    """The `fix:` list of a column; every problem is recorded with its location."""
    from slocompile.spec.usersql import ROW, parse_user_sql

    if node is None or not node.is_list:
        return ()  # the loader's field check reported a non-list already
    what = f"{where}, fix"
    out = []
    for item in node.value:
        if not item.is_map or len(item.value) != 1:
            problems.add(item.loc, f"{what}: a fix is a mapping with one of {', '.join(KINDS)} as its key, "
                         "e.g. `- clip: [0, 1]`")
            continue
        kind = next(iter(item.value))
        arg, kloc = item.value[kind], item.key_locs.get(kind, item.loc)
        if kind not in KINDS:
            problems.add(kloc, f"{what}: unknown fix '{kind}'{did_you_mean(kind, KINDS)} "
                         f"(fixes: {', '.join(KINDS)})")
            continue
        if kind == "clip":
            fix = _clip(arg, kloc, what, problems)
        elif kind == "fill_null":
            if not _is_literal(arg.value):
                problems.add(arg.loc, f"{what}: fill_null takes a value (a number, string, boolean or date), "
                             f"not {_describe(arg.value)}")
                fix = None
            else:
                fix = Fix("fill_null", kloc, value=arg.value)
        else:
            fix = _replace(arg, kloc, what, dialect, known, problems, parse_user_sql, ROW)
        if fix is not None:
            out.append(fix)
    return tuple(out)


def _clip(arg, loc: Location, what: str, problems: ProblemCollector) -> Fix | None:
    if arg.is_list and len(arg.value) == 2:
        lo_node, hi_node = arg.value
    elif arg.is_map and set(arg.value) <= {"min", "max"} and arg.value:
        lo_node, hi_node = arg.value.get("min"), arg.value.get("max")
    else:
        problems.add(arg.loc, f"{what}: clip takes [low, high] (or {{min: low, max: high}}); use null for no "
                     "bound on one side")
        return None
    bounds = []
    for node in (lo_node, hi_node):
        v = None if node is None else node.value
        if v is not None and not _is_bound(v):
            problems.add(node.loc, f"{what}: a clip bound must be a number or a date, not {_describe(v)}")
            return None
        bounds.append(v)
    lo, hi = bounds
    if lo is None and hi is None:
        problems.add(arg.loc, f"{what}: clip needs at least one bound")
        return None
    if lo is not None and hi is not None:
        try:
            if lo > hi:
                problems.add(arg.loc, f"{what}: clip's low bound ({lo}) is greater than its high bound ({hi})")
                return None
        except TypeError:
            problems.add(arg.loc, f"{what}: clip's bounds must be of the same kind (two numbers or two dates)")
            return None
    return Fix("clip", loc, lo=lo, hi=hi)


def _replace(arg, loc, what, dialect, known, problems: ProblemCollector, parse_user_sql, ROW) -> Fix | None:
    if not arg.is_map:
        problems.add(arg.loc, f"{what}: replace takes a mapping {{when: <sql condition>, value: <sql>}}")
        return None
    ok = True
    for key in arg.value:
        if key not in ("when", "value"):
            problems.add(arg.key_locs.get(key, arg.loc), f"unknown key '{key}' in replace of {what[:-5]}"
                         f"{did_you_mean(key, ('when', 'value'))}")
            ok = False
    for key in ("when", "value"):
        if key not in arg.value:
            problems.add(arg.loc, f"replace of {what[:-5]} is missing required key '{key}'")
            ok = False
    if not ok:
        return None
    when_node, value_node = arg.value["when"], arg.value["value"]
    if not (isinstance(when_node.value, str) and when_node.value.strip()):
        problems.add(when_node.loc, f"'when' of replace must be a SQL condition (a non-empty string), "
                     f"not {_describe(when_node.value)}")
        return None
    when = parse_user_sql(when_node.value, dialect, ROW, known, when_node.loc, f"'when' of replace of {what[:-5]}",
                          problems, functions=frozenset({"failing"}))
    if when is None:
        return None
    when, failing = _take_failing(when, when_node.loc, what, problems)
    if when is None:
        return None
    v = value_node.value
    if isinstance(v, str):
        value = parse_user_sql(v, dialect, ROW, known, value_node.loc, f"'value' of replace of {what[:-5]}", problems)
        if value is None:
            return None
    elif v is None:
        value = exp.Null()
    elif _is_literal(v):
        value = lit(v)
    else:
        problems.add(value_node.loc, f"'value' of replace must be SQL (a string), a number, a boolean, a date or "
                     f"null, not {_describe(v)}")
        return None
    text = {"when": when_node.value, "value": v if not isinstance(v, (dt.date,)) else str(v)}
    return Fix("replace", loc, value=value, when=when, text=text, failing=failing)


def _take_failing(tree: exp.Expression, loc: Location, what: str, problems: ProblemCollector):
    """failing('<table>') calls -> Failing nodes; their table names are checked once all tables are known."""
    names = []
    bad = False
    for node in list(tree.find_all(exp.Anonymous)):
        if str(node.name).lower() != "failing":
            continue
        args = node.expressions
        if len(args) != 1 or not (isinstance(args[0], exp.Literal) and args[0].is_string) or not args[0].this:
            problems.add(loc, f"{what}: failing() takes one table name as a string, e.g. failing('user_features')")
            bad = True
            continue
        names.append((args[0].this, loc))
        new = Failing(this=exp.Literal.string(args[0].this))
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return (None, ()) if bad else (tree, tuple(names))


def check_references(tables, problems: ProblemCollector) -> None:
    """Every failing('<table>') names a declared table."""
    names = {t.name for t in tables}
    for t in tables:
        for c in t.columns:
            for f in c.fixes:
                for name, loc in f.failing:
                    if name not in names:
                        problems.add(loc, f"table '{t.name}', column '{c.name}': failing('{name}') names no "
                                     f"declared table{did_you_mean(name, names)}")


def missing_columns(table: TableSpec, present: set[str]) -> list[tuple[Location, str]]:
    """(location, message) for each column a fix needs that the real relation lacks."""
    out = []
    for c in table.columns:
        needed = [c.name] if c.fixes else []
        for f in c.fixes:
            needed += f.referenced_columns()
        for name in dict.fromkeys(needed):
            if name not in present:
                loc = c.fixes[0].loc if c.fixes else c.loc
                out.append((loc, f"table '{table.name}', column '{c.name}': the fix needs column '{name}', "
                                 f"which is not in {table.relation_text}{did_you_mean(name, present)}"))
    return out


def _is_literal(v) -> bool:
    if isinstance(v, bool) or isinstance(v, (str, dt.date)):
        return True
    return isinstance(v, (int, float)) and math.isfinite(v)


def _is_bound(v) -> bool:
    return not isinstance(v, bool) and (isinstance(v, dt.date) or (isinstance(v, (int, float)) and math.isfinite(v)))


def _describe(v) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return repr(v)
