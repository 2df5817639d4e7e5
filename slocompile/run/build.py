"""`slocompile build`: check, record, publish — in that order, atomically where it matters.

A run is recorded as 'running' first; results, statuses, views and the run's
final status are then written in one transaction, so a build that dies half-way
never leaves a run recorded as complete nor views pointing at half a status.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field, replace

from slocompile.run import baselines
from slocompile import checks as registry
from slocompile.checks import drift_slos
from slocompile.declarations import fixes
from slocompile.run import monitors as monitoring
from slocompile.run import last_good as publish
from slocompile.run import triggers
from slocompile.checks.base import EvalContext
from slocompile.compiling.compiler import Compiled, CompiledTable, compile_project
from slocompile.engines.base import Engine, QueryFailed, RelationUnreadable, connect
from slocompile.errors import Problem, SlocompileError, SpecError, did_you_mean
from slocompile.checks.evaluate import ERROR, Result, counts, evaluate_table, exit_code, partition_statuses
from slocompile.run.measure import measure
from slocompile.spec.model import ProjectSpec, TableSpec
from slocompile.sqltrees import meta
from slocompile.support.testhooks import pause

from sqlglot import exp


@dataclass
class TableRun:
    table: TableSpec
    compiled: CompiledTable
    results: list[Result]
    metrics: list[tuple[str, str | None, float | None]]
    seconds: float
    partitions: tuple[str, ...] | None  # partitions checked by this run (None: unpartitioned)
    fingerprint: str


@dataclass
class BuildResult:
    run_id: str
    project: ProjectSpec
    target: str
    dialect: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    tables: list[TableRun] = field(default_factory=list)
    compiled: object = None  # compiler.Compiled of what this run executed (for the artifacts)
    staged: dict = field(default_factory=dict)   # gate last_good: table -> publish.Staged
    alerts: list = field(default_factory=list)   # trigger deliveries (triggers.Delivery)
    monitors: dict = field(default_factory=dict)  # monitor: table -> monitoring.TableMonitoring

    @property
    def results(self) -> list[Result]:
        return [r for t in self.tables for r in t.results]

    @property
    def exit_code(self) -> int:
        return exit_code(self.results)

    @property
    def status(self) -> str:
        return "fail" if self.exit_code else "pass"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def run_build(project: ProjectSpec, target_name: str | None = None, select: list[str] | None = None,
              progress=None, partitions: list[str] | None = None, full_refresh: bool = False) -> BuildResult:
    """Check partitioned tables incrementally: new partitions, failing ones, and all of them when the
    table's checks changed; `partitions` names the ones to (re)check, `full_refresh` checks all."""
    target = _target(project, target_name)
    tables = _selected(project, select)
    if partitions:
        unpartitioned = [t.name for t in tables if not t.partition]
        if unpartitioned:
            raise SlocompileError(f"--partition: table {', '.join(unpartitioned)} has no partition column "
                                  "(use --select to pick partitioned tables)")
    engine = connect(target, project.root)
    try:
        return _build(project, target, tables, engine, progress or (lambda *a: None),
                      Selection(tuple(partitions) if partitions else None, full_refresh))
    finally:
        engine.close()


@dataclass(frozen=True)
class Selection:
    partitions: tuple[str, ...] | None
    full_refresh: bool


def fingerprint(table: TableSpec) -> str:
    """Changes whenever the table's checks change, so their partitions are checked again."""
    import hashlib

    parts = sorted(repr((c.name, c.type, c.column, c.severity, c.where.sql() if c.where is not None else None,
                         sorted((k, v.sql() if hasattr(v, "sql") else repr(v)) for k, v in c.params.items())))
                   for c in table.checks)
    if table.monitor is not None:  # a monitor change re-judges the history
        parts.append(repr(("monitor", table.monitor.columns, table.monitor.severity, table.monitor.quiet)))
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


