"""Every code block of README.md, docs/**/*.md and examples/*/README.md runs here, and the generated
references (docs/checks.md, docs/cli.md) are current.

One test per fenced block, in page order; `pytest -rs` lists the skipped ones with their reasons,
`pytest -s -k inventory` counts the blocks by kind. Pages without Python blocks run ahead in two
background threads (SLOCOMPILE_DOCS_JOBS); each page still runs in order.

What each kind of block does:

- `sh` / `bash`: every command line runs in bash (lines ending in `\\` continue). A command must
  exit 0, or with N when its line says `# exit code N`. Multi-line quoted strings and heredocs are
  not supported: put longer code in a file block (below).
- `console`: lines starting with `$ ` are commands (same exit-code rule), the lines after one are
  its expected output (stdout and stderr as a terminal shows them). Compared after normalizing
  timings (`0.02s`) and run ids; a line `...` stands for any number of lines, and `...` inside a
  line for any text.
- `python`: executed; the blocks of a page share one namespace.
- `yaml`: rendered with Jinja (a var() renders its default, else 1) and validated against the JSON
  Schema of `slocompile schema`; full files (`tables:`/`triggers:` declarations, a project file
  with `name:`) also load through the spec loader. Fragments are checked in a minimal wrapper:
  `targets:` etc. as a project file, a list of columns as a table's `columns:`, a `triggers:` list
  without tables by the schema only (its `select:` names tables declared elsewhere).
- `sql`: run on the page's DuckDB file (`warehouse.duckdb` in the session's current folder) or,
  on a Postgres page, on Postgres; parsed with sqlglot when there is no database. A comment after
  a statement's `;` on the same line is the first row it returns (`-- 99179 | 29`; text from ` (`
  on is a remark); comment lines after a statement that contain `Error:` are an error the
  statement must raise (`-- Invalid Input Error: slocompile: ...`). Other comments are remarks
  (a `--` inside a string literal is not supported).
- `json`: parsed. `text` and blocks without a language: shown, not run (layouts, made-up output).

Sessions. By default each shell or python block runs in a fresh temporary folder holding a copy
of `examples/`. On a page marked `<!-- docs-test: page session -->` the blocks share one folder,
one shell state (current folder and exported variables carry over) and one Python namespace: a
tutorial runs as one sitting. `slocompile` and `python` are the test's own environment. The
README's set-up commands (venv, pip install) are replaced by that environment, and installing an
extra by importing its package (SUBSTITUTE below).

Markers, HTML comments that do not show on the rendered page. Right above a block:

- `<!-- docs-test: skip REASON -->` does not run the block (keep these rare; REASON is shown);
- `<!-- docs-test: file PATH -->` writes the block to PATH in the session's current folder (a yaml
  block is validated first, a python block compiled) instead of running it: "save this as PATH";
- `<!-- docs-test: requires-command NAME -->` skips the block when `slocompile --help` does not list
  NAME ("NAME command not present");
- `<!-- docs-test: invalid -->` (or `<!-- no-schema -->`): a yaml block that is wrong on purpose
  must fail validation.

Anywhere on a page: `<!-- docs-test: page session -->` (above), `<!-- docs-test: page setup CMD -->`
(a shell command run once before the page's first block), `<!-- docs-test: page engine NAME -->`
(shell, python and sql blocks need Postgres or Spark: skipped with the reason when the engine is
unavailable, as in tests/engines; a failure when SLOCOMPILE_REQUIRE_ENGINES names it), and
`<!-- docs-test: page dates vary -->` (dates in compared output are relative to the day of the run:
compare them as `<date>`).

Postgres pages get `PG_DSN` set to SLOCOMPILE_PG_DSN and need `psql`; the schemas they use (raw,
slo, slo_versions, validated, quarantine) are dropped from that database before the page runs.
Spark pages run when pyspark and Java are there (SLOCOMPILE_SPARK=0 skips them: they take the
longest). SLOCOMPILE_DOCS_PAGES=docs/tutorial.md,... runs only those pages.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import traceback

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "engines"))
from enginedata import REQUIRED, UNAVAILABLE  # noqa: E402  (engine availability, as tests/engines sees it)

BIN = os.path.dirname(sys.executable)
_SCRIPT = os.path.join(BIN, "slocompile")
SLOCOMPILE = [_SCRIPT] if os.path.exists(_SCRIPT) else [sys.executable, "-m", "slocompile"]

# commands of the docs replaced by the test's environment: the package is installed already
SUBSTITUTE = {
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && ": "",
    "pip install 'slocompile[postgres]'": "python -c 'import psycopg'",
    "pip install 'slocompile[spark]'": "python -c 'import pyspark'",
}
PG_SCHEMAS = ("raw", "slo", "slo_versions", "validated", "quarantine")
SHELL = {"sh", "bash", "shell"}
CONSOLE = {"console"}
PYTHON = {"python", "py"}
YAML = {"yaml", "yml"}
SQL = {"sql"}
JSON = {"json"}
TEXT = {"text", "", "csv"}
KNOWN = SHELL | CONSOLE | PYTHON | YAML | SQL | JSON | TEXT
RUNS = SHELL | CONSOLE | PYTHON | SQL  # kinds that need the page's session (and engine)


def _pages() -> list[str]:
    pages = ["README.md"] + sorted(glob.glob("docs/**/*.md", root_dir=REPO, recursive=True)) \
        + sorted(glob.glob("examples/*/README.md", root_dir=REPO))
    only = [p.strip() for p in os.environ.get("SLOCOMPILE_DOCS_PAGES", "").split(",") if p.strip()]
    return [p for p in pages if not only or p in only]


# ------------------------------------------------------------------------------ parsing the pages

_FENCE = re.compile(r"^( *)(```+|~~~+)\s*([\w+-]*)[^\n]*$")
_DIRECTIVE = re.compile(r"<!--\s*(?:docs-test:\s*(.*?)|(no-schema))\s*-->")


@dataclasses.dataclass
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    index: int  # 0-based position among the page's blocks
    lang: str
    text: str
    directives: dict  # verb -> argument ("" when none)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}-{self.lang or 'text'}"

    @property
    def where(self) -> str:
        return f"{self.page} line {self.line}"


@dataclasses.dataclass
class Page:
    path: str
    blocks: list
    session: bool = False
    setup: tuple = ()
    engine: str | None = None
    dates_vary: bool = False


@functools.cache
def parse_page(path: str) -> Page:
    with open(os.path.join(REPO, path), encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    page, pending = Page(path, []), {}
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            indent, marker, lang = fence.group(1), fence.group(2), fence.group(3).lower()
            body, j = [], i + 1
            while j < len(lines) and not (lines[j].strip().startswith(marker) and not lines[j].strip(" " + marker[0])):
                body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
                j += 1
            assert j < len(lines), f"{path} line {i + 1}: unclosed code block"
            page.blocks.append(Block(path, i + 1, len(page.blocks), lang, "\n".join(body) + "\n", pending))
            pending, i = {}, j + 1
            continue
        for m in _DIRECTIVE.finditer(line):
            verb, _, arg = ("invalid" if m.group(2) else m.group(1)).partition(" ")
            if verb == "page":
                what, _, value = arg.partition(" ")
                if what == "session":
                    page.session = True
                elif what == "setup":
                    page.setup += (value,)
                elif what == "engine":
                    assert value in ("postgres", "spark"), f"{path} line {i + 1}: unknown engine {value!r}"
                    page.engine = value
                elif what == "dates" and value == "vary":
                    page.dates_vary = True
                else:
                    raise AssertionError(f"{path} line {i + 1}: unknown page marker {arg!r}")
                continue
            assert verb in ("skip", "file", "requires-command", "invalid"), \
                f"{path} line {i + 1}: unknown docs-test marker {verb!r}"
            assert verb != "skip" or arg.strip(), f"{path} line {i + 1}: a skip marker needs a reason"
            pending = {**pending, verb: arg.strip()}
        if pending and line.strip() and not _DIRECTIVE.search(line):
            raise AssertionError(f"{path} line {i + 1}: a docs-test marker must be right above its code block")
        i += 1
    return page


ALL_BLOCKS = [b for p in _pages() for b in parse_page(p).blocks]


# ------------------------------------------------------------------------------ sessions

class Session:
    """A page's folder, shell state and Python namespace."""

    def __init__(self, root: str, env: dict):
        self.root, self.cwd, self.env = root, root, env
        self.namespace: dict = {"__name__": "docs"}
        self.failed: str | None = None
        self.spark = False


