"""Issue 11, items 11, 15 and 16: mistakes a user makes, reported at compile time with their line
(not as a build failure or an internal error), and small things that must simply work."""
from __future__ import annotations

import os

import pytest
from proj import cli, sql, write
from specproblems import problems, write_project

from slocompile.declarations.loader import load_project
from slocompile.errors import SpecError
from slocompile.reports.terminal import clean

PROJECT = "name: mistakes\nvars: {min_rows: 10}\n"


def column(decl: str, checks: str) -> str:
    return f"tables:\n  - name: t\n    relation: raw.t\n    columns:\n      - name: x\n{decl}        checks:\n{checks}"


# ------------------------------------------------------------------ item 11: caught at compile time

def test_a_bound_that_is_not_a_number_on_a_number_column(tmp_path):
    found = problems(tmp_path, column("        type: number\n", "          - between: {min: abc, max: 5}\n"), PROJECT)
    assert found == ["slos/t.yml:8:28: 'between' of table 't', column 'x': min 'abc' is not a number value, "
                     "but column 'x' is declared number"]


@pytest.mark.parametrize("decl,checks", [
    ("        type: integer\n", "          - accepted_values: [1, 2, three]\n"),
    ("        type: bigint\n", "          - between: {min: '1x'}\n"),
    ("        type: date\n", "          - between: {min: yesterday}\n"),
    ("        type: boolean\n", "          - accepted_values: [true, maybe]\n"),
])
def test_values_the_declared_type_cannot_hold(tmp_path, decl, checks):
    found = problems(tmp_path, column(decl, checks), PROJECT)
    assert len(found) == 1 and "value, but column 'x' is declared" in found[0], found


@pytest.mark.parametrize("decl,checks", [
    ("        type: number\n", "          - between: {min: 0, max: '10.5'}\n"),
    ("        type: date\n", "          - between: {min: 2024-01-01, max: '2024-12-31'}\n"),
    ("        type: timestamp\n", "          - between: {min: '2024-01-01 10:00:00'}\n"),
    ("        type: string\n", "          - accepted_values: [a, 1]\n"),
    ("        type: varchar(10)\n", "          - between: {min: a, max: m}\n"),
    ("", "          - between: {min: 0, max: 10}\n"),
    ("", "          - accepted_values: [a, b]\n"),
])
def test_values_that_fit_load(tmp_path, decl, checks):
    load_project(write_project(tmp_path, {"t.yml": column(decl, checks)}, PROJECT), env={})


def test_without_a_declared_type_a_number_beside_a_text_is_a_mistake(tmp_path):
    found = problems(tmp_path, column("", "          - between: {min: 0, max: abc}\n"), PROJECT)
    assert found == ["slos/t.yml:7:36: 'between' of table 't', column 'x': max 'abc' is not a number, but "
                     "other values are; a column compares with values of one kind"]


def test_a_misspelt_type_is_caught_with_did_you_mean(tmp_path):
    found = problems(tmp_path, column("        type: integr\n", "          - not_null\n"), PROJECT)
    assert found == ["slos/t.yml:6:15: table 't', column 'x': unknown type 'integr' (did you mean 'integer'?)"]
    found = problems(tmp_path, column("        type: zzqq\n", "          - not_null\n"), PROJECT)
    assert found == ["slos/t.yml:6:15: table 't', column 'x': unknown type 'zzqq'; write a family (integer, "
                     "number, string, boolean, date, timestamp) or a type name of duckdb"]


@pytest.mark.parametrize("type_name", ["integer", "number", "text", "hugeint", "varchar(10)", "double precision",
                                       "timestamp with time zone", "struct(a int)", "int[]", "uuid", "blob"])
def test_real_type_names_load(tmp_path, type_name):
    load_project(write_project(tmp_path, {"t.yml": column(f"        type: {type_name}\n", "          - not_null\n")},
                               PROJECT), env={})


def test_a_misspelt_type_fails_the_cli_with_exit_2(tmp_path):
    root = write_project(tmp_path, {"t.yml": column("        type: integr\n", "          - not_null\n")}, PROJECT)
    out = cli(root, "compile", timeout=60)
    assert out.returncode == 2 and "slos/t.yml:6:15:" in out.stderr and "did you mean 'integer'" in out.stderr


