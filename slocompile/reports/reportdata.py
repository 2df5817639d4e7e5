"""The report's data: what the meta schema knows of each table, read-only, and the SQL of failed checks.

Everything comes from the meta schema (runs, status, results, monitor_*), read with SELECTs built
as sqlglot trees and rendered for the target's dialect; DuckDB files are opened read-only. The
SQL that measured a failed check is compiled from the declarations (as `slocompile show` does).

Monitor bands are not stored per partition. They are recomputed here with the detection code
itself (``monitors.detect.judge_metric``) over the stored metric history, loaded the way a build
loads it (``History.from_rows`` over ``monitor_metrics`` and ``monitor_state``): the band of a
partition is fitted on the clean partitions before it, exactly what re-judging that partition
would use. So no schema change is needed and old meta schemas work as they are.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import cast

from sqlglot import exp

from slocompile.dialects.nodes import and_all, col, lit
from slocompile.engines.base import NothingStored, QueryFailed
from slocompile.engines.connect import connect
from slocompile.errors import SlocompileError
from slocompile.spec.model import TableSpec
from slocompile.sqltrees import meta

LAST = 90             # partitions shown in the grid and the plots (newest)
RUN_COLS = ["run_id", "target", "started_at", "finished_at", "status", "passed", "failed", "warned", "errored"]
RESULT_COLS = ["run_id", "table_name", "check_name", "check_type", "column_name", "partition", "status", "severity",
               "observed", "expected", "message"]
ALERT_COLS = ["partition", "column_name", "check_name", "metric", "severity", "observed", "expected", "message",
              "incident", "cause"]
INCIDENT_COLS = ["partition", "incident", "cause", "columns", "alerts", "severity"]
EVENT_COLS = ["incident", "event", "partition", "opened", "columns", "cause", "partitions", "severity"]
ACCEPT_COLS = ["column_name", "metric", "from_partition", "reason", "accepted_by", "accepted_at"]


@dataclass
class TableData:
    spec: TableSpec
    status: list[dict] = field(default_factory=list)  # latest status per partition (None: whole table)
    bad: list[dict] = field(default_factory=list)     # non-passing results of those latest checks
    bad_by_partition: dict = field(default_factory=dict)
    window: list[str] = field(default_factory=list)   # monitored partitions shown (newest LAST)
    series: dict = field(default_factory=dict)        # (column, metric) -> {partition: (value, alerted)}
    bands: dict = field(default_factory=dict)         # (column, metric) -> {partition: (lo, hi, expected)}
    alerts: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)       # incidents opened / recovered (monitor_incident_events)
    acceptances: list[dict] = field(default_factory=list)  # `slocompile accept` (monitor_acceptances)
    failed_rows: dict = field(default_factory=dict)  # check -> [{partition, values}] of the latest bad results


@dataclass
class ReportData:
    project: str
    target: str
    dialect: str
    where: str
    runs: list[dict]
    tables: list[TableData]
    generated: dt.datetime
    sql: dict = field(default_factory=dict)           # table -> {check: [(title, sql)]} or an error text
    last: int = LAST


# ------------------------------------------------------------------ reading the meta schema

def open_target(spec, target):
    """An engine that cannot change the warehouse (engines.connect's read_only: DuckDB's file
    read-only; a read-only Postgres session), and where it is."""
    try:
        engine = connect(target, spec.root, read_only=True)
    except NothingStored as e:
        raise SlocompileError(f"{e}: it keeps no history to report on" if e.in_memory
                              else f"{e}; run `slocompile build` first") from None
    return engine, getattr(engine, "where", None) or getattr(engine, "path", None) or target.name


def _rows(engine, schemas, name: str, columns: list[str], where=None, order: str | None = None,
          limit: int | None = None) -> list[dict]:
    from slocompile.dialects.render import render

    q = exp.select(*[col(c) for c in columns]).from_(meta.table(schemas, name))
    if where is not None:
        q = q.where(where)
    if order:
        q = q.order_by(exp.Ordered(this=col(order), desc=True))
    if limit:
        q = q.limit(limit)
    return [dict(zip(columns, r)) for r in engine.query(render(q, engine.dialect))]


def _optional(engine, schemas, name, columns, where=None) -> list[dict]:
    """Rows of a meta table older meta schemas may lack (the monitor tables)."""
    try:
        return _rows(engine, schemas, name, columns, where)
    except QueryFailed:
        return []


def _eq(column: str, value) -> exp.Expression:
    return exp.EQ(this=col(column), expression=lit(value))


def load(engine, spec, target, tables, last: int = LAST) -> ReportData:
    s = spec.schemas
    try:
        runs = _rows(engine, s, "runs", RUN_COLS, order="started_at", limit=15)
    except QueryFailed as e:
        raise SlocompileError(f"target '{target.name}': no slocompile history in schema '{s.meta}' (has "
                              f"`slocompile build` run on this target?): {str(e).splitlines()[0]}") from None
    out = ReportData(spec.name, target.name, target.dialect, "", runs, [], dt.datetime.now(dt.timezone.utc), last=last)
    if not tables:
        return out
    names = exp.In(this=col("table_name"), expressions=[lit(t.name) for t in tables])
    status = _rows(engine, s, "status", ["table_name", "partition", "status", "failed_checks", "run_id",
                                         "checked_at"], names)
    latest = {(r["table_name"], r["partition"]): r["run_id"] for r in status}
    bad = []
    run_ids = sorted({r for r in latest.values() if r is not None})
    if run_ids:  # the non-passing results of the run that last checked each partition
        cond = and_all([names, exp.NEQ(this=col("status"), expression=lit("pass")),
                        exp.In(this=col("run_id"), expressions=[lit(r) for r in run_ids])])
        try:
            found = _rows(engine, s, "results", RESULT_COLS + ["segment"], cond)
        except QueryFailed:  # a meta schema no build of this version has upgraded yet (no segments)
            found = _rows(engine, s, "results", RESULT_COLS, cond)
        bad = [r for r in found if latest.get((r["table_name"], r["partition"])) == r["run_id"]]
    for t in tables:
        td = TableData(t, [r for r in status if r["table_name"] == t.name],
                       [r for r in bad if r["table_name"] == t.name])
        for r in td.bad:
            td.bad_by_partition.setdefault(r["partition"], []).append(r)
        _load_failed_rows(engine, s, td, run_ids)
        _load_monitors(engine, s, td, last)
        out.tables.append(td)
    return out


def _load_failed_rows(engine, schemas, td: TableData, run_ids: list[str]) -> None:
    """The failed-row samples (run.failures) of the table's latest non-passing results."""
    import json

    latest = {(b["check_name"], b["partition"], b["run_id"]) for b in td.bad}
    if not latest or not run_ids:
        return
    cond = and_all([_eq("table_name", td.spec.name), exp.In(this=col("run_id"), expressions=[lit(r) for r in run_ids])])
    rows = _optional(engine, schemas, "failed_rows", ["run_id", "check_name", "partition", "row_number", "row_values"],
                     cond)
    for r in sorted(rows, key=lambda r: (r["check_name"], r["row_number"])):
        # a sample of a whole-table check (an assert query) has no partition: shown with its check
        if (r["check_name"], r["partition"], r["run_id"]) in latest or r["partition"] is None:
            td.failed_rows.setdefault(r["check_name"], []).append(
                {"partition": r["partition"], "values": json.loads(r["row_values"])})


