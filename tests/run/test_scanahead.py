"""run/scanahead.py: a table's scans run on a second DuckDB connection while earlier tables are
judged; results come back in order, the reader has the session's settings, and a build that
stops early cancels the work not started and interrupts the running query."""
from __future__ import annotations

import os
import threading
import time

import pytest

from slocompile.engines.base import QueryFailed
from slocompile.engines.duckdb import DuckDBEngine
from slocompile.run.scanahead import scanning_ahead


@pytest.fixture
def engine():
    import duckdb

    eng = DuckDBEngine(duckdb.connect(), ":memory:")
    eng.execute("CREATE TABLE t AS SELECT range AS i FROM range(10)")
    yield eng
    eng.close()


def asking(sql: str, seen: list | None = None):
    """Work that runs `sql` on the engine it is given (noting the thread and engine in `seen`)."""
    def work(eng):
        if seen is not None:
            seen.append((threading.current_thread().name, eng))
        return eng.query(sql)
    return work


def test_work_runs_on_another_connection_and_comes_back_by_key(engine):
    seen: list = []
    with scanning_ahead(engine, []) as ahead:
        ahead.submit(1, asking("SELECT sum(i) FROM t", seen))
        ahead.submit("more", asking("SELECT count(*) FROM t WHERE i > 6", seen))
        assert 1 in ahead and "more" in ahead and 2 not in ahead
        (second, s2), (first, s1) = ahead.result("more"), ahead.result(1)
    assert (first, second) == ([(45,)], [(3,)]) and s1 >= 0 and s2 >= 0
    assert len(seen) == 2 and all(name.startswith("slocompile-scan") and eng is not engine for name, eng in seen)


def test_the_reader_runs_the_session_statements(engine):
    with scanning_ahead(engine, ["SET TimeZone = 'America/New_York'"]) as ahead:
        ahead.submit(1, asking("SELECT current_setting('TimeZone')"))
        assert ahead.result(1)[0] == [("America/New_York",)]


def test_an_engine_without_a_reader_runs_the_work_in_the_main_thread_when_asked(engine):
    class NoReader:  # an engine that offers no second connection (as Spark)
        def query(self, sql):
            return engine.query(sql)

    main, seen = NoReader(), []
    with scanning_ahead(main, []) as ahead:
        ahead.submit(1, asking("SELECT 1", seen))
        assert seen == []  # nothing runs before it is asked for
        assert ahead.result(1)[0] == [(1,)]
    assert seen == [(threading.current_thread().name, main)]


def test_a_build_that_stops_cancels_queued_work_and_interrupts_the_running_query(engine):
    started, outcome, ran = threading.Event(), {}, []
    slow = "SELECT count(*) FROM range(100000000000) a"  # minutes, unless interrupted

    def scan(sql):
        def work(eng):
            ran.append(sql)
            started.set()
            try:
                return eng.query(sql)
            except QueryFailed as e:
                outcome["error"] = str(e)
                try:  # as measure retries a failed scan metric by metric: refused at once now
                    eng.query(slow)
                except QueryFailed as again:
                    outcome["retry"] = str(again)
                raise
        return work

    with pytest.raises(RuntimeError, match="judging failed"):
        with scanning_ahead(engine, []) as ahead:
            for key in range(ahead.workers):  # every worker busy
                ahead.submit(key, scan(slow))
            ahead.submit("last", scan("SELECT 2"))
            deadline = time.monotonic() + 30
            while len(ran) < ahead.workers and time.monotonic() < deadline:
                time.sleep(0.01)
            raise RuntimeError("judging failed")
    assert ran == [slow] * ahead.workers  # the queued work never started
    assert "interrupt" in outcome["error"].lower() and outcome["retry"] == "the build stopped"
    assert engine.query("SELECT 1") == [(1,)]  # the main connection is untouched


def test_duckdb_runs_two_tables_work_at_once_each_reader_with_the_session(engine):
    both = threading.Barrier(2, timeout=30)  # passed only by two units running at the same time
    seen: list = []

    def work(eng):
        both.wait()
        seen.append(eng)
        return eng.query("SELECT current_setting('TimeZone')")

    with scanning_ahead(engine, ["SET TimeZone = 'Asia/Tokyo'"]) as ahead:
        assert ahead.workers == min(2, os.cpu_count() or 1)
        if ahead.workers < 2:
            pytest.skip("one core: one reader")
        ahead.submit("a", work)
        ahead.submit("b", work)
        assert ahead.result("a")[0] == ahead.result("b")[0] == [("Asia/Tokyo",)]
    assert len({id(e) for e in seen}) == 2 and engine not in seen
    for reader in seen:  # closed with the build
        with pytest.raises(QueryFailed):
            reader.engine.query("SELECT 1")


def test_the_switch_interval_is_short_while_any_build_scans_ahead_and_put_back_after(engine):
    import sys

    from slocompile.run.scanahead import SWITCH_INTERVAL

    before = sys.getswitchinterval()
    with scanning_ahead(engine, []):
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        with scanning_ahead(engine, []):  # a second build of the same process, overlapping the first
            pass
        assert sys.getswitchinterval() == SWITCH_INTERVAL  # the first still scans
    assert sys.getswitchinterval() == before


def test_a_stop_interrupts_every_reader_even_one_whose_query_starts_late(engine, monkeypatch):
    """An interrupt sent before a query starts is lost: close() sends them until every running
    unit has ended, not until the first has."""
    slow = "SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3"  # minutes, unless interrupted
    inside, ended = threading.Barrier(3, timeout=30), {}
    real = DuckDBEngine.query

    def query(self, sql):
        if sql == slow:
            inside.wait()
            if threading.current_thread().name.endswith("_1"):
                time.sleep(0.3)  # past the stop check, not yet running: the first interrupt misses it
        return real(self, sql)

    def unit(eng):
        try:
            return eng.query(slow)
        except QueryFailed as e:
            ended[threading.current_thread().name] = str(e)
            raise

    monkeypatch.setattr(DuckDBEngine, "query", query)
    with pytest.raises(RuntimeError, match="judging failed"):
        with scanning_ahead(engine, []) as ahead:
            if ahead.workers < 2:
                pytest.skip("one core: one reader")
            ahead.submit("a", unit)
            ahead.submit("b", unit)
            inside.wait()
            raise RuntimeError("judging failed")
    assert len(ended) == 2 and all("interrupt" in e.lower() for e in ended.values())
