"""Event triggers in a build: actions that run when an SLO's status changes (the declarations,
`triggers:` lists, are parsed by declarations.triggers; change detection and the payloads are
run.alertstate, message formats run.destinations, mutes run.mutes).

Alerts are recorded in `<meta>.alerts` (one row per alert and action) in the build's commit, as
`pending`, and delivered after the commit (an outbox): a build killed before delivering leaves
them pending and the next build delivers them. Delivery never fails a build: a failed delivery
is recorded (`delivery = 'failed'`, with the reason) and reported.

Messages: a plain `webhook`, `command` and `sql` run once per alert (its JSON payload, the
contract). `slack`, `teams`, `pagerduty` and a `webhook` with a `payload:` template get one
message per build (all pending alerts of one build and trigger; PagerDuty one event per table),
or, with `each: true`, one per alert (one check).

Also in the build's commit: alerts a mute holds (`muted`, not delivered), held alerts whose mute
ended (delivered once if their checks still fail), and `renotify:` reminders.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

from sqlglot import exp

from slocompile.declarations.triggers import Action, origin
from slocompile.dialects.nodes import col, lit
from slocompile.dialects.render import render
from slocompile.engines.base import QueryFailed
from slocompile.run import destinations, mutes
from slocompile.run.alertstate import (
    DELIVERED,
    EXPIRED,
    FAILED,
    MUTED,
    PENDING,
    RECORDED,
    RELEASED,
    SENT,
    Alert,
    after_state,
    detect,
    failing_units,
    incidents_of,
    kind_of,
    payload,
    unit_status,
)
from slocompile.sqltrees import meta
from slocompile.support.secrets import redact, redact_data
from slocompile.support.testhooks import pause
from slocompile.support.version import __version__

__all__ = ["Alert", "DELIVERED", "FAILED", "PENDING", "RECORDED", "detect", "kind_of", "payload", "deliver",
           "statements", "post", "summary_lines"]
MAX_BACKOFF = 60.0
MAX_DETAIL = 500
MAX_STDERR = 64 * 1024


# ------------------------------------------------------------------ the build's commit

def _statuses(engine, project, names: list[str]) -> dict:
    """(table, check, partition) -> (status, severity) of these tables in check_status."""
    if not names:
        return {}
    q = exp.select(col("table_name"), col("check_name"), col("partition"), col("status"), col("severity")).from_(
        meta.table(project.schemas, "check_status"), copy=False).where(
        exp.In(this=col("table_name"), expressions=[lit(n) for n in sorted(set(names))]), copy=False)
    return {(t, c, p): (st, sev) for t, c, p, st, sev in engine.query(render(q, engine.dialect))}


def _status_statements(project, run) -> list[exp.Expression | meta.Rows]:
    s = project.schemas
    # one DELETE of the rows the build replaces and one bulk insert, for all the tables
    replaced = [(tr.table.name, None if tr.partitions is None else sorted(
        {p for p in tr.partitions} | {r.partition for r in tr.results if r.partition is not None}))
        for tr in run.tables]
    rows = []
    for tr in run.tables:
        column = {(r.table, r.check, r.partition): r.column for r in tr.results}
        rows += [(t, c, column[(t, c, p)], p, status, severity, run.run_id, run.finished_at)
                 for (t, c, p), (status, severity) in unit_status(tr.results).items()]
    return [*meta.delete_replaced(s, "check_status", replaced), *meta.rows(s, "check_status", rows)]


def statements(project, run, engine) -> list[exp.Expression | meta.Rows]:
    """The latest status of every check and partition the build measured, and its alerts (pending,
    or muted), released mutes and reminders: statements for the build's one commit."""
    s = project.schemas
    previous = _statuses(engine, project, [tr.table.name for tr in run.tables])
    now = run.finished_at
    out = _status_statements(project, run)
    state = after_state(previous, run)
    active = mutes.active(engine, s, now)
    alerts: list[Alert] = []
    held: list[tuple[Alert, mutes.Mute]] = []
    for a in detect(project.triggers, run, previous):
        loud = [u for u in a.units if mutes.mute_for(active, u["table"], u["check"]) is None]
        quiet = [u for u in a.units if u not in loud]
        if loud:
            alerts.append(Alert(a.alert_id, a.trigger, a.event, a.table, loud, a.note))
        if quiet:
            m = mutes.mute_for(active, a.table, quiet[0]["check"])
            assert m is not None  # a unit is quiet because a mute matches it
            held.append((Alert(f"{a.alert_id}m", a.trigger, a.event, a.table, quiet), m))
    updates, released = _release(engine, project, run, state, active)
    alerts += released
    alerts += _reminders(engine, project, run, state, active, alerts)
    incidents = incidents_of(run)
    rows: list[tuple] = []
    for a, mute in [(a, None) for a in alerts] + held:
        body = json.dumps(redact_data(payload(a, run, state, incidents)), default=str, ensure_ascii=False)
        checks = ", ".join(sorted({u["check"] for u in a.units}))
        if mute is not None:
            rows.append((a.alert_id, run.run_id, a.trigger.name, a.event, a.table, checks, None, None, None,
                         MUTED, 0, redact(mute.describe())[:MAX_DETAIL], body, now, None))
        elif not a.trigger.actions:
            rows.append((a.alert_id, run.run_id, a.trigger.name, a.event, a.table, checks, None, None, None,
                         RECORDED, 0, None, body, now, None))
        else:
            for i, action in enumerate(a.trigger.actions):
                rows.append((a.alert_id, run.run_id, a.trigger.name, a.event, a.table, checks, i, action.kind,
                             action.destination, PENDING, 0, None, body, now, None))
    return out + updates + meta.rows(s, "alerts", rows)