def _partitions_to_check(engine: Engine, project, table: TableSpec, fp: str, sel: Selection):
    if not table.partition:
        return None
    if sel.partitions is not None:
        return sel.partitions
    from slocompile.dialects.render import render
    from slocompile.sqltrees.scans import partition_text

    present = exp.select(partition_text(table)).distinct().from_(table.relation.copy(), copy=False)
    all_parts = [r[0] for r in engine.query(render(present, engine.dialect)) if r[0] is not None]
    if sel.full_refresh:
        return tuple(sorted(all_parts))
    known = {r[0]: (r[1], r[2]) for r in engine.query(render(meta.status_rows(project.schemas, table.name),
                                                             engine.dialect))}
    todo = [p for p in all_parts if p not in known or known[p] != ("pass", fp)]
    return tuple(sorted(todo))


def _empty(engine: Engine, table: TableSpec) -> bool:
    from slocompile.dialects.render import render

    probe = exp.select(exp.Literal.number(1)).from_(table.relation.copy(), copy=False).limit(1)
    return not engine.query(render(probe, engine.dialect))


def _target(project: ProjectSpec, name: str | None):
    name = name or project.default_target
    if name not in project.targets:
        raise SlocompileError(f"unknown target '{name}'{did_you_mean(name, project.targets)}; "
                              f"targets in slocompile.yml: {', '.join(project.targets)}")
    return project.targets[name]


def _selected(project: ProjectSpec, select: list[str] | None) -> list[TableSpec]:
    if not select:
        return list(project.tables)
    names = {t.name for t in project.tables}
    unknown = [s for s in select if s not in names]
    if unknown:
        raise SlocompileError("; ".join(f"--select: unknown table '{u}'{did_you_mean(u, names)}" for u in unknown))
    return [t for t in project.tables if t.name in select]


def _build(project, target, tables, engine: Engine, progress, sel: Selection) -> BuildResult:
    started = utcnow()
    run = BuildResult(uuid.uuid4().hex[:12], project, target.name, target.dialect, started)
    setup = compile_project(replace(project, tables=()), target.dialect).setup
    for stmt in setup:
        engine.execute(stmt)
    tables = publish.stage(engine, project, tables, sel, run)  # last_good: write new versions, audit those
    plans = _plan_against_catalog(project, tables, engine, target.dialect, sel)
    run.compiled = Compiled(project, target.dialect, setup, [ct for _, ct, _, _, _ in plans])
    with engine.transaction():
        engine.execute(_sql(meta.insert(project.schemas, "runs", [
            (run.run_id, project.name, target.name, started, None, meta.RUN_RUNNING, 0, 0, 0, 0)]), target.dialect))
    ctx = EvalContext(now=started)
    for i, (table, compiled, skipped, parts, fp) in enumerate(plans, 1):
        progress("start", table, i, len(plans))
        t0 = time.perf_counter()
        meas = measure(engine, compiled)
        if table.partition and not meas.partitions and parts == () and _empty(engine, table):
            meas.partitions = [None]  # an empty table still answers row_count and friends, once
        results = evaluate_table(compiled.plan, meas, ctx, baselines.load(engine, project.schemas, table)) + skipped
        history = [(metric.label(), p, _number(v)) for (metric, p), v in meas.values.items()
                   if metric.kind != "catalog"]
        tr = TableRun(table, compiled, results, history, time.perf_counter() - t0, parts, fp)
        monitoring.run_table(engine, project, run, tr)  # monitor: judge the partitions checked; alerts -> results
        tr.results.extend(drift_slos.results(table, run.monitors.get(table.name)))
        run.tables.append(tr)
        progress("done", tr, i, len(plans))
    run.finished_at = utcnow()
    pause("measured")
    _publish(project, run, engine, target.dialect)
    run.alerts = triggers.deliver(project, run, engine)
    return run


