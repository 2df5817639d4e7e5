"""The monitors' history in the meta schema: what a build loads before judging and writes after.

- **load** (``load_state``, ``load_history``): the table's learned state, its recorded partitions,
  column families and segment values; then only a bounded window of history (what judging reads:
  ``2 * window + persist`` partitions before the first one judged), so a build's cost does not grow
  with the table's age.
- **write** (``statements``, ``record_history``, inside the build's one transaction):
  ``monitor_metrics``, ``monitor_summaries`` and ``monitor_state`` (``History.to_rows``, plus the
  column families discovered once), ``monitor_alerts``, ``monitor_incidents`` and the appended
  ``monitor_incident_events``; a re-judged partition replaces its rows. The bulk rows go through
  the engine's ``insert_rows`` (no SQL literals built as trees: sqlglot would spend seconds on a
  long history's VALUES lists).
"""
from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass

from sqlglot import exp

from slocompile.dialects.render import render
from slocompile.engines.base import Engine
from slocompile.monitors import History
from slocompile.sqltrees import meta
from slocompile.sqltrees.profiles import meta_delete, meta_rows


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


def load_history(engine: Engine, schemas, table: str, state: list[tuple], recorded: list[str], first: str, settings):
    """The History judging `first` (and the partitions after it) needs: every partition from
    ``2 * window + persist`` before `first` on, plus the table's learned state."""
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


def number(v):
    """A finite number, else None (what the meta tables and results store)."""
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None


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
        rows = history_rows(tm.history, tm.judged)
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
             number(a["observed"]), a["expected"], a["message"], a.get("incident"), a.get("cause"), now)
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


def history_rows(history, partitions: list[str]) -> dict[str, list[tuple]]:
    """``History.to_rows`` of the given partitions only (and the whole learned state)."""
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

