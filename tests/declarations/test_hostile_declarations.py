"""Issue 11, items 10, 12 and 14: declarations that would exhaust the machine, call functions that
read files or settings, or point the loader outside the project.

Every bomb here is refused *before* it allocates or loops: the tests need no timeout and no
memory limit, and a regression shows as a test that takes long, not one that passes slowly.
"""
from __future__ import annotations

import os

import pytest
from proj import cli, sql
from specproblems import problems, write_project

from slocompile.declarations.loader import load_project
from slocompile.errors import SpecError
from slocompile.spec.sqlfunctions import engine_functions

TABLE = "tables:\n  - name: t\n    relation: raw.t\n"


# ------------------------------------------------------------------ item 10: resource bombs

JINJA_BOMBS = {
    "string repeat": "{{ 'x' * 2000000000 }}",
    "repeat, number first": "{{ 2000000000 * 'x' }}",
    "list repeat": "{{ [1] * 2000000000 }}",
    "center filter": "{{ 'x' | center(2000000000) }}",
    "ljust method": "{{ 'x'.ljust(2000000000) }}",
    "format width": "{{ '{:>2000000000}'.format(1) }}",
    "nested format width": "{{ '{:>{w}}'.format(1, w=2000000000) }}",
    "percent width": "{{ '%2000000000s' % 1 }}",
    "percent star width": "{{ '%*s' % (2000000000, 1) }}",
    "format filter": "{{ '%2000000000s' | format(1) }}",
    "lipsum": "{{ lipsum(1000000000) }}",
    "join": "{{ (['x' * 1000000] * 1000) | join }}",
    "replace": "{{ ('x' * 1000000) | replace('x', 'yyyyyyyyyyyyyyyyyyyy') }}",
    "indent": "{{ ('\\n' * 1000000) | indent(1000) }}",
    "batch": "{{ [1] | batch(2000000000, 0) | list }}",
    "power": "{{ 2 ** 2000000000 }}",
    "shared lists printed": "{% set l = [1] * 100000 %}{{ [l] * 100000 }}",
}


@pytest.mark.parametrize("template", JINJA_BOMBS.values(), ids=JINJA_BOMBS.keys())
def test_jinja_bombs_fail_at_once_with_their_line(tmp_path, template):
    text = TABLE + f"    description: \"{template}\"\n"
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert found[0].startswith("slos/t.yml:4: Jinja error: ") and "over the limit" in found[0], found


@pytest.mark.parametrize("template", [
    # 10^10 loop iterations: no memory, only time
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    # a macro that calls itself twice, 40 deep: 2^40 calls
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
], ids=["nested loops", "exponential macro"])
def test_endless_work_is_cut_by_the_step_budget(tmp_path, template):
    found = problems(tmp_path, TABLE + template + "\n")
    assert len(found) == 1 and "Jinja error: the template does more than 2,000,000 steps" in found[0], found
    assert found[0].startswith("slos/t.yml:4: "), found


@pytest.mark.parametrize("template", [
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}",
], ids=["doubling with ~", "doubling with +", "doubling a list"])
def test_doubling_stops_at_the_limit(tmp_path, template):
    found = problems(tmp_path, TABLE + template + "\n")
    assert len(found) == 1 and "over the limit" in found[0], found


def test_the_rendered_file_is_capped(tmp_path):
    text = TABLE + "    checks:\n{% for i in range(100000) %}\n      - assert: \"{{ 'y' * 1000 }} > 0\"\n{% endfor %}\n"
    found = problems(tmp_path, text)
    assert len(found) == 1 and "the rendered file would be" in found[0] and "over the limit" in found[0], found


def test_a_huge_file_is_not_read_whole(tmp_path):
    found = problems(tmp_path, {"t.yml": TABLE, "big.yml": "# " + "x" * (8 * 1024 * 1024) + "\n"})
    assert found == ["slos/big.yml: the file is larger than the limit of 8,388,608 characters; split it into "
                     "several files (declarations are data; see 'Limits' in docs/reference.md)"]


def alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_fails_at_once(tmp_path):
    found = problems(tmp_path, TABLE + "    description: x\nx-bomb:\n" + "".join(
        "  " + line + "\n" for line in alias_bomb(7).splitlines()))
    bomb = [p for p in found if "YAML aliases" in p]
    assert len(bomb) == 1 and "repeat more than 100,000 values, over the limit" in bomb[0], found
    assert bomb[0].startswith("slos/t.yml:"), bomb


def test_a_few_aliases_still_work(tmp_path):
    text = ("tables:\n  - name: a\n    relation: raw.a\n    columns: &cols\n      - name: id\n"
            "        checks: [not_null]\n  - name: b\n    relation: raw.b\n    columns: *cols\n")
    spec = load_project(write_project(tmp_path, {"t.yml": text}), env={})
    assert [c.name for t in spec.tables for c in t.columns] == ["id", "id"]


