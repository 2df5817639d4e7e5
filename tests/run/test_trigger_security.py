"""Issue 11, items 7-9: secrets never leave the process; webhooks do not follow redirects with
credentials and take basic auth from the URL; values in trigger commands are shell-quoted and a
command that times out is stopped with every process it started. Real HTTP servers on 127.0.0.1."""
from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest
from proj import build, cli, query, sql, write

from slocompile.api import Project
from slocompile.errors import SpecError

TOKEN = "tok-9f2c1e7a-SECRET-b44d"
PASSWORD = "pw-5d1c93-SECRET"


class Server:
    """Records every request (method, path, headers, body); answers with `respond(handler)`'s
    (code, headers), default 200."""

    def __init__(self, respond=None):
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                        "body": body})
                code, headers = respond(self) if respond else (200, {})
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = do_HEAD = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    made = []

    def make(respond=None):
        made.append(Server(respond))
        return made[-1]

    yield make
    for s in made:
        s.close()


FAILING_TABLE = """
tables:
  - name: user_features
    relation: raw.user_features
    checks:
      - row_count: {min: 3}
"""


def failing_data(root):
    sql(root, ["CREATE SCHEMA IF NOT EXISTS ops",
               "CREATE OR REPLACE TABLE ops.jobs AS SELECT 'train' AS name, '' AS note",
               "CREATE OR REPLACE TABLE raw.user_features AS SELECT range AS uid FROM range(1)"])


def alerts(root) -> list[tuple]:
    return query(root, "SELECT action, destination, delivery, attempts, detail FROM slo.alerts "
                       "ORDER BY created_at, alert_id, action_index")


def everything_stored(root) -> str:
    """Every row of every table in the warehouse but the sql action's own ops.jobs, as text."""
    con = duckdb.connect(os.path.join(str(root), "warehouse.duckdb"), read_only=True)
    try:
        out = []
        for schema, name in con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                        "WHERE table_type = 'BASE TABLE' AND table_schema <> 'ops'").fetchall():
            out.append(repr(con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()))
        return "\n".join(out)
    finally:
        con.close()


def artifacts(root) -> str:
    target = root / "target"
    return "\n".join(p.read_text() for p in sorted(target.iterdir()) if p.suffix in (".json", ".xml"))


# ------------------------------------------------------------------ 7: secrets

def test_env_var_secret_appears_in_no_output_artifact_or_meta_row(tmp_path, servers):
    hook = servers()
    write(tmp_path, FAILING_TABLE + f"""
triggers:
  - name: page
    on: fail
    do:
      - command: "echo {{{{ env_var('SLOTEST_TOKEN') }}}} >&2; exit 3"
      - command: "curl-is-not-here -H Authorization:{{{{ env_var('SLOTEST_TOKEN') }}}}"
      - sql: "update ops.jobs set note = '{{{{ env_var('SLOTEST_TOKEN') }}}}' where name = 'train'"
      - sql: "delete from ops.missing_{{{{ env_var('SLOTEST_TABLE') }}}}"
      - webhook:
          url: "{hook.url}?token={{{{ env_var('SLOTEST_TOKEN') }}}}"
          headers: {{X-Token: "{{{{ env_var('SLOTEST_TOKEN') }}}}"}}
""")
    failing_data(tmp_path)
    table_secret = "tbl4c0ffee"
    done = cli(tmp_path, "build", env={"SLOTEST_TOKEN": TOKEN, "SLOTEST_TABLE": table_secret})
    assert done.returncode == 1, done.stderr
    # the secret did its job: the command ran with it, the SQL stored it, the webhook sent it
    assert query(tmp_path, "SELECT note FROM ops.jobs") == [(TOKEN,)]
    assert hook.requests[0]["headers"]["X-Token"] == TOKEN and TOKEN in hook.requests[0]["path"]
    # ... and it is nowhere else
    texts = {"stdout": done.stdout, "stderr": done.stderr, "artifacts": artifacts(tmp_path),
             "meta": everything_stored(tmp_path)}
    for where, text in texts.items():
        assert TOKEN not in text, where
        assert table_secret not in text, where
    rows = alerts(tmp_path)
    assert rows[0][1] == "echo env_var('SLOTEST_TOKEN') >&2; exit 3"
    assert rows[0][2:] == ("failed", 1, "exit 3: env_var('SLOTEST_TOKEN')")
    assert rows[2][1] == "update ops.jobs set note = 'env_var('SLOTEST_TOKEN')' where name = 'train'"
    assert rows[3][2] == "failed" and "missing_env_var('SLOTEST_TABLE')" in rows[3][4]
    assert rows[4][1] == hook.url and rows[4][2] == "delivered"
    assert "-> command echo env_var('SLOTEST_TOKEN') >&2; exit 3: failed, exit 3: env_var('SLOTEST_TOKEN')" \
        in done.stdout


