"""Monitors in the product: the build's hook, their history in the meta schema, and `backtest`.

The detection itself is ``slocompile.monitors`` (profiles, learned bands, drift, incidents); this
module is the I/O around it:

- **build** (``run_table``, called by build.py after a table's checks): the partitions the build
  checks (new, failing, changed, ``--partition``, ``--full-refresh``) are judged in order by
  ``monitors.monitor_partitions`` against the history loaded from the meta schema, so each is
  judged only by the partitions before it. With no history yet (the first build, a table that
  just got ``monitor:``, or a full refresh re-judging every recorded partition) the history is
  built by ``monitors.backtest`` over every partition up to the newest one checked: one grouped
  scan instead of one per partition, same verdicts. Only a bounded window of history is loaded
  (what judging reads: ``2 * window + persist`` partitions before the first one judged), so a
  build's cost does not grow with the table's age.
- **results**: each alert becomes a ``Result`` (check ``monitor_<metric>``, its column and
  partition, observed value, the normal band as ``expected``), ``warn`` or ``fail`` per the
  table's ``monitor: {severity: ...}``; a judged partition without alerts gets one passing
  ``monitor`` result, so its status is recorded like any checked partition. Error-severity alerts
  fail the partition like an error SLO (gates react).
- **meta schema** (written by ``record_history`` inside the build's one transaction): ``monitor_metrics``,
  ``monitor_summaries`` and ``monitor_state`` (``History.to_rows``, plus the column families
  discovered once), ``monitor_alerts`` and ``monitor_incidents``; a re-judged partition replaces
  its rows. The bulk rows go through the engine's ``insert_rows`` (no SQL literals built as trees:
  sqlglot would spend seconds on a long history's VALUES lists).
- **backtest** (``backtest``): replays every partition with ``monitors.backtest`` on a read-only
  connection; it reads the column families the builds recorded (so both judge the same columns
  the same way) and never writes.

Monitors run on DuckDB, Postgres and Spark through the Engine interface: every query is a sqlglot
tree (``sqltrees.profiles``) rendered for the engine's dialect, and catalog types are read in
DuckDB's spelling (``dialects.rules.duckdb_type``). ``backtest`` needs DuckDB.
"""
from __future__ import annotations

import bisect
import json
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlglot import exp

from slocompile.dialects.render import render
from slocompile.dialects.rules import duckdb_type
from slocompile.engines.base import Engine, NothingStored
from slocompile.engines.connect import connect
from slocompile.errors import Problem, SlocompileError, SpecError, did_you_mean
from slocompile.run import acceptances, snapshots
from slocompile.run.incidents import new_events, recorded_events
from slocompile.spec.model import partition_label, partition_value
from slocompile.sqltrees import meta
from slocompile.sqltrees.profiles import meta_delete, meta_rows

if TYPE_CHECKING:
    from slocompile.monitors import History

CHECK_TYPE = "monitor"
BACKTEST_ENGINES = ("duckdb",)  # backtest reads a read-only copy of the warehouse; elsewhere the builds judge


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


# ------------------------------------------------------------------ columns

def _catalog(engine: Engine, relation: exp.Table) -> list[tuple[str, str]]:
    """(name, type) of the relation's columns, the types in DuckDB's spelling; [] when it does not exist."""
    return [(n, duckdb_type(t, engine.dialect)) for n, t in engine.columns(relation) or []]


def _base(family: str | None) -> str | None:
    return "string" if family == "categorical" else family


def partition_kind(catalog: list[tuple[str, str]], column: str) -> str:
    dtype = dict(catalog).get(column, "").upper()
    if dtype == "DATE":
        return "date"
    if dtype.startswith("TIMESTAMP") or dtype == "DATETIME":
        return "timestamp"
    return "other"


def resolve_columns(engine: Engine, table, relation: exp.Table, catalog: list[tuple[str, str]],
                    families: dict[str, str]) -> list:
    """The monitored columns with their families: the declared list, or every column of the
    catalog but the partition and the key. Families recorded by earlier builds are kept (a text
    column stays categorical or free text for good); new or retyped columns are discovered."""
    from slocompile.monitors import ProfiledColumn, discover_columns, monitor_family

    types = dict(catalog)
    wanted = table.monitor.columns
    if wanted is None:
        exclude = {table.partition, *table.key}
        wanted = [n for n, t in catalog if n not in exclude and monitor_family(t) is not None]
    else:
        problems = missing_columns(table, catalog)
        if problems:
            raise SpecError([Problem(loc, msg) for loc, msg in problems])
    need = [c for c in wanted if c not in families or _base(families[c]) != _base(monitor_family(types[c]))]
    found = {}
    if need:
        keep = set(need)
        found = {c.name: c.family for c in discover_columns(
            engine, relation, exclude=[n for n in types if n not in keep], partition=table.partition)}
    return [ProfiledColumn(c, found.get(c) or families[c]) for c in wanted if c in found or c in families]