def test_a_recursive_alias_is_one_error(tmp_path):
    found = problems(tmp_path, TABLE + "    description: &d [*d]\n")
    assert any("a YAML alias refers to the mapping or list that contains it" in p for p in found), found


@pytest.mark.parametrize("depth", [70, 100000])
def test_deep_nesting_is_located_not_a_crash(tmp_path, depth):
    found = problems(tmp_path, TABLE + "    description: " + "[" * depth + "]" * depth + "\n")
    # tables (level 1), the table (2), the description (3): level 65 is its 63rd bracket, column 18 + 62
    assert "slos/t.yml:4:80: YAML nested too deeply (more than 64 levels)" in found, found


def test_a_generating_template_within_the_limits_loads(tmp_path):
    text = ("tables:\n{% for i in range(300) %}\n  - name: t{{ i }}\n    relation: raw.t{{ i }}\n"
            "    columns:\n{% for c in ['a', 'b', 'c'] %}\n      - name: {{ c ~ i }}\n"
            "        checks: [not_null]\n{% endfor %}\n{% endfor %}\n")
    spec = load_project(write_project(tmp_path, {"t.yml": text}), env={})
    assert len(spec.tables) == 300 and spec.tables[-1].columns[-1].name == "c299"


def test_the_cli_reports_a_bomb_with_exit_2(tmp_path):
    root = write_project(tmp_path, {"t.yml": TABLE + "    description: \"{{ 'x' * 2000000000 }}\"\n"})
    out = cli(root, "compile", timeout=60)
    assert out.returncode == 2
    assert "error: slos/t.yml:4: Jinja error: a repeated string or list would be 2,000,000,000 characters" \
        in out.stderr, out.stderr


# ------------------------------------------------------------------ item 12: functions in user SQL

def expression(sql_text: str, dialect: str = "duckdb") -> tuple[str, str]:
    project = f"name: fns\nsql_dialect: {dialect}\n"
    return project, TABLE + f"    columns:\n      - name: s\n        checks:\n          - expression: \"{sql_text}\"\n"


def load(tmp_path, project: str, text: str) -> list[str]:
    root = write_project(tmp_path, {"t.yml": text}, project)
    try:
        load_project(root, env={})
    except SpecError as e:
        return [str(p) for p in e.problems]
    return []


@pytest.mark.parametrize("sql_text", ["strlen(s) > 0", "json_valid(s)", "now() > s", "hash(s) > 0",
                                      "list_sum([1, 2]) = 3", "regexp_matches(s, 'a')"])
def test_scalar_functions_of_duckdb_are_allowed(tmp_path, sql_text):
    assert load(tmp_path, *expression(sql_text)) == []


def test_an_unknown_function_suggests_a_real_one_as_written(tmp_path):
    found = load(tmp_path, *expression("strln(s) > 0"))
    assert found == ["slos/t.yml:7:25: 'sql' of 'expression' of table 't', column 's': unknown function strln() "
                     "(did you mean 'strlen'?)"]
    found = load(tmp_path, *expression("jsn_valid(s)"))
    assert found and found[0].endswith("unknown function jsn_valid() (did you mean 'json_valid'?)"), found
    assert all(name == name.lower() for name in engine_functions("duckdb"))  # never 'J_S_O_N_TABLE'
    assert not any("J_S_O_N" in p for p in load(tmp_path, *expression("json_vald(s)")))


def test_an_engine_aggregate_counts_as_an_aggregate(tmp_path):
    project, _ = expression("x")
    text = TABLE + "    checks:\n      - assert: \"arbitrary(s) IS NOT NULL\"\n"
    assert load(tmp_path, project, text) == []
    found = load(tmp_path, *expression("arbitrary(s) > 0"))
    assert found and found[0].endswith("aggregate functions are not allowed in a row expression"), found


@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "spark"])
def test_other_dialects_leave_unknown_names_to_the_engine(tmp_path, dialect):
    assert load(tmp_path, *expression("some_udf(s) > 0", dialect)) == []


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
@pytest.mark.parametrize("sql_text,why", [
    ("read_csv('/etc/passwd') IS NOT NULL", "reads files or the network"),
    ("read_parquet('x.parquet') IS NULL", "reads files or the network"),
    ("read_text('/etc/passwd') IS NULL", "reads files or the network"),
    ("pg_read_file('/etc/passwd') = s", "reads files or the network"),
    ("reflect('java.lang.Runtime', 'getRuntime') IS NULL", "runs code"),
    ("getenv('HOME') = s", "reads settings or the environment"),
    ("current_setting('s3_secret_access_key') = s", "reads settings or the environment"),
    ("nextval('seq') > 0", "changes state"),
    ("sleep_ms(100000) IS NULL", "sleeps"),
    ("unnest([1, 2]) = 1", "table functions (such as unnest) are not allowed"),
])
def test_files_network_settings_and_table_functions_stay_refused(tmp_path, dialect, sql_text, why):
    found = load(tmp_path, *expression(sql_text, dialect))
    assert len(found) == 1 and why in found[0], found