def _alert_rows(engine, project, columns: list[str], where: exp.Expression) -> list[tuple]:
    q = exp.select(*(col(c) for c in columns)).from_(meta.table(project.schemas, "alerts"), copy=False).where(
        where, copy=False).order_by(col("created_at"), col("alert_id"), copy=False)
    return engine.query(render(q, engine.dialect))


def _set_delivery(project, alert_id: str, delivery: str, detail: str) -> exp.Update:
    return exp.Update(this=meta.table(project.schemas, "alerts"), expressions=[
        exp.EQ(this=col("delivery"), expression=lit(delivery)),
        exp.EQ(this=col("detail"), expression=lit(redact(detail)[:MAX_DETAIL]))],
        where=exp.Where(this=exp.And(this=exp.EQ(this=col("alert_id"), expression=lit(alert_id)),
                                     expression=exp.EQ(this=col("delivery"), expression=lit(MUTED)))))


def _release(engine, project, run, state: dict, active: list) -> tuple[list[exp.Expression], list[Alert]]:
    """Held alerts (muted) of which no unit is muted any more: delivered once as a new alert of
    this build with the units that still fail or warn as they did (`released`), or dropped when
    they recovered meanwhile (`expired`). Recoveries held by a mute are dropped."""
    held = _alert_rows(engine, project, ["alert_id", "trigger_name", "event", "table_name", "payload"],
                       exp.EQ(this=col("delivery"), expression=lit(MUTED)))
    triggers = {t.name: t for t in project.triggers}
    run_tables = {tr.table.name for tr in run.tables}
    outside = _statuses(engine, project, [r[3] for r in held if r[3] not in run_tables])
    updates: list[exp.Expression] = []
    released: list[Alert] = []
    for n, (alert_id, tname, event, table, body) in enumerate(held, 1):
        units = (json.loads(body or "{}").get("results") or [])
        if any(mutes.mute_for(active, table, u.get("check")) is not None for u in units):
            continue  # still muted
        trig = triggers.get(tname)
        now_state = state if table in run_tables else outside
        still = [u for u in units if trig is not None and event != "recover"
                 and kind_of(*now_state.get((table, u.get("check"), u.get("partition")), (None, None))) == event]
        if not still:
            updates.append(_set_delivery(project, alert_id, EXPIRED, "the mute ended; the checks no longer "
                                         + ("fail" if event != "recover" else "need a message")))
            continue
        assert trig is not None  # `still` is empty without the trigger
        new = Alert(f"{run.run_id}-u{n}", trig, event, table, still,
                    note=f"held by a mute that ended (alert {alert_id})")
        released.append(new)
        updates.append(_set_delivery(project, alert_id, RELEASED, f"the mute ended; sent as alert {new.alert_id}"))
    return updates, released