def test_secret_in_a_declaration_error_is_redacted(tmp_path):
    write(tmp_path, """
        tables:
          - name: t
            relation: raw.t
            checks:
              - row_count: {min: "{{ env_var('SLOTEST_TOKEN') }}"}
        """)
    done = cli(tmp_path, "compile", env={"SLOTEST_TOKEN": TOKEN})
    assert done.returncode == 2
    assert "slos/tables.yml:5" in done.stderr and "env_var('SLOTEST_TOKEN')" in done.stderr
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize("dsn", ["{{ env_var('SLOTEST_DSN') }}", f"postgresql://me:{PASSWORD}@[::1/db"])
def test_a_malformed_postgres_dsn_is_not_echoed_with_its_password(tmp_path, dsn):
    pytest.importorskip("psycopg")
    write(tmp_path, FAILING_TABLE)
    with open(tmp_path / "slocompile.yml", "a") as fh:
        fh.write(f"  pg: {{type: postgres, dsn: \"{dsn}\"}}\n")
    done = cli(tmp_path, "build", "--target", "pg", env={"SLOTEST_DSN": f"postgresql://me:{PASSWORD}@[::1/db"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "target 'pg'" in done.stderr and "IPv6" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


# ------------------------------------------------------------------ 8: webhooks

def test_a_redirect_is_not_followed_and_is_a_failed_delivery(tmp_path, servers):
    elsewhere = servers()
    redirect = servers(lambda h: (302, {"Location": elsewhere.url + "?stolen=1"}))
    write(tmp_path, FAILING_TABLE + f"""
triggers:
  - name: page
    do:
      - webhook: {{url: "{redirect.url}", retries: 2, backoff: 0.01, headers: {{Authorization: "Bearer {TOKEN}"}}}}
""")
    failing_data(tmp_path)
    run = build(tmp_path)
    assert [r["method"] for r in redirect.requests] == ["POST"]  # once: a redirect is not retried
    assert redirect.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert elsewhere.requests == []  # no GET, no Authorization header, nothing
    expected = f"HTTP 302 Found: redirect to http://127.0.0.1:{elsewhere.port} not followed (not retried)"
    assert [(d.delivery, d.attempts, d.detail) for d in run.alerts] == [("failed", 1, expected)]
    assert alerts(tmp_path) == [("webhook", redirect.url, "failed", 1, expected)]


@pytest.mark.parametrize("code", [307, 308])
def test_a_same_origin_307_or_308_is_not_followed_either(tmp_path, servers, code):
    hook = servers(lambda h: (code, {"Location": "/elsewhere"}) if h.path == "/hook" else (200, {}))
    write(tmp_path, FAILING_TABLE + f"""
triggers:
  - name: page
    do: [{{webhook: {{url: "{hook.url}", retries: 0}}}}]
""")
    failing_data(tmp_path)
    run = build(tmp_path)
    assert [r["path"] for r in hook.requests] == ["/hook"]
    assert run.alerts[0].delivery == "failed" and run.alerts[0].detail.startswith(f"HTTP {code} ")


def test_only_a_2xx_answer_to_the_post_is_a_delivery(tmp_path, servers):
    hook = servers(lambda h: (304, {}))
    write(tmp_path, FAILING_TABLE + f"""
triggers:
  - name: page
    do: [{{webhook: {{url: "{hook.url}", retries: 0}}}}]
""")
    failing_data(tmp_path)
    assert build(tmp_path).alerts[0].delivery == "failed"
    assert alerts(tmp_path)[0][2] == "failed"


def test_basic_auth_credentials_in_the_url_are_sent_and_never_shown(tmp_path, servers):
    hook = servers()
    url = hook.url.replace("http://", "http://alerts:p%40ss-" + PASSWORD + "@")
    write(tmp_path, FAILING_TABLE + f"""
triggers:
  - name: page
    do: [{{webhook: "{url}"}}]
""")
    failing_data(tmp_path)
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    (request,) = hook.requests
    assert request["method"] == "POST" and request["path"] == "/hook"
    expected = base64.b64encode(f"alerts:p@ss-{PASSWORD}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert json.loads(request["body"])["trigger"] == "page"
    assert alerts(tmp_path) == [("webhook", hook.url, "delivered", 1, "HTTP 200")]
    for text in (done.stdout, done.stderr, artifacts(tmp_path), everything_stored(tmp_path)):
        assert PASSWORD not in text and expected not in text


@pytest.mark.parametrize("action, value, shown", [
    ("webhook", "0", "0"), ("webhook", "-5", "-5"), ("webhook", "0s", "'0s'"), ("command", "0", "0"),
    ("command", "-1m", "'-1m'")])
def test_a_timeout_of_zero_or_less_is_refused_at_compile_time(tmp_path, action, value, shown):
    body = "url: http://127.0.0.1:9/x" if action == "webhook" else "run: 'true'"
    write(tmp_path, FAILING_TABLE + f"""
triggers:
  - name: page
    do:
      - {action}:
          {body}
          timeout: {value}
""")
    lines = (tmp_path / "slos" / "tables.yml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "timeout:" in text)
    with pytest.raises(SpecError) as info:
        Project.load(str(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        f"slos/tables.yml:{line}:20: 'timeout' of {action} of trigger 'page' must be more than 0 seconds, not {shown}"
        if not value.startswith("-1") else
        f"slos/tables.yml:{line}:20: 'timeout' of {action} of trigger 'page' must be a number of seconds or a "
        f"duration such as 10s or 2m, not {shown}"]


# ------------------------------------------------------------------ 9: commands

def test_var_values_in_a_command_are_shell_quoted(tmp_path):
    write(tmp_path, FAILING_TABLE + """
triggers:
  - name: page
    do:
      - command: "printf '%s\\\\n' {{ var('v') }} > flow.txt"
      - command: {run: 'printf "%s\\n" {{ var("v") }} > mapping.txt', timeout: 10}
      - command: |
          printf '%s\\n' {{ var('v') }} > block.txt
""")
    failing_data(tmp_path)
    done = cli(tmp_path, "build", "--var", "v=x; touch PWNED")
    assert done.returncode == 1, done.stderr
    assert not (tmp_path / "PWNED").exists()
    for name in ("flow.txt", "mapping.txt", "block.txt"):
        assert (tmp_path / name).read_text() == "x; touch PWNED\n", name
    quoted = [r[1] for r in alerts(tmp_path)]
    assert quoted[0] == "printf '%s\\n' 'x; touch PWNED' > flow.txt"


def test_event_fields_reach_a_command_only_through_its_environment_and_stdin(tmp_path):
    write(tmp_path, FAILING_TABLE + """
triggers:
  - name: page
    do:
      - command: 'printf "%s" "$SLOCOMPILE_TABLE" > table.txt; cat > event.json'
""")
    failing_data(tmp_path)
    build(tmp_path)
    assert (tmp_path / "table.txt").read_text() == "user_features"
    assert json.loads((tmp_path / "event.json").read_text())["table"] == "user_features"


def test_raw_inserts_a_value_as_it_is(tmp_path):
    write(tmp_path, FAILING_TABLE + """
triggers:
  - name: page
    do:
      - command: "{{ var('c') | raw }}"
""")
    failing_data(tmp_path)
    done = cli(tmp_path, "build", "--var", "c=touch RAW_1 RAW_2")
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "RAW_1").exists() and (tmp_path / "RAW_2").exists()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_a_command_that_times_out_is_stopped_with_its_whole_process_group(tmp_path):
    write(tmp_path, FAILING_TABLE + """
triggers:
  - name: page
    do:
      - command: {run: "sleep 30 & echo $! > child.pid; sleep 30", timeout: 1}
""")
    failing_data(tmp_path)
    started = time.monotonic()
    run = build(tmp_path)
    assert time.monotonic() - started < 20
    assert run.alerts[0].delivery == "failed" and run.alerts[0].detail.startswith("timed out after 1s")
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_a_command_that_exited_0_is_not_reported_as_timed_out(tmp_path):
    # the background child keeps the command's stdout and stderr open past its timeout
    write(tmp_path, FAILING_TABLE + """
triggers:
  - name: page
    do:
      - command: {run: "sleep 5 & echo $! > child.pid; exit 0", timeout: 1}
""")
    failing_data(tmp_path)
    try:
        run = build(tmp_path)
        assert [(d.delivery, d.detail) for d in run.alerts] == [("delivered", "exit 0")]
    finally:
        try:
            os.kill(int((tmp_path / "child.pid").read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
