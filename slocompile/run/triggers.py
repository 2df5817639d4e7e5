"""Event triggers in a build: actions that run when an SLO's status changes (the declarations,
`triggers:` lists, are parsed by declarations.triggers).

The unit of status is one check on one partition (the whole table for whole-table checks and
unpartitioned tables); `<meta>.check_status` holds the latest status of every unit. A build
compares each unit it checked with that latest status: a unit that now fails (or errors) and did
not fail before is a `fail` change, likewise `warn`, and a unit that passes after failing or
warning (in a way the trigger listens to) is a `recover` change. A unit seen for the first time
counts as changed: a table's first failing build fires. With `repeat: true` a trigger fires on
every build for every selected unit that fails or warns.

One alert = one trigger x one table x one event in one build, listing its units. Alerts are
recorded in `<meta>.alerts` (one row per action) in the build's commit, as `pending`, and
delivered after the commit (an outbox): a build killed before delivering leaves them pending and
the next build delivers them. Delivery never fails a build: a failed delivery is recorded
(`delivery = 'failed'`, with the reason) and reported.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from sqlglot import exp

from slocompile.declarations.triggers import Action, Trigger, origin
from slocompile.dialects.nodes import col, lit
from slocompile.dialects.render import render
from slocompile.engines.base import QueryFailed
from slocompile.sqltrees import meta
from slocompile.support.secrets import redact, redact_data
from slocompile.support.testhooks import pause
from slocompile.support.version import __version__

PENDING, DELIVERED, FAILED, RECORDED = "pending", "delivered", "failed", "recorded"
MAX_BACKOFF = 60.0
MAX_DETAIL = 500
MAX_STDERR = 64 * 1024


# ------------------------------------------------------------------ change detection

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


def detect(triggers, run, previous: dict) -> list[Alert]:
    """The alerts of a build. `previous`: (table, check, partition) -> (status, severity)."""
    alerts = []
    n = 0
    for trig in triggers:
        for tr in run.tables:
            if not trig.selects(tr.table.name):
                continue
            buckets: dict[str, list[dict]] = {}
            for r in tr.results:
                if not trig.selects(r.table, r.check) or not trig.wants_severity(r.severity):
                    continue
                before = previous.get((r.table, r.check, r.partition))
                was = kind_of(*before) if before else None
                now = kind_of(r.status, r.severity)
                event = None
                if now in ("fail", "warn") and now in trig.on and (was != now or trig.repeat):
                    event = now
                elif now == "pass" and was in ("fail", "warn") and was in trig.on and "recover" in trig.on:
                    event = "recover"
                if event:
                    unit = {k: v for k, v in r.as_dict().items()}
                    unit["previous"] = before[0] if before else None
                    buckets.setdefault(event, []).append(unit)
            for event in ("fail", "warn", "recover"):
                if event in buckets:
                    n += 1
                    alerts.append(Alert(f"{run.run_id}-{n}", trig, event, tr.table.name, buckets[event]))
    return alerts


def payload(alert: Alert, run) -> dict:
    project = run.project
    checks = sorted({u["check"] for u in alert.units})
    verb = {"fail": "failed", "warn": "warned", "recover": "recovered"}[alert.event]
    parts = sorted({u["partition"] for u in alert.units if u["partition"] is not None})
    summary = f"{alert.table}: {len(checks)} SLO{'s' if len(checks) != 1 else ''} {verb}: {', '.join(checks)}"
    if parts:
        summary += f" (partitions {', '.join(parts[:10])}{', ...' if len(parts) > 10 else ''})"
    return {"alert_id": alert.alert_id, "trigger": alert.trigger.name, "event": alert.event, "table": alert.table,
            "view": f"{project.schemas.validated}.{alert.table}", "project": project.name, "target": run.target,
            "run_id": run.run_id, "at": (run.finished_at or run.started_at).isoformat() + "Z", "summary": summary,
            "results": alert.units}


# ------------------------------------------------------------------ the build's commit

def _previous(engine, project, run) -> dict:
    names = [tr.table.name for tr in run.tables]
    if not names:
        return {}
    q = exp.select(col("table_name"), col("check_name"), col("partition"), col("status"), col("severity")).from_(
        meta.table(project.schemas, "check_status"), copy=False).where(
        exp.In(this=col("table_name"), expressions=[lit(n) for n in names]), copy=False)
    return {(t, c, p): (st, sev) for t, c, p, st, sev in engine.query(render(q, engine.dialect))}


def statements(project, run, engine) -> list[exp.Expression]:
    """The latest status of every check and partition the build measured, and its alerts (pending):
    statements for the build's one commit."""
    s = project.schemas
    previous = _previous(engine, project, run)
    now = run.finished_at
    out: list[exp.Expression] = []
    for tr in run.tables:
        cond: exp.Expression = exp.EQ(this=col("table_name"), expression=lit(tr.table.name))
        if tr.partitions is not None:
            parts = sorted({p for p in tr.partitions} | {r.partition for r in tr.results if r.partition is not None})
            replaced: exp.Expression = exp.Is(this=col("partition"), expression=exp.Null())
            if parts:
                replaced = exp.Or(this=replaced, expression=exp.In(this=col("partition"),
                                                                   expressions=[lit(p) for p in parts]))
            cond = exp.And(this=cond, expression=exp.Paren(this=replaced))
        out.append(exp.Delete(this=meta.table(s, "check_status"), where=exp.Where(this=cond)))
        out += meta.insert(s, "check_status", [(r.table, r.check, r.column, r.partition, r.status, r.severity,
                                                run.run_id, now) for r in tr.results])
    alerts = detect(project.triggers, run, previous)
    rows: list[tuple] = []
    for a in alerts:
        body = json.dumps(redact_data(payload(a, run)), default=str, ensure_ascii=False)
        checks = ", ".join(sorted({u["check"] for u in a.units}))
        if not a.trigger.actions:
            rows.append((a.alert_id, run.run_id, a.trigger.name, a.event, a.table, checks, None, None, None,
                         RECORDED, 0, None, body, now, None))
        for i, action in enumerate(a.trigger.actions):
            rows.append((a.alert_id, run.run_id, a.trigger.name, a.event, a.table, checks, i, action.kind,
                         action.destination, PENDING, 0, None, body, now, None))
    out += meta.insert(s, "alerts", rows)
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
    """Run every pending action (this build's, and any a killed build left) and record the outcome."""
    pause("published")
    s = project.schemas
    q = exp.select(*(col(c) for c in ("alert_id", "run_id", "trigger_name", "event", "table_name", "action_index",
                                      "action", "destination", "payload"))).from_(
        meta.table(s, "alerts"), copy=False).where(
        exp.EQ(this=col("delivery"), expression=lit(PENDING)), copy=False).order_by(
        col("created_at"), col("alert_id"), col("action_index"), copy=False)
    triggers = {t.name: t for t in project.triggers}
    out = []
    for alert_id, run_id, tname, event, table, index, kind, dest, body in engine.query(render(q, engine.dialect)):
        trig = triggers.get(tname)
        action = trig.actions[index] if trig is not None and index is not None and index < len(trig.actions) else None
        if action is None or action.kind != kind:
            status, attempts, detail = FAILED, 0, "the trigger or action is no longer declared"
        else:
            status, attempts, detail = _run_action(action, body, project, engine, event, tname, table)
        detail = redact(detail or "")[:MAX_DETAIL]  # stderr or an error may echo a secret
        dest = redact(dest)
        finished = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        update = exp.Update(this=meta.table(s, "alerts"), expressions=[
            exp.EQ(this=col("delivery"), expression=lit(status)),
            exp.EQ(this=col("attempts"), expression=lit(attempts)),
            exp.EQ(this=col("detail"), expression=lit(detail)),
            exp.EQ(this=col("delivered_at"), expression=exp.cast(lit(finished.isoformat(sep=" ")),
                                                                 exp.DataType.Type.TIMESTAMP))],
            where=exp.Where(this=exp.And(
                this=exp.EQ(this=col("alert_id"), expression=lit(alert_id)),
                expression=exp.EQ(this=col("action_index"), expression=lit(index)))))
        with engine.transaction():
            engine.execute(render(update, engine.dialect))
        out.append(Delivery(alert_id, tname, event, table, kind, dest, status, attempts, detail, run_id))
    return out


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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: urllib would repeat the POST as a GET to wherever the server
    points, Authorization header included. A 3xx then surfaces as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict, timeout: float, retries: int, backoff: float):
    """POST with retries and exponential backoff on connection errors, timeouts, 408, 429 and 5xx.
    Delivered only when the endpoint answers the POST itself with a 2xx; a redirect is a failed
    delivery (not followed, not retried). Returns (delivery, attempts, detail)."""
    attempts, last = 0, ""
    for attempt in range(retries + 1):
        attempts += 1
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": f"slocompile/{__version__}", **headers})
        try:
            with _OPENER.open(request, timeout=timeout) as response:
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
