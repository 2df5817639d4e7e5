"""`slocompile debug`: test a target's connection and permissions, one line per probe.

Each probe runs what a build would run, with the build's own statements where there is one
(`CREATE SCHEMA IF NOT EXISTS` is rendered by sqlbuild.meta, as in the build's setup), and
says ok or FAIL with a hint. Nothing is left behind: on DuckDB and Postgres every write probe
runs in a transaction that is rolled back; on Spark (no transactions) the probe drops the
scratch table or view it created, and the database too when the probe created it.

Probes, in order: driver importable, connect (passwords are never printed), server version,
catalog readable (information_schema; Spark's catalog), each schema the build creates (meta,
validated, quarantine; and versions when a table has `gate: last_good`), a table created,
written, read and dropped in the meta schema, a view created, read and dropped in the validated
and quarantine schemas, and each declared relation (the tables' `relation:` and the
relationships' `to:`) readable with `SELECT * ... LIMIT 0`. A probe that cannot run because an
earlier one failed is listed as `skip`. Compile-only targets (snowflake, bigquery, ...) get a
`compile-only` line and a probe that the project compiles for their dialect.
"""
from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlglot import exp

from slocompile.dialects.rules import rules

if TYPE_CHECKING:
    from slocompile.engines.base import Engine

OK, FAIL, SKIP, COMPILE_ONLY = "ok", "FAIL", "skip", "compile-only"

SCRATCH_PREFIX = "_slocompile_debug_"


@dataclass
class Probe:
    name: str
    status: str
    detail: str
    hint: str = ""


@dataclass
class ProbeReport:
    project: str
    target: str
    type: str
    probes: list[Probe] = field(default_factory=list)
    secrets: tuple[str, ...] = ()

    @property
    def failed(self) -> list[Probe]:
        return [p for p in self.probes if p.status == FAIL]

    @property
    def exit_code(self) -> int:
        return 2 if self.failed else 0

    def add(self, name: str, status: str, detail: str, hint: str = "") -> Probe:
        probe = Probe(name, status, self._redact(detail), self._redact(hint))
        self.probes.append(probe)
        return probe

    def _redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def header(self) -> str:
        return f"slocompile debug: target '{self.target}' ({self.type}) of project '{self.project}'"

    def footer(self) -> str:
        n = len(self.probes)
        if self.failed:
            skipped = sum(p.status == SKIP for p in self.probes)
            extra = f", {skipped} not run" if skipped else ""
            return f"{len(self.failed)} of {n} probes failed{extra}: exit code 2"
        return f"all {n} probes passed"

    def lines(self, style=None) -> list[str]:
        """One line per probe: status, name, detail and, for a failure, a hint. `style(status, text)`
        may decorate the status word (the CLI colours it)."""
        width = min(max((len(p.name) for p in self.probes), default=0), 34)
        out = []
        for p in self.probes:
            status = f"{p.status:<4}"
            line = f"{style(p.status, status) if style else status}  {p.name:<{width}}  {p.detail}"
            if p.hint:
                line += f"  (hint: {p.hint})"
            out.append(line)
        return out


class _Undo(Exception):
    """Raised inside a probe's transaction to roll it back."""


def run(project, target_name: str | None = None) -> ProbeReport:
    """Probe the target; an unknown target is a user error (exit 2), every other failure a FAIL line."""
    from slocompile.run import selection
    from slocompile.spec.model import EXECUTABLE

    target = selection.target(project, target_name)
    report = ProbeReport(project.name, target.name, target.type, secrets=_secrets(target))
    if target.type not in EXECUTABLE:
        report.add("connection", COMPILE_ONLY,
                   f"{target.type} is compile-only in this version: there is no connection to test; "
                   f"`slocompile compile --target {target.name}` writes its SQL to target/compiled/{target.dialect}/")
        _compile_probe(report, project, target.dialect)
        return report
    _Prober(report, project, target).run()
    return report