def _reminders(engine, project, run, state: dict, active: list, alerts: list[Alert]) -> list[Alert]:
    """`renotify: D`: one alert per trigger and table of the build whose checks still fail (as the
    trigger listens to) when nothing was sent about that table for D."""
    wanted = [t for t in project.triggers if t.renotify]
    if not wanted:
        return []
    sent_now = {(a.trigger.name, a.table) for a in alerts}
    last: dict[tuple[str, str], dt.datetime] = {}
    for tname, table, created in _alert_rows(engine, project, ["trigger_name", "table_name", "created_at"],
                                             exp.In(this=col("delivery"), expressions=[lit(d) for d in SENT])):
        if created is not None and (last.get((tname, table)) is None or created > last[(tname, table)]):
            last[(tname, table)] = created
    out: list[Alert] = []
    now = run.finished_at
    for trig in wanted:
        for tr in run.tables:
            table = tr.table.name
            before = last.get((trig.name, table))
            if (trig.name, table) in sent_now or before is None or (now - before).total_seconds() < trig.renotify:
                continue
            units = [u for u in failing_units(trig, table, state, tr.table)
                     if mutes.mute_for(active, table, u["check"]) is None]
            measured = {(r.table, r.check, r.partition): r.as_dict() | {"owner": u_owner, "tags": list(u_tags)}
                        for r in tr.results for u_owner, u_tags in [tr.table.labels(r.check, r.column)]}
            for event in ("fail", "warn"):
                mine = [measured.get((table, u["check"], u["partition"]))
                        or {k: v for k, v in u.items() if k != "kind"} for u in units if u["kind"] == event]
                if mine:
                    out.append(Alert(f"{run.run_id}-r{len(out) + 1}", trig, event, table, mine,
                                     note=f"reminder: still failing (last message {before:%Y-%m-%d %H:%M} UTC)"))
    return out


# ------------------------------------------------------------------ delivery (after the commit)

@dataclass
class Delivery:
    alert_id: str
    trigger: str
    event: str
    table: str
    action: str
    destination: str
    delivery: str
    attempts: int
    detail: str
    run_id: str

    def as_dict(self) -> dict:
        return dict(vars(self))


def deliver(project, run, engine) -> list[Delivery]:
    """Send every pending alert (this build's, and any a killed build left) and record the outcome:
    one message per alert, or per build and trigger for actions that summarise (module docstring)."""
    pause("published")
    s = project.schemas
    q = exp.select(*(col(c) for c in ("alert_id", "run_id", "trigger_name", "event", "table_name", "action_index",
                                      "action", "destination", "payload"))).from_(
        meta.table(s, "alerts"), copy=False).where(
        exp.EQ(this=col("delivery"), expression=lit(PENDING)), copy=False).order_by(
        col("created_at"), col("alert_id"), col("action_index"), copy=False)
    triggers = {t.name: t for t in project.triggers}
    groups: dict[tuple, list[tuple]] = {}
    for row in engine.query(render(q, engine.dialect)):
        alert_id, run_id, tname, _, _, index, kind, _, _ = row
        trig = triggers.get(tname)
        action = trig.actions[index] if trig is not None and index is not None and index < len(trig.actions) else None
        if action is None or action.kind != kind:
            key: tuple = ("gone", alert_id, index)
        elif action.grouped and not (trig is not None and trig.each):
            key = ("build", run_id, tname, index)
        else:
            key = ("alert", alert_id, index)
        groups.setdefault(key, []).append(row)
    out = []
    for key, members in groups.items():
        alert_id, run_id, tname, event, table, index, kind, dest, body = members[0]
        trig = triggers.get(tname)
        if key[0] == "gone" or trig is None:
            status, attempts, detail = FAILED, 0, "the trigger or action is no longer declared"
        elif trig.actions[index].grouped:
            status, attempts, detail = _send(trig.actions[index], [m[8] for m in members], trig.each)
        else:
            status, attempts, detail = _run_action(trig.actions[index], body, project, engine, event, tname, table)
        detail = redact(detail or "")[:MAX_DETAIL]  # stderr or an error may echo a secret
        finished = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        with engine.transaction():
            for m in members:
                engine.execute(render(_delivered(s, m[0], m[5], status, attempts, detail, finished), engine.dialect))
        events = "+".join(dict.fromkeys(m[3] for m in members))
        tables = ", ".join(dict.fromkeys(m[4] for m in members))
        out.append(Delivery(alert_id, tname, events, tables, kind, redact(dest), status, attempts, detail, run_id))
    return out


