"""Trigger declarations: the `triggers:` list of a declaration file, parsed and checked.

    triggers:
      - name: page_oncall
        on: [fail, recover]                  # fail | warn | recover
        select: [user_features, "predictions.*"]
        severity: error                      # error | warn | any (default)
        each: false                          # one message per build and destination (true: per check)
        renotify: 24h                        # remind while a failure stays open
        do:
          - webhook: {url: "{{ env_var('ALERT_URL') }}", timeout: 10s, retries: 3}
          - command: "scripts/pause_training.sh"
          - sql: "update ops.jobs set paused = true where name = 'train'"
          - slack: {url: "{{ env_var('SLACK_WEBHOOK_URL') }}", report_url: "https://ci.example.com/report.html"}
          - teams: "{{ env_var('TEAMS_WEBHOOK_URL') }}"
          - pagerduty: {routing_key: "{{ env_var('PD_ROUTING_KEY') }}"}

Webhook URLs of slack and teams, and PagerDuty routing keys, are secrets: recorded with
support.secrets as they are read, so no log, artifact or meta table shows them.

What a build does with them (change detection, the alerts outbox, delivery) is run.triggers;
the message formats are run.destinations.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import re
import urllib.parse
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.fields import Field, parse_duration, read_mapping
from slocompile.spec.shellquote import expand
from slocompile.spec.usersql import first_line
from slocompile.spec.yamlload import Node
from slocompile.support.secrets import redact, register, register_settings

EVENTS = ("fail", "warn", "recover")
SEVERITY_CHOICES = ("error", "warn", "any")
ACTIONS = ("webhook", "command", "sql", "slack", "teams", "pagerduty")
GROUPED_KINDS = ("slack", "teams", "pagerduty")  # one message per build (each: false); webhook with payload too
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")

TRIGGER_FIELDS = {
    "name": Field("str", required=True, doc="The trigger's name, unique in the project (the key of its alerts)."),
    "description": Field("str", doc="Free text."),
    "on": Field("str_list", default=("fail", "recover"), doc="Events: fail, warn, recover (one or a list)."),
    "select": Field("str_list", doc="Table names or glob patterns `table.check` (default: every table)."),
    "severity": Field("enum", default="any", choices=SEVERITY_CHOICES, doc="Only checks of this severity."),
    "owner": Field("str_list", doc="Only checks owned by this owner (one or a list: any of them); a check's owner "
                   "is its own, else its column's, else its table's."),
    "tags": Field("str_list", doc="Only checks carrying one of these tags (their own, their column's or their "
                  "table's)."),
    "repeat": Field("bool", default=False, doc="Fire on every build while a check fails, not only on changes."),
    "each": Field("bool", default=False, doc="One alert and message per check (table, check and event) instead of "
                  "one message per build and destination (slack, teams, pagerduty, webhook with payload) and one "
                  "call per table and event (a plain webhook, command, sql)."),
    "renotify": Field("duration", doc="Remind (once per this duration, e.g. 24h) about checks still failing "
                      "when nothing was sent about their table for that long."),
    "do": Field("list", doc="Actions: webhook, slack, teams, pagerduty, command, sql (none: the alert is only "
                "recorded)."),
}
WEBHOOK_FIELDS = {
    "url": Field("str", required=True, doc="http(s) URL that gets the event as a JSON POST "
                 "(`https://user:pw@host/...`: sent as basic auth). Redirects are not followed."),
    "timeout": Field("scalar", default=10, doc="Seconds (or a duration such as 10s) per attempt; more than 0."),
    "retries": Field("int", default=3, doc="Further attempts after a failed one (connection error, timeout, 5xx)."),
    "backoff": Field("scalar", default=1, doc="Seconds before the first retry; doubled for each next one."),
    "headers": Field("mapping", doc="Extra HTTP headers, e.g. Authorization."),
    "payload": Field("str", doc="A Jinja template of the body, rendered with `event` (the build's summary: "
                     "see docs/alerts.md) and the `tojson` filter; JSON unless content_type says otherwise. "
                     "Write it inside {% raw %}...{% endraw %}: declarations are rendered by Jinja first."),
    "content_type": Field("str", default="application/json", doc="Content-Type of a `payload` body."),
}
_DELIVERY_FIELDS = {k: WEBHOOK_FIELDS[k] for k in ("timeout", "retries", "backoff")}
CHAT_FIELDS = {
    "url": Field("str", required=True, doc="The incoming-webhook URL (a secret: never shown or stored)."),
    "report_url": Field("str", doc="A link to the report (e.g. where CI publishes report.html), shown as a button."),
    **_DELIVERY_FIELDS,
}
PAGERDUTY_FIELDS = {
    "routing_key": Field("str", required=True, doc="The Events API v2 integration key (a secret: never shown "
                         "or stored)."),
    "url": Field("str", default=PAGERDUTY_URL, doc="The Events API v2 endpoint."),
    "severity": Field("enum", choices=PAGERDUTY_SEVERITIES, doc="The alert's severity (default: error for "
                      "failures, warning for warnings)."),
    "report_url": Field("str", doc="A link to the report, sent as the event's link."),
    **_DELIVERY_FIELDS,
}
COMMAND_FIELDS = {
    "run": Field("str", required=True, doc="Shell command, run in the project folder with the event on stdin; "
                 "Jinja values in it are shell-quoted (the `raw` filter inserts one as it is)."),
    "timeout": Field("scalar", default=300, doc="Seconds (or a duration) before the command and every process it "
                     "started are stopped; more than 0."),
}
ACTION_FIELDS = {"webhook": WEBHOOK_FIELDS, "command": COMMAND_FIELDS, "slack": CHAT_FIELDS, "teams": CHAT_FIELDS,
                 "pagerduty": PAGERDUTY_FIELDS}
SHORT_KEY = {"webhook": "url", "command": "run", "slack": "url", "teams": "url", "pagerduty": "routing_key"}



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
    template: str | None = None         # webhook: the Jinja template of the body
    content_type: str = "application/json"
    routing_key: str | None = None      # pagerduty
    report_url: str | None = None       # slack, teams, pagerduty: a link to the report
    severity: str | None = None         # pagerduty: the alert severity (None: by the checks' severity)

    @property
    def grouped(self) -> bool:
        """Whether the action takes one message per build (a trigger without `each: true`)."""
        return self.kind in GROUPED_KINDS or (self.kind == "webhook" and self.template is not None)

    @property
    def destination(self) -> str:
        """What the alerts table, the terminal and run_results.json show: a webhook's scheme, host
        and path (no query string or credentials, which may be secrets), the command or the SQL
        with every recorded secret redacted (support.secrets). Slack, Teams and PagerDuty: the
        service and the host only (their URLs and keys are secrets)."""
        if self.kind == "webhook":
            return origin(self.url or "", path=True)
        if self.kind in GROUPED_KINDS:
            return origin(self.url or "")
        text = self.command if self.kind == "command" else self.sql
        assert text is not None  # a command action always has its command, an sql action its SQL
        return redact(text)


def origin(url: str, path: bool = False) -> str:
    """scheme://host[:port] (and the path): a URL without credentials, query or fragment."""
    u = urllib.parse.urlsplit(url)
    host = u.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        if u.port:
            host += f":{u.port}"
    except ValueError:
        pass
    return urllib.parse.urlunsplit((u.scheme, host, u.path if path else "", "", ""))


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
    each: bool = False
    renotify: float | None = None  # seconds
    owners: tuple[str, ...] | None = None  # `owner:` (None: any owner)
    tags: tuple[str, ...] | None = None    # `tags:` (None: any tags)

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

    def wants_labels(self, owner: str | None, tags: tuple[str, ...] | list[str]) -> bool:
        """Whether a check with this owner and these tags is routed here (`owner:`, `tags:`)."""
        return (self.owners is None or owner in self.owners) and (self.tags is None or any(t in self.tags
                                                                                            for t in tags))


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
    if raw["renotify"] is not None and raw["renotify"] <= 0:
        problems.add(node.value["renotify"].loc, f"{where}: renotify must be a duration of more than 0, such as 24h")
    return Trigger(raw["name"], on, tuple(raw["select"]) if raw["select"] else None, raw["severity"],
                   bool(raw["repeat"]), tuple(actions), node.loc, display,
                   node.value["select"].loc if "select" in node.value else None, bool(raw["each"]),
                   raw["renotify"] or None, raw["owner"], raw["tags"])