class _Prober:
    def __init__(self, report: ProbeReport, project, target):
        self.report, self.project, self.target = report, project, target
        self.dialect = target.dialect
        self.rules = rules(target.dialect)  # what differs per engine: transactions, catalog, hints
        self.engine: Engine | None = None
        self.info: dict = {}
        self.note = ""  # DuckDB: the file does not exist yet
        self.uncreatable: set[str] = set()  # schemas that do not exist and cannot be created

    def run(self) -> None:
        from functools import partial

        s = self.project.schemas
        # (name, probe, the schema a table/view probe writes in / the schema a schema probe creates)
        probes: list[tuple[str, Callable[[], None], str | None]] = [
            ("driver", self.driver, None), ("connect", self.connect, None), ("version", self.version, None),
            ("catalog", self.catalog, None)]
        probes += [(f"schema {name}", partial(self.schema, name), name) for name in self.schemas()]
        probes.append((f"table in {s.meta}", partial(self.scratch_table, s.meta), s.meta))
        probes += [(f"view in {name}", partial(self.scratch_view, name), name) for name in (s.validated, s.quarantine)]
        if s.versions in self.schemas():
            probes.append((f"table in {s.versions}", partial(self.scratch_table, s.versions), s.versions))
        probes += [(f"relation {text}", partial(self.relation, text, rel, who), None)
                   for text, rel, who in self.relations()]
        blocked = None
        try:
            for name, probe, schema in probes:
                creates_schema = name.startswith("schema ")
                if blocked:
                    self.report.add(name, SKIP, f"not run: {blocked} failed")
                elif schema in self.uncreatable and not creates_schema:
                    self.report.add(name, SKIP, f"not run: schema {schema} does not exist and cannot be created")
                elif not self._guard(name, probe):
                    if name in ("driver", "connect"):
                        blocked = name
                    elif creates_schema and not self.info.get("schemas", {}).get(schema):
                        assert schema is not None  # a schema probe names the schema it creates
                        self.uncreatable.add(schema)
        finally:
            if self.engine is not None:
                self.engine.close()

    def _guard(self, name: str, probe) -> bool:
        """Run a probe; a failure, expected or not, is a FAIL line, never a traceback."""
        from slocompile.engines.base import QueryFailed
        from slocompile.errors import SlocompileError

        try:
            probe()
            return True
        except _Failed as e:
            self.report.add(name, FAIL, e.detail, e.hint)
        except (QueryFailed, SlocompileError) as e:
            self.report.add(name, FAIL, _one_line(str(e)), self.hint(name, str(e)))
        except Exception as e:  # noqa: BLE001 - a probe reports, it does not crash
            self.report.add(name, FAIL, f"{type(e).__name__}: {_one_line(str(e))}", self.hint(name, str(e)))
        return False

    # -- probes -----------------------------------------------------------------------------

    def driver(self) -> None:
        from slocompile.engines.connect import DRIVERS

        driver = DRIVERS[self.target.type]
        module = driver.module
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            hint = (f"pip install 'slocompile[{driver.extra}]'" if driver.extra
                    else f"reinstall slocompile ({module} is a dependency)")
            if driver.needs:
                hint += f" (and {driver.needs})"
            raise _Failed(f"{module} cannot be imported: {_one_line(str(e)) or 'not installed'}", hint) from None
        self.report.add("driver", OK, f"{module} {getattr(mod, '__version__', '(version unknown)')}")

    def connect(self) -> None:
        from slocompile.engines.connect import connect

        self.engine = connect(self._probed_target(), self.project.root)
        self.info = self.engine.probe(self.schemas())
        self.report.add("connect", OK, self.note or self.rules.connect_detail(self.info))

    def version(self) -> None:
        version = _one_line(str(self.info.get("version") or "unknown"))
        self.report.add("version", OK, version.split(", compiled by")[0])

    def catalog(self) -> None:
        assert self.engine is not None  # probes after `connect` run only once it connected
        rows = self.engine.query(self.rules.catalog_query)
        self.report.add("catalog", OK, self.rules.catalog_readable.format(n=len(rows)))

    def schema(self, name: str) -> None:
        existed = self.info.get("schemas", {}).get(name)
        self._trial([self._create_schema(name)], drop_schema=None if existed else name)
        if existed:
            detail = "exists; the build's CREATE SCHEMA IF NOT EXISTS is allowed"
        elif not self.rules.transactional_ddl:
            detail = "does not exist; can be created (created and dropped again; the build creates it)"
        else:
            detail = "does not exist; can be created (the build creates it)"
        self.report.add(f"schema {name}", OK, detail)

    def scratch_table(self, schema: str) -> None:
        from slocompile.dialects.render import render

        ref = self._scratch(schema)
        r = render(ref, self.dialect)
        create = exp.Create(kind="TABLE", this=exp.Schema(this=ref, expressions=[
            exp.ColumnDef(this=exp.to_identifier("x", quoted=True), kind=exp.DataType.build("INT"))]))
        steps = self._ensure_schema(schema) + [render(create, self.dialect),
                 f"INSERT INTO {r} VALUES (1)", ("query", f"SELECT count(*) FROM {r}"), f"DROP TABLE {r}"]
        self._trial(steps, cleanup=[f"DROP TABLE IF EXISTS {r}"],
                    drop_schema=None if self.info.get("schemas", {}).get(schema) else schema)
        self.report.add(f"table in {schema}", OK, f"created, wrote, read and dropped {r}")

    def scratch_view(self, schema: str) -> None:
        from slocompile.dialects.render import render

        r = render(self._scratch(schema), self.dialect)
        steps = self._ensure_schema(schema) + [f"CREATE OR REPLACE VIEW {r} AS SELECT 1 AS x",
                 ("query", f"SELECT * FROM {r}"), f"DROP VIEW {r}"]
        self._trial(steps, cleanup=[f"DROP VIEW IF EXISTS {r}"],
                    drop_schema=None if self.info.get("schemas", {}).get(schema) else schema)
        self.report.add(f"view in {schema}", OK, f"created, read and dropped {r}")

    def relation(self, text: str, rel: exp.Table, who: str) -> None:
        from slocompile.dialects.render import render

        assert self.engine is not None  # probes after `connect` run only once it connected
        self.engine.query(render(exp.select("*").from_(rel.copy()).limit(0), self.dialect))
        cols = self.engine.columns(rel)
        n = f"{len(cols)} columns" if cols else "columns not listed in the catalog"
        self.report.add(f"relation {text}", OK, f"exists and is readable ({n}; read by {who})")

    # -- helpers ----------------------------------------------------------------------------

    def schemas(self) -> list[str]:
        s = self.project.schemas
        out = [s.meta, s.validated, s.quarantine]
        if any(t.gate == "last_good" for t in self.project.tables):
            out.append(s.versions)
        return out

    def relations(self) -> list[tuple[str, exp.Table, str]]:
        """(text, relation, who declares it) for each distinct relation the project reads."""
        from slocompile.spec.usersql import parse_relation

        seen: dict[str, tuple[str, exp.Table, str]] = {}
        for t in self.project.tables:
            seen.setdefault(t.relation.sql(), (t.relation_text, t.relation, f"table '{t.name}'"))
        for t in self.project.tables:
            for c in t.checks:
                if c.type == "relationship" and c.params.get("to"):
                    try:
                        rel = parse_relation(c.params["to"])
                    except ValueError:
                        continue
                    seen.setdefault(rel.sql(), (c.params["to"], rel, f"check '{c.name}' of table '{t.name}'"))
        return list(seen.values())

    def _probed_target(self):
        """The target to connect to. An engine that creates a missing database file on connect
        (DuckDB) probes an in-memory database instead, and says so."""
        import os

        if not self.rules.file_created_on_connect:
            return self.target
        path = self.target.options.get("path", "warehouse.duckdb")
        if path == ":memory:":
            self.note = "DuckDB in memory (path: ':memory:'): nothing outlives the build"
            return self.target
        full = path if os.path.isabs(path) else os.path.join(self.project.root, path)
        if os.path.exists(full):
            return self.target
        folder = os.path.dirname(full) or "."
        if not os.access(folder, os.W_OK):
            raise _Failed(f"{full} does not exist and its folder {folder} is not writable",
                          "the build creates the DuckDB file there: make the folder writable, or change `path`")
        self.note = (f"DuckDB file {full} does not exist yet (the build creates it); the other probes run on an "
                     "empty in-memory database")
        return replace(self.target, options={**self.target.options, "path": ":memory:"})

    def _ensure_schema(self, name: str) -> list[str]:
        """CREATE SCHEMA for a table or view probe, only when the schema is missing (an existing
        schema is probed for CREATE TABLE/VIEW rights as it is)."""
        return [] if self.info.get("schemas", {}).get(name) else [self._create_schema(name)]

    def _create_schema(self, name: str) -> str:
        from slocompile.dialects.render import render
        from slocompile.sqltrees import meta

        return render(meta.create_schema(name), self.dialect)

    def _scratch(self, schema: str) -> exp.Table:
        return exp.Table(this=exp.to_identifier(f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:8]}", quoted=True),
                         db=exp.to_identifier(schema, quoted=True))

    def _trial(self, steps: list, cleanup: Sequence[str] = (), drop_schema: str | None = None) -> None:
        """Run the steps (statements, or ("query", sql)) and leave nothing behind: rolled back where
        DDL is transactional (DuckDB, Postgres); elsewhere (Spark) the `cleanup` statements run
        afterwards, and a database the probe created is dropped (RESTRICT: only if empty)."""
        from slocompile.engines.base import QueryFailed

        assert self.engine is not None  # probes after `connect` run only once it connected

        def run_steps():
            for step in steps:
                kind, sql = step if isinstance(step, tuple) else ("execute", step)
                try:
                    (self.engine.query if kind == "query" else self.engine.execute)(sql)
                except QueryFailed as e:
                    raise QueryFailed(f"{_verb(sql)}: {e}") from None

        if self.rules.transactional_ddl:
            try:
                with self.engine.transaction():
                    run_steps()
                    raise _Undo
            except _Undo:
                pass
            return
        try:
            run_steps()
        finally:
            undo = list(cleanup)
            if drop_schema:
                from slocompile.dialects.render import render

                undo.append(f"DROP DATABASE IF EXISTS "
                            f"{render(exp.to_identifier(drop_schema, quoted=True), self.dialect)}")
            for sql in undo:
                try:
                    self.engine.execute(sql)
                except QueryFailed:
                    pass

    def hint(self, probe: str, message: str) -> str:
        low = message.lower()
        if probe == "connect":
            return self._connect_hint(low)
        specific = self.rules.probe_hint(probe, message, self.info)
        if specific:
            return specific
        if probe.startswith("relation"):
            if self.note and "does not exist yet" in self.note:
                return "the DuckDB file does not exist yet: load the raw tables into it (or fix the target's `path`)"
            if any(k in low for k in ("does not exist", "not found", "table_or_view_not_found", "schema_not_found")):
                return (f"load the table into this target first, or fix `relation:` (or a relationship's `to:`) in "
                        f"{self._declared_in(probe)}")
            return "the build reads every declared relation: grant this target's user SELECT on it"
        if probe.startswith(("schema", "table in", "view in")):
            return "the build creates its schemas, meta tables and views: grant this target's user those rights"
        return ""

    def _connect_hint(self, low: str) -> str:
        if "environment variable" in low:
            return "export the variable before running slocompile (CI: a secret)"
        return self.rules.connect_hint(low, self.target.name)

    def _declared_in(self, probe: str) -> str:
        text = probe.split(" ", 1)[1]
        for t in self.project.tables:
            if t.relation_text == text:
                return t.file or "slos/"
            for c in t.checks:
                if c.type == "relationship" and c.params.get("to") == text:
                    return t.file or "slos/"
        return "slos/"


