"""`slocompile schema`: the JSON Schemas of the YAML, generated from the validator's own definitions.

- every YAML example of the repository (template, examples, full declarations in docs/*.md)
  validates, after Jinja rendering (the schema describes what the validator sees); a docs block
  that is wrong on purpose says so with `<!-- no-schema -->` just before it;
- invalid documents fail, and the loader rejects them too;
- generated property: whatever the loader accepts, the schema accepts (no false error in an editor);
- the schema follows the definitions: a field or check type added at run time appears in it;
- `init` writes the schemas where its files' `# yaml-language-server: $schema=` lines point.
"""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import jsonschema as js
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slocompile.checks import REGISTRY
from slocompile.declarations.loader import COLUMN_FIELDS, COMMON_CHECK_FIELDS, NOT_YET, TABLE_FIELDS, load_project
from slocompile.errors import SlocompileError
from slocompile.spec.fields import Field
from slocompile.tools import jsonschema as sj

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SCRIPT = os.path.join(os.path.dirname(sys.executable), "slocompile")
COMMAND = [_SCRIPT] if os.path.exists(_SCRIPT) else [sys.executable, "-m", "slocompile"]


def cli(*args, cwd=None, check=None):
    proc = subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


def loader_problems(tmp_path, declaration: str | None = None, project: str = "name: p\n") -> list[str]:
    """What the real loader says about a declaration file (and project file); [] when it loads."""
    root = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
    (root / "slos").mkdir(parents=True)
    (root / "slocompile.yml").write_text(project)
    (root / "slos" / "t.yml").write_text(declaration if declaration is not None else
                                         "tables: [{name: t, relation: s.t}]\n")
    try:
        load_project(str(root), env={})
    except SlocompileError as e:
        return [str(p) for p in e.problems]
    return []


# ------------------------------------------------------------------------------ the repository's YAML

def _project_files() -> list[tuple[str, str]]:
    """(project folder, YAML file) of the template and every example."""
    out = []
    for root in [os.path.join(REPO, "project_template")] + sorted(glob.glob(os.path.join(REPO, "examples", "*"))):
        if not os.path.isfile(os.path.join(root, "slocompile.yml")):
            continue
        out.append((root, os.path.join(root, "slocompile.yml")))
        for f in sorted(glob.glob(os.path.join(root, "slos", "**", "*.y*ml"), recursive=True)):
            out.append((root, f))
    return out


@pytest.mark.parametrize("root,path", _project_files(), ids=lambda v: os.path.relpath(v, REPO))
def test_repository_yaml_validates(root, path):
    with open(os.path.join(root, "slocompile.yml"), encoding="utf-8") as fh:
        variables = yaml.safe_load(re.sub(r"\{\{.*?\}\}", "x", fh.read())).get("vars") or {}
    assert sj.validate_file(path, variables, env={}) == []


def test_template_and_examples_are_covered():
    files = [os.path.relpath(f, REPO) for _, f in _project_files()]
    assert "project_template/slocompile.yml" in files and "project_template/slos/orders.yml" in files
    assert any(f.startswith("examples/") and f.endswith("slocompile.yml") for f in files)


def _docs_blocks() -> list[tuple[str, str, str]]:
    """(doc, kind, YAML text) of every ```yaml block in docs/*.md that is a full file."""
    out = []
    for doc in sorted(glob.glob(os.path.join(REPO, "docs", "*.md"))):
        with open(doc, encoding="utf-8") as fh:
            text = fh.read()
        for i, m in enumerate(re.finditer(r"```ya?ml\n(.*?)```", text, re.S)):
            block = m.group(1)
            if "<!-- no-schema -->" in text[max(0, m.start() - 200):m.start()]:
                continue  # a deliberately wrong example (shown for its error message)
            keys = set(re.findall(r"^([A-Za-z_]+):", block, re.M))
            if keys & {"tables", "triggers"} and keys <= {"tables", "triggers"}:
                out.append((f"{os.path.basename(doc)}#{i}", "declarations", block))
            elif "name" in keys and keys & {"targets", "target"}:
                out.append((f"{os.path.basename(doc)}#{i}", "project", block))
    return out


