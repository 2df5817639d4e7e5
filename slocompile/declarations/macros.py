"""Custom check types: the .sql files under the project's macros/ (and checks/) folders.

A file is a YAML header in the leading block comment, then the SQL body with Jinja parameters:

    /*
    kind: metric                 # aggregate (boolean) | metric (a number, bounded at each use) | rows
    doc: Share of positive values of the column.
    params:
      strict: {type: bool, default: false, doc: Whether 0 counts as not positive.}
    */
    avg(case when {{ column }} > 0 then 1 else 0 end)

The type's name is the file's name (or the header's `name`). `{{ column }}` makes it a column check;
`{{ this }}` (kind rows) is the checked table. Parameter values never reach SQL as text: the body is
rendered once with a marker identifier per parameter, parsed by sqlglot, and each use replaces the
markers in a copy of that tree by sqlglot nodes (a literal, a quoted column, a relation, a parsed
row expression); the result is printed by sqlglot and checked again with the restrictions of user
SQL (spec.usersql for expressions, spec.userquery for SELECTs) and the table's columns.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, cast

from sqlglot import exp

from slocompile.checks import REGISTRY
from slocompile.checks.custom import KIND, KINDS, RENDERED, ROWS, CustomCheck
from slocompile.declarations.paths import slo_files
from slocompile.dialects.nodes import col, lit
from slocompile.errors import Location, ProblemCollector, SpecError, did_you_mean
from slocompile.spec.fields import Field, read_mapping
from slocompile.spec.userquery import checked_query
from slocompile.spec.usersql import AGGREGATE as AGGREGATE_SQL
from slocompile.spec.usersql import ROW, parse_relation, parse_user_sql
from slocompile.spec.yamlload import THIS, Node, parse_yaml

MACRO_PATHS = ("macros", "checks")
# a file of Jinja macros (dbt's {% macro %}, {% test %}, {% materialization %}) without our header
_DBT_MACRO = re.compile(r"\{%-?\s*(macro|test|materialization|snapshot)\s")
PREFIX = "__slo_param_"
# parameter type -> (the Field that validates a use's value, a sample value the definition is tried with)
TYPES: dict[str, tuple[Field, Any]] = {
    "int": (Field("int"), 1), "number": (Field("number"), 1), "fraction": (Field("fraction"), 0.5),
    "bool": (Field("bool"), True), "string": (Field("str"), "x"), "value": (Field("scalar"), "x"),
    "values": (Field("scalar_list"), ("x",)), "column": (Field("str"), "x"), "columns": (Field("columns"), ("x",)),
    "relation": (Field("str"), "x"), "sql": (Field("sql"), "TRUE"),
}
HEADER_FIELDS = {
    "name": Field("str", doc="The check type's name (default: the file's name)."),
    "kind": Field("enum", required=True, choices=KINDS, doc="aggregate: a boolean aggregate, TRUE when the "
                  "check passes; metric: a numeric aggregate each use bounds with min/max; rows: a SELECT "
                  "returning the failing rows."),
    "doc": Field("str", doc="What the check type checks (shown by docs and errors)."),
    "params": Field("mapping", doc="Parameters: {NAME: TYPE} or {NAME: {type, default, doc}}."),
}
PARAM_FIELDS = {
    "type": Field("enum", required=True, choices=tuple(TYPES), doc="The parameter's type."),
    "default": Field("scalar", doc="The value when a use leaves it out, of the parameter's type (none: the "
                     "parameter is required; null: optional, NULL when left out)."),
    "doc": Field("str", doc="What the parameter means."),
}
# keys a check's params already use: not parameter names
RESERVED = {"name", "severity", "where", "column", "failed_rows", "owner", "tags", "meta", "this", KIND, RENDERED,
            f"{RENDERED}_text", "query", "min", "max", "max_increase", "max_drop", "baseline"}
_HEADER = re.compile(r"\A\s*/\*(.*?)\*/", re.DOTALL)
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    required: bool
    doc: str = ""


@dataclass
class Definition:
    """One custom check type: its header, and its body parsed with a marker per parameter."""
    name: str
    kind: str
    params: dict[str, Param]
    tree: exp.Expression
    loc: Location  # the file, at the header's first line
    body_loc: Location
    takes_column: bool
    doc: str = ""
    ctype: CustomCheck = field(init=False)

    def __post_init__(self) -> None:
        fields = {p.name: Field(TYPES[p.type][0].kind, required=p.required, default=p.default, doc=p.doc)
                  for p in self.params.values()}
        self.ctype = CustomCheck(self.name, self.kind, fields, self.doc or f"Custom check type ({self.loc}).",
                                 self.takes_column, str(self.loc))


def load_definitions(root: str, dialect: str, allow_outside: bool, problems: ProblemCollector) -> dict[str, Definition]:
    """The project's custom check types by name (problems recorded at the definitions' lines)."""
    files = slo_files(root, MACRO_PATHS, allow_outside, Location("slocompile.yml"), problems, suffixes=(".sql",))
    out: dict[str, Definition] = {}
    for path in files:
        display = os.path.relpath(path, root)
        d = _definition(path, display, dialect, problems)
        if d is None:
            continue
        if d.name in REGISTRY:
            problems.add(d.loc, f"custom check type '{d.name}' has the name of a built-in check type; rename it")
        elif d.name in out:
            problems.add(d.loc, f"duplicate custom check type '{d.name}' (also defined at {out[d.name].loc})")
        else:
            out[d.name] = d
    return out


def _definition(path: str, display: str, dialect: str, problems: ProblemCollector) -> Definition | None:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(200_000)
    except (OSError, UnicodeDecodeError) as e:
        problems.add(Location(display), f"cannot read file: {e}")
        return None
    m = _HEADER.match(text)
    if m is None and _DBT_MACRO.search(text):
        return None  # a dbt project's macros/ (slocompile.yml beside dbt_project.yml): not ours
    if m is None:
        problems.add(Location(display, 1), "a custom check type starts with a /* ... */ header in YAML naming its "
                     "kind and params (see docs/checks.md, Custom check types)")
        return None
    first = text[:m.start(1)].count("\n") + 1
    header_text = m.group(1)
    mapping = [first + i for i in range(header_text.count("\n") + 2)]
    try:
        node = parse_yaml(header_text, display, mapping, problems.problems)
    except SpecError as e:
        problems.problems.extend(e.problems)
        return None
    loc = Location(display, first)
    what = f"the header of custom check type {display}"
    header = read_mapping(node if node.is_map else Node(node.value, loc), HEADER_FIELDS, what, problems)
    if header is None:
        return None
    name = header["name"] or os.path.splitext(os.path.basename(path))[0]
    if not _NAME.match(name):
        problems.add(loc, f"custom check type name '{name}' must be lower-case letters, digits and _ "
                     "(it is the YAML key of its checks)")
        return None
    params = _params(node.value.get("params"), what, problems)
    if params is None:
        return None
    body = text[m.end():]
    end = text[:m.end()].count("\n") + 1  # the line of */, where the body's first line is
    body_loc = Location(display, end + _leading_lines(body))
    rendered = _render(body, params, body_loc, end, problems)
    if rendered is None:
        return None
    text_sql, used = rendered
    tree = _parse(text_sql, header["kind"], dialect, body_loc, f"custom check type '{name}'", problems)
    if tree is None:
        return None
    d = Definition(name, header["kind"], params, tree, loc, body_loc, "column" in used, header["doc"] or "")
    # tried once with a sample value per parameter: a marker where no value can go is the definition's fault
    sample = {p.name: TYPES[p.type][1] for p in params.values()}
    if _instantiate(d, sample, "x" if d.takes_column else None, dialect, None, body_loc,
                    f"custom check type '{name}'", problems) is None:
        return None
    return d


def _leading_lines(body: str) -> int:
    """How many lines of `body` come before its first non-blank one."""
    stripped = body.lstrip()
    return body[:len(body) - len(stripped)].count("\n")


def _params(pnode: Node | None, what: str, problems: ProblemCollector) -> dict[str, Param] | None:
    if pnode is None or pnode.value is None:
        return {}
    if not pnode.is_map:
        return None  # reported by the header's field
    out: dict[str, Param] = {}
    ok = True
    for name, spec in pnode.value.items():
        ploc = pnode.key_locs.get(name, spec.loc)
        if name in RESERVED or not _NAME.match(name):
            problems.add(ploc, f"{what}: '{name}' cannot name a parameter"
                         + (" (a key every check or the kind already takes)" if name in RESERVED
                            else " (lower-case letters, digits and _)"))
            ok = False
            continue
        if isinstance(spec.value, str):
            spec = Node({"type": spec}, spec.loc, {"type": spec.loc})
        rest = {k: v for k, v in spec.value.items() if k != "default"} if spec.is_map else spec.value
        p = read_mapping(Node(rest, spec.loc, spec.key_locs), PARAM_FIELDS, f"parameter '{name}' of {what}", problems)
        if p is None:
            ok = False
            continue
        default, default_node = None, spec.value.get("default")
        if default_node is not None and default_node.value is not None:  # null: optional, NULL when left out
            default = TYPES[p["type"]][0].convert(default_node, f"the default of parameter '{name}'", problems)
            if default is None:
                ok = False
                continue
        out[name] = Param(name, p["type"], default, default_node is None, p["doc"] or "")
    return out if ok else None


class _Marker:
    """What `{{ param }}` renders: the parameter's marker identifier (no arithmetic, no tests)."""

    def __init__(self, name: str):
        self.text = PREFIX + name

    def __str__(self) -> str:
        return self.text