def _delivered(s, alert_id: str, index, status: str, attempts: int, detail: str, finished) -> exp.Update:
    return exp.Update(this=meta.table(s, "alerts"), expressions=[
        exp.EQ(this=col("delivery"), expression=lit(status)),
        exp.EQ(this=col("attempts"), expression=lit(attempts)),
        exp.EQ(this=col("detail"), expression=lit(detail)),
        exp.EQ(this=col("delivered_at"), expression=exp.cast(lit(finished.isoformat(sep=" ")),
                                                             exp.DataType.Type.TIMESTAMP))],
        where=exp.Where(this=exp.And(
            this=exp.EQ(this=col("alert_id"), expression=lit(alert_id)),
            expression=exp.EQ(this=col("action_index"), expression=lit(index)))))


def _send(action: Action, bodies: list[str], each: bool):
    """POST the messages of a summarising action (slack, teams, pagerduty, webhook with payload)."""
    try:
        messages = destinations.bodies(action, [json.loads(b) for b in bodies], each)
    except Exception as e:  # a payload template that fails on this event, or renders no JSON
        return FAILED, 0, f"the message could not be made: {type(e).__name__}: {e}"
    attempts, details, status = 0, [], DELIVERED
    assert action.url is not None  # these actions always have their URL
    for data, content_type in messages:
        st, n, detail = post(action.url, data, {**action.headers, "Content-Type": content_type}, action.timeout,
                             action.retries, action.backoff)
        attempts += n
        details.append(detail)
        if st != DELIVERED:
            status = FAILED
    detail = details[0] if len(set(details)) == 1 else "; ".join(details)
    if len(messages) > 1:
        detail = f"{len(messages)} messages: {detail}"
    return status, attempts, detail


def _run_action(action: Action, body: str, project, engine, event: str, trigger: str, table: str):
    try:
        if action.kind == "webhook":
            assert action.url is not None  # a webhook action always has its URL
            return post(action.url, body.encode("utf-8"), action.headers, action.timeout, action.retries,
                        action.backoff)
        if action.kind == "command":
            return _command(action, body, project.root, event, trigger, table)
        return _sql(action, project, engine)
    except Exception as e:  # an action never takes the build down
        return FAILED, 1, f"{type(e).__name__}: {e}"