def _render_loosely(text: str) -> str:
    """Docs show fragments of projects: var() without vars renders its default, else 1."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.globals.update(var=lambda name, default=1: default, env_var=lambda name, default="x": default,
                       this="__slocompile_this__")  # {{ this }}: an assert query's own table
    return env.from_string(text).render()


@pytest.mark.parametrize("name,kind,block", [pytest.param(*b, id=b[0]) for b in _docs_blocks()]
                         or [pytest.param("none", "declarations", "tables: []\n", id="no-docs-blocks")])
def test_docs_declarations_validate(name, kind, block):
    from slocompile.spec.yamlload import parse_yaml

    document = parse_yaml(_render_loosely(block), name).plain()  # YAML as the loader reads it (`on:` is a key)
    # the custom check types the docs use: the starter project's (tutorial) and the example's (checks.md)
    custom = {**sj.project_types(os.path.join(REPO, "project_template")),
              **sj.project_types(os.path.join(REPO, "examples", "feature_store"))}
    assert sj.validate(document, kind, custom) == [], name


# ------------------------------------------------------------------------------ invalid documents

def _decl(checks=None, columns=None, **table):
    t = {"name": "t", "relation": "s.t", **table}
    if checks is not None:
        t["checks"] = checks
    if columns is not None:
        t["columns"] = columns
    return {"tables": [t]}


INVALID = [
    ("unknown table key", _decl(colums=[]), "colums"),
    ("unknown check type", _decl(columns=[{"name": "a", "checks": [{"betwen": {"min": 1}}]}]), "betwen"),
    ("fraction above 1", _decl(columns=[{"name": "a", "checks": [{"not_null": {"max_fraction": 2}}]}]), "max_fraction"),
    ("between without bounds", _decl(columns=[{"name": "a", "checks": [{"between": {"rows": "drop"}}]}]), "between"),
    ("bare between", _decl(columns=[{"name": "a", "checks": ["between"]}]), "checks/0"),
    ("table-level row rule without column", _decl(checks=[{"not_null": {"max_count": 1}}]), "column"),
    ("bare table-level not_null", _decl(checks=["not_null"]), "checks/0"),
    ("table check under a column", _decl(columns=[{"name": "a", "checks": [{"row_count": {"min": 1}}]}]), "row_count"),
    ("two check types in one item", _decl(columns=[{"name": "a", "checks": [{"not_null": None, "unique": None}]}]),
     "checks/0"),
    ("unknown gate", _decl(gate="blok"), "gate"),
    ("bad duration", _decl(checks=[{"freshness": {"column": "a", "max_age": "36 hours"}}]), "max_age"),
    ("missing relation", {"tables": [{"name": "t"}]}, "relation"),
    ("unknown top-level key", {"tables": [], "tabels": []}, "tabels"),
    ("unknown severity", _decl(columns=[{"name": "a", "checks": [{"not_null": {"severity": "fatal"}}]}]), "severity"),
    ("column param at column level", _decl(columns=[{"name": "a", "checks": [{"not_null": {"column": "a"}}]}]),
     "column"),
    ("accepted_values needs values", _decl(columns=[{"name": "a", "checks": [{"accepted_values": {}}]}]), "values"),
]


@pytest.mark.parametrize("what,document,mentions", INVALID, ids=[w for w, _, _ in INVALID])
def test_invalid_declarations_fail(what, document, mentions, tmp_path):
    errors = sj.validate(document)
    assert errors, what
    assert any(mentions in e for e in errors), errors
    # the validator agrees: the schema rejects nothing the loader accepts, here too
    assert loader_problems(tmp_path, yaml.safe_dump(document)), what


INVALID_PROJECTS = [
    ("no name", {"target": "local"}, "name"),
    ("target without type", {"name": "p", "targets": {"x": {"path": "a.duckdb"}}}, "type"),
    ("unknown engine", {"name": "p", "targets": {"x": {"type": "postgress"}}}, "postgress"),
    ("unknown key", {"name": "p", "slo_path": ["slos"]}, "slo_path"),
    ("unknown schema key", {"name": "p", "schemas": {"validate": "v"}}, "validate"),
    ("unknown dialect", {"name": "p", "sql_dialect": "mysql"}, "mysql"),
]


@pytest.mark.parametrize("what,document,mentions", INVALID_PROJECTS, ids=[w for w, _, _ in INVALID_PROJECTS])
def test_invalid_project_files_fail(what, document, mentions, tmp_path):
    errors = sj.validate(document, "project")
    assert errors and any(mentions in e for e in errors), errors
    assert loader_problems(tmp_path, project=yaml.safe_dump(document)), what


def test_jinja_is_rendered_before_validation(tmp_path):
    """The choice documented in slocompile/jsonschema.py: files are validated as rendered. A number
    written as {{ var(...) }} passes when the var is a number and fails when it is not."""
    path = tmp_path / "t.yml"
    path.write_text("tables:\n  - name: t\n    relation: s.t\n    checks:\n"
                    "      - row_count: {min: {{ var('min_rows') }}}\n")
    assert sj.validate_file(str(path), {"min_rows": 1000}) == []
    errors = sj.validate_file(str(path), {"min_rows": "many"})
    assert errors and "min" in errors[0]


# ------------------------------------------------------------------------------ generated: loader ok => schema ok

_VALUES = {  # kind: (valid values, invalid values)
    "str": (["x"], ["", 3]), "sql": (["a > 0"], ["", 1]), "int": ([0, 5], [-1, 1.5, "3"]),
    "number": ([0, -2.5, 10], ["x", True]), "fraction": ([0, 0.5, 1], [1.5, -0.1]), "bool": ([True, False], ["yes"]),
    "scalar": ([1, "a", 2.5], [None, [1]]), "duration": (["36h", "2d", "90m"], ["soon", 5]),
    "str_list": ([["a"]], [[], "a"]), "columns": (["a", ["a", "b"]], [[], 1]), "scalar_list": ([["a", 1]], [[], "a"]),
}


def _value(draw, f):
    valid, invalid = _VALUES.get(f.kind, ([None], [None]))
    return draw(st.sampled_from(valid if draw(st.integers(0, 9)) < 8 else invalid))


@st.composite
def check_documents(draw):
    name = draw(st.sampled_from(sorted(REGISTRY)))
    ctype = REGISTRY[name]
    levels = [lv for lv, ok in (("table", ctype.table_level), ("column", ctype.column_level)) if ok]
    level = draw(st.sampled_from(levels))
    fields = {**ctype.fields, **COMMON_CHECK_FIELDS}
    if ctype.needs_column:
        fields["column"] = Field("str")
    params = {}
    for key, f in fields.items():
        if key == "column":  # mostly where it belongs: at table level, for checks about one column
            if draw(st.integers(0, 9)) < (9 if level == "table" else 1):
                params[key] = "a"
        elif not (f.required or draw(st.booleans())):
            continue
        elif key in ("sql", "where"):
            params[key] = draw(st.sampled_from(["count(*) > 0" if name == "assert" else "a > 0", ""]))
        elif f.kind == "enum":
            params[key] = draw(st.sampled_from(list(f.choices) + ["nope"]))
        else:
            params[key] = _value(draw, f)
    form = draw(st.sampled_from(["mapping", "bare", "short"]))
    if form == "bare":
        item = name
    elif form == "short" and ctype.shorthand and ctype.shorthand in params:
        item = {name: params[ctype.shorthand]}
    else:
        item = {name: params or None}
    columns = [{"name": "a"}, {"name": "b"}]
    if level == "column":
        columns[0]["checks"] = [item]
        return _decl(columns=columns)
    return _decl(checks=[item], columns=columns)


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=check_documents())
def test_schema_accepts_whatever_the_loader_accepts(document, tmp_path):
    if loader_problems(tmp_path, yaml.safe_dump(document)):
        return  # the loader also checks SQL, bounds and columns: the schema may accept more
    assert sj.validate(document) == [], document


# ------------------------------------------------------------------------------ generated from the definitions

def test_schema_follows_the_definitions():
    schema = sj.declaration_schema()
    js.Draft202012Validator.check_schema(schema)
    js.Draft202012Validator.check_schema(sj.project_schema())
    table_props = schema["$defs"]["table"]["properties"]
    assert set(table_props) == set(TABLE_FIELDS) - set(NOT_YET)
    assert set(schema["$defs"]["column"]["properties"]) == set(COLUMN_FIELDS) - set(NOT_YET)
    table_types = set(schema["$defs"]["table_check"]["oneOf"][1]["properties"])
    column_types = set(schema["$defs"]["column_check"]["oneOf"][1]["properties"])
    assert table_types == {n for n, c in REGISTRY.items() if c.table_level}
    assert column_types == {n for n, c in REGISTRY.items() if c.column_level}
    for name, c in REGISTRY.items():
        for level in ("table", "column"):
            if (name in table_types if level == "table" else name in column_types):
                d = schema["$defs"][f"check_{name}_{level}"]
                mapping = d if d.get("type") == "object" else d["anyOf"][0]
                assert set(mapping["properties"]) == set(c.fields) | set(COMMON_CHECK_FIELDS) | (
                    {"column"} if c.needs_column and level == "table" else set()) | (
                    {"failed_rows"} if c.has_rows else set())


def test_fields_added_at_run_time_appear(monkeypatch):
    """Other features add table keys, column keys and check types: the schema picks them up."""
    from slocompile.checks.base import CheckType

    class Median(CheckType):
        name = "median_between"
        doc = "A test-only check."
        fields = {"min": Field("number"), "max": Field("number")}
        needs_column = True

    monkeypatch.setitem(TABLE_FIELDS, "owner", Field("str", doc="Who to page."))
    monkeypatch.setitem(TABLE_FIELDS, "exotic", Field("some_future_kind"))
    monkeypatch.setitem(COLUMN_FIELDS, "pii", Field("bool"))
    monkeypatch.setitem(REGISTRY, "median_between", Median())
    doc = _decl(owner="team-a", exotic={"anything": [1, 2]},
                checks=[{"median_between": {"column": "a", "min": 1}}],
                columns=[{"name": "a", "pii": True, "checks": [{"median_between": {"max": 3}}]}])
    assert sj.validate(doc) == []
    assert sj.validate(_decl(owner=5))
    assert sj.validate(_decl(checks=[{"median_between": {"min": 1}}]))  # needs column at table level


def test_nested_definitions_fixes_and_triggers():
    good = {"tables": [{"name": "t", "relation": "s.t", "columns": [
        {"name": "a", "fix": [{"clip": [0, 1]}, {"fill_null": 0.5}, {"clip": {"min": 0}},
                              {"replace": {"when": "failing('t')", "value": "b"}}]}]}],
            "triggers": [{"name": "page", "on": "fail", "select": ["t"], "do": [
                {"webhook": {"url": "https://example.invalid/hook", "timeout": "10s"}},
                {"command": "scripts/pause.sh"}, {"sql": "select 1"}]}]}
    assert sj.validate(good) == []
    bad_fix = {"tables": [{"name": "t", "relation": "s.t", "columns": [{"name": "a", "fix": [{"clamp": [0, 1]}]}]}]}
    assert sj.validate(bad_fix)
    bad_trigger = {"triggers": [{"name": "x", "on": ["failed"]}]}
    assert sj.validate(bad_trigger)


# ------------------------------------------------------------------------------ CLI and init

def test_schema_command(tmp_path):
    out = cli("schema", check=0).stdout
    assert json.loads(out) == sj.declaration_schema()
    assert json.loads(cli("schema", "--kind", "project", check=0).stdout) == sj.project_schema()
    cli("schema", "--out", str(tmp_path / "s.json"), check=0)
    assert json.loads((tmp_path / "s.json").read_text()) == sj.declaration_schema()
    proc = cli("schema", "--dir", str(tmp_path / "d"), check=0)
    assert sorted(os.listdir(tmp_path / "d")) == sorted([sj.DECLARATIONS_FILE, sj.PROJECT_SCHEMA_FILE])
    assert "wrote" in proc.stdout
    cli("schema", "--out", "x", "--dir", "y", check=2)


def test_init_points_editors_at_the_schema(tmp_path):
    root = str(tmp_path / "proj")
    cli("init", root, check=0)
    files = [os.path.join(root, "slocompile.yml")] + glob.glob(os.path.join(root, "slos", "*.yml"))
    for f in files:
        with open(f, encoding="utf-8") as fh:
            first = fh.readline().strip()
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert m, (f, first)
        target = os.path.normpath(os.path.join(os.path.dirname(f), m.group(1)))
        assert os.path.isfile(target), target
        assert first == sj.modeline(f, root)
        with open(target, encoding="utf-8") as fh:
            schema = json.load(fh)
        kind = "project" if f.endswith("slocompile.yml") else "declarations"
        assert schema == sj.schema(kind, sj.project_types(root))  # with the project's custom check types
        assert sj.validate_file(f, {"min_orders": 10}, env={}) == []
    cli("build", cwd=root, check=0)  # the schema files do not disturb the project
