"""slack, teams, pagerduty and templated webhook destinations (issue 14, items 1 and 2), each
delivered to a real local HTTP server that checks the body against the service's documented
fields (tests/alertservers.py): one message per build and destination grouped by table,
`each: true` one per check, PagerDuty trigger/resolve under one dedup_key, secrets nowhere."""
from __future__ import annotations

import json
import os

import pytest
from alertservers import Service, pagerduty_errors, slack_errors, teams_errors
from proj import build, cli, query, sql, write

from slocompile.run import destinations

SLACK_TOKEN = "T0001/B0002/abcdefghijklmnopqrstuvwx"
PD_KEY = "R0UT1NGK3Y0123456789abcdefABCDEF"  # 32 characters, as PagerDuty's integration keys


@pytest.fixture
def services():
    made: list[Service] = []

    def make(kind, path="/"):
        s = Service(kind, path)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


TABLES = [{"name": "orders", "relation": "raw.orders", "checks": [{"row_count": {"min": 3}}],
           "columns": [{"name": "country", "checks": [{"accepted_values": {"values": ["US"], "severity": "warn"}}]}]},
          {"name": "payments", "relation": "raw.payments", "checks": [{"row_count": {"min": 3}}]}]


def data(root, orders: int, payments: int, country: str = "US") -> None:
    sql(root, [f"CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id, '{country}' AS country FROM range({orders})",
               f"CREATE OR REPLACE TABLE raw.payments AS SELECT range AS id FROM range({payments})"])


def project(root, *triggers) -> str:
    return write(root, TABLES, triggers=list(triggers))


def test_slack_one_message_per_build_grouped_by_table(tmp_path, services):
    slack = services("slack", "/services/")
    project(tmp_path, {"name": "chat", "on": ["fail", "warn", "recover"],
                       "do": [{"slack": {"url": slack.url + SLACK_TOKEN,
                                         "report_url": "https://ci.example.com/report.html"}}]})
    data(tmp_path, 1, 1, country="XX")  # orders: row_count fails, accepted_values warns; payments fails
    assert build(tmp_path).exit_code == 1
    assert slack.refused == [] and len(slack.accepted) == 1
    msg = slack.accepted[0]
    assert msg["blocks"][0]["text"]["text"] == "issue4: 2 failed, 1 warned in 2 tables"
    sections = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert sections[0].startswith("*orders*\n:red_circle: row_count: observed 1, expected &gt;= 3")
    assert sections[0].endswith(":large_orange_circle: accepted_values_country (country): observed 1 row (100%), "
                                "expected 0 rows")
    assert sections[1] == "*payments*\n:red_circle: row_count: observed 1, expected &gt;= 3"
    assert msg["blocks"][-1]["elements"][0]["url"] == "https://ci.example.com/report.html"
    assert msg["text"].startswith("issue4: 2 failed, 1 warned in 2 tables\norders: 1 failed; 1 warned")
    # three alerts (table x event) recorded, all delivered by that one message
    rows = query(tmp_path, "SELECT table_name, event, delivery, attempts FROM slo.alerts ORDER BY alert_id")
    assert rows == [("orders", "fail", "delivered", 1), ("orders", "warn", "delivered", 1),
                    ("payments", "fail", "delivered", 1)]
    build(tmp_path)  # nothing changed: nothing sent
    assert len(slack.accepted) == 1
    data(tmp_path, 5, 1, country="XX")
    build(tmp_path)
    recovered = slack.accepted[1]
    assert recovered["blocks"][0]["text"]["text"] == "issue4: 1 recovered in 1 table"
    assert recovered["blocks"][1]["text"]["text"] == ("*orders*\n:large_green_circle: row_count: passes again\n"
                                                      "still failing: accepted_values_country")