# ------------------------------------------------------------------ item 15: suggest and debug without tables

def test_suggest_and_debug_work_in_a_new_project(tmp_path):
    root = str(tmp_path)
    with open(os.path.join(root, "slocompile.yml"), "w") as fh:
        fh.write("name: fresh\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb}\n")
    os.makedirs(os.path.join(root, "slos"))
    sql(root, "CREATE TABLE raw.orders AS SELECT range AS id, range * 1.5 AS amount FROM range(10)")
    out = cli(root, "suggest", "raw.orders")
    assert out.returncode == 0, out.stderr
    assert "relation: raw.orders" in out.stdout
    out = cli(root, "suggest", "raw.orders", "--out", "slos/orders.yml", "--force")
    assert out.returncode == 0, out.stderr
    os.remove(os.path.join(root, "slos", "orders.yml"))
    out = cli(root, "debug")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "of project 'fresh'" in out.stdout
    out = cli(root, "compile")  # the commands that need tables still say so
    assert out.returncode == 2 and "no table declarations found under slos/" in out.stderr


# ------------------------------------------------------------------ item 16: smaller ones

def test_a_meta_schema_equal_to_a_raw_schema_is_a_located_error(tmp_path):
    found = problems(tmp_path, "tables:\n  - name: t\n    relation: raw.t\n",
                     "name: clash\nschemas: {meta: raw}\n")
    assert found == ["slocompile.yml:2:10: schemas: meta schema 'raw' is also the schema of relation raw.t "
                     "(table 't' at slos/t.yml:2:5); slocompile writes into its own schemas, so choose another name"]


@pytest.mark.parametrize("threads", ["many", "0", "-2", "1.5", "true"])
def test_invalid_threads_is_a_located_error(tmp_path, threads):
    project = f"name: th\ntargets:\n  local: {{type: duckdb, path: w.duckdb, threads: {threads}}}\n"
    found = problems(tmp_path, "tables:\n  - name: t\n    relation: raw.t\n", project)
    assert len(found) == 1 and found[0].startswith("slocompile.yml:3:") and \
        "'threads' must be a whole number of at least 1" in found[0], found


def test_meta_raw_and_bad_threads_exit_2_not_internal_error(tmp_path):
    root = write(tmp_path, [{"name": "t", "relation": "raw.t"}])
    sql(root, "CREATE TABLE raw.t (a INT)")
    with open(os.path.join(root, "slocompile.yml"), "a") as fh:
        fh.write("schemas: {meta: raw}\n")
    out = cli(root, "build")
    assert out.returncode == 2 and "internal error" not in out.stderr
    assert "slocompile.yml:" in out.stderr and "meta schema 'raw'" in out.stderr


DECL = "tables:\n  - name: t\n    relation: raw.t\n    checks:\n      - row_count: {min: {{ var('min_rows') }}}\n"


def test_an_unknown_var_on_the_command_line_is_an_error(tmp_path):
    root = write_project(tmp_path, {"t.yml": DECL}, PROJECT)
    with pytest.raises(SpecError) as info:
        load_project(root, {"min_row": 3}, env={})
    assert [str(p) for p in info.value.problems] == [
        "--var min_row: no var 'min_row' in slocompile.yml vars or in a var() of the declarations "
        "(did you mean 'min_rows'?)"]
    assert load_project(root, {"min_rows": 3}, env={}).tables[0].checks[0].params["min"] == 3
    out = cli(root, "compile", "--var", "min_row=3")
    assert out.returncode == 2 and "--var min_row" in out.stderr and "did you mean 'min_rows'" in out.stderr


def test_a_var_only_a_declaration_asks_for_is_known(tmp_path):
    text = DECL.replace("var('min_rows')", "var('floor', 1)") + \
        "{% if false %}\n# {{ var('only_in_a_branch') }}\n{% endif %}\n"
    root = write_project(tmp_path, {"t.yml": text}, PROJECT)
    spec = load_project(root, {"floor": 7, "only_in_a_branch": 1}, env={})
    assert spec.tables[0].checks[0].params["min"] == 7