def _render(body: str, params: dict[str, Param], loc: Location, first: int, problems: ProblemCollector
            ) -> tuple[str, set[str]] | None:
    """The body with each parameter's marker, and the names it uses."""
    from jinja2 import StrictUndefined, TemplateError, meta

    from slocompile.spec.jinjalimits import BoundedEnvironment, RenderLimit

    env = BoundedEnvironment(undefined=StrictUndefined, autoescape=False)
    try:
        used = meta.find_undeclared_variables(env.parse(body))
    except TemplateError as e:
        line = getattr(e, "lineno", None)
        problems.add(Location(loc.file, first + line - 1) if line else loc, f"invalid Jinja: {e}")
        return None
    known = set(params) | {"column", "this"}
    unknown = sorted(used - known)
    if unknown:
        problems.add(loc, f"'{unknown[0]}' is not a parameter of this check type{did_you_mean(unknown[0], known)} "
                     "(declare it under params in the header)")
        return None
    context: dict[str, Any] = {n: _Marker(n) for n in params}
    context.update(column=_Marker("column"), this=THIS)
    try:
        return env.from_string(body).render(context), set(used)
    except (TemplateError, RenderLimit, TypeError) as e:
        problems.add(loc, f"the body could not be rendered: {e} (parameters are SQL values: write arithmetic and "
                     "conditions in SQL)")
        return None


