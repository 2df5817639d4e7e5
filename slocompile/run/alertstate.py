"""The alerts of a build before they are delivered: change detection, the state of every check
after the build, and each alert's JSON payload (the contract of `webhook` and `command`).

The unit of status is one check on one partition (the whole table for whole-table checks and
unpartitioned tables); `<meta>.check_status` holds the latest status of every unit. A build
compares each unit it checked with that latest status: a unit that now fails (or errors) and did
not fail before is a `fail` change, likewise `warn`, and a unit that passes after failing or
warning (in a way the trigger listens to) is a `recover` change. A unit seen for the first time
counts as changed: a table's first failing build fires. With `repeat: true` a trigger fires on
every build for every selected unit that fails or warns.

One alert = one trigger x one table x one event in one build, listing its units (with `each:
true`: one trigger x one table x one check x one event).

Monitor incidents: a unit of a monitor check carries the `incident` (and `cause`) its monitor
alert belongs to, from `run.monitors[table].alerts`. With the incident events the build opened or
ended (`run.incident_events`: dicts with at least `table`, `incident` and `event`, `open` or
`recover`), the payload of each of its tables lists them under `incident_events`. All of a
table's units are in one alert per event, so the alerts of one incident never travel apart; an
incident is announced once: the failures of its later partitions (opened by an earlier build) are
recorded but not sent again, and its end is sent as one `recover` unit `incident <id>`.
"""
from __future__ import annotations

from dataclasses import dataclass

from slocompile.declarations.triggers import Trigger
from slocompile.spec.model import partition_label

PENDING, DELIVERED, FAILED, RECORDED = "pending", "delivered", "failed", "recorded"
MUTED, RELEASED, EXPIRED = "muted", "released", "expired"  # held by a mute; after it ended
SENT = (PENDING, DELIVERED, FAILED)  # rows that were (or will be) sent
EVENTS = ("fail", "warn", "recover")

Key = tuple  # (table, check, partition)


def kind_of(status: str | None, severity: str | None) -> str | None:
    """fail | warn | pass for a result status (an error counts as its severity's failure)."""
    if status is None:
        return None
    if status in ("fail", "error"):
        return "fail" if severity == "error" else "warn"
    return "warn" if status == "warn" else "pass"


@dataclass
class Alert:
    alert_id: str
    trigger: Trigger
    event: str
    table: str
    units: list[dict]
    note: str | None = None  # why it is sent when no status changed: a reminder, a mute that ended


def detect(triggers, run, previous: dict) -> list[Alert]:
    """The alerts of a build. `previous`: (table, check, partition) -> (status, severity). With
    `each: true` a unit is an alert of its own, but the monitor alerts of one incident stay one."""
    alerts = []
    n = 0
    incidents = incidents_of(run)
    events = run.incident_events
    continued = continuing_units(run)
    for trig in triggers:
        for tr in run.tables:
            if not trig.selects(tr.table.name):
                continue
            buckets: dict[tuple, list[dict]] = {}
            worst = unit_status(tr.results)  # a check with group_by: its unit is as bad as its worst segment
            recovered: set[Key] = set()
            for r in tr.results:
                owner, tags = tr.table.labels(r.check, r.column)
                if not trig.selects(r.table, r.check) or not trig.wants_severity(r.severity) \
                        or not trig.wants_labels(owner, tags):
                    continue
                before = previous.get((r.table, r.check, r.partition))
                was = kind_of(*before) if before else None
                now = kind_of(r.status, r.severity)
                if r.segment is not None and now == "pass":  # recovers once, when no segment fails any more
                    this = (r.table, r.check, r.partition)
                    if kind_of(*worst[this]) != "pass" or this in recovered:
                        continue
                    recovered.add(this)
                event = None
                if now in ("fail", "warn") and now in trig.on and (was != now or trig.repeat):
                    event = now
                elif now == "pass" and was in ("fail", "warn") and was in trig.on and "recover" in trig.on:
                    event = "recover"
                if event in ("fail", "warn") and not trig.repeat and (r.table, r.check, r.partition) in continued:
                    continue  # a later partition of an incident already announced: marked, not re-sent
                if event:
                    unit = dict(r.as_dict(), owner=owner, tags=list(tags))
                    unit["previous"] = before[0] if before else None
                    buckets.setdefault((event, _each_key(r, incidents) if trig.each else ""), []).append(unit)
            labels = {"owner": tr.table.owner, "tags": list(tr.table.tags)}  # an incident's: its table's
            if "recover" in trig.on and trig.wants_labels(tr.table.owner, tr.table.tags):
                # an incident that ended: heard once, even if no check status changed
                for e in events:
                    if e.get("event") == "recover" and e.get("table") == tr.table.name:
                        key = ("recover", f"incident {e.get('incident')}" if trig.each else "")
                        buckets.setdefault(key, []).append(_recovered_unit(e) | labels)
            for key in sorted(buckets, key=lambda k: (EVENTS.index(k[0]), k[1])):
                n += 1
                alerts.append(Alert(f"{run.run_id}-{n}", trig, key[0], tr.table.name, buckets[key]))
    return alerts


def continuing_units(run) -> set[Key]:
    """(table, check, partition label) of the build's monitor alerts on a partition after the one
    their incident opened on: the incident was announced with its first partition."""
    out: set[Key] = set()
    for table, tm in run.monitors.items():
        for a in tm.alerts:
            p, opened = a.get("partition"), a.get("incident_opened")
            if p is not None and opened is not None and partition_label(p) != partition_label(opened):
                out.add((table, a.get("check"), partition_label(p)))
    return out


