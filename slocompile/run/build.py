"""`slocompile build`: check, record, publish — in that order, atomically where it matters.

A run is recorded as 'running' first; results, statuses, views and the run's
final status are then written in one transaction, so a build that dies half-way
never leaves a run recorded as complete nor views pointing at half a status.
"""
from __future__ import annotations

import datetime as dt
import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import cast

from sqlglot import exp

from slocompile.checks.base import EvalContext
from slocompile.checks.evaluate import Result, counts, evaluate_table, exit_code, partition_statuses
from slocompile.compiling.compiler import Compiled, CompiledTable, compile_project
from slocompile.compiling.viewcache import ViewCache
from slocompile.dialects.rules import hashes_as_text
from slocompile.engines.base import Engine, QueryFailed
from slocompile.engines.connect import connect
from slocompile.errors import SlocompileError
from slocompile.run import (
    baselines,
    drift_slos,
    failures,
    last_good,
    schema_changes,
    schema_drift,
    selection,
    triggers,
    viewstate,
)
from slocompile.run.measure import check_load_times, measure
from slocompile.run.scanahead import ScanAhead, scanning_ahead
from slocompile.run.selection import Selection, fingerprint
from slocompile.spec.model import DEFAULT_TIME_ZONE, ProjectSpec, TableSpec, TargetSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees.versions import VERSION_COLUMN, versions_table
from slocompile.support.testhooks import pause


@dataclass
class TableRun:
    table: TableSpec
    compiled: CompiledTable
    results: list[Result]
    metrics: list[tuple[str, str | None, float | None, str | None]]  # label, partition, value, segment
    seconds: float
    partitions: tuple[str, ...] | None  # partitions checked by this run (None: unpartitioned)
    fingerprint: selection.Fingerprint  # the checks' and each partition's content fingerprint
    failures: dict = field(default_factory=dict)  # check name -> failures.Samples (failed-row samples)


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
    staged: dict = field(default_factory=dict)   # gate last_good: table -> last_good.Staged
    alerts: list = field(default_factory=list)   # trigger deliveries (triggers.Delivery)
    monitors: dict = field(default_factory=dict)  # monitor: table -> run.monitors.TableMonitoring
    columns: dict = field(default_factory=dict)   # table -> its relation's (column, type) list (None: gone)

    @property
    def incident_events(self) -> list[dict]:
        """Monitor incidents this build opened or recovered (not those an earlier build reported):
        the alerts list them with their table (run/alertstate.py)."""
        return [dict(e, table=name) for name, tm in self.monitors.items()
                for e in tm.events if e.get("new")]

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
              progress: Callable[[str, object, int, int], None] | None = None, partitions: list[str] | None = None,
              full_refresh: bool = False, while_closing: Callable[[BuildResult], None] | None = None
              ) -> BuildResult:
    """Check partitioned tables incrementally: new partitions, failing ones, and all of them when the
    table's checks changed; `partitions` names the ones to (re)check, `full_refresh` checks all.
    `while_closing(run)` (the artifacts) runs once the build committed, while the engine closes: DuckDB
    writes its checkpoint then, without holding the interpreter."""
    target = selection.target(project, target_name)
    tables = selection.selected(project, select)
    if partitions:
        unpartitioned = [t.name for t in tables if not t.partition]
        if unpartitioned:
            raise SlocompileError(f"--partition: table {', '.join(unpartitioned)} has no partition column "
                                  "(use --select to pick partitioned tables)")
    engine = connect(target, project.root)
    try:
        run = _build(project, target, tables, engine, progress or (lambda *a: None),
                     Selection(tuple(partitions) if partitions else None, full_refresh))
    except BaseException:
        engine.close()
        raise
    closing = _Closing(engine)
    try:
        if while_closing is not None:
            while_closing(run)
    except BaseException:
        closing.join()  # (its own error, if any, is second to this one)
        raise
    closing.join()
    if closing.error is not None:
        raise closing.error
    return run


class _Closing(threading.Thread):
    """engine.close() on a thread; what it raised is kept in `error`."""

    def __init__(self, engine: Engine):
        super().__init__(name="slocompile-close")
        self.engine, self.error = engine, cast(BaseException | None, None)
        self.start()

    def run(self) -> None:
        try:
            self.engine.close()
        except BaseException as e:  # raised by run_build, in the build's thread
            self.error = e


def _empty(engine: Engine, table: TableSpec) -> bool:
    from slocompile.dialects.render import render

    probe = exp.select(exp.Literal.number(1)).from_(table.relation.copy(), copy=False).limit(1)
    return not engine.query(render(probe, engine.dialect))