def test_a_quoted_number_from_jinja_is_a_number(tmp_path):
    text = DECL.replace("{min: {{ var('min_rows') }}}", "{min: \"{{ var('min_rows') }}\", max: '{{ 100 }}'}")
    spec = load_project(write_project(tmp_path, {"t.yml": text}, PROJECT), env={})
    assert spec.tables[0].checks[0].params["min"] == 10 and spec.tables[0].checks[0].params["max"] == 100
    # without Jinja, a quoted number is a string, as YAML says
    found = problems(tmp_path, DECL.replace("{{ var('min_rows') }}", "'10'"), PROJECT)
    assert len(found) == 1 and "must be a finite number, not '10'" in found[0], found
    # and Jinja text that is not a number stays refused
    found = problems(tmp_path, DECL.replace("{{ var('min_rows') }}", "\"{{ 'ten' }}\""), PROJECT)
    assert len(found) == 1 and "must be a finite number, not 'ten'" in found[0], found


def test_slo_paths_may_be_one_string(tmp_path):
    root = write_project(tmp_path, {"t.yml": "tables:\n  - name: t\n    relation: raw.t\n"},
                         "name: one\nslo_paths: slos\n")
    assert [t.name for t in load_project(root, env={}).tables] == ["t"]


@pytest.mark.parametrize("folder,name", [("shop", "shop"), ("my shop", "my_shop"), ("2026", '"2026"'),
                                         ("yes", '"yes"')])
def test_init_names_the_project_after_its_folder(tmp_path, folder, name):
    out = cli(tmp_path, "init", folder)
    assert out.returncode == 0, out.stderr
    with open(os.path.join(str(tmp_path), folder, "slocompile.yml")) as fh:
        assert f"\nname: {name}\n" in fh.read()
    spec = load_project(os.path.join(str(tmp_path), folder), env={})
    assert spec.name == name.strip('"')


def test_quiet_prints_the_verdict_of_a_passing_build(tmp_path):
    root = write(tmp_path, [{"name": "t", "relation": "raw.t", "checks": [{"row_count": {"min": 1}}]}])
    sql(root, "CREATE TABLE raw.t AS SELECT 1 AS a")
    out = cli(root, "build", "-q")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("PASS: 1 passed, 0 failed, 0 warned, 0 errored in 1 tables"), lines
    assert out.stderr == ""


def test_terminal_control_sequences_in_partition_values_are_removed(tmp_path):
    osc = "\x1b]0;pwned\x07"          # sets the terminal's title
    link = "\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\"
    csi = "\x1b[2J"                   # clears the screen
    root = write(tmp_path, [{"name": "t", "relation": "raw.t", "partition": "p",
                             "checks": [{"row_count": {"min": 2}}]}])
    sql(root, "CREATE TABLE raw.t (p VARCHAR, a INT)")
    sql(root, f"INSERT INTO raw.t VALUES ('a{osc}b', 1), ('c{link}d', 1), ('e{csi}f', 1), ('g\x9b31mh', 1)")
    out = cli(root, "build")
    assert out.returncode == 1
    for text in (out.stdout, out.stderr):
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, repr(text)
    for shown in ("[ab]", "[chered]", "[ef]", "[gh]"):
        assert shown in out.stdout, out.stdout


def test_clean_keeps_text_and_removes_every_kind_of_sequence():
    assert clean("2026-11-20\tok\nnext") == "2026-11-20\tok\nnext"
    assert clean("a\x1b[31mred\x1b[0m") == "ared"
    assert clean("a\x1b]0;title\x07b\x1b]2;t\x1b\\c") == "abc"
    assert clean("a\x1bPq#0;2;0;0;0\x1b\\b") == "ab"      # DCS (sixel)
    assert clean("a\x9d0;t\x9cb\x9b1mc") == "abc"         # 8-bit OSC and CSI
    assert clean("unterminated\x1b]0;title") == "unterminated"
    assert clean("bell\x07 and nul\x00") == "bell and nul"