def missing_columns(table, catalog: list[tuple[str, str]], dialect: str = "duckdb") -> list[tuple]:
    """(location, message) for declared monitor columns the relation lacks or monitors cannot
    profile (`catalog` types in `dialect`'s names); build.py reports them with the other
    declaration problems."""
    if table.monitor is None or table.monitor.columns is None:
        return []
    from slocompile.monitors import monitor_family

    types = dict(catalog)
    where = f"table '{table.name}', 'monitor'"
    out = []
    for c in table.monitor.columns:
        if c not in types:
            out.append((table.monitor.loc, f"{where}: column '{c}' is not in {table.relation_text}"
                        f"{did_you_mean(c, types)}"))
        elif monitor_family(duckdb_type(types[c], dialect)) is None:
            out.append((table.monitor.loc, f"{where}: column '{c}' is {types[c]}, a type monitors do not profile "
                        "(numbers, text, booleans, dates and timestamps)"))
    return out


# ------------------------------------------------------------------ history in the meta schema

@dataclass
class Rows:
    """Rows for a meta table, in its columns' order (meta.TABLES): written by Engine.insert_rows."""
    table: exp.Table
    columns: list
    rows: list[tuple]


def _inserts(schemas, name: str, rows: list[tuple]) -> list[Rows]:
    return [Rows(meta.table(schemas, name), meta.TABLES[name], rows)] if rows else []


def _deletes(schemas, name: str, table: str, partitions: list[str] | None) -> list[exp.Delete]:
    stmt = meta_delete(schemas, name, table, partitions)
    return [stmt] if stmt is not None else []


def _exists(engine: Engine, schemas) -> bool:
    return engine.columns(meta.table(schemas, "monitor_state")) is not None


def _query(engine: Engine, q: exp.Query) -> list[tuple]:
    return engine.query(render(q, engine.dialect, copy=False))


def load_state(engine: Engine, schemas, table: str) -> tuple[list[tuple], list[str], dict[str, str], dict]:
    """(History state rows, every recorded partition, column families, segment values) of a table."""
    if not _exists(engine, schemas):
        return [], [], {}, {}
    rows = _query(engine, meta_rows(schemas, "monitor_state", ["column_name", "key", "value"], table))
    families = {c: json.loads(v) for c, k, v in rows if k == "family"}
    segments = {c: tuple(json.loads(v)) for c, k, v in rows if k == "segments"}
    parts: list[str] = next((json.loads(v) for c, k, v in rows if k == "partitions" and c is None), [])
    state = [(table, c, k, v) for c, k, v in rows if k not in ("family", "partitions", "segments")]
    return state, sorted(parts), families, segments


SEGMENTS = 20  # values of a segment column with bands of their own (the most frequent); the rest pooled


def resolve_segments(engine: Engine, table, spec, known: dict, upto) -> tuple:
    """((column, values), ...) of `monitor: {segments: [...]}`: the values recorded by earlier builds
    (so every build and backtest judge the same segments), else the most frequent ones up to `upto`."""
    from slocompile.monitors.profile import rows_of
    from slocompile.sqltrees.profiles import top_values_query

    out = []
    for column in getattr(table.monitor, "segments", ()):
        values = known.get(column)
        if values is None:
            values = tuple(r["__v"] for r in rows_of(engine, top_values_query(spec, column, upto, SEGMENTS)))
        out.append((column, tuple(values)))
    return tuple(out)


def load_history(engine: Engine, schemas, table: str, state: list[tuple], recorded: list[str], first: str, settings):
    """The History judging `first` (and the partitions after it) needs: every partition from
    ``2 * window + persist`` before `first` on, plus the table's learned state."""
    from slocompile.monitors import History

    if not recorded:
        return History(table=table)
    i = bisect.bisect_left(recorded, first)
    lo = recorded[max(0, i - (2 * settings.window + settings.persist))]
    metric_rows = [(table, c, m, p, math.nan if v is None else v, a) for c, m, p, v, a in _query(engine, meta_rows(
        schemas, "monitor_metrics", ["column_name", "metric", "partition", "value", "alerted"], table, since=lo))]
    summary_rows = [(table, c, p, s) for c, p, s in _query(engine, meta_rows(
        schemas, "monitor_summaries", ["column_name", "partition", "summary"], table, since=lo))]
    window = [p for p in recorded if p >= lo]
    return History.from_rows(metric_rows, summary_rows, state + [(table, None, "partitions", json.dumps(window))],
                             table=table)


