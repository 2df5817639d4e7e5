"""Property-based tests of the loader: whatever the YAML, the result is a ProjectSpec or a located
SlocompileError, never another exception; and `slocompile compile` exits 0 or 2, never with a traceback.

Inputs: arbitrary YAML documents (Python structures dumped with yaml.safe_dump), arbitrary text with
Jinja fragments mixed in, and mutations of a valid declaration (keys renamed, values replaced by random
types, lists and mappings swapped, items deleted or duplicated).
"""
from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
import tempfile

import pytest
import sqlglot
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from slocompile.cli import main
from slocompile.compiling.compiler import compile_project, safe_file_name
from slocompile.declarations.loader import load_project
from slocompile.errors import Location, SlocompileError, SpecError
from slocompile.spec.model import ProjectSpec

PROJECT_YML = "name: fuzz\nvars: {n: 5, name: t, cols: [a, b]}\n"

# Deterministic by default (CI); SLOCOMPILE_FUZZ_RANDOM=1 explores new examples on every run.
_DERANDOMIZE = not os.environ.get("SLOCOMPILE_FUZZ_RANDOM")
BOUNDED = settings(max_examples=150, deadline=None, derandomize=_DERANDOMIZE,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SMALL = settings(max_examples=40, deadline=None, derandomize=_DERANDOMIZE,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# The words a declaration is made of: random keys are drawn from these as often as from noise.
VOCAB = ["tables", "name", "relation", "key", "partition", "gate", "checks", "columns", "type", "description",
         "not_null", "between", "accepted_values", "matches", "expression", "row_count", "unique", "freshness",
         "relationship", "schema", "assert", "mean", "min", "max", "stddev", "quantile", "distinct_count",
         "max_fraction", "max_count", "rows", "values", "pattern", "sql", "where", "severity", "column", "to",
         "field", "max_age", "q", "allow_extra", "inclusive", "monitor", "fix", "targets", "schemas", "vars",
         "sql_dialect", "slo_paths", "target", "path", "validated", "quarantine", "meta"]
WORDS = ["raw.t", "a", "b", "block", "filter", "warn", "last_good", "drop", "keep", "error", "36h", "2d",
         "a > 1", "count(*) > 0", "sum(a) > 1", "a; DROP TABLE t", "DROP TABLE t", "select 1", "",
         "raw.\"t\"", "b\"; drop table raw.t; --", "integer", "string", "0.5", "^a+$", "(", "dims.c"]

keys = st.one_of(st.sampled_from(VOCAB), st.text(max_size=12))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), st.sampled_from(WORDS),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.datetimes(min_value=dt.datetime(1, 1, 1)),
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)

JINJA_BITS = ["{{", "}}", "{%", "%}", "{#", "#}", "{{ var('n') }}", "{{ var('nope') }}", "{{ env_var('HOME') }}",
              "{{ env_var('NOPE_NOT_SET') }}", "{% for c in var('cols') %}", "{% endfor %}", "{% if true %}",
              "{% endif %}", "{{ 1/0 }}", "{{ [].pop() }}", "{{ var() }}", "{{ range(10**9)|list }}",
              "{{ ''.__class__ }}", "{% raw %}", "{% endraw %}", "{{ c }}", "{%- set x = 1 -%}", "\n", "\r\n",
              "  - ", ": ", "tables:", "- name: t", "relation: raw.t", "checks:", "[", "]", "{", "}", "&a", "*a",
              "!!python/object:os.system", "!!binary aGk=", "? ", "'", '"', "\t", "\x00", "\u2028", "\x85"]
texts = st.lists(st.one_of(st.text(max_size=15), st.sampled_from(JINJA_BITS)), max_size=25).map("".join)


