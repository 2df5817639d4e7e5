"""Event triggers: actions that run when an SLO's status changes.

    triggers:
      - name: page_oncall
        on: [fail, recover]                  # fail | warn | recover
        select: [user_features, "predictions.*"]
        severity: error                      # error | warn | any (default)
        do:
          - webhook: {url: "{{ env_var('ALERT_URL') }}", timeout: 10s, retries: 3}
          - command: "scripts/pause_training.sh"
          - sql: "update ops.jobs set paused = true where name = 'train'"

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
import fnmatch
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from sqlglot import exp

from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.fields import Field, parse_duration, read_mapping

EVENTS = ("fail", "warn", "recover")
SEVERITY_CHOICES = ("error", "warn", "any")
ACTIONS = ("webhook", "command", "sql")
PENDING, DELIVERED, FAILED, RECORDED = "pending", "delivered", "failed", "recorded"
MAX_BACKOFF = 60.0
MAX_DETAIL = 500

TRIGGER_FIELDS = {
    "name": Field("str", required=True, doc="The trigger's name, unique in the project (the key of its alerts)."),
    "description": Field("str", doc="Free text."),
    "on": Field("str_list", default=("fail", "recover"), doc="Events: fail, warn, recover (one or a list)."),
    "select": Field("str_list", doc="Table names or glob patterns `table.check` (default: every table)."),
    "severity": Field("enum", default="any", choices=SEVERITY_CHOICES, doc="Only checks of this severity."),
    "repeat": Field("bool", default=False, doc="Fire on every build while a check fails, not only on changes."),
    "do": Field("list", doc="Actions: webhook, command, sql (none: the alert is only recorded)."),
}
WEBHOOK_FIELDS = {
    "url": Field("str", required=True, doc="http(s) URL that gets the event as a JSON POST."),
    "timeout": Field("scalar", default=10, doc="Seconds (or a duration such as 10s) per attempt."),
    "retries": Field("int", default=3, doc="Further attempts after a failed one (connection error, timeout, 5xx)."),
    "backoff": Field("scalar", default=1, doc="Seconds before the first retry; doubled for each next one."),
    "headers": Field("mapping", doc="Extra HTTP headers, e.g. Authorization."),
}
COMMAND_FIELDS = {
    "run": Field("str", required=True, doc="Shell command, run in the project folder with the event on stdin."),
    "timeout": Field("scalar", default=300, doc="Seconds (or a duration) before the command is stopped."),
}


@dataclass(frozen=True, eq=False)
class Action:
    kind: str                      # webhook | command | sql
    loc: Location
    url: str | None = None
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0
    headers: dict = field(default_factory=dict)
    command: str | None = None
    sql: str | None = None
    tree: exp.Expression | None = None  # the parsed statement (sql)

    @property
    def destination(self) -> str:
        """What the alerts table shows: a webhook's scheme, host and path (no query string or
        credentials, which may be secrets), the command, or the SQL."""
        if self.kind == "webhook":
            u = urllib.parse.urlsplit(self.url or "")
            host = u.hostname or ""
            if u.port:
                host += f":{u.port}"
            return urllib.parse.urlunsplit((u.scheme, host, u.path, "", ""))
        return self.command if self.kind == "command" else self.sql


@dataclass(frozen=True, eq=False)
class Trigger:
    name: str
    on: tuple[str, ...]
    select: tuple[str, ...] | None
    severity: str
    repeat: bool
    actions: tuple[Action, ...]
    loc: Location
    file: str
    select_loc: Location | None = None

    def selects(self, table: str, check: str | None = None) -> bool:
        if self.select is None:
            return True
        for pattern in self.select:
            if fnmatch.fnmatchcase(table, pattern):
                return True
            if check is None:
                if "." in pattern and fnmatch.fnmatchcase(table, pattern.rsplit(".", 1)[0]):
                    return True
            elif fnmatch.fnmatchcase(f"{table}.{check}", pattern):
                return True
        return False

    def wants_severity(self, severity: str) -> bool:
        return self.severity == "any" or self.severity == severity


# ------------------------------------------------------------------ declarations

def parse_triggers(node, display: str, dialect: str, problems: ProblemCollector) -> list[Trigger]:
    if not node.is_list:
        problems.add(node.loc, "'triggers' must be a list of trigger declarations")
        return []
    out = []
    for item in node.value:
        t = _trigger(item, display, dialect, problems)
        if t is not None:
            out.append(t)
    return out


def _trigger(node, display, dialect, problems: ProblemCollector) -> Trigger | None:
    from slocompile.spec.yamlload import Node

    if node.is_map:  # `on: fail` and `select: t` are one-item lists
        node = Node({k: (Node([v], v.loc) if k in ("on", "select") and isinstance(v.value, str) else v)
                     for k, v in node.value.items()}, node.loc, node.key_locs)
    raw = read_mapping(node, TRIGGER_FIELDS, "a trigger", problems)
    if raw is None:
        return None
    where = f"trigger '{raw['name']}'"
    on = tuple(dict.fromkeys(raw["on"]))
    for ev in on:
        if ev not in EVENTS:
            problems.add(node.value["on"].loc, f"{where}: unknown event '{ev}'{did_you_mean(ev, EVENTS)} "
                         f"(events: {', '.join(EVENTS)})")
    if raw["severity"] == "error" and on == ("warn",):
        problems.add(node.value["on"].loc, f"{where}: on: [warn] with severity: error can never fire "
                     "(a failed error-severity check is a fail)")
    actions = []
    for item in raw["do"] or []:
        a = _action(item, where, dialect, problems)
        if a is not None:
            actions.append(a)
    # returned also when some part is wrong (the loader then fails), so its name and `select` are checked too
    return Trigger(raw["name"], on, tuple(raw["select"]) if raw["select"] else None, raw["severity"],
                   bool(raw["repeat"]), tuple(actions), node.loc, display,
                   node.value["select"].loc if "select" in node.value else None)


def _seconds(value, node, what: str, problems: ProblemCollector) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1e6:
        return float(value)
    secs = parse_duration(value)
    if secs is None:
        problems.add(node.loc if node is not None else None, f"{what} must be a number of seconds or a duration "
                     f"such as 10s or 2m, not {value!r}")
    return secs


def _action(item, where: str, dialect: str, problems: ProblemCollector) -> Action | None:
    if not item.is_map or len(item.value) != 1:
        problems.add(item.loc, f"{where}: an action is a mapping with one of {', '.join(ACTIONS)} as its key")
        return None
    kind = next(iter(item.value))
    arg, kloc = item.value[kind], item.key_locs.get(kind, item.loc)
    if kind not in ACTIONS:
        problems.add(kloc, f"{where}: unknown action '{kind}'{did_you_mean(kind, ACTIONS)} "
                     f"(actions: {', '.join(ACTIONS)})")
        return None
    from slocompile.spec.yamlload import Node

    if kind == "sql":
        if not (isinstance(arg.value, str) and arg.value.strip()):
            problems.add(arg.loc, f"{where}: sql takes one SQL statement as a string")
            return None
        tree = parse_statement(arg.value, dialect, arg.loc, f"{where}: sql", problems)
        return None if tree is None else Action("sql", kloc, sql=arg.value, tree=tree)
    fields = WEBHOOK_FIELDS if kind == "webhook" else COMMAND_FIELDS
    short = "url" if kind == "webhook" else "run"
    if not arg.is_map:
        arg = Node({short: arg}, arg.loc, {short: arg.loc})
    raw = read_mapping(arg, fields, f"{kind} of {where}", problems)
    if raw is None:
        return None
    timeout = _seconds(raw["timeout"], arg.value.get("timeout"), f"'timeout' of {kind} of {where}", problems)
    if timeout is None:
        return None
    if kind == "command":
        return Action("command", kloc, command=raw["run"], timeout=timeout)
    url = raw["url"]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(arg.value["url"].loc, f"{where}: webhook url must be an http:// or https:// URL, not {url!r}")
        return None
    backoff = _seconds(raw["backoff"], arg.value.get("backoff"), f"'backoff' of webhook of {where}", problems)
    headers = raw["headers"] or {}
    if backoff is None:
        return None
    plain = {}
    for k, v in headers.items():
        value = v.value if hasattr(v, "value") else v
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            problems.add(v.loc, f"{where}: header '{k}' must be a string")
            return None
        plain[str(k)] = str(value)
    return Action("webhook", kloc, url=url, timeout=timeout, retries=raw["retries"], backoff=backoff, headers=plain)


_STATEMENT_TYPES = (exp.Query, exp.DML, exp.DDL, exp.Merge, exp.Insert, exp.Update, exp.Delete, exp.Create,
                    exp.Drop, exp.Alter, exp.TruncateTable)


def parse_statement(text: str, dialect: str, loc: Location, what: str, problems: ProblemCollector):
    """One SQL statement that sqlglot understands (no transaction control, no unparsed commands)."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    from slocompile.spec.usersql import _first_line

    try:
        trees = [t for t in sqlglot.parse(text, read=dialect) if t is not None]
    except (ParseError, TokenError) as e:
        problems.add(loc, f"{what}: invalid SQL: {_first_line(e)}")
        return None
    if len(trees) != 1:
        problems.add(loc, f"{what}: write exactly one SQL statement (found {len(trees)})")
        return None
    tree = trees[0]
    if isinstance(tree, (exp.Transaction, exp.Commit, exp.Rollback)):
        problems.add(loc, f"{what}: transaction control is not allowed (the action runs in its own transaction)")
        return None
    if isinstance(tree, exp.Command) or not isinstance(tree, _STATEMENT_TYPES):
        problems.add(loc, f"{what}: not a SQL statement sqlglot can parse in {dialect} "
                     "(write a SELECT, INSERT, UPDATE, DELETE, MERGE, CREATE, ALTER or DROP)")
        return None
    return tree


