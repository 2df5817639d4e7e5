"""Monitors in the build: the step build.py runs after a table's checks, and its results.

The detection itself is ``slocompile.monitors`` (profiles, learned bands, drift, incidents); the
history's I/O is ``run.monitor_store``, what a table monitors ``run.monitor_tables``, the replay
``run.backtest``.

- **judging** (``run_table``): the partitions the build checks (new, failing, changed,
  ``--partition``, ``--full-refresh``) are judged in order by ``monitors.monitor_partitions``
  against the history loaded from the meta schema, so each is judged only by the partitions before
  it. With no history yet (the first build, a table that just got ``monitor:``, or a full refresh
  re-judging every recorded partition) the history is built by ``monitors.detect_range`` over
  every partition up to the newest one checked: one grouped scan instead of one per partition,
  same verdicts.
- **results**: each alert becomes a ``Result`` (check ``monitor_<metric>``, its column and
  partition, observed value, the normal band as ``expected``), ``warn`` or ``fail`` per the
  table's ``monitor: {severity: ...}``; a judged partition without alerts gets one passing
  ``monitor`` result, so its status is recorded like any checked partition. Error-severity alerts
  fail the partition like an error SLO (gates react).

Monitors run on DuckDB, Postgres and Spark through the Engine interface: every query is a sqlglot
tree (``sqltrees.profiles``) rendered for the engine's dialect, and catalog types are read in
DuckDB's spelling (``dialects.rules.duckdb_type``).
"""
from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field, replace

from slocompile.checks.evaluate import FAIL, PASS, WARN, Result
from slocompile.engines.base import Engine
from slocompile.monitors import History, detect_range, monitor_partitions
from slocompile.monitors.profile import parse_partition
from slocompile.run import acceptances, snapshots
from slocompile.run.incidents import new_events, recorded_events
from slocompile.run.monitor_store import incidents, load_history, load_state, number
from slocompile.run.monitor_tables import (
    monitor_spec,
    read_catalog,
    resolve_columns,
    resolve_segments,
    table_settings,
)
from slocompile.spec.model import partition_label, partition_value

CHECK_TYPE = "monitor"


@dataclass
class TableMonitoring:
    """What monitoring did for one table in one build (kept on BuildResult.monitors)."""
    table: str
    severity: str
    judged: list[str] = field(default_factory=list)      # partitions judged, in order (their rows are replaced)
    checked: list[str] = field(default_factory=list)     # of those, the ones this build checks (results)
    alerts: list[dict] = field(default_factory=list)     # alerts of every judged partition
    # incidents opened / recovered on judged partitions; "new": not recorded by an earlier build (a
    # re-judged failing partition repeats its event: notify on the new ones only)
    events: list[dict] = field(default_factory=list)
    history: History | None = None                       # monitors.History after judging
    all_partitions: list[str] = field(default_factory=list)  # every partition recorded, after this build
    families: dict[str, str] = field(default_factory=dict)
    segments: tuple = ()       # ((segment column, its values), ...)
    reset: bool = False        # history rebuilt from nothing: replace every row of the table
    bootstrapped: bool = False  # judged partitions this build does not check (history built)
    columns: int = 0
    min_history: int = 14     # partitions of history before a metric may alert (settings of the table)
    seconds: float = 0.0
    skipped: str | None = None  # why monitors did not run


def judge(engine: Engine, schemas, table, relation, partitions: list[str], settings=None) -> TableMonitoring:
    """Judge `partitions` (texts) of a monitored table in order against its recorded history."""
    t0 = time.perf_counter()
    tm = TableMonitoring(table.name, table.monitor.severity)
    catalog = read_catalog(engine, relation)
    state, recorded, families, known_segments = load_state(engine, schemas, table.name)
    columns = resolve_columns(engine, table, relation, catalog, families)
    tm.families = {**families, **{c.name: c.family for c in columns}}
    tm.columns = len(columns)
    spec = monitor_spec(table, relation, catalog, columns)
    # the build's partition labels -> the values' texts the monitors key on (the NULL partition is not judged)
    todo = sorted({v for v in map(partition_value, partitions) if v is not None})
    values = [parse_partition(p, spec.partition_kind) for p in todo]
    if not todo:
        tm.history, tm.all_partitions = None, recorded
        return tm
    tm.segments = resolve_segments(engine, table, spec, known_segments, values[-1])
    spec = replace(spec, segments=tm.segments)
    settings = settings or table_settings(table, sorted(set(recorded) | set(todo)))
    tm.min_history = settings.min_history
    tm.reset = bool(recorded) and set(recorded) <= set(todo)
    history = History(table=table.name) if tm.reset else \
        load_history(engine, schemas, table.name, state, recorded, todo[0], settings)
    history.acceptances = acceptances.load(engine, schemas, table.name)
    if not history.partitions:  # nothing recorded before: build the history from every partition up to the last
        tm.alerts = detect_range(engine, spec.relation, spec.partition, list(spec.key), spec.columns, end=max(values),
                             settings=settings, table=table.name, history_out=history,
                             partition_grain=spec.partition_grain, segments=spec.segments)
        tm.judged = list(history.partitions)
        tm.reset = tm.reset or not recorded
    else:
        for p in todo:  # a re-checked partition replaces its earlier history
            if p in history.alerted:
                history.forget(p)
        for v in values:
            tm.alerts += monitor_partitions(engine, spec, history, [v], settings)
        tm.judged = [p for p in todo if p in history.alerted]
    gone = {p for p in todo if p in recorded and p not in history.alerted}  # emptied since: their rows go
    tm.checked = [p for p in todo if p in history.alerted]
    tm.bootstrapped = len(tm.judged) > len(tm.checked)
    tm.judged += sorted(gone - set(tm.judged))
    tm.history = history
    tm.events = new_events(table.name, history.events, tm.alerts, recorded_events(engine, schemas, table.name, todo[0]),
                           todo[0])
    if table.monitor.quiet:  # profiled for drift SLOs only: the history keeps their alerts, results do not
        tm.alerts = [a for a in tm.alerts if a["column"] not in table.monitor.quiet]
    tm.all_partitions = sorted((set() if tm.reset else set(recorded) - gone) | set(history.partitions))
    tm.seconds = time.perf_counter() - t0
    return tm