def test_each_true_sends_one_message_per_check(tmp_path, services):
    slack = services("slack")
    project(tmp_path, {"name": "chat", "on": ["fail", "warn"], "each": True, "do": [{"slack": slack.url + "x"}]})
    data(tmp_path, 1, 1, country="XX")
    build(tmp_path)
    assert slack.refused == []
    heads = sorted(m["blocks"][1]["text"]["text"].split("\n")[0] for m in slack.accepted)
    assert heads == ["*orders*", "*orders*", "*payments*"]
    assert sorted(m["blocks"][0]["text"]["text"] for m in slack.accepted) == [
        "issue4: 1 failed in 1 table", "issue4: 1 failed in 1 table", "issue4: 1 warned in 1 table"]


def test_teams_adaptive_card(tmp_path, services):
    teams = services("teams", "/workflows/")
    project(tmp_path, {"name": "cards", "do": [{"teams": {"url": teams.url + "trigger?sig=s3cr3tsignature0001",
                                                          "report_url": "https://ci.example.com/r.html"}}]})
    data(tmp_path, 1, 5)
    build(tmp_path)
    assert teams.refused == [] and len(teams.accepted) == 1
    card = teams.accepted[0]["attachments"][0]["content"]
    assert card["body"][0]["text"] == "issue4: 1 failed in 1 table"
    assert card["body"][1]["text"] == "**orders**"
    assert card["body"][2]["facts"] == [{"title": "failed", "value": "row_count: observed 1, expected >= 3"}]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the report",
                                "url": "https://ci.example.com/r.html"}]
    assert query(tmp_path, "SELECT delivery, detail FROM slo.alerts") == [("delivered", "HTTP 202")]


def test_pagerduty_triggers_updates_and_resolves_one_dedup_key(tmp_path, services):
    pd = services("pagerduty", "/v2/enqueue")
    project(tmp_path, {"name": "page", "select": ["orders"], "severity": "any", "on": ["fail", "warn", "recover"],
                       "do": [{"pagerduty": {"routing_key": PD_KEY, "url": pd.url}}]})
    data(tmp_path, 1, 5)                       # row_count fails: trigger
    build(tmp_path)
    data(tmp_path, 1, 5, country="XX")         # also a warning: the same alert, updated
    build(tmp_path)
    data(tmp_path, 5, 5, country="XX")         # row_count recovers, the warning stays: still open
    build(tmp_path)
    data(tmp_path, 5, 5)                       # everything passes: resolve
    build(tmp_path)
    assert pd.refused == []
    events = [(e["event_action"], e.get("payload", {}).get("severity")) for e in pd.accepted]
    assert events == [("trigger", "error"), ("trigger", "warning"), ("trigger", "warning"), ("resolve", None)]
    assert {e["dedup_key"] for e in pd.accepted} == {"slocompile/issue4/local/page/orders"}
    first = pd.accepted[0]["payload"]
    assert first["summary"] == "issue4 orders: failing: row_count" and first["component"] == "orders"
    assert first["custom_details"]["changes"] == ["row_count: observed 1, expected >= 3"]
    assert pd.accepted[2]["payload"]["summary"] == "issue4 orders: failing: accepted_values_country"
    assert pd.accepted[3] == {"routing_key": PD_KEY, "event_action": "resolve",
                              "dedup_key": "slocompile/issue4/local/page/orders"}
    # the routing key is a secret: not in the alerts table
    stored = json.dumps(query(tmp_path, "SELECT * FROM slo.alerts"), default=str)
    assert PD_KEY not in stored
    assert set(query(tmp_path, "SELECT action, destination FROM slo.alerts")) == {
        ("pagerduty", pd.url.rsplit("/v2", 1)[0])}