def check_triggers(triggers: list[Trigger], tables, problems: ProblemCollector) -> None:
    """Unique names; every `select` pattern matches a declared table."""
    names = [t.name for t in tables]
    seen: dict[str, Location] = {}
    for t in triggers:
        if t.name in seen:
            problems.add(t.loc, f"duplicate trigger '{t.name}' (also declared at {seen[t.name]})")
            continue
        seen[t.name] = t.loc
        for pattern in t.select or ():
            table_part = pattern
            if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                table_part = pattern.rsplit(".", 1)[0] if "." in pattern else pattern
                if not any(fnmatch.fnmatchcase(n, table_part) for n in names):
                    problems.add(t.select_loc or t.loc, f"trigger '{t.name}': select '{pattern}' matches no "
                                 f"declared table{did_you_mean(table_part, names)}")


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
    from slocompile.dialects.render import render
    from slocompile.sqltrees import meta
    from slocompile.dialects.nodes import col, lit

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
    from slocompile.sqltrees import meta
    from slocompile.dialects.nodes import col, lit

    s = project.schemas
    previous = _previous(engine, project, run)
    now = run.finished_at
    out: list[exp.Expression] = []
    for tr in run.tables:
        cond = exp.EQ(this=col("table_name"), expression=lit(tr.table.name))
        if tr.partitions is not None:
            parts = sorted({p for p in tr.partitions} | {r.partition for r in tr.results if r.partition is not None})
            replaced = exp.Is(this=col("partition"), expression=exp.Null())
            if parts:
                replaced = exp.Or(this=replaced, expression=exp.In(this=col("partition"),
                                                                   expressions=[lit(p) for p in parts]))
            cond = exp.And(this=cond, expression=exp.Paren(this=replaced))
        out.append(exp.Delete(this=meta.table(s, "check_status"), where=exp.Where(this=cond)))
        out += meta.insert(s, "check_status", [(r.table, r.check, r.column, r.partition, r.status, r.severity,
                                                run.run_id, now) for r in tr.results])
    alerts = detect(project.triggers, run, previous)
    rows = []
    for a in alerts:
        body = json.dumps(payload(a, run), default=str, ensure_ascii=False)
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
    from slocompile.dialects.render import render
    from slocompile.sqltrees import meta
    from slocompile.dialects.nodes import col, lit
    from slocompile.support.testhooks import pause

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
        detail = (detail or "")[:MAX_DETAIL]
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
            return post(action.url, body.encode("utf-8"), action.headers, action.timeout, action.retries,
                        action.backoff)
        if action.kind == "command":
            return _command(action, body, project.root, event, trigger, table)
        return _sql(action, project, engine)
    except Exception as e:  # an action never takes the build down
        return FAILED, 1, f"{type(e).__name__}: {e}"


