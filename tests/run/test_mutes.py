"""Mute, unmute, alerts and renotify (issue 14, item 4), against real DuckDB files and a real
local Slack stand-in: a muted alert is recorded, not delivered; after the mute ends it is
delivered once if its checks still fail; reminders after `renotify:`."""
from __future__ import annotations

import json

import pytest
from alertservers import Service
from proj import build, cli, query, sql, write


@pytest.fixture
def slack():
    s = Service("slack")
    yield s
    s.close()


def project(root, url: str, **trigger) -> str:
    tables = [{"name": "orders", "relation": "raw.orders", "checks": [{"row_count": {"min": 3}}]},
              {"name": "payments", "relation": "raw.payments", "checks": [{"row_count": {"min": 3}}]}]
    return write(root, tables, triggers=[{"name": "chat", "do": [{"slack": url}], **trigger}])


def data(root, orders: int, payments: int = 5) -> None:
    sql(root, [f"CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id FROM range({orders})",
               f"CREATE OR REPLACE TABLE raw.payments AS SELECT range AS id FROM range({payments})"])


def tables_of(message: dict) -> list[str]:
    return [b["text"]["text"].split("\n")[0].strip("*") for b in message["blocks"] if b["type"] == "section"]


def test_muted_alert_is_recorded_then_delivered_once_after_unmute(tmp_path, slack):
    project(tmp_path, slack.url)
    data(tmp_path, 5)
    build(tmp_path)
    out = cli(tmp_path, "mute", "orders", "--until", "3d", "--reason", "backfill of orders")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("muted orders until ") and out.stdout.rstrip().endswith(": backfill of orders")
    data(tmp_path, 1, 1)   # both fail; orders is muted
    build(tmp_path)
    assert [tables_of(m) for m in slack.accepted] == [["payments"]]
    rows = query(tmp_path, "SELECT table_name, delivery, detail FROM slo.alerts ORDER BY table_name")
    assert rows[0][:2] == ("orders", "muted") and rows[0][2].endswith("(orders): backfill of orders")
    assert rows[1][:2] == ("payments", "delivered")
    listing = cli(tmp_path, "alerts")
    assert listing.returncode == 0, listing.stderr
    assert "2 failing or warning checks:" in listing.stdout
    assert "fail  orders.row_count  since " in listing.stdout and "muted until" in listing.stdout
    assert "1 active mute (1 alert held):" in listing.stdout and "backfill of orders" in listing.stdout
    build(tmp_path)  # still muted, nothing new
    assert len(slack.accepted) == 1
    assert cli(tmp_path, "unmute", "orders").returncode == 0
    build(tmp_path)  # the mute ended and orders still fails: delivered once
    assert len(slack.accepted) == 2 and tables_of(slack.accepted[1]) == ["orders"]
    assert "held by a mute that ended" in json.dumps(slack.accepted[1])
    assert query(tmp_path, "SELECT delivery FROM slo.alerts WHERE delivery IN ('muted', 'released')") == [
        ("released",)]
    build(tmp_path)
    assert len(slack.accepted) == 2
    data_json = json.loads(cli(tmp_path, "alerts", "--format", "json").stdout)
    assert [m["active"] for m in data_json["mutes"]] == [False] and data_json["held"] == 0
    assert {(f["table"], f["mute"]) for f in data_json["failing"]} == {("orders", None), ("payments", None)}


def test_alert_held_by_an_expired_mute_is_dropped_when_the_checks_recovered(tmp_path, slack):
    project(tmp_path, slack.url, on=["fail"])
    data(tmp_path, 5)
    build(tmp_path)
    assert cli(tmp_path, "mute", "orders.row_count", "--until", "2099-01-01", "--reason", "known").returncode == 0
    data(tmp_path, 1)
    build(tmp_path)
    assert slack.accepted == []
    data(tmp_path, 5)
    sql(tmp_path, "UPDATE slo.mutes SET \"until\" = TIMESTAMP '2020-01-01'")  # the mute has run out
    build(tmp_path)
    assert slack.accepted == []
    assert query(tmp_path, "SELECT delivery FROM slo.alerts") == [("expired",)]


