"""Crash safety: builds run in a subprocess and are killed (SIGKILL) at named stages
(SLOCOMPILE_TEST_PAUSE=<stage>, see slocompile/testhooks.py) and after random delays. Afterwards the
previously published views are valid and queryable, no killed run is recorded as complete unless its
commit happened, and the next build succeeds (cleaning up what the dead build left). Two builds at
once on one DuckDB file: the second exits 2 with a clear message."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from proj import query, sql, write

STAGES_BEFORE_COMMIT = ["staged", "measured", "publishing"]


def tables():
    return [
        {"name": "orders", "relation": "raw.orders", "gate": "last_good", "keep": 2,
         "checks": [{"row_count": {"min": 3}}],
         "columns": [{"name": "amount", "checks": [{"between": {"min": 0, "rows": "drop", "max_fraction": 0.5}}]}]},
        {"name": "events", "relation": "raw.events", "partition": "ds", "gate": "last_good",
         "checks": [{"row_count": {"min": 1}}]},
        {"name": "features", "relation": "raw.features", "gate": "filter", "checks": [{"row_count": {"min": 3}}]},
        {"name": "predictions", "relation": "raw.predictions", "gate": "block", "columns": [
            {"name": "score", "fix": [{"replace": {"when": "failing('features')", "value": -1}}]}]},
    ]


TRIGGERS = [{"name": "log", "on": ["fail", "recover"], "select": ["features"],
             "do": [{"command": "cat >> alerts.jsonl && echo >> alerts.jsonl"}]}]


def load(root, generation: int, features_rows: int = 5) -> None:
    n = 20000 + generation
    sql(root, [
        f"CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id, range * 1.0 AS amount, {generation} AS gen "
        f"FROM range({n})",
        f"CREATE OR REPLACE TABLE raw.events AS SELECT 'd' || (range % {3 + generation})::TEXT AS ds, "
        f"range AS id, {generation} AS gen FROM range({n})",
        f"CREATE OR REPLACE TABLE raw.features AS SELECT range AS id FROM range({features_rows})",
        "CREATE OR REPLACE TABLE raw.predictions AS SELECT range AS id, 0.5 AS score FROM range(10)",
    ])


def start_build(root, stage: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "SLOCOMPILE_TEST_PAUSE_SECONDS": "120"}
    if stage:
        env["SLOCOMPILE_TEST_PAUSE"] = stage
    else:
        env.pop("SLOCOMPILE_TEST_PAUSE", None)
    return subprocess.Popen([sys.executable, "-m", "slocompile", "build"], cwd=str(root), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_pause(proc: subprocess.Popen, stage: str, timeout: float = 60) -> None:
    """Read the build's stderr until it says it paused at `stage`."""
    found = threading.Event()
    lines: list[str] = []

    def reader():
        for line in proc.stderr:
            lines.append(line)
            if f"test pause at stage {stage}" in line:
                found.set()
                return

    threading.Thread(target=reader, daemon=True).start()
    if not found.wait(timeout):
        proc.kill()
        raise AssertionError(f"the build never paused at {stage}: {''.join(lines)}")


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def run_build(root) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SLOCOMPILE_TEST_PAUSE"}
    return subprocess.run([sys.executable, "-m", "slocompile", "build"], cwd=str(root), env=env,
                          capture_output=True, text=True, timeout=120)


def snapshot(root) -> dict:
    """What consumers read (each view must be queryable)."""
    return {
        "orders": query(root, "SELECT count(*), min(gen), max(gen), min(_slo_version) FROM validated.orders"),
        "events": query(root, "SELECT ds, count(*), min(gen) FROM validated.events GROUP BY ds ORDER BY ds"),
        "features": query(root, "SELECT count(*) FROM validated.features"),
        "predictions": query(root, "SELECT min(score), max(score) FROM validated.predictions"),
        "quarantine": query(root, "SELECT count(*) FROM quarantine.orders"),
    }


def runs(root) -> list[tuple]:
    return query(root, "SELECT run_id, status FROM slo.runs ORDER BY started_at")


def check_history(root) -> None:
    """Every run recorded as complete has all of its results; no version stays pending once a build ran."""
    for run_id, status in runs(root):
        if status == "running":
            assert query(root, "SELECT count(*) FROM slo.results WHERE run_id = ?", [run_id]) == [(0,)]
        else:
            total = query(root, "SELECT passed + failed + warned + errored FROM slo.runs WHERE run_id = ?", [run_id])
            assert total == query(root, "SELECT count(*) FROM slo.results WHERE run_id = ?", [run_id])


