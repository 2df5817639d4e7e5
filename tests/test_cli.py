"""End to end through the real command line, in subprocesses, in temporary folders.

init -> build -> query the views; compile for every dialect; show; --select; --quiet; exit codes 0/1/2;
run_results.json and junit.xml; declaration and connection errors (file:line:col, no traceback); a locked
database; and a hostile project (quotes, spaces, reserved words, unicode, backslashes, injection attempts).
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import duckdb
import pytest
import sqlglot
import yaml
from sqlglot import exp

from slocompile.compiling.compiler import safe_file_name

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark", "databricks", "trino", "redshift")
_SCRIPT = os.path.join(os.path.dirname(sys.executable), "slocompile")
COMMAND = [_SCRIPT] if os.path.exists(_SCRIPT) else [sys.executable, "-m", "slocompile"]


def cli(*args, cwd=None, check=None, timeout=120) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("SLOCOMPILE_DEBUG", None)
    proc = subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert "internal error" not in out, out
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode}, expected {check}\n{out}"
    return proc


def cli_many(arg_lists, cwds) -> list[subprocess.CompletedProcess]:
    """Run several commands at once, each in its own project folder.

    (Not in one folder: concurrent runs share target/manifest.json.tmp, see the report on write_json.)
    """
    procs = [subprocess.Popen([*COMMAND, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args, cwd in zip(arg_lists, cwds)]
    out = []
    for p, args in zip(procs, arg_lists):
        stdout, stderr = p.communicate(timeout=120)
        out.append(subprocess.CompletedProcess([*COMMAND, *args], p.returncode, stdout, stderr))
    return out


def query(db: str, sql: str):
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def fresh_copy(src: str, dst: str) -> str:
    """A copy of an initialized project without its build outputs (cheaper than `init`)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("target", "*.wal"))
    return dst


@pytest.fixture(scope="session")
def initialized(tmp_path_factory) -> str:
    """`slocompile init` into a new folder: the pristine project later tests copy."""
    root = str(tmp_path_factory.mktemp("cli") / "shop")
    proc = cli("init", root, check=0)
    assert "created" in proc.stdout
    return root


@pytest.fixture(scope="session")
def built(initialized, tmp_path_factory) -> tuple[str, subprocess.CompletedProcess]:
    """A copy of the template project after one `slocompile build` (read-only for the tests using it)."""
    root = fresh_copy(initialized, str(tmp_path_factory.mktemp("cli") / "built"))
    return root, cli("build", cwd=root)


# --------------------------------------------------------------------------------------------- the happy path


def test_help():
    proc = cli("--help", check=0)
    for command in ("init", "compile", "build", "show"):
        assert command in proc.stdout
    assert cli("build", "--help", check=0).stdout.count("--select") == 1


def test_init_creates_a_project_that_builds(initialized, built):
    for path in ("slocompile.yml", "slos/orders.yml", "warehouse.duckdb"):
        assert os.path.exists(os.path.join(initialized, path)), path
    root, proc = built
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout and "orders" in proc.stdout
    for artifact in ("run_results.json", "manifest.json", "junit.xml"):
        assert os.path.isfile(os.path.join(root, "target", artifact)), artifact


def test_views_after_build(built):
    root, _ = built
    db = os.path.join(root, "warehouse.duckdb")
    raw = query(db, "select count(*) from raw.orders")[0][0]
    valid = query(db, "select count(*) from validated.orders")[0][0]
    quarantined = query(db, "select order_id, amount, _slo_violations from quarantine.orders order by order_id")
    assert raw == 161
    assert valid + len(quarantined) == raw
    # the two negative amounts break `between: {min: 0, ..., rows: drop}`
    assert quarantined == [(17, -127.22, "between_amount"), (88, -77.3, "between_amount")]
    assert query(db, "select count(*) from validated.orders where amount < 0") == [(0,)]
    # the meta schema is plain tables
    runs = query(db, "select status from slo.runs")
    assert runs and all(r[0] == "pass" for r in runs)