def _recovered_unit(event: dict) -> dict:
    columns = event.get("columns") or []
    return {"table": event.get("table"), "check": f"incident {event.get('incident')}", "check_type": "monitor",
            "column": ", ".join(columns) if isinstance(columns, list) else columns,
            "partition": event.get("partition"), "status": "pass", "severity": None,
            "observed": None, "expected": None,
            "incident": event.get("incident"), "cause": event.get("cause"),
            "message": event.get("reason") or "the monitored metrics are back in their bands", "previous": "fail"}


def _each_key(r, incidents: dict) -> str:
    found = incidents.get((r.table, r.check, r.partition))
    return f"incident {found[0]}" if found and found[0] else f"check {r.check}"


def after_state(previous: dict, run) -> dict:
    """(table, check, partition) -> (status, severity) of the build's tables once it is recorded:
    what `check_status` holds after the build (the rows it replaces are those it replaces there)."""
    state: dict = dict(previous)
    for tr in run.tables:
        name = tr.table.name
        if tr.partitions is None:
            replaced = None
        else:
            replaced = set(tr.partitions) | {r.partition for r in tr.results if r.partition is not None} | {None}
        for key in [k for k in state if k[0] == name and (replaced is None or k[2] in replaced)]:
            del state[key]
        state.update(unit_status(tr.results))
    return state


_RANK = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


def unit_status(results) -> dict[Key, tuple[str, str]]:
    """(table, check, partition) -> (status, severity) of each unit: the worst of its results (a
    check with group_by has one result per segment)."""
    out: dict[Key, tuple[str, str]] = {}
    for r in results:
        key = (r.table, r.check, r.partition)
        if key not in out or _RANK.get(r.status, 0) > _RANK.get(out[key][0], 0):
            out[key] = (r.status, r.severity)
    return out


def failing_units(trig: Trigger, table: str, state: dict, spec=None) -> list[dict]:
    """The units of `table` that fail or warn in `state` in a way `trig` listens to (`spec`: the
    table's TableSpec, for the checks' owner and tags)."""
    out = []
    for (t, check, partition), (status, severity) in sorted(state.items(), key=lambda kv: (kv[0][1], kv[0][2] or "")):
        kind = kind_of(status, severity)
        owner, tags = spec.labels(check) if spec is not None else (None, ())
        if t == table and kind in ("fail", "warn") and kind in trig.on and trig.selects(t, check) \
                and trig.wants_severity(severity) and (spec is None or trig.wants_labels(owner, tags)):
            out.append({"table": t, "check": check, "partition": partition, "status": status, "severity": severity,
                        "kind": kind, "owner": owner, "tags": list(tags)})
    return out


def is_monitor_check(spec, check: str) -> bool:
    """A monitor's result (`monitor`, `monitor_<metric>`: run.monitors), not a declared check of the
    table `spec`."""
    return spec.monitor is not None and (check == "monitor" or check.startswith("monitor_")) \
        and all(c.name != check for c in spec.checks)


def incidents_of(run) -> dict[Key, tuple[str | None, str | None]]:
    """(table, check, partition label) -> (incident, cause) of the build's monitor alerts."""
    out: dict[Key, tuple[str | None, str | None]] = {}
    for table, tm in run.monitors.items():
        for a in tm.alerts:
            p = a.get("partition")
            out[(table, a.get("check"), partition_label(p) if p is not None else None)] = (a.get("incident"),
                                                                                          a.get("cause"))
    return out


def payload(alert: Alert, run, state: dict | None = None, incidents: dict | None = None) -> dict:
    """The alert's JSON: the contract keys (alert_id ... results), then `still_failing` (the checks
    of the table the trigger listens to that fail after this build), and `still_failing_monitors`
    (those of them that are monitor alerts), `note` and `incident_events` when there are any."""
    project = run.project
    checks = sorted({u["check"] for u in alert.units})
    verb = {"fail": "failed", "warn": "warned", "recover": "recovered"}[alert.event]
    parts = sorted({u["partition"] for u in alert.units if u["partition"] is not None})
    summary = f"{alert.table}: {len(checks)} SLO{'s' if len(checks) != 1 else ''} {verb}: {', '.join(checks)}"
    if parts:
        summary += f" (partitions {', '.join(parts[:10])}{', ...' if len(parts) > 10 else ''})"
    for u in alert.units:
        found = (incidents or {}).get((u["table"], u["check"], u["partition"]))
        if found and found[0]:
            u["incident"], u["cause"] = found
    out = {"alert_id": alert.alert_id, "trigger": alert.trigger.name, "event": alert.event, "table": alert.table,
           "view": f"{project.schemas.validated}.{alert.table}", "project": project.name, "target": run.target,
           "run_id": run.run_id, "at": (run.finished_at or run.started_at).isoformat() + "Z", "summary": summary,
           "results": alert.units}
    if state is not None:
        spec = project.table(alert.table)
        out["still_failing"] = sorted({u["check"] for u in failing_units(alert.trigger, alert.table, state, spec)})
        monitors = [c for c in out["still_failing"] if spec is not None and is_monitor_check(spec, c)]
        if monitors:  # their alerts belong to monitor incidents (PagerDuty pages per incident)
            out["still_failing_monitors"] = monitors
    if alert.note:
        out["note"] = alert.note
    events = [e for e in run.incident_events if e.get("table") == alert.table]
    if events:
        out["incident_events"] = events
    return out