def valid_declaration() -> dict:
    """A declaration that loads: every check type and most parameters appear once."""
    return {"tables": [
        {"name": "t", "relation": "raw.t", "key": ["id"], "partition": "ds", "gate": "block",
         "description": "fuzz base",
         "checks": [
             {"row_count": {"min": 1, "max": 1000}},
             {"unique": ["id", "ds"]},
             {"freshness": {"column": "ts", "max_age": "36h"}},
             {"relationship": {"column": "a", "to": "raw.dim", "field": "code"}},
             {"schema": {"allow_extra": True}},
             {"assert": {"name": "positive", "sql": "count(*) filter (where a > 0) >= 1"}},
             {"expression": {"sql": "a >= 0 or b is null", "max_fraction": 0.1, "where": "ds is not null"}},
         ],
         "columns": [
             {"name": "id", "type": "integer", "checks": ["not_null"]},
             {"name": "ds", "type": "date"},
             {"name": "ts", "type": "timestamp"},
             {"name": "a", "type": "number", "checks": [
                 {"between": {"min": 0, "max": 10, "rows": "drop", "max_count": 3}},
                 {"mean": {"min": 0}}, {"stddev": {"max": 5}}, {"quantile": {"q": 0.5, "max": 9}},
                 {"min": {"min": -1}}, {"max": {"max": 11, "severity": "warn"}}]},
             {"name": "b", "type": "string", "checks": [
                 {"accepted_values": {"values": ["x", "y"], "max_fraction": 0.01}},
                 {"matches": {"pattern": "^[xy]$", "where": "a > 1"}},
                 {"distinct_count": {"min": 1}},
                 {"not_null": {"max_fraction": 0.5, "severity": "warn", "name": "b_mostly_there"}}]},
         ]},
        {"name": "u", "relation": "raw.u", "gate": "warn", "checks": [{"row_count": {"min": 0}}]},
    ]}


def _paths(tree, prefix=()):
    """Every (path, value) in a nested dict/list tree, the root included."""
    yield prefix, tree
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, prefix + (i,))