def test_pagerduty_refusal_is_a_failed_delivery_not_a_failed_build(tmp_path, services):
    pd = services("pagerduty")
    project(tmp_path, {"name": "page", "do": [{"pagerduty": {"routing_key": "too-short-key", "url": pd.url,
                                                             "retries": 0}}]})
    data(tmp_path, 1, 5)
    assert build(tmp_path).exit_code == 1  # the checks' verdict, not the delivery's
    assert pd.accepted == [] and pd.refused[0][1] == ["routing_key must be a 32-character string"]
    assert query(tmp_path, "SELECT delivery, detail FROM slo.alerts") == [("failed", "HTTP 400 Bad Request "
                                                                           "(not retried)")]


def test_webhook_payload_template(tmp_path, services):
    hook = services(None)
    template = ('{% raw %}{"title": {{ event.summary | tojson }}, "failed": [{% for r in event.results %}'
                '{{ (r.table ~ "." ~ r.check) | tojson }}{{ "," if not loop.last }}{% endfor %}], '
                '"run": {{ event.run_id | tojson }}}{% endraw %}')
    project(tmp_path, {"name": "custom", "do": [{"webhook": {"url": hook.url, "payload": template}}]})
    data(tmp_path, 1, 1)
    run = build(tmp_path)
    assert len(hook.requests) == 1
    body = json.loads(hook.requests[0]["raw"])
    assert body == {"title": "issue4: 2 failed in 2 tables", "failed": ["orders.row_count", "payments.row_count"],
                    "run": run.run_id}


def test_webhook_payload_template_errors_are_located(tmp_path):
    write(tmp_path, """\
        tables:
          - name: orders
            relation: raw.orders
        triggers:
          - name: bad
            do:
              - webhook:
                  url: http://127.0.0.1:9/x
                  payload: "{% raw %}{{ event.sumary | tojson }}{% endraw %}"
          - name: notjson
            do:
              - webhook:
                  url: http://127.0.0.1:9/x
                  payload: "{% raw %}title: {{ event.summary }}{% endraw %}"
          - name: badsyntax
            do:
              - slack: {url: "http://127.0.0.1:9/x", report_url: "ftp://x"}
        """)
    out = cli(tmp_path, "compile")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert lines[0].startswith("error: slos/tables.yml:9:") and "payload template" in lines[0] \
        and "sumary" in lines[0]
    assert lines[1].startswith("error: slos/tables.yml:14:") and "does not render to JSON" in lines[1]
    assert lines[2].startswith("error: slos/tables.yml:17:") and "report_url must be an http" in lines[2]


def test_service_urls_and_keys_never_leave_the_process(tmp_path, services):
    slack = services("slack", "/services/")
    dead = "http://127.0.0.1:9/services/" + SLACK_TOKEN.replace("abc", "zzz")  # refuses connections
    project(tmp_path, {"name": "chat", "do": [{"slack": slack.url + SLACK_TOKEN},
                                              {"slack": {"url": dead, "retries": 0}},
                                              {"pagerduty": {"routing_key": PD_KEY, "url": dead, "retries": 0}}]})
    data(tmp_path, 1, 5)
    out = cli(tmp_path, "build")
    assert out.returncode == 1 and len(slack.accepted) == 1
    texts = [out.stdout, out.stderr, json.dumps(query(tmp_path, "SELECT * FROM slo.alerts"), default=str)]
    for name in ("run_results.json", "manifest.json", "junit.xml"):
        with open(os.path.join(tmp_path, "target", name), encoding="utf-8") as fh:
            texts.append(fh.read())
    for text in texts:
        for secret in (SLACK_TOKEN, SLACK_TOKEN.replace("abc", "zzz"), "abcdefghijklmnopqrstuvwx", PD_KEY):
            assert secret not in text
    assert "-> slack http://127.0.0.1:9: failed" in out.stdout  # the destination: service and host only
    assert query(tmp_path, "SELECT action, delivery FROM slo.alerts ORDER BY action_index") == [
        ("slack", "delivered"), ("slack", "failed"), ("pagerduty", "failed")]