def _parse(text: str, kind: str, dialect: str, loc: Location, what: str, problems: ProblemCollector
           ) -> exp.Expression | None:
    """The body as sqlglot reads it, held to the restrictions of user SQL (columns unchecked)."""
    if kind == ROWS:
        tree, messages = checked_query(text, dialect)
        for message in messages:
            problems.add(loc, f"{what}: {message}")
        return cast(exp.Expression, tree) if tree is not None else None
    return parse_user_sql(text, dialect, AGGREGATE_SQL, None, loc, what, problems)


def instantiate(d: Definition, values: dict, column: str | None, dialect: str, known: set[str] | None,
                loc: Location | None, what: str, problems: ProblemCollector) -> dict | None:
    """The params of one use: its values, with the definition's SQL for them (RENDERED, its text,
    KIND; for rows also `query`), or None with the problems recorded at `loc` (the use)."""
    return _instantiate(d, values, column, dialect, known, loc, what, problems)


def _instantiate(d: Definition, values: dict, column: str | None, dialect: str, known: set[str] | None,
                 loc: Location | None, what: str, problems: ProblemCollector) -> dict | None:
    before = len(problems.problems)
    nodes: dict[str, Any] = {}
    for p in d.params.values():
        v = values.get(p.name)
        nodes[p.name] = None if v is None else _node(p, v, dialect, known, loc, what, problems)
    if column is not None:
        nodes["column"] = col(column)
    if len(problems.problems) > before:
        return None
    tree = d.tree.copy()
    for node in list(tree.find_all(exp.Expression)):
        if isinstance(node, exp.Literal) and node.is_string and PREFIX in node.this:
            problems.add(d.body_loc, f"{what}: a parameter inside quotes stays text: write {{{{ "
                         f"{node.this.split(PREFIX)[1].split()[0]} }}}} without quotes (a string parameter "
                         "becomes a SQL string)")
            return None
        name = _marker_of(node)
        if name is None:
            continue
        new = nodes.get(name)
        if new is None:
            new = exp.Null()  # an optional parameter the use left out
        if not _put(node, new):
            problems.add(d.body_loc, f"{what}: parameter '{name}' is used where its value cannot go")
            return None
    left = next((i for i in tree.find_all(exp.Identifier) if PREFIX in i.name), None)
    if left is not None:
        problems.add(d.body_loc, f"{what}: parameter '{left.name[len(PREFIX):]}' is used where a value cannot go "
                     "(as a name: parameters are values, columns or relations)")
        return None
    text = tree.sql(dialect)  # printed by sqlglot from the tree, then held to the rules of user SQL
    if d.kind == ROWS:
        query, messages = checked_query(text, dialect)
        for message in messages:
            problems.add(loc, f"{what}: {message}")
        if query is None:
            return None
        return {**values, KIND: d.kind, RENDERED: query, f"{RENDERED}_text": text, "query": query}
    parsed = parse_user_sql(text, dialect, AGGREGATE_SQL, known, loc, what, problems)
    if parsed is None:
        return None
    return {**values, KIND: d.kind, RENDERED: parsed, f"{RENDERED}_text": text}