def _build(project: ProjectSpec, target: TargetSpec, tables: list[TableSpec], engine: Engine,
           progress: Callable[[str, object, int, int], None], sel: Selection) -> BuildResult:
    started = utcnow()
    run = BuildResult(uuid.uuid4().hex[:12], project, target.name, target.dialect, started)
    views = ViewCache(project.root, project.vars)  # SQL rendered by earlier builds (compiling.viewcache)
    setup = compile_project(replace(project, tables=()), target.dialect, views=views).setup
    for stmt in setup:
        engine.execute(stmt)
    for name in meta.ADDED_COLUMNS:  # a meta schema an earlier version created
        have = [c for c, _ in engine.columns(meta.table(project.schemas, name)) or []]
        _write(engine, meta.add_columns(project.schemas, name, have))
    session = []  # statements every connection of this build runs first (scanahead's reader too)
    if any(t.partition_grain for t in tables) or project.time_zone != DEFAULT_TIME_ZONE:
        # time partitions are cut at the hours and days of the project's zone
        session.append(_sql([meta.session_time_zone(project.time_zone, target.dialect)], target.dialect))
    for stmt in session:
        engine.execute(stmt)
    # schema drift (a relation or a column in use gone or retyped) is a failure to record, not a
    # declaration error; drifted tables are neither staged nor measured (schema_drift.py)
    found = schema_drift.inspect(engine, project, tables)
    run.columns = {name: f.actual for name, f in found.items()}  # schema_changes records them
    clean = last_good.stage(engine, project, [t for t in tables if not found[t.name].drifted], sel, run)
    staged = {t.name: t for t in clean}  # last_good: new versions written, their checks read the audit view
    tables = [staged.get(t.name, t) for t in tables]
    # a table's scans start as soon as it is compiled: the next tables compile, and earlier ones are
    # judged, while they run (scanahead)
    with scanning_ahead(engine, session) as ahead:
        plans = _plan_against_catalog(project, tables, found, engine, target.dialect, sel, views, ahead)
        run.compiled = Compiled(project, target.dialect, setup, [ct for _, ct, _, _, _ in plans])
        check_load_times(engine, run.compiled.tables)  # before the run is recorded: a declaration problem
        with engine.transaction():  # runs a killed build left `running` are aborted; this one starts
            _write(engine, [meta.abort_runs(project.schemas, project.name, target.name, started), *meta.rows(
                project.schemas, "runs", [(run.run_id, project.name, target.name, started, None, meta.RUN_RUNNING,
                                           0, 0, 0, 0)])])
        ctx = EvalContext(now=started, partitions=sel.present,  # partitions_complete: the partitions listed
                          columns_before=schema_changes.load(engine, project, tables))
        warm_up = getattr(engine, "warm_up", None)
        if warm_up is not None:  # what publishing needs, loaded while the scans run (engines/duckdb.py)
            warm_up(sum(len(ct.plan.checks) * max(1, len(parts or ())) for _, ct, _, parts, _ in plans))
        _check_tables(project, run, engine, plans, found, sel, ctx, ahead, progress, views)
        views.save([t.name for t in project.tables])  # (the views' probes too: _check_tables)
        run.finished_at = utcnow()  # the checks are judged; their failed-row samples may still be read
        pause("measured")
        current = viewstate.current(engine, project, run.tables, found, views)  # views already as compiled
        _record_and_publish_views(project, run, engine, target.dialect, current,
                                  functools.partial(_samples, run, ahead))
    viewstate.record(engine, project, [tr for tr in run.tables if tr.table.name not in current], views)
    run.alerts = triggers.deliver(project, run, engine)
    return run