def test_validators_refuse_what_the_services_refuse():
    """The stand-ins are strict: a body the service would refuse is refused here too."""
    assert slack_errors({"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]})
    assert slack_errors({"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                                              "text": "y" * 3001}}]})
    assert slack_errors({"txt": "x"})
    assert teams_errors({"type": "message", "attachments": [{"contentType": "application/json", "content": {}}]})
    assert pagerduty_errors({"routing_key": PD_KEY, "event_action": "trigger", "payload": {"summary": "s"}})
    assert pagerduty_errors({"routing_key": PD_KEY, "event_action": "resolve"})


def _payload(table, event, units, **extra):
    return {"alert_id": f"r-{table}-{event}", "trigger": "t", "event": event, "table": table, "view": f"v.{table}",
            "project": "p", "target": "local", "run_id": "r", "at": "2026-12-06T10:00:00Z", "summary": "",
            "results": units, **extra}


def _unit(check, partition, **extra):
    return {"table": "predictions", "check": check, "column": "score", "partition": partition, "status": "warn",
            "severity": "warn", "observed": 0.5, "expected": "[0, 0.1]", "message": "", "previous": None, **extra}


def test_alerts_of_one_incident_travel_in_one_message():
    """Monitor alerts of one incident (same table and partition) are units of one table's alert,
    so they arrive together; incident events the build knows are listed with them."""
    units = [_unit("monitor:score:mean", "2026-12-05", incident="inc-1", cause="unit change"),
             _unit("monitor:score:p90", "2026-12-05", incident="inc-1", cause="unit change")]
    s = destinations.summary([_payload("predictions", "warn", units, still_failing=["monitor:score:mean"],
                                       incident_events=[{"table": "predictions", "incident": "inc-0",
                                                         "event": "recover"}])])
    assert [(i["incident"], i["event"], i.get("checks")) for i in s["incidents"]] == [
        ("inc-1", "open", ["monitor:score:mean", "monitor:score:p90"]), ("inc-0", "recover", [])]
    msg = destinations.slack(s)
    assert slack_errors(msg) == []
    incidents = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"][-1]
    assert incidents == ("*Incidents*\nopen: inc-1 (predictions, partition 2026-12-05): unit change\n"
                         "recover: inc-0 (predictions)")
    assert teams_errors(destinations.teams(s)) == []


def test_many_tables_stay_inside_slack_limits():
    payloads = [_payload(f"t{i:03}", "fail", [_unit("row_count", None, observed="x" * 500)] * 30) for i in range(60)]
    msg = destinations.slack(destinations.summary(payloads))
    assert slack_errors(msg) == [] and len(msg["blocks"]) <= 50
    assert msg["blocks"][-2]["text"]["text"] == "... and 20 more tables"


def test_each_true_keeps_the_alerts_of_one_incident_together(tmp_path):
    """`each: true` splits alerts per check, except monitor alerts of one incident: one alert
    (and one PagerDuty dedup_key) for the incident."""
    import datetime as dt

    from slocompile.api import Project
    from slocompile.checks.evaluate import Result
    from slocompile.run.alertstate import detect, incidents_of, payload
    from slocompile.run.build import BuildResult, TableRun
    from slocompile.run.monitors import TableMonitoring

    write(tmp_path, [{"name": "predictions", "relation": "raw.predictions", "partition": "ds",
                      "checks": [{"row_count": {"min": 3}}]}],
          triggers=[{"name": "page", "each": True, "on": ["fail", "warn"],
                     "do": [{"pagerduty": {"routing_key": PD_KEY, "url": "http://127.0.0.1:9/"}}]}])
    spec = Project.load(str(tmp_path)).spec
    run = BuildResult("r1", spec, "local", "duckdb", dt.datetime(2026, 12, 6, 10))
    results = [Result("predictions", c, "monitor", "score", "2026-12-05", "warn", "warn", 0.5, "[0, 0.1]", "")
               for c in ("monitor:score:mean", "monitor:score:p90", "monitor:label:share")]
    results.append(Result("predictions", "row_count", "row_count", None, "2026-12-05", "fail", "error", 1, ">= 3", ""))
    run.tables.append(TableRun(spec.tables[0], None, results, [], 0.0, ("2026-12-05",), None))
    run.monitors["predictions"] = TableMonitoring("predictions", "warn", alerts=[
        {"table": "predictions", "partition": "2026-12-05", "check": "monitor:score:mean", "incident": "inc-7",
         "cause": "unit change"},
        {"table": "predictions", "partition": "2026-12-05", "check": "monitor:score:p90", "incident": "inc-7",
         "cause": "unit change"},
        {"table": "predictions", "partition": "2026-12-05", "check": "monitor:label:share", "incident": "inc-8"}])
    alerts = detect(spec.triggers, run, {})
    assert sorted(sorted(u["check"] for u in a.units) for a in alerts) == [
        ["monitor:label:share"], ["monitor:score:mean", "monitor:score:p90"], ["row_count"]]
    state = {(r.table, r.check, r.partition): (r.status, r.severity) for r in results}
    keys = set()
    for a in alerts:
        s = destinations.summary([payload(a, run, state, incidents_of(run))])
        events = destinations.pagerduty(spec.triggers[0].actions[0], s, each=True)
        assert [pagerduty_errors(e) for e in events] == [[]]
        keys.add(events[0]["dedup_key"])
    assert keys == {"slocompile/issue4/local/page/predictions/incident/inc-7",
                    "slocompile/issue4/local/page/predictions/incident/inc-8",
                    "slocompile/issue4/local/page/predictions/row_count"}


def test_pagerduty_pages_per_monitor_incident_and_per_table(tmp_path, services):
    """A monitor incident is its own PagerDuty alert (dedup_key .../<table>/incident/<id>):
    triggered when it opens, left alone while it lasts, resolved when it recovers, although a
    declared check of the table still fails; that check pages under the table's key, which the
    incident's monitor alerts never keep open."""
    from test_monitoring import HELD_TABLES, HISTORY, day, held_rows

    from slocompile.api import Project

    pd = services("pagerduty", "/v2/enqueue")
    root = write(tmp_path / "p", HELD_TABLES.replace("    checks:\n", "") + f"""\
    checks:
      - row_count: {{min: 385}}     # fails on days 0, 12, 13 and 26 (380 rows), whatever the monitors say
triggers:
  - name: page
    on: [fail, recover]
    do:
      - pagerduty: {{routing_key: {PD_KEY}, url: "{pd.url}"}}
""")
    sql(root, f"CREATE TABLE raw.feat AS {held_rows(0, HISTORY - 1)} ORDER BY ds, user_id")
    project = Project.load(root)
    sent = {}
    for d in ["history", *range(HISTORY, 29)]:
        if d != "history":
            sql(root, f"INSERT INTO raw.feat {held_rows(d, d)}")
        before = len(pd.accepted)
        project.build(write=False)
        sent[d] = [(e["event_action"], e["dedup_key"].removeprefix("slocompile/issue4/local/page/"),
                    e.get("payload", {}).get("summary")) for e in pd.accepted[before:]]
    assert pd.refused == []
    incident = f"feat/{day(22)}/1"
    assert sent["history"] == [("trigger", "feat", "issue4 feat: failing: row_count")]
    [(action, key, summary)] = sent[22]
    assert (action, key) == ("trigger", f"feat/incident/{incident}")
    assert summary.startswith(f"issue4 feat: incident {incident} (") and ": failing: monitor_" in summary
    assert sent[26] == [("trigger", "feat", "issue4 feat: failing: row_count")]   # the table's page, updated
    assert sent[27] == [("resolve", f"feat/incident/{incident}", None)]       # row_count still fails
    assert all(sent[d] == [] for d in (20, 21, 23, 24, 25, 28))