# ------------------------------------------------------------------ judging (build)

def _spec(table, relation, catalog, columns):
    from slocompile.monitors import make_spec

    grain = table.partition_grain  # a time partition's grain (issue 16): hours are timestamps, the others dates
    kind = partition_kind(catalog, table.partition) if grain is None else "timestamp" if grain == "hour" else "date"
    return make_spec(relation, table.partition, list(table.key), columns, partition_kind=kind, partition_grain=grain)


def table_settings(table, partitions: list[str]):
    """The monitor settings of a table: the seasonal cycle and history of its partitions' grain
    (declared, or read from their spacing)."""
    from slocompile.monitors.bands import sensitive, settings_for

    base = settings_for(table.partition_grain, partitions)
    return sensitive(base, getattr(table.monitor, "sensitivity", 1.0))


def judge(engine: Engine, schemas, table, relation, partitions: list[str], settings=None) -> TableMonitoring:
    """Judge `partitions` (texts) of a monitored table in order against its recorded history."""
    from slocompile.monitors import History, detect_range, monitor_partitions
    from slocompile.monitors.profile import parse_partition

    t0 = time.perf_counter()
    tm = TableMonitoring(table.name, table.monitor.severity)
    catalog = _catalog(engine, relation)
    state, recorded, families, known_segments = load_state(engine, schemas, table.name)
    columns = resolve_columns(engine, table, relation, catalog, families)
    tm.families = {**families, **{c.name: c.family for c in columns}}
    tm.columns = len(columns)
    spec = _spec(table, relation, catalog, columns)
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


def _number(v):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None


def results(tm: TableMonitoring, min_history: int) -> list:
    """The alerts of the partitions this build checks as Results, and a passing `monitor` result
    for each of those partitions without an alert."""
    from slocompile.checks.evaluate import FAIL, PASS, WARN, Result

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
                              _number(a["observed"]), a["expected"], a["message"]))
        if not alerts:
            before = bisect.bisect_left(hist, p)
            msg = (f"no monitor alert ({tm.columns} columns)" if before >= min_history else
                   f"learning: {before} of {min_history} partitions of history before this one; no alert yet")
            out.append(Result(tm.table, "monitor", CHECK_TYPE, None, label, PASS, tm.severity, None,
                              "every metric inside its learned band", msg))
    return out


def not_run(table, dialect: str, target: str):
    from slocompile.checks.evaluate import WARN, Result

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


def statements(project, run) -> list[exp.Expression | Rows]:
    """The monitor rows of the build, for the build's one transaction: DELETE statements (trees)
    and the Rows to insert, in order."""
    s = project.schemas
    now = run.finished_at or run.started_at
    out: list[exp.Expression | Rows] = []
    for tm in run.monitors.values():
        if tm.skipped or tm.history is None or not tm.judged:
            continue
        parts = None if tm.reset else tm.judged
        for name in ("monitor_metrics", "monitor_summaries", "monitor_alerts", "monitor_incidents"):
            out += _deletes(s, name, tm.table, parts)
        out += _deletes(s, "monitor_state", tm.table, None)
        rows = _history_rows(tm.history, tm.judged)
        out += _inserts(s, "monitor_metrics", [(*r, run.run_id, now) for r in rows["metric_rows"]])
        out += _inserts(s, "monitor_summaries", [(*r, run.run_id, now) for r in rows["summary_rows"]])
        state = [r for r in rows["state_rows"] if r[2] != "partitions"]
        state.append((tm.table, None, "partitions", json.dumps(tm.all_partitions)))
        state += [(tm.table, c, "family", json.dumps(f)) for c, f in sorted(tm.families.items())]
        state += [(tm.table, c, "segments", json.dumps(list(v))) for c, v in tm.segments]
        out += _inserts(s, "monitor_state", [(*r, run.run_id, now) for r in state])
        judged = set(tm.judged)
        alerts = [a for a in tm.alerts if a["partition"] in judged]
        out += _inserts(s, "monitor_alerts", [
            (run.run_id, tm.table, a["partition"], a["column"], a["check"], a["metric"], tm.severity,
             _number(a["observed"]), a["expected"], a["message"], a.get("incident"), a.get("cause"), now)
            for a in alerts])
        out += _inserts(s, "monitor_incidents", [
            (run.run_id, tm.table, i["partition"], i["incident"], i["cause"], ", ".join(i["columns"]), i["alerts"],
             tm.severity, now) for i in incidents(alerts)])
        out += _inserts(s, "monitor_incident_events", [
            (run.run_id, tm.table, e["incident"], e["event"], e["partition"], e["opened"], ", ".join(e["columns"]),
             e["cause"], e["partitions"], tm.severity, now) for e in tm.events if e["new"]])  # a log: appended
    return out