def _seconds(value, node, what: str, problems: ProblemCollector, positive: bool = False) -> float | None:
    """Seconds from a number or a duration; `positive`: 0 and less are refused (a timeout of 0
    would fail every attempt at once)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    secs = float(value) if number and 0 <= value < 1e6 else parse_duration(value)
    loc = node.loc if node is not None else None
    if positive and (secs == 0 or (number and value < 0)):
        problems.add(loc, f"{what} must be more than 0 seconds, not {value!r}")
        return None
    if secs is None:
        problems.add(loc, f"{what} must be a number of seconds or a duration such as 10s or 2m, not {value!r}")
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
    if kind == "sql":
        if not (isinstance(arg.value, str) and arg.value.strip()):
            problems.add(arg.loc, f"{where}: sql takes one SQL statement as a string")
            return None
        tree = parse_statement(arg.value, dialect, arg.loc, f"{where}: sql", problems)
        return None if tree is None else Action("sql", kloc, sql=arg.value, tree=tree)
    fields, short = ACTION_FIELDS[kind], SHORT_KEY[kind]
    if not arg.is_map:
        arg = Node({short: arg}, arg.loc, {short: arg.loc})
    raw = read_mapping(arg, fields, f"{kind} of {where}", problems)
    if raw is None:
        return None
    timeout = _seconds(raw["timeout"], arg.value.get("timeout"), f"'timeout' of {kind} of {where}", problems,
                       positive=True)
    if timeout is None:
        return None
    if kind == "command":
        return Action("command", kloc, command=expand(raw["run"]), timeout=timeout)
    if kind in GROUPED_KINDS:
        return _service(kind, kloc, arg, raw, timeout, where, problems)
    url = raw["url"]
    register_settings({"url": url})  # a password or token=... in it
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.add(arg.value["url"].loc, f"{where}: webhook url must be an http:// or https:// URL, not "
                     f"{origin(url, path=True) if parts.username else url!r}")
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
        if _SECRET_HEADER.search(str(k)):
            register(value)
            register(str(value).split(" ", 1)[-1])  # the credentials after `Bearer `
    url, plain = _basic_auth(parts, plain)
    template = raw["payload"]
    if template is not None and not check_template(template, arg.value["payload"].loc, where, problems,
                                                   raw["content_type"]):
        return None
    return Action("webhook", kloc, url=url, timeout=timeout, retries=raw["retries"], backoff=backoff, headers=plain,
                  template=template, content_type=raw["content_type"])


def _service(kind: str, kloc: Location, arg, raw: dict, timeout: float, where: str,
             problems: ProblemCollector) -> Action | None:
    """slack, teams, pagerduty: their URL and routing key are secrets from the moment they are read."""
    url = raw["url"]
    register_secret_url(url)
    key = raw.get("routing_key")
    if key is not None:
        register(key)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.add(arg.value["url"].loc if "url" in arg.value else arg.loc,
                     f"{where}: {kind} url must be an http:// or https:// URL")
        return None
    report = raw.get("report_url")
    if report is not None and urllib.parse.urlsplit(report).scheme not in ("http", "https"):
        problems.add(arg.value["report_url"].loc, f"{where}: report_url must be an http:// or https:// URL, "
                     f"not {report!r}")
        return None
    backoff = _seconds(raw["backoff"], arg.value.get("backoff"), f"'backoff' of {kind} of {where}", problems)
    if backoff is None:
        return None
    return Action(kind, kloc, url=url, timeout=timeout, retries=raw["retries"], backoff=backoff,
                  routing_key=key, report_url=report, severity=raw.get("severity"))


def register_secret_url(url: str) -> None:
    """A webhook URL whose path or query is the credential (Slack, Teams): the whole URL, its
    query and every long path segment become secrets."""
    register(url)
    parts = urllib.parse.urlsplit(url)
    if len(parts.query) >= 8:
        register(parts.query)
    for segment in parts.path.split("/"):
        if len(segment) >= 16:
            register(segment)
    register_settings({"url": url})


SAMPLE_EVENT: dict[str, object] = {  # the keys of run.destinations.summary(), for checking templates at load
    "project": "p", "target": "t", "run_id": "r", "at": "2026-01-01T00:00:00Z", "trigger": "t", "summary": "s",
    "text": "s", "counts": {"fail": 1, "warn": 0, "recover": 0}, "notes": [], "tables": [], "incidents": [],
    "results": [], "alerts": [], "report_url": None}


def template_environment(event: dict):
    """The sandboxed, bounded Jinja environment a webhook payload renders in, with `event`."""
    import jinja2

    from slocompile.spec.jinjalimits import BoundedEnvironment

    env = BoundedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.globals["event"] = event
    return env


def check_template(text: str, loc: Location, where: str, problems: ProblemCollector,
                   content_type: str = "application/json") -> bool:
    """A payload template that parses, and renders on a sample event (JSON when it says so)."""
    import jinja2

    try:
        body = template_environment(SAMPLE_EVENT).render_bounded(text)
    except jinja2.TemplateSyntaxError as e:
        problems.add(Location(loc.file, loc.line + max((e.lineno or 1) - 1, 0)),
                     f"{where}: payload template: Jinja syntax error: {e.message}")
        return False
    except Exception as e:  # an error of the template itself (a filter on the wrong type, a limit)
        problems.add(loc, f"{where}: payload template: {type(e).__name__}: {e}")
        return False
    if "json" in content_type.lower():
        try:
            json.loads(body)
        except ValueError as e:
            problems.add(loc, f"{where}: payload template does not render to JSON on a sample event ({e}); quote "
                         "values with the tojson filter, or set content_type")
            return False
    return True


_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|api-?key|pass", re.IGNORECASE)


def _basic_auth(parts: urllib.parse.SplitResult, headers: dict) -> tuple[str, dict]:
    """`https://user:pw@host/...`: the URL without its credentials, and an Authorization: Basic
    header for them (an Authorization header declared in `headers` wins)."""
    if parts.username is None and parts.password is None:
        return parts.geturl(), headers
    netloc = parts.netloc.rsplit("@", 1)[1]
    url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    user, password = urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    register(password)
    register(token)
    if not any(k.lower() == "authorization" for k in headers):
        headers = {**headers, "Authorization": f"Basic {token}"}
    return url, headers


_STATEMENT_TYPES = (exp.Query, exp.DML, exp.DDL, exp.Merge, exp.Insert, exp.Update, exp.Delete, exp.Create,
                    exp.Drop, exp.Alter, exp.TruncateTable)


def parse_statement(text: str, dialect: str, loc: Location, what: str, problems: ProblemCollector):
    """One SQL statement that sqlglot understands (no transaction control, no unparsed commands)."""
    try:
        trees = [t for t in sqlglot.parse(text, read=dialect) if t is not None]
    except (ParseError, TokenError) as e:
        problems.add(loc, f"{what}: invalid SQL: {first_line(e)}")
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
        _check_labels(t, tables, problems)
        for pattern in t.select or ():
            table_part = pattern
            if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                table_part = pattern.rsplit(".", 1)[0] if "." in pattern else pattern
                if not any(fnmatch.fnmatchcase(n, table_part) for n in names):
                    problems.add(t.select_loc or t.loc, f"trigger '{t.name}': select '{pattern}' matches no "
                                 f"declared table{did_you_mean(table_part, names)}")


def _check_labels(t: Trigger, tables, problems: ProblemCollector) -> None:
    """Every `owner:` and `tags:` value of a trigger names an owner or tag some declaration has."""
    specs = [s for table in tables for s in (table, *table.columns, *table.checks)]
    for key, wanted, known in (("owner", t.owners, {s.owner for s in specs if s.owner}),
                               ("tags", t.tags, {tag for s in specs for tag in s.tags})):
        for value in wanted or ():
            if value not in known:
                problems.add(t.loc, f"trigger '{t.name}': {key} '{value}' is on no table, column or check"
                             + (did_you_mean(value, known) or f" ({key}: {', '.join(sorted(known))})" if known
                                else f" (the project declares no {'owners' if key == 'owner' else 'tags'})"))
