"""`slocompile backtest`: replay every partition of monitored tables with ``monitors.detect_range``
on a read-only connection, each judged only by the partitions before it. It reads the column
families, segments and acceptances the builds recorded (so both judge the same columns the same
way) and never writes. Needs DuckDB (a read-only copy of the warehouse); elsewhere the builds judge.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from slocompile.engines.base import NothingStored
from slocompile.engines.connect import connect
from slocompile.errors import Problem, SlocompileError, SpecError, did_you_mean
from slocompile.monitors import History, detect_range
from slocompile.monitors.profile import list_partitions, parse_partition, partition_text
from slocompile.run import acceptances, selection
from slocompile.run.monitor_store import incidents, load_state, number
from slocompile.run.monitor_tables import monitor_spec, read_catalog, resolve_columns, resolve_segments, table_settings
from slocompile.spec.model import MonitorSpec

BACKTEST_ENGINES = ("duckdb",)  # backtest reads a read-only copy of the warehouse; elsewhere the builds judge

@dataclass
class Backtest:
    alerts: list[dict]          # json-ready: partition, table, column, check, metric, severity, observed, ...
    tables: list[dict]          # table, partitions replayed, first, last, columns, monitored, alerts
    events: list[dict] = field(default_factory=list)  # incidents opened / recovered (monitors.incidents.track)


def alert_record(a: dict, severity: str) -> dict:
    return {"partition": a["partition"], "table": a["table"], "column": a["column"], "check": a["check"],
            "metric": a["metric"], "severity": severity, "observed": number(a["observed"]),
            "expected": a["expected"], "message": a["message"], "incident": a.get("incident"),
            "cause": a.get("cause"), "incident_opened": a.get("incident_opened")}


def backtest(project, target_name: str | None = None, select: list[str] | None = None,
             start: str | None = None, end: str | None = None) -> Backtest:
    """Replay the partitions of monitored tables (or the selected tables, monitored or not:
    ``monitor: all`` is assumed) in order, each judged only by the partitions before it; the
    alerts of partitions in [start, end]. Opens the database read-only: writes nothing."""
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
            catalog = read_catalog(engine, table.relation)
            if not catalog:
                raise SpecError([Problem(table.loc, f"table '{table.name}': relation {table.relation_text} "
                                                    "does not exist")])
            if table.partition not in dict(catalog):
                raise SpecError([Problem(table.loc, f"table '{table.name}': column '{table.partition}' is not in "
                                         f"{table.relation_text}{did_you_mean(table.partition, dict(catalog))}")])
            _state, _recorded, families, known_segments = load_state(engine, project.schemas, table.name)
            columns = resolve_columns(engine, table, table.relation, catalog, families)
            spec = monitor_spec(table, table.relation, catalog, columns)
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