def record_history(engine, project, run) -> None:
    """Inside the build's final transaction (build.py): write the monitor rows."""
    for op in statements(project, run):
        if isinstance(op, Rows):
            engine.insert_rows(op.table, op.columns, op.rows)
        else:
            engine.execute(render(op, engine.dialect, copy=False))


def _history_rows(history, partitions: list[str]) -> dict[str, list[tuple]]:
    """``History.to_rows`` of the given partitions only (and the whole learned state)."""
    from slocompile.monitors import History

    keep = set(partitions)
    sub = History(table=history.table, partitions=[p for p in history.partitions if p in keep],
                  values={k: {p: v for p, v in s.items() if p in keep} for k, s in history.values.items()},
                  alerted={p: a for p, a in history.alerted.items() if p in keep},
                  summaries={p: s for p, s in history.summaries.items() if p in keep},
                  edges=history.edges, accepted=history.accepted, regimes=history.regimes,
                  references=history.references,
                  incidents={p: i for p, i in history.incidents.items() if p >= history.partitions[0]})
    return sub.to_rows()


def incidents(alerts: list[dict]) -> list[dict]:
    """One entry per incident: partition, incident id, cause, columns, number of alerts."""
    out: dict[str, dict] = {}
    for a in alerts:
        iid = a.get("incident") or f"{a['table']}/{a['partition']}/?"
        i = out.setdefault(iid, {"partition": a["partition"], "incident": iid, "cause": a.get("cause"),
                                 "columns": a.get("incident_columns") or [], "alerts": 0, "members": []})
        i["alerts"] += 1
        i["members"].append(a)
    return sorted(out.values(), key=lambda i: (i["partition"], i["incident"]))


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


# ------------------------------------------------------------------ backtest

@dataclass
class Backtest:
    alerts: list[dict]          # json-ready: partition, table, column, check, metric, severity, observed, ...
    tables: list[dict]          # table, partitions replayed, first, last, columns, monitored, alerts
    events: list[dict] = field(default_factory=list)  # incidents opened / recovered (monitors.incidents.track)


def alert_record(a: dict, severity: str) -> dict:
    return {"partition": a["partition"], "table": a["table"], "column": a["column"], "check": a["check"],
            "metric": a["metric"], "severity": severity, "observed": _number(a["observed"]),
            "expected": a["expected"], "message": a["message"], "incident": a.get("incident"),
            "cause": a.get("cause"), "incident_opened": a.get("incident_opened")}


