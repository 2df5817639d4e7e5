"""The messages of slack, teams, pagerduty and templated webhook actions, from alert payloads.

A message summarises alerts (payloads of run.alertstate) of one trigger: by default every alert
of one build (one message per build and destination), grouped by table; with `each: true` one
alert (one check). `summary()` is that summary as data: the `event` a webhook `payload:` template
renders, and what the formats below are made of:

- slack: an incoming-webhook message, `text` (the notification's fallback) and `blocks`: a
  header, a section per table (at most MAX_TABLES), incidents, a context line, a report button;
- teams: a message with one Adaptive Card attachment (1.4): TextBlocks and a FactSet per table,
  an Action.OpenUrl to the report;
- pagerduty: Events API v2, one event per table and per monitor incident (per check with `each:
  true`): `trigger` while a check the trigger listens to fails after the build (an incident: when
  it opens), `resolve` once none does (an incident: when it recovers), with one `dedup_key` per
  project, target, trigger and table, and per incident under it, so repeats update the same alert.

No secret is in a summary: URLs and routing keys are the action's, not the payload's.
"""
from __future__ import annotations

import hashlib
import json

from slocompile.declarations.triggers import Action, template_environment

MAX_TABLES = 40          # Slack takes 50 blocks a message
MAX_UNITS = 20           # lines per table
MAX_SECTION = 2900       # Slack: a section's text is at most 3000 characters
MAX_HEADER = 150         # Slack: a header's plain text
MAX_PD_SUMMARY = 1024    # PagerDuty: payload.summary
MAX_VALUE = 200
VERBS = {"fail": "failed", "warn": "warned", "recover": "recovered"}
MARK = {"fail": ":red_circle:", "warn": ":large_orange_circle:", "recover": ":large_green_circle:"}


def short_value(value) -> str:
    """An observed value or bound for a message line: a row rule's `{rows, fraction}` as `3 rows
    (0.375%)`, anything else as JSON text of at most MAX_VALUE characters."""
    if isinstance(value, dict) and isinstance(value.get("rows"), int):  # a row rule: rows breaking it
        text = f"{value['rows']} row{'s' if value['rows'] != 1 else ''}"
        fraction = value.get("fraction")
        return text + (f" ({fraction * 100:.3g}%)" if isinstance(fraction, (int, float)) else "")
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def describe(unit: dict) -> str:
    """`check (column) partition P: observed X, expected Y` of one unit."""
    where = f" ({unit['column']})" if unit.get("column") else ""
    part = f" partition {unit['partition']}" if unit.get("partition") is not None else ""
    text = f"{unit['check']}{where}{part}"
    if unit.get("event") == "recover":
        return text + ": passes again"
    text += f": observed {short_value(unit.get('observed'))}"
    if unit.get("expected"):
        text += f", expected {short_value(unit['expected'])}"
    return text


def summary(payloads: list[dict], report_url: str | None = None) -> dict:
    """One message's content: counts, tables (their units by event, the checks still failing),
    incidents (monitor alerts grouped by incident, and incident events) and every unit."""
    first = payloads[0]
    tables: dict[str, dict] = {}
    counts = {e: 0 for e in VERBS}
    results: list[dict] = []
    incidents: dict[str, dict] = {}
    notes: list[str] = []
    for p in payloads:
        t = tables.setdefault(p["table"], {"table": p["table"], "view": p["view"], "events": {}, "still_failing": [],
                                           "still_failing_monitors": []})
        t["still_failing"] = p.get("still_failing", t["still_failing"])
        t["still_failing_monitors"] = p.get("still_failing_monitors", t["still_failing_monitors"])
        for u in p["results"]:
            unit = {**u, "event": p["event"]}
            t["events"].setdefault(p["event"], []).append(unit)
            results.append(unit)
            counts[p["event"]] += 1
            if u.get("incident"):
                inc = incidents.setdefault(u["incident"], {"incident": u["incident"], "table": p["table"],
                                                           "partition": u.get("partition"), "cause": u.get("cause"),
                                                           "event": "open" if p["event"] != "recover" else "recover",
                                                           "checks": []})
                inc["checks"].append(u["check"])
        for e in p.get("incident_events") or []:
            key = str(e.get("incident"))
            incidents[key] = {**incidents.get(key, {"checks": []}), **e}
        if p.get("note") and p["note"] not in notes:
            notes.append(p["note"])
    parts = [f"{n} {VERBS[e]}" for e, n in counts.items() if n]
    title = f"{first['project']}: {', '.join(parts) or 'no change'} in {len(tables)} table" \
            f"{'s' if len(tables) != 1 else ''}"
    lines = [title] + [f"{t['table']}: " + "; ".join(f"{len(us)} {VERBS[e]}" for e, us in t["events"].items())
                       for t in tables.values()]
    return {"project": first["project"], "target": first["target"], "run_id": first["run_id"], "at": first["at"],
            "trigger": first["trigger"], "summary": title, "text": "\n".join(lines + notes), "counts": counts,
            "notes": notes, "tables": list(tables.values()), "incidents": list(incidents.values()),
            "results": results, "alerts": [p["alert_id"] for p in payloads], "report_url": report_url}