def test_mute_by_glob_and_partial_mutes(tmp_path, slack):
    project(tmp_path, slack.url)
    assert cli(tmp_path, "mute", "pay*", "--until", "1d", "--reason", "vendor outage").returncode == 0
    data(tmp_path, 1, 1)
    build(tmp_path)
    assert [tables_of(m) for m in slack.accepted] == [["orders"]]


def test_renotify_reminds_about_checks_still_failing(tmp_path, slack):
    project(tmp_path, slack.url, renotify="6h")
    data(tmp_path, 1)
    build(tmp_path)
    build(tmp_path)
    assert len(slack.accepted) == 1
    sql(tmp_path, "UPDATE slo.alerts SET created_at = created_at - INTERVAL 7 HOUR")
    build(tmp_path)
    assert len(slack.accepted) == 2 and tables_of(slack.accepted[1]) == ["orders"]
    assert "reminder: still failing" in json.dumps(slack.accepted[1])
    build(tmp_path)  # the reminder counts as a message: the next one is 6 hours later
    assert len(slack.accepted) == 2


def test_mute_command_errors_exit_2_without_traceback(tmp_path, slack):
    project(tmp_path, slack.url)
    cases = [(("mute", "ordrs", "--until", "1d", "--reason", "x"), "selector 'ordrs' matches no declared table "
              "(did you mean 'orders'?)"),
             (("mute", "orders", "--until", "2020-01-01", "--reason", "x"), "is not in the future"),
             (("mute", "orders", "--until", "soon", "--reason", "x"), "is neither a date"),
             (("mute", "orders", "--until", "1d", "--reason", " "), "--reason: say why"),
             (("unmute", "orders"), "no active mute has the selector or id 'orders'"),
             (("mute", "orders", "--until", "1d"), "Missing option '--reason'")]
    for args, message in cases:
        out = cli(tmp_path, *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)


def test_python_api_mutes_as_the_commands_do(tmp_path, slack):
    """Project.mute / unmute / alerts on a real DuckDB project: the same rows, the same holding back
    and release as `slocompile mute / unmute / alerts`."""
    import datetime as dt

    from slocompile.api import Project
    from slocompile.errors import SlocompileError

    project(tmp_path, slack.url)
    data(tmp_path, 5)
    build(tmp_path)
    p = Project.load(str(tmp_path))
    until = dt.datetime.now(dt.timezone(dt.timedelta(hours=2))) + dt.timedelta(days=2)  # aware: stored as UTC
    m = p.mute("orders", until=until, reason="backfill", who="ana")
    assert (m["selector"], m["reason"], m["created_by"], m["ended_at"]) == ("orders", "backfill", "ana", None)
    assert m["until"] == until.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    assert p.mute("pay*", until="3d", reason="vendor outage")["selector"] == "pay*"
    assert query(tmp_path, "SELECT selector, reason FROM slo.mutes ORDER BY selector") == [
        ("orders", "backfill"), ("pay*", "vendor outage")]
    data(tmp_path, 1, 1)
    build(tmp_path)
    assert slack.accepted == []  # both held
    seen = p.alerts()
    assert [(f["table"], f["check"], f["status"], f["mute"]) for f in seen["failing"]] == [
        ("orders", "row_count", "fail", m["mute_id"]), ("payments", "row_count", "fail", seen["failing"][1]["mute"])]
    assert seen["held"] == 2 and all(x["active"] for x in seen["mutes"])
    assert cli(tmp_path, "alerts").stdout.count("muted until") == 2  # the command reads the same rows
    ended = p.unmute(m["mute_id"], who="bo")
    assert [(e["mute_id"], e["ended_by"]) for e in ended] == [(m["mute_id"], "bo")] and ended[0]["ended_at"]
    build(tmp_path)  # orders' mute ended and it still fails: delivered once; payments stays held
    assert [tables_of(msg) for msg in slack.accepted] == [["orders"]]
    assert [x["selector"] for x in p.alerts()["mutes"] if x["active"]] == ["pay*"]
    for call, message in [(lambda: p.mute("ordrs", until="1d", reason="x"), "matches no declared table"),
                          (lambda: p.mute("orders", until=dt.date(2020, 1, 1), reason="x"), "is not in the future"),
                          (lambda: p.mute("orders", until="1d", reason=""), "say why"),
                          (lambda: p.unmute("orders"), "no active mute has the selector or id 'orders'")]:
        with pytest.raises(SlocompileError, match=message):
            call()
