"""Incident events of the monitors in the build: which of a build's `open` and `recover` events
are new (what a trigger notifies) and which recorded incidents re-judging made disappear.

``monitors.incidents.track`` follows incidents across partitions; a build re-judges the partitions
it checks (new, failing, changed), so a failing partition's events come again: only those not
recorded in `<meta>.monitor_incident_events` by an earlier build are ``new``. The table is a log:
rows are appended, never replaced.
"""
from __future__ import annotations

from slocompile.dialects.render import render
from slocompile.engines.base import Engine
from slocompile.sqltrees import meta
from slocompile.sqltrees.profiles import meta_rows


def _query(engine: Engine, q) -> list[tuple]:
    return engine.query(render(q, engine.dialect, copy=False))


EVENT_FIELDS = ["incident", "event", "partition", "opened", "columns", "cause", "partitions"]


def recorded_events(engine: Engine, schemas, table: str, since: str) -> dict[tuple, dict]:
    """{(incident, event, partition): event} of the incident events recorded for partitions >= since."""
    if engine.columns(meta.table(schemas, "monitor_incident_events")) is None:
        return {}
    rows = _query(engine, meta_rows(schemas, "monitor_incident_events", EVENT_FIELDS, table, since=since))
    return {tuple(r[:3]): dict(zip(EVENT_FIELDS, r)) for r in rows}


def new_events(table: str, events: list[dict], alerts: list[dict], known: dict[tuple, dict], first: str) -> list[dict]:
    """The events of this build's judging, each marked ``new`` unless an earlier build recorded it,
    plus a ``recover`` for each recorded open incident that re-judging made disappear (its change
    was accepted meanwhile, or the partitions changed): whoever heard of its opening hears it end."""
    out = [dict(e, new=(e["incident"], e["event"], e["partition"]) not in known) for e in events]
    alive = {a.get("incident") for a in alerts} | {e["incident"] for e in events}
    ended = {k[0] for k in known if k[1] == "recover"}
    for (incident, kind, _p), e in sorted(known.items()):
        if kind == "open" and incident not in alive and incident not in ended:
            out.append({"event": "recover", "table": table, "incident": incident, "partition": max(e["opened"], first),
                        "opened": e["opened"], "columns": [c for c in (e["columns"] or "").split(", ") if c],
                        "cause": e["cause"], "partitions": e["partitions"], "last": e["opened"], "new": True,
                        "reason": "no longer an anomaly (accepted, or the data changed)"})
    return out