def _when(at: str) -> str:
    """`2026-12-06T22:33:23.3217Z` -> `2026-12-06 22:33 UTC`."""
    return f"{at[:16].replace('T', ' ')} UTC" if len(at) >= 16 else at


# ------------------------------------------------------------------ slack

def _mrkdwn(text: str) -> str:
    """Slack's escaping of &, < and > (the three characters its mrkdwn reserves)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table_text(t: dict, mark: dict, bold: str, escape=lambda s: s) -> str:
    lines = [f"{bold}{escape(t['table'])}{bold}"]
    for event, units in t["events"].items():
        for u in units[:MAX_UNITS]:
            lines.append(f"{mark.get(event, '')} {escape(describe(u))}".strip())
        if len(units) > MAX_UNITS:
            lines.append(f"... and {len(units) - MAX_UNITS} more {VERBS[event]}")
    if t["still_failing"] and t["events"].keys() == {"recover"}:
        lines.append(f"still failing: {escape(', '.join(t['still_failing']))}")
    return "\n".join(lines)


def slack(s: dict) -> dict:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": s["summary"][:MAX_HEADER],
                                                      "emoji": True}}]
    for t in s["tables"][:MAX_TABLES]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": _table_text(t, MARK, "*", _mrkdwn)[:MAX_SECTION]}})
    if len(s["tables"]) > MAX_TABLES:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"... and {len(s['tables']) - MAX_TABLES} more tables"}})
    if s["incidents"]:
        text = "*Incidents*\n" + "\n".join(
            _mrkdwn(f"{i.get('event', 'open')}: {i.get('incident')} ({i.get('table')}"
                    f"{', partition ' + str(i['partition']) if i.get('partition') else ''})"
                    f"{': ' + str(i['cause']) if i.get('cause') else ''}") for i in s["incidents"][:MAX_UNITS])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION]}})
    context = f"target {s['target']} · run {s['run_id']} · {_when(s['at'])}"
    for note in s["notes"]:
        context += f" · {note}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(context)[:MAX_SECTION]}]})
    if s["report_url"]:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open the report"}, "url": s["report_url"]}]})
    return {"text": s["text"][:MAX_SECTION], "blocks": blocks}


# ------------------------------------------------------------------ teams

def teams(s: dict) -> dict:
    body: list[dict] = [{"type": "TextBlock", "text": s["summary"], "weight": "Bolder", "size": "Medium",
                         "wrap": True}]
    for t in s["tables"][:MAX_TABLES]:
        body.append({"type": "TextBlock", "text": f"**{t['table']}**", "wrap": True, "spacing": "Medium"})
        facts = [{"title": VERBS[event], "value": describe(u)} for event, units in t["events"].items()
                 for u in units[:MAX_UNITS]]
        if t["still_failing"] and "fail" not in t["events"]:
            facts.append({"title": "still failing", "value": ", ".join(t["still_failing"])})
        body.append({"type": "FactSet", "facts": facts})
    for i in s["incidents"][:MAX_UNITS]:
        body.append({"type": "TextBlock", "wrap": True, "text": f"incident {i.get('event', 'open')}: "
                     f"{i.get('incident')} ({i.get('table')}){': ' + str(i['cause']) if i.get('cause') else ''}"})
    body.append({"type": "TextBlock", "text": f"target {s['target']} · run {s['run_id']} · {_when(s['at'])}"
                 + "".join(f" · {n}" for n in s["notes"]), "isSubtle": True, "size": "Small", "wrap": True})
    card: dict = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                  "version": "1.4", "body": body}
    if s["report_url"]:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the report", "url": s["report_url"]}]
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


# ------------------------------------------------------------------ pagerduty

def dedup_key(s: dict, table: str, suffix: str | None = None) -> str:
    """One key per project, target, trigger and table, and under it per monitor incident
    (`incident/<id>`) or, with `each: true`, per check: PagerDuty's alert while it stays open; at
    most 255 characters."""
    key = "/".join(["slocompile", s["project"], s["target"], s["trigger"], table] + ([suffix] if suffix else []))
    return key if len(key) <= 255 else "slocompile/" + hashlib.sha256(key.encode()).hexdigest()


def _pages(t: dict, each: bool) -> list[tuple[str | None, list[dict]]]:
    """(dedup key suffix, units) of one table's events: each monitor incident its own (opened by
    its alerts, resolved by its `incident <id>` recovery), the other checks the table's (or each
    check its own with `each: true`). A monitor check passing again on its own is left to its
    incident's recovery."""
    pages: dict[str | None, list[dict]] = {}
    for u in (u for us in t["events"].values() for u in us):
        if u.get("incident"):
            pages.setdefault(f"incident/{u['incident']}", []).append(u)
        elif not (u["event"] == "recover" and u.get("check_type") == "monitor"):
            pages.setdefault(u["check"] if each else None, []).append(u)
    return sorted(pages.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))