def _plan_against_catalog(project, tables, engine: Engine, dialect: str, sel: Selection):
    """Compile each table against its real columns: unknown relations and columns are
    declaration errors (exit 2), unless a schema check is there to report them as failures."""
    problems: list[Problem] = []
    out = []
    for table in tables:
        try:
            actual = engine.columns(table.relation)
        except RelationUnreadable as e:  # Postgres: exists, but the role may not read it
            problems.append(Problem(table.loc, f"table '{table.name}': {e}"))
            continue
        if actual is None:
            problems.append(Problem(table.loc, f"table '{table.name}': relation {table.relation_text} does not exist"))
            continue
        names = {n for n, _ in actual}
        problems += [Problem(loc, msg) for loc, msg in fixes.missing_columns(table, names)]
        problems += [Problem(loc, msg) for loc, msg in monitoring.missing_columns(table, actual, dialect)]
        has_schema_check = any(c.type == "schema" for c in table.checks)
        keep, skipped = [], []
        for c in table.checks:
            refs = registry.get(c.type).referenced_columns(c) if c.type != "schema" else []
            missing = [r for r in refs if r not in names]
            if not missing:
                keep.append(c)
            elif has_schema_check:
                skipped.append(Result(table.name, c.name, c.type, c.column, None, ERROR, c.severity, None, "",
                                      f"column {', '.join(missing)} is not in {table.relation_text}"))
            else:
                for col in missing:
                    problems.append(Problem(c.loc, f"table '{table.name}', check '{c.name}': column '{col}' is not "
                                            f"in {table.relation_text}{did_you_mean(col, names)}"))
        for col in [table.partition, *table.key]:
            if col and col not in names and not has_schema_check:
                problems.append(Problem(table.loc, f"table '{table.name}': column '{col}' is not in "
                                        f"{table.relation_text}{did_you_mean(col, names)}"))
        out.append((table, replace(table, checks=tuple(keep), catalog_columns=tuple(n for n, _ in actual)), skipped))
    if problems:
        raise SpecError(problems)
    fps = {t.name: fingerprint(t) for t, _, _ in out}
    todo = {t.name: _partitions_to_check(engine, project, t, fps[t.name], sel) for t, _, _ in out}
    compiled = compile_project(replace(project, tables=tuple(sub for _, sub, _ in out)), dialect,
                               partitions={k: v for k, v in todo.items() if v is not None})
    return [(table, ct, skipped, todo[table.name], fps[table.name])
            for (table, _, skipped), ct in zip(out, compiled.tables)]


def _number(v):
    from slocompile.checks.base import to_number

    try:
        return to_number(v)
    except (TypeError, ValueError):
        return None


def _sql(statements, dialect: str) -> str:
    from slocompile.dialects.render import render

    return ";\n".join(render(s, dialect) for s in statements)


def _publish(project: ProjectSpec, run: BuildResult, engine: Engine, dialect: str) -> None:
    s = project.schemas
    stmts = []
    now = run.finished_at
    for tr in run.tables:
        stmts += meta.insert(s, "results", [
            (run.run_id, r.table, r.check, r.check_type, r.column, r.partition, r.status, r.severity,
             r.observed_number, r.observed_text, r.expected, r.message, now) for r in tr.results])
        stmts += meta.insert(s, "metrics", [(run.run_id, tr.table.name, label, p, v, now)
                                            for label, p, v in tr.metrics])
        stmts.append(meta.delete_status(s, tr.table.name, list(tr.partitions) if tr.partitions is not None else None))
        statuses = partition_statuses(tr.results)
        stmts += meta.insert(s, "status", [
            (tr.table.name, p, "fail" if failed else "pass", ", ".join(failed) or None, run.run_id, now, tr.fingerprint)
            for p, failed in statuses.items()])
    stmts += publish.statements(project, run, engine) + triggers.statements(project, run, engine)
    c = counts(run.results)
    stmts.append(meta.finish_run(s, run.run_id, run.status, now, c))
    from slocompile.dialects.render import render

    with engine.transaction():
        for stmt in stmts:
            engine.execute(render(stmt, dialect))
        monitoring.publish(engine, project, run)  # monitor history, alerts and incidents
        for tr in run.tables:
            for view_sql in (tr.compiled.validated_view, tr.compiled.quarantine_view):
                try:
                    engine.execute(view_sql)
                except QueryFailed as e:
                    raise SlocompileError(f"table '{tr.table.name}': could not publish a view: {e}") from None
        pause("publishing")