@functools.lru_cache(maxsize=1)
def _opener():
    """urllib's opener, made (and urllib.request imported: HTTP and TLS, 7 ms) on the first POST."""
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        """Redirects are not followed: urllib would repeat the POST as a GET to wherever the server
        points, Authorization header included. A 3xx then surfaces as an HTTPError."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None

    return urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict, timeout: float, retries: int, backoff: float):
    """POST with retries and exponential backoff on connection errors, timeouts, 408, 429 and 5xx.
    Delivered only when the endpoint answers the POST itself with a 2xx; a redirect is a failed
    delivery (not followed, not retried). Returns (delivery, attempts, detail)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    attempts, last = 0, ""
    for attempt in range(retries + 1):
        attempts += 1
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": f"slocompile/{__version__}", **headers})
        try:
            with _opener().open(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return DELIVERED, attempts, f"HTTP {response.status}"
                return FAILED, attempts, f"HTTP {response.status} {response.reason} (not retried)"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code} {e.reason}"
            if 300 <= e.code < 400:
                where = e.headers.get("Location") if e.headers is not None else None
                to = f" to {origin(urllib.parse.urljoin(url, where))}" if where else ""
                return FAILED, attempts, f"{last}: redirect{to} not followed (not retried)"
            if e.code < 500 and e.code not in (408, 429):
                return FAILED, attempts, last + " (not retried)"
        except urllib.error.URLError as e:
            last = f"{e.reason}"
        except (TimeoutError, OSError) as e:
            last = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        if attempt < retries:
            time.sleep(min(backoff * (2 ** attempt), MAX_BACKOFF))
    return FAILED, attempts, f"{last} (after {attempts} attempt{'s' if attempts != 1 else ''})"


def _command(action: Action, body: str, root: str, event: str, trigger: str, table: str):
    """Run the command in a session of its own, the event on stdin. Only the shell's exit counts:
    stdin and stderr are files, so a background child holding them open cannot make a command
    that exited look hung. After `timeout` the whole process group is stopped (TERM, then KILL)."""
    assert action.command is not None  # a command action always has its command
    env = {**os.environ, "SLOCOMPILE_TRIGGER": trigger, "SLOCOMPILE_EVENT": event, "SLOCOMPILE_TABLE": table}
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stderr:
        stdin.write(body.encode("utf-8"))
        stdin.seek(0)
        proc = subprocess.Popen(action.command, shell=True, cwd=root, env=env, stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        try:
            code = proc.wait(timeout=action.timeout)
        except subprocess.TimeoutExpired:
            code = _stop_group(proc)
            if code != 0:  # 0: it exited on its own just as the time ran out
                return FAILED, 1, f"timed out after {action.timeout:g}s (its processes were stopped)"
        except BaseException:  # interrupted: its own session would not see the Ctrl-C
            _stop_group(proc, grace=0.5)
            raise
        if code == 0:
            return DELIVERED, 1, "exit 0"
        stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - MAX_STDERR))  # the last lines matter
        err = stderr.read().decode("utf-8", "replace").strip().splitlines()
    return FAILED, 1, f"exit {code}" + (f": {err[-1]}" if err else "")


def _stop_group(proc: subprocess.Popen, grace: float = 2.0) -> int:
    """TERM the command's process group, KILL what is left of it after `grace` seconds (children
    that ignore TERM or outlive the shell too); the shell's exit code."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
    return proc.wait()


def _signal_group(proc: subprocess.Popen, sig) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, sig)  # the group outlives its leader while any member runs
        else:  # no process groups (Windows): the shell alone
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def _sql(action: Action, project, engine):
    assert action.tree is not None  # an sql action keeps its parsed statement
    text = action.sql if engine.dialect == project.sql_dialect else action.tree.sql(dialect=engine.dialect)
    try:
        with engine.transaction():
            engine.execute(text)
    except QueryFailed as e:
        return FAILED, 1, redact(str(e).splitlines()[0]) if str(e) else "failed"
    return DELIVERED, 1, "ok"


def summary_lines(run) -> list[tuple[str, str]]:
    """(status, text) per delivery, for the terminal."""
    out = []
    for d in getattr(run, "alerts", []) or []:
        note = f" (from run {d.run_id})" if d.run_id != run.run_id else ""
        out.append((d.delivery, redact(f"alert {d.trigger}: {d.event} {d.table} -> {d.action} {d.destination}: "
                                       f"{d.delivery}{', ' + d.detail if d.detail else ''}{note}")))
    return out