def test_run_results_contract_fields(built):
    root, _ = built
    with open(os.path.join(root, "target", "run_results.json"), encoding="utf-8") as fh:
        data = json.load(fh)
    assert isinstance(data["results"], list) and data["results"]
    contract = {"table", "check", "column", "partition", "status", "severity", "observed", "expected", "message"}
    for r in data["results"]:
        assert contract <= set(r), r
        assert r["status"] in ("pass", "fail", "warn", "error")
        assert r["severity"] in ("error", "warn")
    by_check = {r["check"]: r for r in data["results"]}
    assert by_check["row_count"]["column"] is None              # table-level
    assert by_check["not_null_customer"]["column"] == "customer"
    assert by_check["row_count"]["partition"] is not None        # the table is partitioned


def test_compile_every_dialect_reparses(built, tmp_path):
    roots = [fresh_copy(built[0], str(tmp_path / d)) for d in DIALECTS]
    procs = cli_many([["compile", "--dialect", d] for d in DIALECTS], roots)
    for d, proc, root in zip(DIALECTS, procs, roots):
        assert proc.returncode == 0, (d, proc.stderr)
        assert f"compiled/{d}" in proc.stdout.replace(os.sep, "/")
        files = glob.glob(os.path.join(root, "target", "compiled", d, "**", "*.sql"), recursive=True)
        names = {os.path.relpath(f, os.path.join(root, "target", "compiled", d)).replace(os.sep, "/") for f in files}
        assert {"orders/checks.sql", "orders/validated_view.sql", "orders/quarantine_view.sql"} <= names, names
        for f in files:
            with open(f, encoding="utf-8", newline="") as fh:
                text = fh.read()
            assert text.strip(), f
            statements = [s for s in sqlglot.parse(text, read=d) if s is not None]
            assert statements, f
        with open(os.path.join(root, "target", "manifest.json"), encoding="utf-8") as fh:
            assert json.load(fh)["metadata"]["dialect"] == d