def _check_tables(project: ProjectSpec, run: BuildResult, engine: Engine, plans: list, found: dict, sel: Selection,
                  ctx: EvalContext, ahead: ScanAhead, progress: Callable[[str, object, int, int], None],
                  views: ViewCache) -> None:
    """Judge each table from its scans (`ahead`), take its failed-row samples, run its monitors,
    and bind its views; one TableRun each in `run.tables`."""
    for i, (table, compiled, skipped, parts, fp) in enumerate(plans, 1):
        progress("start", table, i, len(plans))
        scan_seconds, drift = 0.0, found[table.name]
        if not drift.drifted:
            meas, scan_seconds = ahead.result(table.name)
        t0 = time.perf_counter()  # the table's time: its scans' and judging it, not waiting for them
        if drift.drifted:
            tr = TableRun(table, compiled, schema_drift.results(table, drift, ctx), [], 0.0, parts, fp)
            tr.results += schema_changes.drifted_results(table, drift.actual, ctx, tr.results)
        else:
            if compiled.content_metric is not None:
                selection.take_contents(fp, compiled.content_metric, meas.values)
            if table.partition and not meas.partitions and parts == () and not sel.present.get(table.name) \
                    and _empty(engine, table):  # (a table with partitions present has rows)
                meas.partitions = [None]  # an empty table still answers row_count and friends, once
            results = evaluate_table(compiled.plan.table, compiled.plan.checks, meas, ctx,
                                     baselines.load(engine, project.schemas, table)) + skipped
            history: list[tuple[str, str | None, float | None, str | None]] = [
                (metric.label(), p, _number(v), None) for (metric, p), v in meas.values.items()
                if metric.kind != "catalog"]
            history += [(metric.label(), p, _number(v), segment) for (metric, p), values in meas.segments.items()
                        for segment, v in values.items()]
            tr = TableRun(table, compiled, results + schema_drift.recovered(table, drift), history, 0.0, parts, fp)
            ahead.submit((table.name, "samples"), functools.partial(
                failures.collect, project=project, table=compiled.plan.table,
                checks=[c for c, _ in compiled.plan.checks], results=results))
            if table.monitor is not None:  # judge the partitions checked; alerts -> results
                _monitors().run_table(engine, project, run, tr)
            tr.results.extend(drift_slos.results(table, run.monitors.get(table.name)))
        unbound = schema_drift.settle_views(engine, project, compiled, drift, views)  # views that no longer bind
        if unbound and not drift.drifted:  # (a drifted table's schema result already says why)
            schema_drift.fail_schema(table, drift, tr.results,
                                     f"its views do not bind on {table.relation_text}: {unbound}", ctx)
        tr.seconds = scan_seconds + time.perf_counter() - t0
        run.tables.append(tr)
        progress("done", tr, i, len(plans))


def _monitors() -> ModuleType:
    """run.monitors, imported by the builds that monitor a table: the monitors bring NumPy and their
    models, a tenth of a second on every build of a project that monitors nothing."""
    from slocompile.run import monitors

    return monitors


def _plan_against_catalog(project: ProjectSpec, tables: list[TableSpec], found: dict, engine: Engine, dialect: str,
                          sel: Selection, views: ViewCache, ahead: ScanAhead
                          ) -> list[tuple[TableSpec, CompiledTable, list[Result], tuple[str, ...] | None,
                                          selection.Fingerprint]]:
    """Compile each table against its real columns (`found` by schema_drift.inspect), and queue its
    scans on `ahead` (keyed by its name) as soon as it is compiled: a drifted table checks no
    partition, and its views read the columns it had (last_good: its versions)."""
    out: list[tuple[TableSpec, TableSpec, list[Result]]] = []
    catalogs: dict[str, list | None] = {}  # the relation's columns, read once: plan_partitions needs them too
    for table in tables:
        drift = found[table.name]
        if drift.drifted:
            cols = drift.actual
            if table.gate == "last_good":
                cols = [c for c in engine.columns(versions_table(project.schemas, table.name)) or []
                        if c[0] != VERSION_COLUMN] or drift.recorded
        else:  # a staged last_good table's checks read its audit view
            cols = drift.actual if table.gate != "last_good" else engine.columns(table.relation)
            catalogs[table.name] = cols
        names = tuple(n for n, _ in cols) if cols else None
        as_text = tuple(n for n, t in cols or () if hashes_as_text(dialect, t))
        out.append((table, replace(table, catalog_columns=names, hashed_as_text=as_text), []))
    fps = {t.name: fingerprint(t) for t, _, _ in out}
    # (each relation as the build reads it: its columns, and those hashed as text)
    planned = selection.plan_tables(engine, project, [sub for t, sub, _ in out if not found[t.name].drifted], fps,
                                    sel, catalogs, views)
    planned.update({t.name: ((() if t.partition else None), selection.Fingerprint(fps[t.name]))
                    for t, _, _ in out if found[t.name].drifted})
    todo = {name: parts for name, (parts, _) in planned.items()}
    # a build that checks every partition there is (a first build, --full-refresh) filters none:
    # the scans then read the table once, with no per-row test of a list of partitions
    limited = {k: v for k, v in todo.items() if v is not None and not (v and list(v) == sel.present.get(k))}
    hashed = {name: fp.in_scan for name, (_, fp) in planned.items() if fp.in_scan is not None}
    def scan(ct: CompiledTable) -> None:
        if not found[ct.table.name].drifted:
            ahead.submit(ct.table.name, functools.partial(measure, compiled_table=ct))

    compiled = compile_project(replace(project, tables=tuple(sub for _, sub, _ in out)), dialect,
                               partitions=limited, contents=hashed, views=views, each=scan)
    for (table, _, _), ct in zip(out, compiled.tables):
        if found[table.name].drifted:
            ct.scans = []  # nothing is measured on a drifted table
    return [(table, ct, skipped, todo[table.name], planned[table.name][1])
            for (table, _, skipped), ct in zip(out, compiled.tables)]


