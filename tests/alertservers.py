"""Local stand-ins for Slack, Microsoft Teams and PagerDuty: real HTTP servers on 127.0.0.1 that
check each body against the fields the service documents, answer as the service does (Slack
`ok`, Teams 202, PagerDuty 202 with a JSON status; 400 with the reasons for a body the service
would refuse), and record what they accepted and refused.

- Slack incoming webhooks: https://api.slack.com/messaging/webhooks and the Block Kit reference
  (https://api.slack.com/reference/block-kit/blocks): `text` and/or `blocks` (at most 50); header
  plain_text of at most 150 characters; section text mrkdwn/plain_text of at most 3000; context
  elements (at most 10); actions with buttons (text at most 75, url at most 3000).
- Teams (incoming webhook / Workflows): `{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": <AdaptiveCard>}]}`, Adaptive Card schema
  1.x (https://adaptivecards.io/explorer/): TextBlock text, FactSet facts title/value,
  Action.OpenUrl title/url.
- PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
  routing_key (32 characters), event_action trigger|acknowledge|resolve, dedup_key (at most 255);
  a trigger needs payload.summary (at most 1024), payload.source and payload.severity
  (critical|error|warning|info); payload.timestamp ISO 8601; links with href.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLACK_TOP = {"text", "blocks", "attachments", "thread_ts", "mrkdwn", "username", "icon_emoji", "icon_url",
             "channel", "unfurl_links", "unfurl_media"}
SLACK_BLOCKS = {"header", "section", "context", "divider", "actions", "image", "rich_text"}
CARD_ELEMENTS = {"TextBlock", "FactSet", "ColumnSet", "Container", "Image", "RichTextBlock"}
PD_TOP = {"routing_key", "event_action", "dedup_key", "payload", "links", "images", "client", "client_url"}
PD_PAYLOAD = {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}


def _text(obj, kinds, limit, where, errors) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in kinds or not isinstance(obj.get("text"), str) \
            or not obj["text"]:
        errors.append(f"{where}: a text object of type {'/'.join(kinds)} with a non-empty text")
    elif len(obj["text"]) > limit:
        errors.append(f"{where}: text longer than {limit}")


def slack_errors(body) -> list[str]:
    errors: list[str] = []
    if not isinstance(body, dict):
        return ["not a JSON object"]
    errors += [f"unknown field {k}" for k in body if k not in SLACK_TOP]
    if not body.get("text") and not body.get("blocks"):
        errors.append("no text and no blocks")
    if "text" in body and not isinstance(body["text"], str):
        errors.append("text is not a string")
    blocks = body.get("blocks", [])
    if not isinstance(blocks, list) or len(blocks) > 50:
        return errors + ["blocks must be a list of at most 50"]
    for i, b in enumerate(blocks):
        kind = b.get("type") if isinstance(b, dict) else None
        if kind not in SLACK_BLOCKS:
            errors.append(f"block {i}: unknown type {kind!r}")
        elif kind == "header":
            _text(b.get("text"), ("plain_text",), 150, f"block {i} header", errors)
        elif kind == "section":
            _text(b.get("text"), ("mrkdwn", "plain_text"), 3000, f"block {i} section", errors)
        elif kind == "context":
            els = b.get("elements")
            if not isinstance(els, list) or not 1 <= len(els) <= 10:
                errors.append(f"block {i}: context needs 1 to 10 elements")
            else:
                for e in els:
                    _text(e, ("mrkdwn", "plain_text"), 3000, f"block {i} context element", errors)
        elif kind == "actions":
            for e in b.get("elements") or [None]:
                if not isinstance(e, dict) or e.get("type") != "button":
                    errors.append(f"block {i}: actions elements here are buttons")
                    continue
                _text(e.get("text"), ("plain_text",), 75, f"block {i} button", errors)
                if "url" in e and (not isinstance(e["url"], str) or len(e["url"]) > 3000):
                    errors.append(f"block {i}: button url")
    return errors


def teams_errors(body) -> list[str]:
    errors: list[str] = []
    if not isinstance(body, dict) or body.get("type") != "message":
        return ["type must be message"]
    atts = body.get("attachments")
    if not isinstance(atts, list) or not atts:
        return ["attachments must be a non-empty list"]
    for a in atts:
        if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
            errors.append("attachment contentType is not application/vnd.microsoft.card.adaptive")
        card = a.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            errors.append("attachment content is not an AdaptiveCard")
            continue
        if not str(card.get("version", "")).startswith("1."):
            errors.append("card version must be 1.x")
        for i, el in enumerate(card.get("body") or []):
            if el.get("type") not in CARD_ELEMENTS:
                errors.append(f"body {i}: unknown element {el.get('type')!r}")
            elif el["type"] == "TextBlock" and not isinstance(el.get("text"), str):
                errors.append(f"body {i}: TextBlock without text")
            elif el["type"] == "FactSet":
                facts = el.get("facts")
                if not isinstance(facts, list) or not all(isinstance(f, dict) and isinstance(f.get("title"), str)
                                                          and isinstance(f.get("value"), str) for f in facts):
                    errors.append(f"body {i}: FactSet facts need string title and value")
        for act in card.get("actions") or []:
            if act.get("type") != "Action.OpenUrl" or not act.get("url") or not act.get("title"):
                errors.append("actions: Action.OpenUrl with title and url")
    return errors


def pagerduty_errors(body) -> list[str]:
    errors: list[str] = []
    if not isinstance(body, dict):
        return ["not a JSON object"]
    errors += [f"unknown field {k}" for k in body if k not in PD_TOP]
    if not isinstance(body.get("routing_key"), str) or len(body["routing_key"]) != 32:
        errors.append("routing_key must be a 32-character string")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("event_action must be trigger, acknowledge or resolve")
    key = body.get("dedup_key")
    if action in ("acknowledge", "resolve") and not key:
        errors.append("dedup_key is required to acknowledge or resolve")
    if key is not None and (not isinstance(key, str) or len(key) > 255):
        errors.append("dedup_key must be a string of at most 255 characters")
    if action == "trigger":
        p = body.get("payload")
        if not isinstance(p, dict):
            return errors + ["payload is required for a trigger"]
        errors += [f"unknown payload field {k}" for k in p if k not in PD_PAYLOAD]
        if not isinstance(p.get("summary"), str) or not p["summary"] or len(p["summary"]) > 1024:
            errors.append("payload.summary: 1 to 1024 characters")
        if not isinstance(p.get("source"), str) or not p["source"]:
            errors.append("payload.source is required")
        if p.get("severity") not in ("critical", "error", "warning", "info"):
            errors.append("payload.severity must be critical, error, warning or info")
        if "timestamp" in p:
            try:
                dt.datetime.fromisoformat(str(p["timestamp"]).replace("Z", "+00:00"))
            except ValueError:
                errors.append("payload.timestamp is not ISO 8601")
        for link in body.get("links") or []:
            if not isinstance(link, dict) or not link.get("href"):
                errors.append("links need href")
    return errors


VALIDATORS = {"slack": slack_errors, "teams": teams_errors, "pagerduty": pagerduty_errors}


class Service:
    """A real local HTTP endpoint for `kind` (slack, teams, pagerduty, or None: any body)."""

    def __init__(self, kind: str | None, path: str = "/"):
        self.kind = kind
        self.accepted: list[dict] = []
        self.refused: list[tuple[object, list[str]]] = []
        self.requests: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw})
                try:
                    body = json.loads(raw)
                except ValueError:
                    body, errors = raw, ["the body is not JSON"]
                else:
                    errors = VALIDATORS[service.kind](body) if service.kind else []
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json" and service.kind:
                    errors.append("Content-Type is not application/json")
                if errors:
                    service.refused.append((body, errors))
                    self._answer(400, {"status": "invalid event", "errors": errors} if service.kind == "pagerduty"
                                 else "invalid_payload")
                    return
                service.accepted.append(body)
                if service.kind == "pagerduty":
                    self._answer(202, {"status": "success", "message": "Event processed",
                                       "dedup_key": body.get("dedup_key")})
                elif service.kind == "teams":
                    self._answer(202, "")
                else:
                    self._answer(200, "ok")

            def _answer(self, code, data):
                text = data if isinstance(data, str) else json.dumps(data)
                self.send_response(code)
                self.send_header("Content-Type", "application/json" if not isinstance(data, str) else "text/plain")
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
