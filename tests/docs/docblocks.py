"""How python, yaml and sql blocks of the docs run (see doctools.py for what each kind does)."""
from __future__ import annotations

import os
import re
import shutil
import textwrap

from doctools import Block, Session, new_folder, normalize, page_of

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

    from slocompile.engines import sparksession as spark

    spark.stop_session()
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


# ------------------------------------------------------------------------------ yaml

def _render_loosely(text: str) -> str:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.globals.update(var=lambda name, default=1: default, env_var=lambda name, default="x": default,
                       this="__slocompile_this__")  # {{ this }}: an assert query's own table
    return env.from_string(text).render()


def yaml_problems(text: str, kind: str | None = None, project: str | None = None) -> list[str]:
    """What the JSON Schema (and, for a full file, the loader) says about a YAML block; `project`: a
    folder whose custom check types (macros/, checks/) the block may use."""
    from slocompile.declarations.loader import load_project
    from slocompile.declarations.project import PROJECT_FIELDS
    from slocompile.errors import SlocompileError
    from slocompile.spec.yamlload import parse_yaml
    from slocompile.tools import jsonschema as sj

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
    problems = sj.validate(document, kind, sj.project_types(project) if project else None)
    if problems or not full:
        return [str(p) for p in problems]
    import pathlib

    root = pathlib.Path(new_folder("yaml"))
    (root / "slos").mkdir(parents=True)
    for folder in ("macros", "checks") if project else ():
        if os.path.isdir(os.path.join(project, folder)):
            shutil.copytree(os.path.join(project, folder), root / folder)
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


def check_yaml(block: Block, kind: str | None = None, project: str | None = None) -> None:
    problems = yaml_problems(block.text, kind, project)
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