def _number(v: object) -> float | None:
    from slocompile.checks.base import to_number

    try:
        return to_number(v)
    except (TypeError, ValueError):
        return None


def _sql(statements: Iterable[exp.Expression], dialect: str) -> str:
    from slocompile.dialects.render import render

    return ";\n".join(render(s, dialect) for s in statements)


def _write(engine: Engine, ops: Iterable[exp.Expression | meta.Rows]) -> None:
    """Statements one a call (Spark takes no more), in order; rows through the engine's bulk path."""
    from slocompile.dialects.render import render

    for op in ops:
        if isinstance(op, meta.Rows):
            engine.insert_rows(op.table, op.columns, op.rows)
        else:
            engine.execute(render(op, engine.dialect))


def _samples(run: BuildResult, ahead: ScanAhead) -> None:
    """Wait for the tables' failed-row samples, read behind the scans (_check_tables)."""
    for tr in run.tables:
        if (tr.table.name, "samples") in ahead:
            tr.failures, seconds = ahead.result((tr.table.name, "samples"))
            tr.seconds += seconds


def _record_and_publish_views(project: ProjectSpec, run: BuildResult, engine: Engine, dialect: str,
                              current: set[str], samples: Callable[[], None]) -> None:
    """One transaction: the run's results, metrics and statuses, last_good's version pointers, trigger
    and monitor rows, the run's end, its failed-row samples, and the validated and quarantine views
    over them (but those of the tables in `current`, which the warehouse holds as compiled:
    run.viewstate). The rows are made while the samples are still read (`samples()` waits for them);
    the transaction begins after: its DDL locks what they read (Postgres: last_good's audit view),
    an engine without a reader reads them on this connection, and a session idle in a transaction
    may be ended by the server."""
    s = project.schemas
    now = run.finished_at
    # results and metrics are only appended to: one bulk insert each for all the tables
    stmts: list[exp.Expression | meta.Rows] = [
        *meta.rows(s, "results", [(run.run_id, r.table, r.check, r.check_type, r.column, r.partition, r.status,
                                   r.severity, r.observed_number, r.observed_text, r.expected, r.message, now,
                                   r.segment)
                                  for tr in run.tables for r in tr.results]),
        *meta.rows(s, "metrics", [(run.run_id, tr.table.name, label, p, v, now, segment)
                                  for tr in run.tables for label, p, v, segment in tr.metrics]),
        *schema_changes.statements(project, run.columns, [tr.table for tr in run.tables], run.run_id, now)]
    # the statuses the build replaces, then the new ones: one DELETE and one bulk insert for all tables
    stmts += meta.delete_replaced(s, "status", [(tr.table.name, list(tr.partitions) if tr.partitions is not None
                                                 else None) for tr in run.tables])
    status_rows = []
    for tr in run.tables:
        statuses = partition_statuses(tr.results)
        for p in tr.partitions or ():  # checked, even where only whole-table checks ran: the views
            statuses.setdefault(p, [])  # serve a partition only with a status for the content checked
        status_rows += [(tr.table.name, p, "fail" if failed else "pass", ", ".join(failed) or None, run.run_id, now,
                         tr.fingerprint.of(p)) for p, failed in statuses.items()]
    stmts += meta.rows(s, "status", status_rows)
    stmts += last_good.statements(project, run, engine) + triggers.statements(project, run, engine)
    c = counts(run.results)
    stmts.append(meta.finish_run(s, run.run_id, run.status, now, c))
    samples()
    stmts += meta.rows(s, "failed_rows", failures.meta_rows(run.run_id, run.tables, now))
    with engine.transaction():
        _write(engine, stmts)
        if run.monitors:  # monitor history, alerts and incidents
            from slocompile.run import monitor_store

            monitor_store.record_history(engine, project, run)
        for tr in [tr for tr in run.tables if tr.table.name not in current]:
            for view_sql in (tr.compiled.validated_view, tr.compiled.quarantine_view):
                try:
                    engine.execute(view_sql)
                except QueryFailed as e:
                    raise SlocompileError(f"table '{tr.table.name}': could not publish a view: {e}") from None
        pause("publishing")