def backtest(project, target_name: str | None = None, select: list[str] | None = None,
             start: str | None = None, end: str | None = None) -> Backtest:
    """Replay the partitions of monitored tables (or the selected tables, monitored or not:
    ``monitor: all`` is assumed) in order, each judged only by the partitions before it; the
    alerts of partitions in [start, end]. Opens the database read-only: writes nothing."""
    from dataclasses import replace

    from slocompile.monitors import History, detect_range
    from slocompile.monitors.profile import list_partitions, partition_text
    from slocompile.run import selection
    from slocompile.spec.model import MonitorSpec

    target = selection.target(project, target_name)
    if target.type not in BACKTEST_ENGINES:
        raise SlocompileError(f"backtest needs a DuckDB target in this version; target '{target.name}' is "
                              f"{target.type} (its builds run the monitors)")
    tables = selection.selected(project, select)
    if not select:
        tables = [t for t in tables if t.monitor is not None]
        if not tables:
            raise SlocompileError("backtest: no table declares 'monitor:'; add `monitor: all` to a partitioned "
                                  "table, or name one with --select to try monitors on it")
    unpartitioned = [t.name for t in tables if not t.partition]
    if unpartitioned:
        raise SlocompileError(f"backtest: table {', '.join(unpartitioned)} has no partition column "
                              "(its monitors judge each build as a snapshot of the whole table: there are no "
                              "partitions to replay; the builds' snapshots are in the meta schema's monitor_metrics)")
    try:
        engine = connect(target, project.root, read_only=True)
    except NothingStored as e:
        raise SlocompileError(f"{e}: nothing to backtest" if e.in_memory else str(e)) from None
    try:
        out = Backtest([], [])
        for table in tables:
            monitored = table.monitor is not None
            if not monitored:
                table = replace(table, monitor=MonitorSpec(None, "warn", table.loc))
            assert table.monitor is not None  # declared, or the one just given
            catalog = _catalog(engine, table.relation)
            if not catalog:
                raise SpecError([Problem(table.loc, f"table '{table.name}': relation {table.relation_text} "
                                                    "does not exist")])
            if table.partition not in dict(catalog):
                raise SpecError([Problem(table.loc, f"table '{table.name}': column '{table.partition}' is not in "
                                         f"{table.relation_text}{did_you_mean(table.partition, dict(catalog))}")])
            _state, _recorded, families, known_segments = load_state(engine, project.schemas, table.name)
            columns = resolve_columns(engine, table, table.relation, catalog, families)
            spec = _spec(table, table.relation, catalog, columns)
            bounds = [_bound(b, spec.partition_kind, flag) for b, flag in ((start, "--start"), (end, "--end"))]
            segments = resolve_segments(engine, table, spec, known_segments, bounds[1])
            history = History(table=table.name, acceptances=acceptances.load(engine, project.schemas, table.name))
            parts = [] if table.partition_grain is not None or spec.partition_kind != "timestamp" else \
                [partition_text(v) for v in list_partitions(engine, spec)]
            alerts = detect_range(engine, spec.relation, spec.partition, list(spec.key), spec.columns, start=bounds[0],
                            end=bounds[1], settings=table_settings(table, parts), table=table.name, history_out=history,
                            partition_grain=spec.partition_grain, segments=segments)
            recs = [alert_record(a, table.monitor.severity) for a in alerts]
            out.alerts += recs
            first = None if start is None else partition_text(bounds[0])
            out.events += [e for e in history.events if first is None or e["partition"] >= first]
            window = [p for p in history.partitions if first is None or p >= first]
            out.tables.append({"table": table.name, "monitored": monitored, "columns": len(columns),
                               "partitions": len(history.partitions), "judged": len(window),
                               "first": window[0] if window else None, "last": window[-1] if window else None,
                               "alerts": len(recs), "incidents": len(incidents(recs)),
                               "severity": table.monitor.severity})
        return out
    finally:
        engine.close()


def _bound(text: str | None, kind: str, flag: str):
    from slocompile.monitors.profile import parse_partition

    if text is None:
        return None
    try:
        return parse_partition(text, kind)
    except ValueError:
        raise SlocompileError(f"{flag}: {text!r} is not a partition of this table's kind ({kind}; e.g. "
                              f"{'2026-01-31' if kind == 'date' else '2026-01-31 00:00:00'})") from None


def format_text(bt: Backtest) -> str:
    """Readable backtest output: per table a header line, then per partition its incidents, each
    with its alerts."""
    lines = []
    for t in bt.tables:
        span = f"{t['first']} to {t['last']}" if t["first"] else "no partitions"
        note = "" if t["monitored"] else " (not monitored: as if `monitor: all`)"
        lines.append(f"{t['table']}{note}: {t['judged']} partitions judged ({span}), {t['columns']} columns; "
                     f"{t['alerts']} alert{'s' if t['alerts'] != 1 else ''} in {t['incidents']} "
                     f"incident{'s' if t['incidents'] != 1 else ''} (severity {t['severity']})")
        for i in incidents([a for a in bt.alerts if a["table"] == t["table"]]):
            cols = i["columns"]
            lines.append(f"  {i['partition']}  {i['cause']}"
                         + (f"  [{len(cols)} columns]" if len(cols) > 1 else ""))
            for a in i["members"]:
                lines.append(f"      {a['column'] or '(table)'}: {a['message']}")
        lines.append("")
    return "\n".join(lines)


def format_json(bt: Backtest) -> str:
    return "".join(json.dumps(a, ensure_ascii=False, default=str) + "\n" for a in bt.alerts)