def test_a_duckdb_table_function_is_refused_as_such(tmp_path):
    found = load(tmp_path, *expression("query('SELECT 1') IS NULL"))
    assert found and found[0].endswith("query() is a table function: not allowed in an expression"), found


# ------------------------------------------------------------------ item 14: slo_paths

def project_with(tmp_path, extra: str) -> str:
    root = os.path.join(str(tmp_path), "p")
    os.makedirs(root)
    return write_project(root, {"t.yml": TABLE}, "name: paths\n" + extra)


def test_a_path_outside_the_project_is_refused_unless_allowed(tmp_path):
    outside = tmp_path / "shared"
    outside.mkdir()
    (outside / "u.yml").write_text("tables:\n  - name: u\n    relation: raw.u\n")
    root = project_with(tmp_path, "slo_paths: [slos, ../shared]\n")
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    assert [str(p) for p in info.value.problems] == [
        f"slocompile.yml:2:1: slo_paths: '../shared' is outside the project folder (it leads to "
        f"{os.path.realpath(outside)}); set allow_outside_paths: true in slocompile.yml to allow it"]
    with open(os.path.join(root, "slocompile.yml"), "a") as fh:
        fh.write("allow_outside_paths: true\n")
    assert sorted(t.name for t in load_project(root, env={}).tables) == ["t", "u"]


def test_a_link_out_of_the_project_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    root = project_with(tmp_path, "")
    os.symlink(str(tmp_path / "elsewhere"), os.path.join(root, "slos", "out"))
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    assert "slos/out: symbolic link to" in str(info.value) and "outside the project folder" in str(info.value)


@pytest.mark.parametrize("target", ["..", ".", "../.."])
def test_a_symlink_loop_is_one_error_and_never_followed(tmp_path, target):
    root = project_with(tmp_path, "allow_outside_paths: true\n" if target == "../.." else "")
    os.symlink(target, os.path.join(root, "slos", "loop"))
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    found = [str(p) for p in info.value.problems]
    assert len(found) == 1 and "slos/loop: symbolic link loop" in found[0] and "not followed" in found[0], found


def test_a_link_cycle_between_two_links_is_one_error_each(tmp_path):
    root = project_with(tmp_path, "")
    os.symlink("b", os.path.join(root, "slos", "a"))
    os.symlink("a", os.path.join(root, "slos", "b"))
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    assert [str(p) for p in info.value.problems] == [
        "slocompile.yml: slos/a: symbolic link not followed (Too many levels of symbolic links)",
        "slocompile.yml: slos/b: symbolic link not followed (Too many levels of symbolic links)"]


def test_a_link_inside_the_project_is_followed(tmp_path):
    root = project_with(tmp_path, "")
    os.makedirs(os.path.join(root, "shared"))
    with open(os.path.join(root, "shared", "u.yml"), "w") as fh:
        fh.write("tables:\n  - name: u\n    relation: raw.u\n")
    os.symlink("../shared", os.path.join(root, "slos", "shared"))
    assert sorted(t.name for t in load_project(root, env={}).tables) == ["t", "u"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_proc_self_is_refused_and_ends_when_allowed(tmp_path):
    root = project_with(tmp_path, "slo_paths: [slos, /proc/self]\n")
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    assert "slo_paths: '/proc/self' is outside the project folder" in str(info.value)
    with open(os.path.join(root, "slocompile.yml"), "a") as fh:
        fh.write("allow_outside_paths: true\n")
    with pytest.raises(SpecError) as info:  # /proc/self/root leads back to /: a loop, not followed
        load_project(root, env={})
    assert all("symbolic link loop" in str(p) or "folders under them" in str(p) for p in info.value.problems)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_not_read(tmp_path):
    root = project_with(tmp_path, "")
    os.mkfifo(os.path.join(root, "slos", "pipe.yml"))
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    assert [str(p) for p in info.value.problems] == ["slocompile.yml: slos/pipe.yml: not a regular file; "
                                                     "declarations are files"]


def test_hidden_folders_are_skipped_as_before(tmp_path):
    root = project_with(tmp_path, "")
    os.makedirs(os.path.join(root, "slos", ".cache"))
    with open(os.path.join(root, "slos", ".cache", "x.yml"), "w") as fh:
        fh.write("not: [valid")
    assert [t.name for t in load_project(root, env={}).tables] == ["t"]


def test_the_cli_refuses_an_outside_path_with_exit_2(tmp_path):
    root = project_with(tmp_path, "slo_paths: /tmp\n")
    sql(root, "CREATE TABLE raw.t (a INT)")
    out = cli(root, "compile", timeout=60)
    assert out.returncode == 2 and "slo_paths: '/tmp' is outside the project folder" in out.stderr, out.stderr