@pytest.fixture
def project(tmp_path):
    write(tmp_path, tables(), triggers=TRIGGERS)
    load(tmp_path, 0)
    done = run_build(tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


@pytest.mark.parametrize("stage", STAGES_BEFORE_COMMIT)
def test_killed_before_commit_leaves_the_last_published_state(project, stage):
    before = snapshot(project)
    complete_before = [r for r in runs(project) if r[1] != "running"]
    load(project, 1, features_rows=1)   # new data everywhere; features now fails (an alert is due)
    proc = start_build(project, stage)
    wait_for_pause(proc, stage)
    kill(proc)
    now = snapshot(project)
    # consumers read the last published data (features has gate filter: it reads its raw table, reloaded)
    assert {k: v for k, v in now.items() if k != "features"} == {k: v for k, v in before.items() if k != "features"}
    assert [r for r in runs(project) if r[1] != "running"] == complete_before
    assert query(project, "SELECT count(*) FROM slo.alerts") == [(0,)]
    check_history(project)
    done = run_build(project)                                  # the next build succeeds ...
    assert done.returncode == 1, done.stderr                   # (features fails its SLO, by design)
    after = snapshot(project)
    assert after["orders"][0][1:3] == (1, 1) and after["orders"][0][3] > before["orders"][0][3]
    assert after["features"] == [(0,)] and after["predictions"] == [(-1, -1)]
    assert query(project, "SELECT count(*) FROM slo.versions WHERE status = 'pending'") == [(0,)]
    # versions a dead build wrote are gone; numbers are not reused
    versions = query(project, "SELECT DISTINCT _slo_version FROM slo_versions.orders ORDER BY 1")
    assert versions == [(1,), (3,)]
    assert query(project, "SELECT delivery, count(*) FROM slo.alerts GROUP BY 1") == [("delivered", 1)]
    assert (project / "alerts.jsonl").read_text().count('"event": "fail"') == 1
    check_history(project)


def test_killed_after_commit_delivers_its_alerts_on_the_next_build(project):
    load(project, 1, features_rows=1)
    proc = start_build(project, "published")
    wait_for_pause(proc, "published")
    kill(proc)
    # committed: the new data is published and the run is complete; its alert is recorded, pending
    assert snapshot(project)["orders"][0][1] == 1
    assert runs(project)[-1][1] == "fail"
    assert query(project, "SELECT delivery FROM slo.alerts") == [("pending",)]
    assert not (project / "alerts.jsonl").exists()
    done = run_build(project)
    assert done.returncode == 1
    assert "alert log: fail features -> command" in done.stdout and "(from run " in done.stdout
    assert query(project, "SELECT delivery FROM slo.alerts") == [("delivered",)]
    assert (project / "alerts.jsonl").read_text().count('"event": "fail"') == 1   # exactly once
    check_history(project)


def test_killed_at_random_moments(project):
    rng = random.Random(4)
    published = [snapshot(project)]
    for generation in range(1, 9):
        load(project, generation)
        proc = start_build(project)
        time.sleep(rng.uniform(0.4, 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        now = snapshot(project)                       # always queryable
        # the last published state, or this generation's if the build got to its commit
        assert now in published or now["orders"][0][1:3] == (generation, generation), (generation, now)
        check_history(project)
        published.append(now)
    done = run_build(project)
    assert done.returncode == 0, done.stderr
    assert snapshot(project)["orders"][0][1:3] == (8, 8)
    assert query(project, "SELECT count(*) FROM slo.versions WHERE status = 'pending'") == [(0,)]
    check_history(project)


def test_a_second_build_on_the_same_file_exits_2(project):
    load(project, 1)
    first = start_build(project, "measured")
    try:
        wait_for_pause(first, "measured")
        second = run_build(project)
        assert second.returncode == 2
        assert "warehouse.duckdb is in use by another process (another build?)" in second.stderr
        assert "Could not set lock on file" in second.stderr and "Traceback" not in second.stderr
        rollback = subprocess.run([sys.executable, "-m", "slocompile", "rollback", "orders"], cwd=str(project),
                                  capture_output=True, text=True, timeout=60)
        assert rollback.returncode == 2 and "in use by another process" in rollback.stderr
    finally:
        kill(first)
    assert run_build(project).returncode == 0