_ROOT: list[str] = []  # the module's temporary folder (set by the _docs_root fixture)
_ENV = dict(os.environ)  # as the test started: python blocks change os.environ while pages run


def _new_folder(name: str) -> str:
    return tempfile.mkdtemp(prefix=re.sub(r"\W+", "_", name)[-40:] + "-", dir=_ROOT[0])


def _fresh_folder(name: str) -> str:
    root = _new_folder(name)
    shutil.copytree(os.path.join(REPO, "examples"), os.path.join(root, "examples"),
                    ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal", "target", "__pycache__",
                                                  "spark-warehouse", "metastore_db"))
    return root


def _base_env(page: Page) -> dict:
    env = dict(_ENV)
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env["NO_COLOR"] = "1"
    for name in ("SLOCOMPILE_DEBUG", "SLOCOMPILE_TEST_PAUSE", "VIRTUAL_ENV"):
        env.pop(name, None)
    if page.engine == "postgres" and _ENV.get("SLOCOMPILE_PG_DSN"):
        env["PG_DSN"] = _ENV["SLOCOMPILE_PG_DSN"]
    return env


_SESSIONS: dict[str, Session] = {}


def _session(page: Page, block: Block) -> Session:
    if not page.session:
        return Session(_fresh_folder(block.id), _base_env(page))
    s = _SESSIONS.get(page.path)
    if s is None:
        s = _SESSIONS[page.path] = Session(_fresh_folder(page.path), _base_env(page))
        if page.engine == "postgres":
            _drop_pg_schemas(s.env["PG_DSN"])
        for command in page.setup:
            proc = subprocess.run(["bash", "-c", command], cwd=s.cwd, env=s.env, capture_output=True, text=True,
                                  timeout=600)
            assert proc.returncode == 0, f"{page.path}: page setup {command!r} failed:\n{proc.stdout}{proc.stderr}"
    return s