def post(url: str, body: bytes, headers: dict, timeout: float, retries: int, backoff: float):
    """POST with retries and exponential backoff on connection errors, timeouts, 408, 429 and 5xx.
    Returns (delivery, attempts, detail)."""
    from slocompile import __version__

    attempts, last = 0, ""
    for attempt in range(retries + 1):
        attempts += 1
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": f"slocompile/{__version__}", **headers})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return DELIVERED, attempts, f"HTTP {response.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code} {e.reason}"
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
    env = {**os.environ, "SLOCOMPILE_TRIGGER": trigger, "SLOCOMPILE_EVENT": event, "SLOCOMPILE_TABLE": table}
    try:
        done = subprocess.run(action.command, shell=True, cwd=root, input=body.encode("utf-8"), env=env,
                              capture_output=True, timeout=action.timeout)
    except subprocess.TimeoutExpired:
        return FAILED, 1, f"timed out after {action.timeout:g}s"
    if done.returncode == 0:
        return DELIVERED, 1, "exit 0"
    err = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return FAILED, 1, f"exit {done.returncode}" + (f": {err[-1]}" if err else "")


def _sql(action: Action, project, engine):
    from slocompile.engines.base import QueryFailed

    text = action.sql if engine.dialect == project.sql_dialect else action.tree.sql(dialect=engine.dialect)
    try:
        with engine.transaction():
            engine.execute(text)
    except QueryFailed as e:
        return FAILED, 1, str(e).splitlines()[0] if str(e) else "failed"
    return DELIVERED, 1, "ok"


def summary_lines(run) -> list[tuple[str, str]]:
    """(status, text) per delivery, for the terminal."""
    out = []
    for d in getattr(run, "alerts", []) or []:
        note = f" (from run {d.run_id})" if d.run_id != run.run_id else ""
        out.append((d.delivery, f"alert {d.trigger}: {d.event} {d.table} -> {d.action} {d.destination}: "
                                f"{d.delivery}{', ' + d.detail if d.detail else ''}{note}"))
    return out