def results(tm: TableMonitoring, min_history: int) -> list:
    """The alerts of the partitions this build checks as Results, and a passing `monitor` result
    for each of those partitions without an alert."""
    status = FAIL if tm.severity == "error" else WARN
    out = []
    by_part: dict[str, list[dict]] = {}
    for a in tm.alerts:
        by_part.setdefault(a["partition"], []).append(a)
    hist = tm.history.partitions if tm.history is not None else []
    for p in tm.checked:
        alerts = by_part.get(p, [])
        label = partition_label(p)  # as the build's statuses name it
        for a in alerts:
            out.append(Result(tm.table, a["check"], CHECK_TYPE, a["column"], label, status, tm.severity,
                              number(a["observed"]), a["expected"], a["message"]))
        if not alerts:
            before = bisect.bisect_left(hist, p)
            msg = (f"no monitor alert ({tm.columns} columns)" if before >= min_history else
                   f"learning: {before} of {min_history} partitions of history before this one; no alert yet")
            out.append(Result(tm.table, "monitor", CHECK_TYPE, None, label, PASS, tm.severity, None,
                              "every metric inside its learned band", msg))
    return out


def not_run(table, dialect: str, target: str):
    return Result(table.name, "monitor", CHECK_TYPE, None, None, WARN, "warn", None, "",
                  f"monitors cannot run on target '{target}' ({dialect}): its engine cannot run their queries; "
                  "the table's checks ran as usual")


# ------------------------------------------------------------------ build hooks

def run_table(engine, project, run, tr) -> None:
    """build.py, after a table's checks: judge the partitions it checked, add the results."""
    table = tr.table
    if table.monitor is None or table.partition and tr.partitions is None:
        return
    if not callable(getattr(engine, "query", None)) or not callable(getattr(engine, "columns", None)):
        tr.results.append(not_run(table, engine.dialect, run.target))
        run.monitors[table.name] = TableMonitoring(table.name, table.monitor.severity,
                                                   skipped=f"monitors cannot run on {engine.dialect}")
        return
    if table.partition:
        tm = judge(engine, project.schemas, table, table.relation, list(tr.partitions))
    else:  # each build is a snapshot of the whole table (run/snapshots.py)
        view, parts = snapshots.snapshot(engine, project.schemas, table, run.started_at)
        try:
            tm = judge(engine, project.schemas, view, view.relation, parts, table_settings(view, []))
        finally:
            snapshots.drop(engine, project.schemas, table)
    if None not in table.monitor.quiet:  # None: monitors only serve drift SLOs, the table asked for none
        found = results(tm, tm.min_history)
        tr.results.extend(found if table.partition else snapshots.whole_table(found))
    tr.seconds += tm.seconds
    run.monitors[table.name] = tm


def summary_lines(run) -> list[tuple[str, str]]:
    """(status, text) lines for the terminal: what the monitors did per table."""
    out = []
    for tm in run.monitors.values():
        if tm.skipped:
            continue
        if not tm.judged:
            continue
        checked = set(tm.checked)
        mine = [a for a in tm.alerts if a["partition"] in checked]
        n_inc = len(incidents(mine))
        text = (f"monitors {tm.table}: {len(tm.checked)} partition{'s' if len(tm.checked) != 1 else ''} judged "
                f"({tm.columns} columns), {len(mine)} alert{'s' if len(mine) != 1 else ''}"
                + (f" in {n_inc} incident{'s' if n_inc != 1 else ''}" if mine else ""))
        if tm.bootstrapped:
            extra = len(tm.judged) - len(tm.checked)
            earlier = len([a for a in tm.alerts if a["partition"] not in checked])
            text += (f"; history built from {extra} earlier partition{'s' if extra != 1 else ''} "
                     f"({earlier} alert{'s' if earlier != 1 else ''} there, recorded in monitor_alerts)")
        out.append(("warn" if mine else "pass", text))
    return out