def _drop_pg_schemas(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        for schema in PG_SCHEMAS:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@functools.cache
def _commands() -> frozenset:
    out = subprocess.run([*SLOCOMPILE, "--help"], capture_output=True, text=True, timeout=120).stdout
    listed = out.split("Commands:", 1)[-1]
    return frozenset(m.group(1) for m in re.finditer(r"^\s{2}([\w-]+)", listed, re.M))


# ------------------------------------------------------------------------------ shell

_EXIT = re.compile(r"#\s*exit code (\d+)")
_END = "\x1eDOCS-END"


def _substitute(command: str) -> str:
    for old, new in SUBSTITUTE.items():
        command = command.replace(old, new)
    return command


def _shell(session: Session, commands: list[str], block: Block) -> list[tuple[str, int]]:
    """Run commands in one bash process in the session's folder; (output, exit code) of each."""
    state = os.path.join(session.root, ".docs-test-state")
    os.makedirs(state, exist_ok=True)
    script = []
    for k, command in enumerate(commands):
        script += [command, f'__docs_rc=$?; printf "\\n{_END} {k} %s\\036\\n" "$__docs_rc"; (exit $__docs_rc)']
    script += [f'pwd > "{state}/cwd"; env -0 > "{state}/env"']
    path = os.path.join(state, "script.sh")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(script) + "\n")
    proc = subprocess.run(["bash", path], cwd=session.cwd, env=session.env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    parts = re.split(rf"\n?{_END} (\d+) (\d+)\x1e\n", proc.stdout)
    results = [(parts[i], int(parts[i + 2])) for i in range(0, len(parts) - 2, 3)]
    if len(results) < len(commands):  # bash itself stopped (`exit`, a syntax error)
        raise AssertionError(f"{block.where}: the shell stopped after {len(results)} of {len(commands)} "
                             f"commands (exit code {proc.returncode}):\n{proc.stdout}")
    if page_of(block).session:
        with open(os.path.join(state, "cwd"), encoding="utf-8") as fh:
            session.cwd = fh.read().strip()
        with open(os.path.join(state, "env"), encoding="utf-8") as fh:
            env = dict(item.split("=", 1) for item in fh.read().split("\0") if "=" in item)
        for name in ("PWD", "OLDPWD", "SHLVL", "_"):
            env.pop(name, None)
        session.env = env
    return results


def _shell_commands(text: str) -> list[str]:
    commands, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line + "\n"
        if not line.rstrip().endswith("\\"):
            commands.append(current.rstrip("\n"))
            current = ""
    assert not current, "a continued line (\\) ends the block"
    return commands


def _expected_exit(command: str) -> int:
    m = _EXIT.search(command)
    return int(m.group(1)) if m else 0


def run_shell(block: Block, session: Session) -> None:
    commands = _shell_commands(block.text)
    assert not any("<<" in c for c in commands), f"{block.where}: heredocs are not supported; use a file block"
    results = _shell(session, [_substitute(c) for c in commands], block)
    for command, (output, rc) in zip(commands, results):
        want = _expected_exit(command)
        assert rc == want, f"{block.where}: `{command}` exited {rc}, the page says {want}:\n{output}"


def _console(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of a console block."""
    out: list[tuple[str, list[str]]] = []
    continued = False
    for line in text.rstrip("\n").split("\n"):
        if continued:
            out[-1] = (out[-1][0] + "\n" + line, out[-1][1])
            continued = line.rstrip().endswith("\\")
        elif line.startswith("$ "):
            out.append((line[2:], []))
            continued = line.rstrip().endswith("\\")
        else:
            assert out, f"console block starts with output, not with `$ `: {line!r}"
            out[-1][1].append(line)
    return out


def normalize(text: str, dates: bool) -> str:
    text = re.sub(r"\b\d+\.\d+s\b", "<secs>", text)
    text = re.sub(r"\brun [0-9a-f]{12}\b", "run <id>", text)
    if dates:
        text = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", "<date>", text)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def output_matches(expected: str, actual: str) -> bool:
    """`expected` with `...` lines (any lines) and `...` inside lines (any text)."""
    pattern = []
    for line in expected.split("\n") if expected else []:
        if line.strip() == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append(r"[^\n]*".join(re.escape(part) for part in line.split("...")) + r"\n")
    return re.fullmatch("".join(pattern), actual + "\n" if actual else "") is not None


def run_console(block: Block, session: Session) -> None:
    steps = _console(block.text)
    results = _shell(session, [_substitute(c) for c, _ in steps], block)
    dates = page_of(block).dates_vary
    for (command, expected), (output, rc) in zip(steps, results):
        want = _expected_exit(command)
        assert rc == want, f"{block.where}: `{command}` exited {rc}, the page says {want}:\n{output}"
        exp, act = normalize("\n".join(expected), dates), normalize(output, dates)
        assert output_matches(exp, act), (f"{block.where}: the output of `{command}` differs from the page.\n"
                                          f"--- page\n{exp}\n--- real\n{act}\n---")


# ------------------------------------------------------------------------------ python

def run_python(block: Block, session: Session, monkeypatch) -> None:
    monkeypatch.chdir(session.cwd)
    for name, value in session.env.items():
        if os.environ.get(name) != value and name != "PATH":
            monkeypatch.setenv(name, value)
    code = compile(block.text, f"{block.where}", "exec")
    if (page_of(block).engine == "spark" or "pyspark" in block.text) and not session.spark:
        session.spark = True
        _fresh_spark()
    exec(code, session.namespace)


def _fresh_spark() -> None:
    """A Spark page starts as in a new notebook: no session from earlier tests in this process
    (their warehouse and settings are not the page's; getOrCreate would hand theirs out)."""
    from pyspark.sql import SparkSession

    from slocompile.engines import spark

    spark.stop_session()
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


# ------------------------------------------------------------------------------ yaml

def _render_loosely(text: str) -> str:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.globals.update(var=lambda name, default=1: default, env_var=lambda name, default="x": default)
    return env.from_string(text).render()


def yaml_problems(text: str, kind: str | None = None) -> list[str]:
    """What the JSON Schema (and, for a full file, the loader) says about a YAML block."""
    from slocompile.tools import jsonschema as sj
    from slocompile.errors import SlocompileError
    from slocompile.declarations.loader import PROJECT_FIELDS, load_project
    from slocompile.spec.yamlload import parse_yaml

    rendered = _render_loosely(textwrap.dedent(text))
    try:
        document = parse_yaml(rendered, "block.yml").plain()
    except SlocompileError as e:
        return [str(p) for p in e.problems]
    full = True
    if kind is None:
        if isinstance(document, dict) and document and set(document) <= {"tables", "triggers"}:
            kind = "declarations"
            full = "tables" in document  # triggers alone select tables declared elsewhere: schema only
        elif isinstance(document, dict) and "name" in document and set(document) <= set(PROJECT_FIELDS):
            kind = "project"
        elif isinstance(document, dict) and document and set(document) <= set(PROJECT_FIELDS):
            kind, full, document = "project", False, {"name": "docs", **document}
        elif isinstance(document, list) and document and all(isinstance(c, dict) and "name" in c for c in document):
            kind, full = "declarations", False
            document = {"tables": [{"name": "t", "relation": "s.t", "columns": document}]}
        else:
            return []  # some other YAML (e.g. a dbt file): parsing is the check
    problems = sj.validate(document, kind)
    if problems or not full:
        return [str(p) for p in problems]
    import pathlib

    root = pathlib.Path(_new_folder("yaml"))
    (root / "slos").mkdir(parents=True)
    if kind == "project":  # with a declaration: a project without any is an error
        (root / "slocompile.yml").write_text(rendered, encoding="utf-8")
        (root / "slos" / "t.yml").write_text("tables: [{name: t, relation: s.t}]\n", encoding="utf-8")
    else:
        (root / "slocompile.yml").write_text("name: docs\n", encoding="utf-8")
        (root / "slos" / "block.yml").write_text(rendered, encoding="utf-8")
    try:
        load_project(str(root), env={})
    except SlocompileError as e:
        return [str(p) for p in e.problems]
    return []


def check_yaml(block: Block, kind: str | None = None) -> None:
    problems = yaml_problems(block.text, kind)
    if "invalid" in block.directives:
        assert problems, f"{block.where}: the block is marked invalid but validates"
    else:
        assert not problems, f"{block.where}: " + "\n".join(problems)


# ------------------------------------------------------------------------------ sql

def _statements(text: str) -> list[tuple[str, str, str]]:
    """(statement, same-line comment after `;`, following comment lines) of a SQL block."""
    out, current = [], []
    for line in text.splitlines():
        code, _, comment = line.partition("--")
        if not current and not code.strip():
            if comment.strip() and out:
                stmt, same, after = out[-1]
                out[-1] = (stmt, same, (after + " " + comment.strip()).strip())
            continue
        current.append(code)
        if code.rstrip().endswith(";"):
            out.append(("\n".join(current).strip().rstrip(";"), comment.strip(), ""))
            current = []
    assert not "".join(current).strip(), f"SQL without a closing `;`: {' '.join(current)}"
    return out


def _cell(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def run_sql(block: Block, session: Session | None) -> None:
    import sqlglot

    page = page_of(block)
    dialect = "postgres" if page.engine == "postgres" else "spark" if page.engine == "spark" else "duckdb"
    statements = _statements(block.text)
    assert statements, f"{block.where}: no SQL statement"
    database = os.path.join(session.cwd, "warehouse.duckdb") if session else None
    if page.engine == "postgres":
        import psycopg

        con = psycopg.connect(session.env["PG_DSN"], autocommit=True)
        errors = (psycopg.Error,)

        def query(sql):
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall() if cur.description else []
    elif page.engine is None and database and os.path.exists(database):
        import duckdb

        con = duckdb.connect(database, read_only=True)
        errors = (duckdb.Error,)

        def query(sql):
            return con.execute(sql).fetchall()
    else:
        for sql, _, _ in statements:
            sqlglot.parse_one(sql, read=dialect)
        return
    try:
        for sql, same, after in statements:
            expect_error = after if re.search(r"error:", after, re.I) else None
            try:
                rows = query(sql)
            except errors as e:
                if expect_error is None:
                    raise AssertionError(f"{block.where}: {sql!r} failed: {e}") from None
                want = normalize(re.sub(r"^ERROR:\s*", "", expect_error), page.dates_vary)
                got = normalize(" ".join(str(e).split()), page.dates_vary)
                assert " ".join(want.split()) in got, f"{block.where}: {sql!r} failed with\n{got}\nnot\n{want}"
                continue
            assert expect_error is None, f"{block.where}: {sql!r} should fail with {expect_error!r}"
            if same:
                want = normalize(re.split(r"\s+\(", same, maxsplit=1)[0], page.dates_vary)
                got = normalize(" | ".join(_cell(v) for v in rows[0]), page.dates_vary) if rows else "(no rows)"
                assert got == want, f"{block.where}: {sql!r} returned {got!r}, the page says {want!r}"
    finally:
        con.close()


# ------------------------------------------------------------------------------ the tests

def page_of(block: Block) -> Page:
    return parse_page(block.page)


def _skip_reason(block: Block, page: Page) -> str | None:
    if "skip" in block.directives:
        return block.directives["skip"]
    if "requires-command" in block.directives and block.directives["requires-command"] not in _commands():
        return f"{block.directives['requires-command']} command not present"
    unavailable = _engine_unavailable(page.engine) if page.engine and block.lang in RUNS else None
    if unavailable:
        if page.engine in REQUIRED:
            pytest.fail(f"{page.engine} is required here (SLOCOMPILE_REQUIRE_ENGINES) but unavailable: {unavailable}")
        return f"{page.engine}: {unavailable}"
    return None


def _engine_unavailable(engine: str) -> str | None:
    if UNAVAILABLE[engine]:
        return UNAVAILABLE[engine]
    if engine == "postgres" and not shutil.which("psql"):
        return "psql (the Postgres client the page uses) is not on PATH"
    return None


def test_pages_found():
    pages = _pages()
    assert "README.md" in pages and "docs/tutorial.md" in pages or os.environ.get("SLOCOMPILE_DOCS_PAGES")
    unknown = [f"{b.where}: {b.lang}" for b in ALL_BLOCKS if b.lang not in KNOWN]
    assert not unknown, "code blocks in a language this test does not know: " + ", ".join(unknown)


def _check_file(block: Block) -> None:
    if block.lang in YAML:
        name = os.path.basename(block.directives["file"])
        check_yaml(block, "project" if name == "slocompile.yml" else "declarations")
    elif block.lang in PYTHON:
        compile(block.text, block.where, "exec")


def run_block(block: Block, monkeypatch=None) -> None:
    """Run (or check) one block in its page's session; raises on failure, pytest.skip to skip."""
    page = page_of(block)
    reason = _skip_reason(block, page)
    if reason:
        pytest.skip(reason)
    if "file" not in block.directives:
        if block.lang in YAML:
            return check_yaml(block)
        if block.lang in JSON:
            json.loads(block.text)
            return
        if block.lang in TEXT:
            return  # shown, not run
        if block.lang in SQL and not page.session:
            return run_sql(block, None)
    elif page.engine and _engine_unavailable(page.engine):
        return _check_file(block)  # the page's session does not run here: check the file only
    session = _session(page, block)
    if session.failed:
        pytest.skip(f"an earlier block of this page failed ({session.failed})")
    try:
        if "file" in block.directives:
            _check_file(block)
            path = os.path.join(session.cwd, block.directives["file"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(block.text)
        elif block.lang in SHELL:
            run_shell(block, session)
        elif block.lang in CONSOLE:
            run_console(block, session)
        elif block.lang in PYTHON:
            assert monkeypatch is not None, "python blocks run in the test's own thread"
            run_python(block, session, monkeypatch)
        elif block.lang in SQL:
            run_sql(block, session)
    except BaseException:
        session.failed = f"line {block.line}"
        raise


# Pages whose blocks all run in subprocesses (no Python block executed in this process, which
# would need the process's current folder) run ahead in background threads, JOBS at a time
# (SLOCOMPILE_DOCS_JOBS, default 2; 1 runs every block in its test); each page's blocks still run
# in order, and test_block reports their outcomes. Pages with Python blocks run in the test's
# thread meanwhile.
JOBS = int(os.environ.get("SLOCOMPILE_DOCS_JOBS", "2"))
_AHEAD: dict[str, concurrent.futures.Future] = {}


def _runs_ahead(page: Page) -> bool:
    blocks = [b for b in page.blocks if "skip" not in b.directives]
    return JOBS > 1 and any(b.lang in SHELL | CONSOLE for b in blocks) \
        and not any(b.lang in PYTHON and "file" not in b.directives for b in blocks)


def _run_page(page: Page) -> list[tuple[str, str]]:
    """("passed" | "skipped" | "failed", message) of each block of the page, in order."""
    out = []
    for block in page.blocks:
        try:
            run_block(block)
            out.append(("passed", ""))
        except pytest.skip.Exception as e:
            out.append(("skipped", str(e.msg)))
        except BaseException as e:  # an assertion, pytest.fail, or a bug: reported by test_block
            out.append(("failed", "".join(traceback.format_exception_only(type(e), e)).strip()))
    return out


@pytest.fixture(scope="module")
def _docs_root(request, tmp_path_factory):
    _ROOT[:] = [str(tmp_path_factory.mktemp("docs"))]
    _commands()  # once, before the threads
    selected = {item.callspec.params["block"].page for item in request.session.items
                if getattr(item, "originalname", None) == "test_block" and hasattr(item, "callspec")}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(JOBS, 1))
    for path in dict.fromkeys(b.page for b in ALL_BLOCKS):  # in test order: the pages in this thread overlap
        if path in selected and _runs_ahead(parse_page(path)):
            _AHEAD[path] = pool.submit(_run_page, parse_page(path))
    yield
    pool.shutdown(wait=True, cancel_futures=True)
    _AHEAD.clear()
    if any(s.spark for s in _SESSIONS.values()):
        from slocompile.engines import spark

        spark.stop_session()
    _SESSIONS.clear()


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.id)
def test_block(block: Block, monkeypatch, _docs_root):
    ahead = _AHEAD.get(block.page)
    if ahead is None:
        return run_block(block, monkeypatch)
    status, message = ahead.result()[block.index]
    if status == "skipped":
        pytest.skip(message)
    if status == "failed":
        pytest.fail(message, pytrace=False)


def test_inventory():
    """Every block is accounted for; the marked skips are few and each says why."""
    counts: dict[str, int] = {}
    for b in ALL_BLOCKS:
        kind = "skipped (marked)" if "skip" in b.directives else "text (shown, not run)" if b.lang in TEXT \
            and "file" not in b.directives else b.lang or "text"
        counts[kind] = counts.get(kind, 0) + 1
    skipped = [f"{b.where}: {b.directives['skip']}" for b in ALL_BLOCKS if "skip" in b.directives]
    print("\ndocs blocks: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print("marked skip:\n  " + "\n  ".join(skipped))
    assert len(skipped) <= max(3, len(ALL_BLOCKS) // 10), "too many docs blocks are marked skip"


# ------------------------------------------------------------------------------ generated references

@pytest.mark.parametrize("doc,which", [("docs/checks.md", "checks"), ("docs/cli.md", "cli")])
def test_generated_reference_is_current(doc, which):
    from slocompile import cli
    from slocompile.tools import reference

    text = reference.markdown() if which == "checks" else reference.cli_markdown(cli.main)
    with open(os.path.join(REPO, doc), encoding="utf-8") as fh:
        current = fh.read()
    command = "python -m slocompile.tools.reference" if which == "checks" else "python -m slocompile.cli"
    assert current == text, f"{doc} is out of date: run `{command} > {doc}`"


def test_reference_imports_the_cli_lazily():
    """The generator is handed the click tree: importing it does not import the CLI (a higher layer)."""
    code = "import sys, slocompile.tools.reference; print('slocompile.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stdout + out.stderr