def pagerduty(action: Action, s: dict, each: bool) -> list[dict]:
    """One Events API v2 event per table of the summary and per monitor incident (per check with
    `each: true`)."""
    out = []
    for t in s["tables"]:
        for suffix, units in _pages(t, each):
            incident = units[0]["incident"] if suffix and suffix.startswith("incident/") else None
            if suffix is None:  # the table's page: its checks, not the monitor alerts incidents page about
                failing = [c for c in t["still_failing"] if c not in t["still_failing_monitors"]]
            else:
                failing = [c for c in t["still_failing"] if c in {u["check"] for u in units}]
            out.append(_event(action, s, t, suffix, units, failing, incident))
    return out


def _event(action: Action, s: dict, t: dict, suffix: str | None, units: list[dict], failing: list[str],
           incident: str | None) -> dict:
    key = dedup_key(s, t["table"], suffix)
    if not failing:
        return {"routing_key": action.routing_key, "event_action": "resolve", "dedup_key": key}
    bad = [u for u in units if u["event"] != "recover"]
    severity = action.severity or ("error" if any(u["event"] == "fail" for u in bad)
                                   or any(u.get("severity") == "error" for u in bad) else "warning")
    cause = next((u.get("cause") for u in units if u.get("cause")), None)
    what = f"incident {incident}{f' ({cause})' if cause else ''}: " if incident else ""
    text = f"{s['project']} {t['table']}: {what}failing: {', '.join(failing)}"
    event: dict = {
        "routing_key": action.routing_key, "event_action": "trigger", "dedup_key": key,
        "payload": {"summary": text[:MAX_PD_SUMMARY], "source": f"slocompile {s['project']} ({s['target']})",
                    "severity": severity, "timestamp": s["at"], "component": t["table"], "group": s["project"],
                    "class": "data quality",
                    "custom_details": {"run_id": s["run_id"], "trigger": s["trigger"], "view": t["view"],
                                       "still_failing": failing, "changes": [describe(u) for u in units],
                                       "incidents": [i for i in s["incidents"] if incident is not None
                                                     and i.get("incident") == incident],
                                       "notes": s["notes"]}},
        "client": "slocompile"}
    if s["report_url"]:
        event["client_url"] = s["report_url"]
        event["links"] = [{"href": s["report_url"], "text": "slocompile report"}]
    return event


# ------------------------------------------------------------------ all of them

def bodies(action: Action, payloads: list[dict], each: bool) -> list[tuple[bytes, str]]:
    """The messages (body, content type) of `action` for these alert payloads (one trigger)."""
    s = summary(payloads, action.report_url)
    if action.kind == "slack":
        return [(json.dumps(slack(s), ensure_ascii=False).encode("utf-8"), "application/json")]
    if action.kind == "teams":
        return [(json.dumps(teams(s), ensure_ascii=False).encode("utf-8"), "application/json")]
    if action.kind == "pagerduty":
        return [(json.dumps(e, ensure_ascii=False).encode("utf-8"), "application/json")
                for e in pagerduty(action, s, each)]
    assert action.template is not None  # webhook with payload:
    text = template_environment(s).render_bounded(action.template)
    if "json" in action.content_type.lower():
        json.loads(text)  # ValueError: a failed delivery that says so
    return [(text.encode("utf-8"), action.content_type)]
