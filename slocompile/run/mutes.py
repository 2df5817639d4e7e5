"""Mutes: `slocompile mute SELECTOR --until WHEN --reason WHY`, `unmute`, and what `alerts` lists.

A mute is a row of `<meta>.mutes` (in the warehouse, so every machine that builds the project
sees it): a selector (`table`, `table.check`, globs as in a trigger's `select`), an end, a reason,
who muted and when; `unmute` ends it early (ended_at). While a mute is active, the units of an
alert it matches are recorded in `<meta>.alerts` as `muted` instead of being delivered
(run.triggers). The first build after the mute ends delivers each held alert once if its checks
still fail (the row becomes `released`), or drops it if they recovered meanwhile (`expired`).
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
import uuid
from dataclasses import asdict, dataclass

from sqlglot import exp

from slocompile.dialects.nodes import and_all, col, lit
from slocompile.dialects.render import render
from slocompile.engines.base import QueryFailed
from slocompile.errors import SlocompileError, did_you_mean
from slocompile.spec.fields import parse_duration
from slocompile.spec.model import partition_label
from slocompile.sqltrees import meta

COLUMNS = [c for c, _ in meta.TABLES["mutes"]]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclass
class Mute:
    mute_id: str
    selector: str
    until: dt.datetime
    reason: str
    created_by: str
    created_at: dt.datetime
    ended_at: dt.datetime | None = None
    ended_by: str | None = None

    def matches(self, table: str, check: str | None = None) -> bool:
        return fnmatch.fnmatchcase(table, self.selector) or (
            check is not None and fnmatch.fnmatchcase(f"{table}.{check}", self.selector))

    def active(self, now: dt.datetime) -> bool:
        return self.ended_at is None and self.until > now

    def describe(self) -> str:
        return f"muted by {self.created_by} until {self.until:%Y-%m-%d %H:%M} UTC ({self.selector}): {self.reason}"

    def as_dict(self) -> dict:
        return {k: (v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v) for k, v in asdict(self).items()}


def parse_until(text: str | dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """`2026-12-10` (that day's start, UTC), `2026-12-10 08:00`, or a duration from now (`24h`, `3d`);
    from Python also a date or a datetime (naive: UTC; aware: converted to UTC)."""
    now = now or utcnow()
    if isinstance(text, dt.datetime):
        until = text.astimezone(dt.timezone.utc).replace(tzinfo=None) if text.tzinfo else text
    elif isinstance(text, dt.date):
        until = dt.datetime(text.year, text.month, text.day)
    else:
        until = _parse_text((text or "").strip(), now)
    if until <= now:
        raise SlocompileError(f"--until: {until:%Y-%m-%d %H:%M} UTC is not in the future")
    return until


def _parse_text(text: str, now: dt.datetime) -> dt.datetime:
    seconds = parse_duration(text)
    if seconds is not None:
        return now + dt.timedelta(seconds=seconds)
    if _DATE.match(text):
        try:
            return dt.datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            raise SlocompileError(f"--until: {text!r} is not a valid date") from None
    raise SlocompileError(f"--until: {text!r} is neither a date (2026-12-10, 2026-12-10 08:00, UTC) nor a "
                          "duration (24h, 3d, 1w)")


def check_selector(spec, selector: str) -> None:
    """A selector must match a declared table (as a trigger's select must)."""
    names = [t.name for t in spec.tables]
    table_part = selector.rsplit(".", 1)[0] if "." in selector else selector
    if not selector.strip() or not any(fnmatch.fnmatchcase(n, selector) or fnmatch.fnmatchcase(n, table_part)
                                       for n in names):
        raise SlocompileError(f"selector '{selector}' matches no declared table{did_you_mean(table_part, names)} "
                              "(write TABLE, TABLE.CHECK or a glob such as 'pred*')")


def _rows(engine, schemas, where=None) -> list[Mute]:
    q = exp.select(*(col(c) for c in COLUMNS)).from_(meta.table(schemas, "mutes"), copy=False)
    if where is not None:
        q = q.where(where, copy=False)
    try:
        rows = engine.query(render(q, engine.dialect))
    except QueryFailed:  # a meta schema from before mutes: none
        return []
    return sorted((Mute(*r) for r in rows), key=lambda m: (m.created_at, m.mute_id))


def active(engine, schemas, now: dt.datetime) -> list[Mute]:
    return [m for m in _rows(engine, schemas, exp.Is(this=col("ended_at"), expression=exp.Null())) if m.active(now)]


def listed(engine, schemas, now: dt.datetime, ended_days: int = 7) -> list[Mute]:
    """Active mutes, and those that ended in the last `ended_days` days."""
    since = now - dt.timedelta(days=ended_days)
    return [m for m in _rows(engine, schemas)
            if m.active(now) or (m.ended_at or m.until) >= since]


def mute_for(mutes: list[Mute], table: str, check: str | None) -> Mute | None:
    return next((m for m in mutes if m.matches(table, check)), None)


def _setup(engine, schemas) -> None:
    with engine.transaction():
        for stmt in meta.setup_statements(schemas):
            engine.execute(render(stmt, engine.dialect))


def add(engine, spec, selector: str, until: dt.datetime, reason: str, who: str | None = None) -> Mute:
    check_selector(spec, selector)
    if not (reason or "").strip():
        raise SlocompileError("--reason: say why (it is shown with every alert the mute holds back)")
    now = utcnow()
    m = Mute(uuid.uuid4().hex[:8], selector, until, reason.strip(), who or _user(), now)
    _setup(engine, spec.schemas)
    with engine.transaction():
        for stmt in meta.insert(spec.schemas, "mutes", [tuple(getattr(m, c) for c in COLUMNS)]):
            engine.execute(render(stmt, engine.dialect))
    return m


def end(engine, spec, what: str, who: str | None = None) -> list[Mute]:
    """End the active mutes whose selector or id is `what`."""
    now = utcnow()
    ended = [m for m in active(engine, spec.schemas, now) if what in (m.selector, m.mute_id)]
    if not ended:
        raise SlocompileError(f"no active mute has the selector or id '{what}' (`slocompile alerts` lists them)")
    who = who or _user()
    ids = [lit(m.mute_id) for m in ended]
    update = exp.Update(this=meta.table(spec.schemas, "mutes"), expressions=[
        exp.EQ(this=col("ended_at"), expression=exp.cast(lit(now.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)),
        exp.EQ(this=col("ended_by"), expression=lit(who))],
        where=exp.Where(this=and_all([exp.In(this=col("mute_id"), expressions=ids),
                                      exp.Is(this=col("ended_at"), expression=exp.Null())])))
    with engine.transaction():
        engine.execute(render(update, engine.dialect))
    for m in ended:
        m.ended_at, m.ended_by = now, who
    return ended


def _user() -> str:
    import getpass  # (here: it brings termios, which a build never needs)

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        return "unknown"


# ------------------------------------------------------------------ `slocompile alerts`

def open_engine(spec, target_name: str | None, read_only: bool = False):
    """The target's engine; reading a target that was never built is a user error."""
    from slocompile.engines.base import NothingStored
    from slocompile.engines.connect import connect
    from slocompile.run.selection import target

    try:
        return connect(target(spec, target_name), spec.root, read_only=read_only)
    except NothingStored as e:
        raise SlocompileError(f"{e}; run `slocompile build` first") from None


def _query(engine, schemas, name: str, columns: list[str], where) -> list[tuple]:
    q = exp.select(*(col(c) for c in columns)).from_(meta.table(schemas, name), copy=False).where(where, copy=False)
    try:
        return engine.query(render(q, engine.dialect))
    except QueryFailed:  # a meta schema from before that table, or no build yet
        return []


def open_problems(engine, spec, now: dt.datetime | None = None) -> dict:
    """What `slocompile alerts` shows: every check failing or warning now (latest status), since
    when, its monitor incident and the mute holding it; the mutes (active and recently ended);
    how many alerts mutes hold."""
    now = now or utcnow()
    s = spec.schemas
    names = [t.name for t in spec.tables]
    in_tables = exp.In(this=col("table_name"), expressions=[lit(n) for n in names]) if names else exp.false()
    bad = exp.In(this=col("status"), expressions=[lit(v) for v in ("fail", "error", "warn")])
    failing = _query(engine, s, "check_status", ["table_name", "check_name", "column_name", "partition", "status",
                                                 "severity", "checked_at"], and_all([in_tables, bad]))
    tables = sorted({r[0] for r in failing})
    history: dict[tuple, list[tuple]] = {}
    incidents: dict[tuple, tuple] = {}
    if tables:
        these = exp.In(this=col("table_name"), expressions=[lit(n) for n in tables])
        for t, c, p, st, at in _query(engine, s, "results", ["table_name", "check_name", "partition", "status",
                                                             "checked_at"], these):
            history.setdefault((t, c, p), []).append((at, st))
        for t, c, p, inc, cause, _at in sorted(_query(engine, s, "monitor_alerts", [
                "table_name", "check_name", "partition", "incident", "cause", "created_at"], these),
                key=lambda r: (r[5] is None, r[5])):
            incidents[(t, c, partition_label(p) if p is not None else None)] = (inc, cause)
    mutes_now = listed(engine, s, now)
    live = [m for m in mutes_now if m.active(now)]
    out = []
    for t, c, column, p, st, sev, checked in sorted(failing, key=lambda r: (r[0], r[1], r[3] or "")):
        since = checked
        for at, status in sorted((h for h in history.get((t, c, p), []) if h[0] is not None), reverse=True):
            if status == "pass":
                break
            since = at
        inc = incidents.get((t, c, p))
        m = mute_for(live, t, c)
        out.append({"table": t, "check": c, "column": column, "partition": p, "status": st, "severity": sev,
                    "since": since, "incident": inc[0] if inc else None, "cause": inc[1] if inc else None,
                    "muted_until": m.until if m else None, "mute": m.mute_id if m else None})
    held = _query(engine, s, "alerts", ["alert_id"], exp.EQ(this=col("delivery"), expression=lit("muted")))
    return {"failing": out, "mutes": [m.as_dict() | {"active": m.active(now)} for m in mutes_now],
            "held": len({r[0] for r in held})}


def format_text(data: dict) -> str:
    def when(v) -> str:
        return f"{v:%Y-%m-%d %H:%M}" if isinstance(v, dt.datetime) else str(v or "")

    lines = [f"{len(data['failing'])} failing or warning check{'s' if len(data['failing']) != 1 else ''}"
             + (":" if data["failing"] else "")]
    for f in data["failing"]:
        what = f"{f['table']}.{f['check']}" + (f" partition {f['partition']}" if f["partition"] is not None else "")
        extra = (f"  incident {f['incident']}" if f["incident"] else "") + (
            f"  muted until {when(f['muted_until'])} ({f['mute']})" if f["muted_until"] else "")
        lines.append(f"  {f['status']:<5} {what}  since {when(f['since'])} UTC{extra}")
    active = [m for m in data["mutes"] if m["active"]]
    lines.append(f"{len(active)} active mute{'s' if len(active) != 1 else ''}"
                 + (f" ({data['held']} alert{'s' if data['held'] != 1 else ''} held)" if data["held"] else "")
                 + (":" if data["mutes"] else ""))
    for m in data["mutes"]:
        state = "" if m["active"] else f" (ended{' by ' + m['ended_by'] if m['ended_by'] else ''})"
        lines.append(f"  {m['mute_id']}  {m['selector']}  until {m['until'][:16]} UTC  by {m['created_by']}: "
                     f"{m['reason']}{state}")
    return "\n".join(lines) + "\n"