class _Failed(Exception):
    """A probe's failure with its own detail and hint."""

    def __init__(self, detail: str, hint: str = ""):
        super().__init__(detail)
        self.detail, self.hint = detail, hint


def _compile_probe(report: ProbeReport, project, dialect: str) -> None:
    from slocompile.compiling.compiler import compile_project
    from slocompile.errors import SlocompileError

    try:
        compiled = compile_project(project, dialect)
    except SlocompileError as e:
        first = str(e.problems[0]) if e.problems else str(e)
        more = f" (and {len(e.problems) - 1} more)" if len(e.problems) > 1 else ""
        report.add("compile", FAIL, f"the project does not compile for {dialect}: {_one_line(first)}{more}",
                   f"run `slocompile compile --dialect {dialect}` for every problem")
        return
    n_checks = sum(len(t.table.checks) for t in compiled.tables)
    n_queries = sum(1 for t in compiled.tables for _, sql in t.scans if sql)
    report.add("compile", OK, f"{_n(len(compiled.tables), 'table')}, {_n(n_checks, 'check')} compile for "
                              f"{dialect} into {_n(n_queries, 'query', 'queries')} (unverified at runtime: "
                              f"no {dialect} engine here)")


def _n(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else (many or one + 's')}"


def _verb(sql: str) -> str:
    """The start of a statement, for messages: 'CREATE TABLE "slo"."_slocompile_debug_1a2b"'."""
    m = re.match(r"\s*((?:CREATE(?:\s+OR\s+REPLACE)?\s+(?:SCHEMA|DATABASE|TABLE|VIEW)(?:\s+IF\s+NOT\s+EXISTS)?"
                 r"|DROP\s+(?:TABLE|VIEW|SCHEMA|DATABASE)(?:\s+IF\s+EXISTS)?|INSERT\s+INTO|SELECT\s.*?\sFROM)\s+\S+)",
                 sql, re.IGNORECASE)
    return m.group(1) if m else sql.split(None, 2)[0]


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return " / ".join(lines[:2]) if len(lines) > 1 and len(lines[0]) < 40 else (lines[0] if lines else "")


def _secrets(target) -> tuple[str, ...]:
    """Passwords in the target's options (also inside a DSN), to be masked in every line."""
    opts = target.options or {}
    found = []
    if opts.get("password"):
        found.append(str(opts["password"]))
    dsn = str(opts.get("dsn") or "")
    if dsn:
        try:
            from psycopg.conninfo import conninfo_to_dict

            pw = conninfo_to_dict(dsn).get("password")
            if pw:
                found.append(str(pw))
        except Exception:
            pass
        m = re.search(r"://[^/:@]*:([^@/]+)@", dsn)
        if m:
            found.append(m.group(1))
            from urllib.parse import unquote

            found.append(unquote(m.group(1)))
        m = re.search(r"\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
        if m:
            found.append(m.group(1).strip("'"))
    return tuple(sorted({s for s in found if len(s) >= 3}, key=len, reverse=True))