def _load_monitors(engine, schemas, td: TableData, last: int) -> None:
    """Metric history, alerts and incidents of the newest `last` monitored partitions, and the
    band each of them was judged against."""
    from slocompile.monitors.bands import settings_for

    name = td.spec.name
    state = [(name, r["column_name"], r["key"], r["value"]) for r in _optional(
        engine, schemas, "monitor_state", ["column_name", "key", "value"], _eq("table_name", name))]
    recorded = sorted(next((json.loads(v) for _, c, k, v in state if k == "partitions" and c is None), []))
    if not recorded:
        return
    td.window = recorded[-last:]
    settings = settings_for(td.spec.partition_grain, recorded)
    # the history judging the window needs: as in monitoring.load_history, a bounded span before it
    span = 2 * settings.window + settings.persist
    lo = recorded[max(0, len(recorded) - len(td.window) - span)]
    since = and_all([_eq("table_name", name), exp.GTE(this=col("partition"), expression=lit(lo))])
    metrics = _optional(engine, schemas, "monitor_metrics", ["column_name", "metric", "partition", "value", "alerted"],
                        since)
    first = and_all([_eq("table_name", name), exp.GTE(this=col("partition"), expression=lit(td.window[0]))])
    td.alerts = _optional(engine, schemas, "monitor_alerts", ALERT_COLS, first)
    td.incidents = _optional(engine, schemas, "monitor_incidents", INCIDENT_COLS, first)
    td.events = _optional(engine, schemas, "monitor_incident_events", EVENT_COLS, first)
    td.acceptances = _optional(engine, schemas, "monitor_acceptances", ACCEPT_COLS, _eq("table_name", name))
    state = [r for r in state if r[2] != "partitions"] + [
        (name, None, "partitions", json.dumps([p for p in recorded if p >= lo]))]
    td.series, td.bands = replay_bands(name, metrics, state, td.window, settings, td.acceptances)