def _marker_of(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Column) and node.name.startswith(PREFIX):
        return node.name[len(PREFIX):]
    if isinstance(node, exp.Table) and not node.args.get("db") and node.name.startswith(PREFIX):
        return node.name[len(PREFIX):]
    return None


def _node(p: Param, value: Any, dialect: str, known: set[str] | None, loc: Location | None, what: str,
          problems: ProblemCollector) -> exp.Expression | list[exp.Expression] | None:
    """The sqlglot node(s) a parameter's value becomes."""
    from slocompile.spec.usersql import typo_of

    if p.type in ("column", "columns"):
        names = [value] if isinstance(value, str) else list(value)
        for n in names:
            if typo_of(n, known):
                problems.add(loc, f"{what}: '{p.name}': unknown column '{n}'{typo_of(n, known)}")
                return None
        return col(names[0]) if p.type == "column" else [col(n) for n in names]
    if p.type == "relation":
        try:
            return parse_relation(value, dialect)
        except ValueError as e:
            problems.add(loc, f"{what}: '{p.name}' {e}")
            return None
    if p.type == "sql":
        tree = parse_user_sql(value, dialect, ROW, known, loc, f"'{p.name}' of {what}", problems)
        return exp.Paren(this=tree) if tree is not None else None
    if p.type == "values":
        return [lit(v) for v in value]
    return lit(value)


def _put(node: exp.Expression, new: exp.Expression | list[exp.Expression]) -> bool:
    """Replace the marker `node` by `new` (a list: spliced into the list holding the marker)."""
    if isinstance(node, exp.Table):
        if not isinstance(new, exp.Table):
            return False
        if node.args.get("alias") is not None:
            new.set("alias", node.args["alias"])
        node.replace(new)
        return True
    if isinstance(new, exp.Table):
        return False
    if isinstance(node, exp.Column) and node.table:  # t.{{ column }}: the column, qualified as written
        if not isinstance(new, exp.Column):
            return False
        new.set("table", node.args["table"].copy())
    if isinstance(new, list):
        parent, key = node.parent, node.arg_key
        items = parent.args.get(key) if parent is not None and key else None
        if parent is not None and key and isinstance(items, list):
            i = next(k for k, x in enumerate(items) if x is node)
            parent.set(key, items[:i] + new + items[i + 1:])
            return True
        if len(new) != 1:
            return False
        new = new[0]
    node.replace(new)
    return True