def test_compile_connects_to_nothing(initialized, tmp_path):
    """compile works without the database file."""
    root = fresh_copy(initialized, str(tmp_path / "p"))
    os.remove(os.path.join(root, "warehouse.duckdb"))
    cli("compile", cwd=root, check=0)
    assert not os.path.exists(os.path.join(root, "warehouse.duckdb"))
    with open(os.path.join(root, "target", "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    assert [t["name"] for t in manifest["tables"]] == ["orders"]


def test_show_table(built):
    proc = cli("show", "orders", cwd=built[0], check=0)
    assert '"raw"."orders"' in proc.stdout
    assert "validated view" in proc.stdout and "quarantine view" in proc.stdout
    proc = cli("show", "ordrs", cwd=built[0], check=2)
    assert "unknown table 'ordrs' (did you mean 'orders'?)" in proc.stderr


def test_show_into_a_closed_pipe(built):
    """`slocompile show T | head -1`: no 'internal error', no traceback."""
    proc = subprocess.run(f"{' '.join(COMMAND)} show orders | head -1", shell=True, cwd=built[0],
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.startswith("-- table orders")
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_build_select(built, tmp_path):
    root = fresh_copy(built[0], str(tmp_path / "p"))
    proc = cli("build", "--select", "orders", cwd=root, check=0)
    assert "orders" in proc.stdout
    proc = cli("build", "--select", "ordrs", cwd=root, check=2)
    assert "error: --select: unknown table 'ordrs' (did you mean 'orders'?)" in proc.stderr
    assert proc.stdout == ""


def test_quiet(built, tmp_path):
    root = fresh_copy(built[0], str(tmp_path / "p"))
    proc = cli("build", "--quiet", cwd=root, check=0)
    # a passing build prints its verdict line only (issue 11, item 16)
    assert proc.stdout.startswith("PASS: ") and len(proc.stdout.splitlines()) == 1 and "checking" not in proc.stderr
    loud = cli("build", cwd=root, check=0)
    assert "passed" in loud.stdout


def test_init_into_non_empty_dir(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    proc = cli("init", str(tmp_path), check=2)
    assert "exists and is not empty" in proc.stderr
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_no_project_here(tmp_path):
    proc = cli("build", cwd=str(tmp_path), check=2)
    assert "slocompile.yml" in proc.stderr and "slocompile init" in proc.stderr


def test_bad_command_line(built):
    for command in ("compile", "show"):
        args = [command, "--dialect", "oracle"] + (["orders"] if command == "show" else [])
        proc = cli(*args, cwd=built[0], check=2)
        assert "Invalid value for '--dialect' / '-d': 'oracle' is not one of 'duckdb'," in proc.stderr
    proc = cli("build", "--target", "prod", cwd=built[0], check=2)
    assert "unknown target 'prod'" in proc.stderr
    proc = cli("compile", "--var", "min_orders=[1", cwd=built[0], check=2)
    assert "Invalid value for --var: the value of 'min_orders' is not valid YAML" in proc.stderr
    proc = cli("compile", "--var", "min_orders", cwd=built[0], check=2)
    assert "expected NAME=VALUE, got 'min_orders'" in proc.stderr


def test_var_override(built, tmp_path):
    root = fresh_copy(built[0], str(tmp_path / "p"))
    proc = cli("build", "--var", "min_orders=1000", cwd=root, check=1)
    assert "row count is 20; expected >= 1000" in proc.stdout


def test_targets_that_cannot_run(initialized, tmp_path):
    root = fresh_copy(initialized, str(tmp_path / "p"))
    with open(os.path.join(root, "slocompile.yml"), encoding="utf-8") as fh:
        text = fh.read()
    assert "targets:\n" in text
    text = text.replace("targets:\n", "targets:\n  snow: {type: snowflake}\n"
                                      "  gone: {type: duckdb, path: /nonexistent/dir/w.duckdb}\n")
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as fh:
        fh.write(text)
    proc = cli("build", "--target", "snow", cwd=root, check=2)
    assert proc.stderr.startswith("error: target 'snow' of type snowflake cannot be executed")
    proc = cli("build", "--target", "gone", cwd=root, check=2)
    assert proc.stderr.startswith("error: target 'gone': cannot open /nonexistent/dir/w.duckdb")
    cli("compile", "--target", "snow", cwd=root, check=0)
    assert os.path.isdir(os.path.join(root, "target", "compiled", "snowflake"))


# ------------------------------------------------------------------------------------------- failures and errors


def test_failing_slo_exit_1_with_artifacts(initialized, tmp_path):
    root = fresh_copy(initialized, str(tmp_path / "p"))
    path = os.path.join(root, "slos", "orders.yml")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert "mean: {min: 10, max: 500}" in text
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("mean: {min: 10, max: 500}", "mean: {min: 1000, max: 5000}"))
    proc = cli("build", cwd=root, check=1)
    assert "FAIL" in proc.stdout and "mean_amount" in proc.stdout
    assert "expected between 1000 and 5000" in proc.stdout

    with open(os.path.join(root, "target", "run_results.json"), encoding="utf-8") as fh:
        results = json.load(fh)["results"]
    failed = [r for r in results if r["status"] == "fail"]
    assert failed and {r["check"] for r in failed} == {"mean_amount"}
    r = failed[0]
    assert (r["table"], r["column"], r["severity"]) == ("orders", "amount", "error")
    assert r["partition"] == "2026-11-01" and isinstance(r["observed"], float)
    assert r["expected"] == "between 1000 and 5000"
    assert r["message"].startswith("mean of amount is ")

    tree = ET.parse(os.path.join(root, "target", "junit.xml"))
    suites = tree.getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["orders"]
    assert int(suites[0].get("failures")) == len(failed) == len(suites[0].findall("testcase/failure"))
    assert int(suites[0].get("tests")) == len(results)

    # the filter gate hides the failed days
    db = os.path.join(root, "warehouse.duckdb")
    assert query(db, "select count(*) from validated.orders") == [(0,)]


def test_bad_project_exit_2_located(initialized, tmp_path):
    root = fresh_copy(initialized, str(tmp_path / "p"))
    with open(os.path.join(root, "slos", "broken.yml"), "w", encoding="utf-8") as fh:
        fh.write("tables:\n  - name: more\n    relation: raw.orders\n    gate: blok\n"
                 "    columns:\n      - name: amount\n        checks:\n          - not_nul\n")
    proc = cli("build", cwd=root, check=2)
    assert proc.stderr.splitlines() == [
        "error: slos/broken.yml:4:11: 'gate' in a table must be one of block, filter, last_good, warn, "
        "not 'blok' (did you mean 'block'?)",
        "error: slos/broken.yml:8:13: table 'more', column 'amount': unknown check type 'not_nul' "
        "(did you mean 'not_null'?)",
        "2 problems found",
    ]
    assert proc.stdout == ""
    assert not os.path.exists(os.path.join(root, "target", "run_results.json"))


def test_build_time_unknown_column(initialized, tmp_path):
    """Declared in YAML but not in the real table: exit 2 naming the file and line, with a suggestion."""
    root = fresh_copy(initialized, str(tmp_path / "p"))
    path = os.path.join(root, "slos", "orders.yml")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("- name: customer", "- name: custmer"))
    cli("compile", cwd=root, check=0)  # fine against the declared columns
    proc = cli("build", cwd=root, check=2)
    line = text.splitlines().index("          - not_null: {max_fraction: 0.1}") + 1
    assert proc.stderr.splitlines() == [
        f"error: slos/orders.yml:{line}:13: table 'orders', check 'not_null_custmer': column 'custmer' is not in "
        "raw.orders (did you mean 'customer'?)"]


def test_build_time_missing_relation(initialized, tmp_path):
    root = fresh_copy(initialized, str(tmp_path / "p"))
    path = os.path.join(root, "slos", "orders.yml")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("relation: raw.orders", "relation: raw.ordrs"))
    proc = cli("build", cwd=root, check=2)
    assert proc.stderr.splitlines() == [
        "error: slos/orders.yml:4:5: table 'orders': relation raw.ordrs does not exist"]


def test_database_locked_by_another_process(initialized, tmp_path):
    root = fresh_copy(initialized, str(tmp_path / "p"))
    db = os.path.join(root, "warehouse.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
                               "sys.stdin.readline()", db],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        proc = cli("build", cwd=root, check=2)
        assert "is in use by another process" in proc.stderr
        assert proc.stderr.startswith("error: target 'local': ")
    finally:
        holder.communicate("\n", timeout=30)
    cli("build", cwd=root, check=0)  # once released, the build runs


# --------------------------------------------------------------------------------------------- hostile project

HOSTILE_COLUMNS = {
    "id": "INTEGER",
    'we"ird': "VARCHAR",
    "with space": "INTEGER",
    "select": "INTEGER",
    "from": "VARCHAR",
    "MixedCase": "INTEGER",
    "ünïcødé_列": "VARCHAR",
    "back\\slash": "VARCHAR",
    "x'); DROP TABLE raw.victim; --": "VARCHAR",
    'day"; DROP TABLE raw.victim; --': "DATE",
}
INJECTION = "'); DROP TABLE raw.victim; --"
HOSTILE_ROWS = [
    (1, "a'b", 1, 1, "x", 1, "é", "a\\b", "v", "2024-01-01"),
    (2, 'q"q', 2, 2, "y", 2, "列", "c\\d", INJECTION, "2024-01-01"),
    (3, None, 3, 3, "z", 3, None, "\\", None, "2024-01-02"),
    (4, "\\'", 4, 4, "\\", 4, "ü", "\\\\", "v", "2024-01-02"),   # breaks the accepted_values rule
]
HOSTILE_TABLE = 'hostile "table"; DROP TABLE raw.victim; --'
HOSTILE_CHECK = "accepted'); DROP TABLE raw.victim; --"
BLOCKED_TABLE = "blocked'); DROP TABLE raw.victim; --"
HOSTILE_SCHEMAS = {"validated": 'valid "ated"', "quarantine": "quar'antine", "meta": "slo; DROP TABLE raw.victim"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def hostile_declaration() -> dict:
    day = 'day"; DROP TABLE raw.victim; --'
    return {"tables": [{
        "name": HOSTILE_TABLE,
        "relation": '"we ird"."Tab""le"',
        "description": INJECTION,
        "key": ["id"],
        "partition": day,
        "gate": "filter",
        "checks": [
            {"row_count": {"min": 1}},
            {"unique": ["select", "from"]},
            {"assert": {"sql": 'count(*) filter (where "from" in (\'x\', \'\\\')) = 1', "name": "n'; drop"}},
            {"relationship": {"column": "from", "to": '"raw"."dim""s"', "field": "co'de"}},
            {"freshness": {"column": day, "max_age": "100000d"}},
            {"schema": {"allow_extra": False}},
        ],
        "columns": [
            {"name": "id", "type": "integer"},
            {"name": day, "type": "date"},
            {"name": 'we"ird', "type": "string", "checks": [{"accepted_values": {
                "values": ["a'b", 'q"q', INJECTION], "rows": "drop", "max_count": 1, "name": HOSTILE_CHECK}}]},
            {"name": "with space", "type": "integer", "checks": [{"between": {"min": 0, "max": 10}}]},
            {"name": "select", "type": "integer", "checks": ["not_null", {"expression": {
                "sql": '"select" >= 0 and "from" <> \'\\\'\'\'', "where": '"MixedCase" > 0',
                "max_count": 1}}]},
            {"name": "from", "type": "string", "checks": [{"matches": {"pattern": "^[a-z]$|^\\\\$", "max_count": 0}}]},
            {"name": "MixedCase", "type": "integer", "checks": [{"mean": {"min": 0}}]},
            {"name": "ünïcødé_列", "type": "string", "checks": [{"not_null": {"max_fraction": 0.5}}]},
            {"name": "back\\slash", "type": "string", "checks": [{"matches": {"pattern": "\\\\"}}]},
            {"name": "x'); DROP TABLE raw.victim; --", "type": "string", "checks": [
                {"accepted_values": {"values": ["v", INJECTION], "where": f"{_q(day)} >= DATE '2024-01-01'"}},
                {"between": {"min": "'); DROP", "max": "w"}}]},
        ]}, {
        "name": BLOCKED_TABLE,
        "relation": '"we ird"."Tab""le"',
        "gate": "block",
        "checks": [{"row_count": {"min": 100, "name": "enough'); DROP TABLE raw.victim; --"}}],
    }]}


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("hostile") / "proj")
    os.makedirs(os.path.join(root, "slos"))
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute('create schema "raw"; create schema "we ird"')
    cols = ", ".join(f"{_q(c)} {t}" for c, t in HOSTILE_COLUMNS.items())
    con.execute(f'create table "we ird"."Tab""le" ({cols})')
    con.executemany(f'insert into "we ird"."Tab""le" values ({", ".join("?" * len(HOSTILE_COLUMNS))})',
                    HOSTILE_ROWS)
    con.execute('create table raw.victim (x int); insert into raw.victim values (42)')
    con.execute('create table raw."dim""s" ("co\'de" varchar); insert into raw."dim""s" values (\'x\'), (\'y\'), '
                "('z'), ('\\')")
    con.close()
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as fh:
        yaml.safe_dump({"name": "hostile; DROP TABLE raw.victim", "schemas": HOSTILE_SCHEMAS}, fh,
                       allow_unicode=True)
    with open(os.path.join(root, "slos", "hostile.yml"), "w", encoding="utf-8") as fh:
        yaml.safe_dump(hostile_declaration(), fh, allow_unicode=True, sort_keys=False)
    return root


def test_hostile_project_builds_and_raw_survives(hostile, tmp_path):
    root = fresh_copy(hostile, str(tmp_path / "h"))
    proc = cli("build", cwd=root)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out   # only the blocked table's row_count fails
    assert "FAIL  blocked'); DROP TABLE raw.victim; --: 0 passed, 1 failed" in proc.stdout
    db = os.path.join(root, "warehouse.duckdb")
    blocked = f'{_q(HOSTILE_SCHEMAS["validated"])}.{_q(BLOCKED_TABLE)}'
    with pytest.raises(duckdb.Error) as info:
        query(db, f"select count(*) from {blocked}")
    assert f"slocompile: {HOSTILE_SCHEMAS['validated']}.{BLOCKED_TABLE} is blocked by failed SLOs: " \
           "whole table: enough'); DROP TABLE raw.victim; --" in str(info.value)
    assert query(db, "select * from raw.victim") == [(42,)]
    assert query(db, 'select count(*) from "we ird"."Tab""le"') == [(len(HOSTILE_ROWS),)]
    view = f'{_q(HOSTILE_SCHEMAS["validated"])}.{_q(HOSTILE_TABLE)}'
    quarantine = f'{_q(HOSTILE_SCHEMAS["quarantine"])}.{_q(HOSTILE_TABLE)}'
    valid = query(db, f"select id from {view} order by id")
    dropped = query(db, f"select id, _slo_violations from {quarantine} order by id")
    assert valid == [(1,), (2,), (3,)]
    assert dropped == [(4, HOSTILE_CHECK)]           # the rule's hostile name is data
    # the metric values prove the checks read the right columns
    with open(os.path.join(root, "target", "run_results.json"), encoding="utf-8") as fh:
        results = {r["check"]: r for r in json.load(fh)["results"] if r["partition"] in (None, "2024-01-02")}
    assert results[HOSTILE_CHECK]["observed"]["rows"] == 1       # "\\'" is not an accepted value
    assert results["mean_mixedcase"]["observed"] == 3.5          # "MixedCase" of ids 3 and 4
    assert results["schema"]["status"] == "pass", results["schema"]
    assert results["relationship_from"]["status"] == "pass", results["relationship_from"]
    meta = f'{_q(HOSTILE_SCHEMAS["meta"])}.results'
    names = {r[0] for r in query(db, f"select check_name from {meta}")}
    assert {HOSTILE_CHECK, "n'; drop"} <= names


def test_hostile_project_compiles_for_every_dialect(hostile, tmp_path):
    """Names and values survive every dialect's quoting and escaping: re-parsed, they are the same strings."""
    roots = [fresh_copy(hostile, str(tmp_path / d)) for d in DIALECTS]
    procs = cli_many([["compile", "--dialect", d] for d in DIALECTS], roots)
    values = {"a'b", 'q"q', INJECTION, "'); DROP", "^[a-z]$|^\\\\$", "\\\\"}
    for d, proc, root in zip(DIALECTS, procs, roots):
        assert proc.returncode == 0, (d, proc.stderr)
        base = os.path.join(root, "target", "compiled", d)
        assert sorted(os.listdir(base)) == sorted(["_setup", safe_file_name(HOSTILE_TABLE),
                                                   safe_file_name(BLOCKED_TABLE)])
        identifiers, strings = set(), set()
        for f in glob.glob(os.path.join(base, "**", "*.sql"), recursive=True):
            with open(f, encoding="utf-8", newline="") as fh:
                for tree in sqlglot.parse(fh.read(), read=d):
                    if tree is None:
                        continue
                    identifiers |= {i.this for i in tree.find_all(exp.Identifier)}
                    strings |= {s.this for s in tree.find_all(exp.Literal) if s.is_string}
        expected_ids = set(HOSTILE_COLUMNS) | {HOSTILE_TABLE, BLOCKED_TABLE, "we ird", 'Tab"le'}
        if d == "bigquery":  # sqlglot reads `a.b` as a path in BigQuery, where names cannot hold a dot
            expected_ids = {part for name in expected_ids for part in name.split(".")}
        missing_ids = expected_ids - identifiers
        assert not missing_ids, (d, missing_ids)
        assert not values - strings, (d, values - strings)


def test_injection_in_sql_fields_is_rejected_with_locations(hostile, tmp_path):
    root = fresh_copy(hostile, str(tmp_path / "h"))
    with open(os.path.join(root, "slos", "attack.yml"), "w", encoding="utf-8") as fh:
        fh.write(
            "tables:\n"
            "  - name: attack\n"
            "    relation: raw.victim; DROP TABLE raw.victim\n"
            "  - name: attack2\n"
            "    relation: raw.victim\n"
            "    columns:\n"
            "      - name: x\n"
            "        checks:\n"
            "          - expression: \"x > 0); DROP TABLE raw.victim; --\"\n"
            "          - not_null: {where: \"1 = 1 UNION SELECT 1\"}\n"
            "          - expression: {sql: \"x IN (SELECT x FROM raw.victim)\"}\n"
            "    checks:\n"
            "      - assert: \"(DELETE FROM raw.victim) IS NULL\"\n"
            "      - relationship: {column: x, to: \"raw.victim; DROP TABLE raw.victim\", field: x}\n")
    proc = cli("build", cwd=root, check=2)
    lines = [line for line in proc.stderr.splitlines() if "attack.yml" in line]
    assert [line.split(": ")[1] for line in lines] == [
        "slos/attack.yml:3:15", "slos/attack.yml:9:25", "slos/attack.yml:10:31", "slos/attack.yml:11:31",
        "slos/attack.yml:13:17", "slos/attack.yml:14:23"], proc.stderr
    assert query(os.path.join(root, "warehouse.duckdb"), "select * from raw.victim") == [(42,)]