def _get(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def _set(tree, path, value):
    if not path:
        return value
    _get(tree, path[:-1])[path[-1]] = value
    return tree


def _swap(v):
    if isinstance(v, dict):
        return [{k: x} for k, x in v.items()] if len(v) != 1 else list(v)
    if isinstance(v, list):
        return {str(i): x for i, x in enumerate(v)}
    return [v]


def valid_project_file() -> dict:
    """A project file that loads (slo_paths stays out: a mutation to '/' would glob the whole disk)."""
    return {"name": "fuzz", "target": "local",
            "targets": {"local": {"type": "duckdb", "path": "w.duckdb"}, "snow": {"type": "snowflake"}},
            "schemas": {"validated": "v", "quarantine": "q", "meta": "m"},
            "vars": {"n": 5, "name": "t", "cols": ["a", "b"]}, "sql_dialect": "duckdb"}


@st.composite
def mutated(draw, base):
    tree = base()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = list(_paths(tree))
        path, value = paths[draw(st.integers(min_value=0, max_value=len(paths) - 1))]
        op = draw(st.sampled_from(["rename", "replace", "swap", "delete", "duplicate", "word"]))
        if op == "rename" and path and isinstance(_get(tree, path[:-1]), dict):
            parent = _get(tree, path[:-1])
            new_key = draw(keys)
            parent[new_key] = parent.pop(path[-1])
        elif op == "replace":
            tree = _set(tree, path, draw(yaml_values))
        elif op == "swap":
            tree = _set(tree, path, _swap(value))
        elif op == "delete" and path:
            parent = _get(tree, path[:-1])
            del parent[path[-1]]
        elif op == "duplicate" and path and isinstance(_get(tree, path[:-1]), list):
            _get(tree, path[:-1]).append(copy.deepcopy(value))
        elif op == "word":
            tree = _set(tree, path, draw(st.sampled_from(WORDS)))
    return tree


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _project(root: str, slos: str, project_yml: str = PROJECT_YML) -> str:
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8", newline="") as fh:
        fh.write(project_yml)
    os.makedirs(os.path.join(root, "slos"), exist_ok=True)
    with open(os.path.join(root, "slos", "fuzz.yml"), "w", encoding="utf-8", newline="") as fh:
        fh.write(slos)
    return root


def assert_loads_or_spec_error(root: str) -> ProjectSpec | None:
    """The loader's whole contract: a valid spec (that compiles for DuckDB) or located problems."""
    try:
        spec = load_project(root, env={"HOME": "/home/fuzz"})
    except SpecError as e:
        assert e.problems, "a SpecError must carry at least one problem"
        for p in e.problems:
            assert p.message and "Traceback" not in p.message
            assert p.location is None or isinstance(p.location, Location)
            if p.location is not None:
                assert p.location.line >= 0 and p.location.col >= 0
                assert p.location.file in ("slocompile.yml", os.path.join("slos", "fuzz.yml")), p
        return None
    assert isinstance(spec, ProjectSpec)
    try:
        compile_project(spec, "duckdb")
    except SlocompileError:
        pass  # e.g. a construct the dialect cannot express: still a user-facing message
    return spec


@BOUNDED
@given(doc=yaml_values)
def test_arbitrary_yaml_documents(doc):
    with tempfile.TemporaryDirectory() as root:
        assert_loads_or_spec_error(_project(root, _dump(doc)))


_table_values = st.one_of(scalars, st.lists(scalars, max_size=3), yaml_values)


@BOUNDED
@given(doc=st.fixed_dictionaries({"tables": st.lists(st.dictionaries(keys, _table_values, max_size=5), max_size=3)}))
def test_arbitrary_table_lists(doc):
    with tempfile.TemporaryDirectory() as root:
        assert_loads_or_spec_error(_project(root, _dump(doc)))


@BOUNDED
@given(text=texts)
def test_arbitrary_text_with_jinja(text):
    with tempfile.TemporaryDirectory() as root:
        assert_loads_or_spec_error(_project(root, text))


@SMALL
@given(text=texts, doc=yaml_values)
def test_arbitrary_project_file(text, doc):
    for project_yml in (text, _dump(doc), PROJECT_YML + _dump({"targets": doc}), PROJECT_YML + _dump({"vars": doc})):
        with tempfile.TemporaryDirectory() as root:
            assert_loads_or_spec_error(_project(root, _dump(valid_declaration()), project_yml))


@BOUNDED
@given(doc=mutated(valid_declaration))
def test_mutated_declarations(doc):
    with tempfile.TemporaryDirectory() as root:
        assert_loads_or_spec_error(_project(root, _dump(doc)))


@BOUNDED
@given(doc=mutated(valid_project_file))
def test_mutated_project_files(doc):
    with tempfile.TemporaryDirectory() as root:
        assert_loads_or_spec_error(_project(root, _dump(valid_declaration()), _dump(doc)))


def test_base_declaration_is_valid():
    """The mutations start from a declaration that loads, so they explore near-valid input."""
    with tempfile.TemporaryDirectory() as root:
        spec = assert_loads_or_spec_error(_project(root, _dump(valid_declaration()), _dump(valid_project_file())))
    assert spec is not None and [t.name for t in spec.tables] == ["t", "u"]
    assert spec.schemas.meta == "m" and set(spec.targets) == {"local", "snow"}


def _cli_compile(root: str):
    result = CliRunner().invoke(main, ["compile", "--project-dir", root], catch_exceptions=True)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code in (0, 2), (result.exit_code, output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in output and "internal error" not in output, output
    if result.exit_code == 2:
        assert "error: " in output, output
    return result


@settings(max_examples=60, deadline=None, derandomize=_DERANDOMIZE, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.one_of(mutated(valid_declaration), yaml_values), text=texts, use_text=st.booleans())
def test_cli_compile_exits_0_or_2(doc, text, use_text):
    with tempfile.TemporaryDirectory() as root:
        _cli_compile(_project(root, text if use_text else _dump(doc)))


@pytest.mark.parametrize("slos", [
    _dump(valid_declaration()),
    "tables:\n  - name: t\n    relation: [raw.t\n",
    "{{ 1/0 }}",
    _dump({"tables": [{"name": "t", "relation": "raw.t", "checks": [{"not_nul": None}]}]}),
    "\x00\x85{% for %}",
])
def test_cli_compile_subprocess(tmp_path, slos):
    """A few real processes, to be sure nothing differs outside CliRunner."""
    root = _project(str(tmp_path), slos)
    proc = subprocess.run([sys.executable, "-m", "slocompile", "compile", "-p", root],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 2), proc
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "internal error" not in proc.stdout + proc.stderr
    assert (proc.returncode == 0) == (slos == _dump(valid_declaration())), proc.stderr


@SMALL
@given(name=st.text(min_size=1, max_size=40))
def test_any_table_or_column_name_is_data(name):
    """Names and values reach SQL through the AST only: an accepted name compiles to SQL that re-parses
    with that exact identifier and that exact string literal, and to files under its own folder."""
    text = _dump({"tables": [{"name": name, "relation": "raw.t", "key": [name],
                              "columns": [{"name": name, "checks": ["not_null", {"accepted_values": [name]}]}]}]})
    name = yaml.safe_load(text)["tables"][0]["name"]  # YAML folds a few characters (NEL -> space)
    with tempfile.TemporaryDirectory() as root:
        spec = assert_loads_or_spec_error(_project(root, text))
        if spec is None:
            return
        _cli_compile(root)
        base = os.path.join(root, "target", "compiled", "duckdb")
        written = sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs)
        folder = safe_file_name(name)
        assert written == sorted(["_setup/meta.sql"] + [os.path.join(folder, f) for f in (
            "checks.sql", "quarantine_view.sql", "validated_view.sql")]), written
        with open(os.path.join(base, folder, "checks.sql"), encoding="utf-8", newline="") as fh:
            trees = [t for t in sqlglot.parse(fh.read(), read="duckdb") if t is not None]
        columns = {c.name for t in trees for c in t.find_all(exp.Column)}
        strings = {lit.this for t in trees for lit in t.find_all(exp.Literal) if lit.is_string}
        assert name in columns and name in strings, (columns, strings)


# ------------------------------------------------------------------------------ line mapping through Jinja

_line_blocks = st.recursive(
    st.one_of(
        st.sampled_from(["- item @@\n", "  key: value @@\n", "{{ 'x' }} @@\n", "  {{ 1 + 1 }}: @@\n",
                         "{# one\ntwo #}\n", "{% set v = [\n  1,\n  2,\n] %}\n", "\n", "a: {{ {'k': 1}['k'] }} @@\n"]),
    ),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["{% for i in range(2) %}\n", "{%- for i in range(3) %}\n",
                                   "{% for i in [] %}\n", "  {% for i in range(2) -%}\n"]),
                  st.lists(inner, min_size=1, max_size=3),
                  st.sampled_from(["{% endfor %}\n", "{%- endfor %}\n"])).map(lambda t: t[0] + "".join(t[1]) + t[2]),
        st.tuples(st.sampled_from(["{% if true %}\n", "{% if false %}\n", "{%- if true -%}\n"]),
                  st.lists(inner, min_size=1, max_size=3),
                  st.sampled_from(["{% endif %}\n", "{%- endif %}\n"])).map(lambda t: t[0] + "".join(t[1]) + t[2]),
    ),
    max_leaves=12,
)


@BOUNDED
@given(blocks=st.lists(_line_blocks, min_size=1, max_size=8))
def test_line_map_through_generated_jinja(blocks):
    """Every data line of a template is tagged with its own line number; after rendering, the mapping of
    each rendered line is the number of the first tag on it."""
    import re

    from slocompile.spec.yamlload import render_with_lines

    lines = "".join(blocks).split("\n")
    source = "\n".join(line.replace("@@", f"<L{i}>") for i, line in enumerate(lines, 1))
    rendered, mapping = render_with_lines(source, "t.yml", {})
    for index, line in enumerate(rendered.split("\n")):
        tag = re.search(r"<L(\d+)>", line)
        if tag:
            assert mapping[index] == int(tag.group(1)), (index, line, source, rendered)