def replay_bands(table: str, metric_rows: list[dict], state_rows: list[tuple], window: list[str], settings,
                 acceptances: list[dict] | None = None):
    """({(column, metric): {partition: (value, alerted)}}, {(column, metric): {partition: (lo, hi,
    expected)}}) for the alerting metrics, judged by the detection code against the history."""
    from slocompile.monitors import METRICS, History, detect
    from slocompile.monitors.history import Acceptance

    history = History.from_rows([(table, r["column_name"], r["metric"], r["partition"],
                                  math.nan if r["value"] is None else r["value"], r["alerted"])
                                 for r in metric_rows], (), state_rows, table=table)
    history.acceptances = [Acceptance(a["column_name"], a["metric"], a["from_partition"]) for a in acceptances or []]
    shown = set(window)
    series: dict = {}
    for r in metric_rows:
        if r["metric"] in METRICS and r["partition"] in shown:
            series.setdefault((r["column_name"], r["metric"]), {})[r["partition"]] = (r["value"], bool(r["alerted"]))
    bands: dict = {}
    for p in window:
        if p not in history.alerted:  # judged without metrics (an empty partition)
            continue
        current = {k: s[p] for k, s in history.values.items() if p in s}
        columns = sorted({c for c, _ in current if c is not None}, key=str)
        clean, t_new, wd_new = detect.baseline_context(history, p, columns, settings)  # as judge_partition
        for (c, m), v in current.items():
            if m not in METRICS or not math.isfinite(v):
                continue
            res = detect.judge_metric(history, c, m, v, clean.get(c, []), t_new, wd_new, settings, current, p)
            if res is not None:
                bands.setdefault((c, m), {})[p] = (res.verdict.lo, res.verdict.hi, res.verdict.expected)
    return series, bands


def check_sql(spec, dialect: str, tables: list[TableData]) -> dict:
    """table -> {check name: [(scan title, SQL or None for catalog reads, {alias: expression})]} for
    tables with a failed or warned check (the aliases name the check's own output columns of a
    fused scan); a text instead when the table no longer compiles."""
    from slocompile.compiling.compiler import compile_project
    from slocompile.dialects.render import render
    from slocompile.planning.planner import ALONE, FUSED
    from slocompile.sqltrees.scans import metric_aggregate

    out: dict = {}
    for td in tables:
        if not td.bad:
            continue
        try:
            ct = compile_project(spec, dialect, [td.spec.name]).tables[0]
        except SlocompileError as e:
            out[td.spec.name] = f"the table does not compile now: {e}"
            continue
        per = {}
        for check, metrics in ct.plan.checks:
            wanted, scans = set(metrics), []
            for scan, sql in ct.scans:
                if not wanted & set(scan.metrics):
                    continue
                mine = {}
                if scan.kind == FUSED and sql:  # scans.py names the n-th metric's column "m<n>"
                    mine = {f"m{i}": render(metric_aggregate(x), dialect) for i, x in enumerate(scan.metrics)
                            if x in wanted}
                elif scan.kind == ALONE and sql:  # COUNT(*) of the rows matching the metric's condition
                    # an alone scan's metric is a COUNT_IF, which has its condition in expr
                    mine = {"m0": "COUNT(*) WHERE " + render(cast(exp.Expression, scan.metrics[0].expr), dialect)}
                scans.append((f"{scan.kind} scan: {scan.reason}", sql, mine))
            per[check.name] = scans
        out[td.spec.name] = per
    return out
