"""Every code block of README.md, docs/**/*.md and examples/*/README.md runs in tests/docs, and the
generated references (docs/checks.md, docs/cli.md) are current.

This module reads the pages and runs their shell and console blocks in a page's session;
docblocks.py runs the python, yaml and sql blocks; test_readme_and_docs_blocks.py tests the blocks
(skips, engines, pages running ahead) and test_generated_references.py the references.

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

import dataclasses
import functools
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


def docs_pages() -> list[str]:
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


def page_of(block: Block) -> Page:
    return parse_page(block.page)


ALL_BLOCKS = [b for p in docs_pages() for b in parse_page(p).blocks]


# ------------------------------------------------------------------------------ sessions

class Session:
    """A page's folder, shell state and Python namespace."""

    def __init__(self, root: str, env: dict):
        self.root, self.cwd, self.env = root, root, env
        self.namespace: dict = {"__name__": "docs"}
        self.failed: str | None = None
        self.spark = False


ROOT: list[str] = []  # the module's temporary folder (set by the _docs_root fixture)
_ENV = dict(os.environ)  # as the test started: python blocks change os.environ while pages run


def new_folder(name: str) -> str:
    return tempfile.mkdtemp(prefix=re.sub(r"\W+", "_", name)[-40:] + "-", dir=ROOT[0])


def _fresh_folder(name: str) -> str:
    root = new_folder(name)
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


SESSIONS: dict[str, Session] = {}


def page_session(page: Page, block: Block) -> Session:
    if not page.session:
        return Session(_fresh_folder(block.id), _base_env(page))
    s = SESSIONS.get(page.path)
    if s is None:
        s = SESSIONS[page.path] = Session(_fresh_folder(page.path), _base_env(page))
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
def slocompile_commands() -> frozenset:
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

