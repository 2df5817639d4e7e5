"""Event triggers (SPEC §4) against a real HTTP server on 127.0.0.1: exactly one POST per status
change, retries with backoff, failed deliveries recorded and never fatal; command and sql actions;
selection by table/check patterns and severity; every alert a row of slo.alerts."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from proj import build, cli, query, sql, write

from slocompile.api import Project
from slocompile.errors import SpecError


class Hook:
    """A local webhook receiver: records every POST; answers with `codes` in turn (then 200)."""

    def __init__(self, codes=(), delay: float = 0.0):
        self.posts: list[dict] = []
        self.codes = list(codes)
        self.delay = delay
        self.times: list[float] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.times.append(time.monotonic())
                if hook.delay:
                    time.sleep(hook.delay)
                code = hook.codes.pop(0) if hook.codes else 200
                if code == 200:
                    hook.posts.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def features(n: int, table: str = "user_features") -> str:
    return f"CREATE OR REPLACE TABLE raw.{table} AS SELECT range AS uid, 'US' AS country FROM range({n})"


def project(root, trigger: dict, extra_tables=()):
    write(root, [{"name": "user_features", "relation": "raw.user_features", "checks": [{"row_count": {"min": 3}}],
                  "columns": [{"name": "country", "checks": [
                      {"accepted_values": {"values": ["US"], "severity": "warn"}}]}]}, *extra_tables],
          triggers=[trigger])
    return root


def alerts(root) -> list[tuple]:
    return query(root, "SELECT trigger_name, event, table_name, checks, action, delivery, attempts, detail "
                       "FROM slo.alerts ORDER BY created_at, alert_id, action_index")


def test_one_post_per_status_change(tmp_path, hook):
    project(tmp_path, {"name": "page", "on": ["fail", "recover"], "select": ["user_features"],
                       "do": [{"webhook": {"url": hook.url + "?token=secret", "headers": {"X-Team": "ml"}}}]})
    sequence = [(5, 0), (1, 1), (1, 1), (2, 1), (5, 2), (5, 2), (1, 3)]   # rows -> POSTs so far
    for rows, posts in sequence:
        sql(tmp_path, features(rows))
        build(tmp_path)
        assert len(hook.posts) == posts, (rows, hook.posts)
    events = [p["json"]["event"] for p in hook.posts]
    assert events == ["fail", "recover", "fail"]
    first = hook.posts[0]
    assert first["path"] == "/hook?token=secret" and first["headers"]["X-Team"] == "ml"
    assert first["headers"]["Content-Type"] == "application/json"
    body = first["json"]
    assert body["trigger"] == "page" and body["table"] == "user_features" and body["view"] == "validated.user_features"
    assert body["summary"] == "user_features: 1 SLO failed: row_count"
    assert [(r["check"], r["status"], r["previous"], r["observed"], r["expected"]) for r in body["results"]] == [
        ("row_count", "fail", "pass", 1, ">= 3")]
    rows = alerts(tmp_path)
    assert [(r[1], r[5], r[6]) for r in rows] == [("fail", "delivered", 1), ("recover", "delivered", 1),
                                                  ("fail", "delivered", 1)]
    # the secret in the query string is not stored
    assert {r[0] for r in query(tmp_path, "SELECT destination FROM slo.alerts")} == {hook.url}


def test_first_failing_build_counts_and_repeat_fires_every_build(tmp_path, hook):
    project(tmp_path, {"name": "again", "on": ["fail"], "repeat": True, "do": [{"webhook": hook.url}]})
    sql(tmp_path, features(1))
    for n in (1, 2, 3):
        assert build(tmp_path).exit_code == 1
        assert len(hook.posts) == n
    sql(tmp_path, features(5))
    build(tmp_path)
    assert len(hook.posts) == 3  # `on` has no recover


def test_warn_events_and_severity_selection(tmp_path, hook):
    project(tmp_path, {"name": "warns", "on": ["warn", "recover"], "severity": "warn", "do": [{"webhook": hook.url}]})
    sql(tmp_path, features(1))  # row_count fails (error severity: not selected)
    build(tmp_path)
    assert hook.posts == []
    sql(tmp_path, "UPDATE raw.user_features SET country = 'XX'")
    build(tmp_path)
    assert [p["json"]["event"] for p in hook.posts] == ["warn"]
    assert [r["check"] for r in hook.posts[0]["json"]["results"]] == ["accepted_values_country"]
    sql(tmp_path, features(5))
    build(tmp_path)
    assert [p["json"]["event"] for p in hook.posts] == ["warn", "recover"]


def test_check_patterns_select_checks(tmp_path, hook):
    other = {"name": "predictions", "relation": "raw.predictions", "checks": [{"row_count": {"min": 3}}],
             "columns": [{"name": "score", "checks": ["not_null", {"between": {"min": 0, "max": 1}}]}]}
    project(tmp_path, {"name": "nulls", "select": ["predictions.not_null_*"], "do": [{"webhook": hook.url}]},
            extra_tables=[other])
    sql(tmp_path, [features(1),
                   "CREATE OR REPLACE TABLE raw.predictions AS SELECT * FROM (VALUES (NULL), (2.0)) t(score)"])
    build(tmp_path)
    assert len(hook.posts) == 1
    assert hook.posts[0]["json"]["table"] == "predictions"
    assert [r["check"] for r in hook.posts[0]["json"]["results"]] == ["not_null_score"]


def test_each_newly_failing_partition_is_a_change(tmp_path, hook):
    write(tmp_path, [{"name": "events", "relation": "raw.events", "partition": "ds",
                      "checks": [{"row_count": {"min": 2}}]}],
          triggers=[{"name": "t", "do": [{"webhook": hook.url}]}])
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.events AS SELECT * FROM (VALUES ('a'), ('a'), ('b')) t(ds)")
    build(tmp_path)
    assert [[r["partition"] for r in p["json"]["results"]] for p in hook.posts] == [["b"]]
    build(tmp_path)  # b still fails: no change
    sql(tmp_path, "INSERT INTO raw.events VALUES ('c')")
    build(tmp_path)  # c is new and fails; b still fails
    assert [[r["partition"] for r in p["json"]["results"]] for p in hook.posts] == [["b"], ["c"]]
    assert hook.posts[1]["json"]["summary"] == "events: 1 SLO failed: row_count (partitions c)"


def test_retries_with_backoff_then_delivers(tmp_path):
    hook = Hook(codes=[500, 503])
    try:
        project(tmp_path, {"name": "flaky", "do": [{"webhook": {"url": hook.url, "retries": 3, "backoff": 0.2}}]})
        sql(tmp_path, features(1))
        run = build(tmp_path)
        assert len(hook.posts) == 1 and len(hook.times) == 3
        gaps = [b - a for a, b in zip(hook.times, hook.times[1:])]
        assert gaps[0] >= 0.2 and gaps[1] >= 0.4  # exponential backoff
        assert [(d.delivery, d.attempts) for d in run.alerts] == [("delivered", 3)]
        assert alerts(tmp_path)[0][5:7] == ("delivered", 3)
    finally:
        hook.close()


def test_failed_delivery_is_recorded_reported_and_not_fatal(tmp_path):
    hook = Hook(codes=[500] * 10)
    try:
        project(tmp_path, {"name": "down", "on": ["warn"], "do": [
            {"webhook": {"url": hook.url, "retries": 1, "backoff": 0.01}},
            {"webhook": {"url": "http://127.0.0.1:9/closed", "retries": 0, "timeout": 2}},
            {"command": "exit 3"}]})
        sql(tmp_path, [features(5), "UPDATE raw.user_features SET country = 'XX'"])
        done = cli(tmp_path, "build")
        assert done.returncode == 0, done.stderr   # only a warn-severity SLO failed; deliveries failed
        assert "alert down: warn user_features -> webhook " + hook.url + ": failed, HTTP 500" in done.stdout
        rows = alerts(tmp_path)
        assert [(r[4], r[5], r[6]) for r in rows] == [("webhook", "failed", 2), ("webhook", "failed", 1),
                                                      ("command", "failed", 1)]
        assert rows[0][7] == "HTTP 500 Internal Server Error (after 2 attempts)"
        assert "refused" in rows[1][7].lower()
        assert rows[2][7] == "exit 3"
        results = json.loads((tmp_path / "target" / "run_results.json").read_text())
        assert [a["delivery"] for a in results["alerts"]] == ["failed", "failed", "failed"]
    finally:
        hook.close()


def test_client_errors_are_not_retried_and_timeouts_fail(tmp_path):
    hook = Hook(codes=[404])
    slow = Hook(delay=1.5)
    try:
        project(tmp_path, {"name": "x", "do": [{"webhook": {"url": hook.url, "retries": 3, "backoff": 0.01}},
                                              {"webhook": {"url": slow.url, "retries": 0, "timeout": 0.3}}]})
        sql(tmp_path, features(1))
        run = build(tmp_path)
        assert [(d.delivery, d.attempts, d.detail) for d in run.alerts][0] == (
            "failed", 1, "HTTP 404 Not Found (not retried)")
        assert run.alerts[1].delivery == "failed" and "timed out" in run.alerts[1].detail
    finally:
        hook.close()
        slow.close()


def test_command_gets_the_event_on_stdin_in_the_project_dir(tmp_path):
    project(tmp_path, {"name": "cmd", "do": [
        {"command": "cat > events/$SLOCOMPILE_EVENT-$SLOCOMPILE_TABLE.json"}]})
    (tmp_path / "events").mkdir()
    sql(tmp_path, features(1))
    build(tmp_path)
    event = json.loads((tmp_path / "events" / "fail-user_features.json").read_text())
    assert event["event"] == "fail" and event["trigger"] == "cmd" and event["results"][0]["check"] == "row_count"


def test_sql_action_runs_on_the_target(tmp_path):
    project(tmp_path, {"name": "pause", "on": ["fail", "recover"], "do": [
        {"sql": "update ops.jobs set paused = not paused where name = 'train'"}]})
    sql(tmp_path, ["CREATE SCHEMA IF NOT EXISTS ops",
                   "CREATE OR REPLACE TABLE ops.jobs AS SELECT 'train' AS name, false AS paused", features(1)])
    build(tmp_path)
    assert query(tmp_path, "SELECT paused FROM ops.jobs") == [(True,)]
    sql(tmp_path, features(5))
    build(tmp_path)
    assert query(tmp_path, "SELECT paused FROM ops.jobs") == [(False,)]
    assert [r[5] for r in alerts(tmp_path)] == ["delivered", "delivered"]


def test_sql_action_failure_is_recorded(tmp_path):
    project(tmp_path, {"name": "bad", "do": [{"sql": "delete from ops.nothing_here"}]})
    sql(tmp_path, features(1))
    run = build(tmp_path)
    assert run.alerts[0].delivery == "failed" and "nothing_here" in run.alerts[0].detail


def test_trigger_without_actions_only_records(tmp_path):
    project(tmp_path, {"name": "log"})
    sql(tmp_path, features(1))
    build(tmp_path)
    assert [(r[0], r[1], r[4], r[5]) for r in alerts(tmp_path)] == [("log", "fail", None, "recorded")]


def test_trigger_declaration_errors_are_located(tmp_path):
    write(tmp_path, """
        tables:
          - name: user_features
            relation: raw.user_features
        triggers:
          - name: a
            on: [fail, broke]
            select: [user_featurs, "user_features.*", "nothing.*"]
            do:
              - webhook: {url: "ftp://x"}
              - email: someone
              - sql: "update a set b = 1; delete from c"
              - sql: "begin"
              - sql: "not sql at all ("
              - command: {run: "x", timeout: soon}
          - name: a
          - name: b
            on: warn
            severity: error
          - name: c
            repeat: maybe
            do: hook
        """)
    with pytest.raises(SpecError) as info:
        Project.load(str(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "slos/tables.yml:6:9: trigger 'a': unknown event 'broke' (events: fail, warn, recover)",
        "slos/tables.yml:7:13: trigger 'a': select 'user_featurs' matches no declared table "
        "(did you mean 'user_features'?)",
        "slos/tables.yml:7:13: trigger 'a': select 'nothing.*' matches no declared table",
        "slos/tables.yml:9:24: trigger 'a': webhook url must be an http:// or https:// URL, not 'ftp://x'",
        "slos/tables.yml:10:9: trigger 'a': unknown action 'email' (actions: webhook, command, sql, slack, teams, "
            "pagerduty)",
        "slos/tables.yml:11:14: trigger 'a': sql: write exactly one SQL statement (found 2)",
        "slos/tables.yml:12:14: trigger 'a': sql: transaction control is not allowed (the action runs in its own "
        "transaction)",
        "slos/tables.yml:13:14: trigger 'a': sql: invalid SQL: Invalid expression / Unexpected token (at line 1, "
        "column 14 of the SQL)",
        "slos/tables.yml:14:38: 'timeout' of command of trigger 'a' must be a number of seconds or a duration such "
        "as 10s or 2m, not 'soon'",
        "slos/tables.yml:15:5: duplicate trigger 'a' (also declared at slos/tables.yml:5:5)",
        "slos/tables.yml:17:9: trigger 'b': on: [warn] with severity: error can never fire (a failed error-severity "
        "check is a fail)",
        "slos/tables.yml:20:13: 'repeat' in a trigger must be true or false, not 'maybe'",
        "slos/tables.yml:21:9: 'do' in a trigger must be a list, not 'hook'",
    ]
