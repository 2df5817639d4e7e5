"""run/scanahead.py on Postgres: the scans' second connection is a read-only session with the
build's session settings, and a build that stops cancels the statement it is running."""
from __future__ import annotations

import os
import threading
import time

import pytest
from enginedata import UNAVAILABLE

from slocompile.engines.base import QueryFailed
from slocompile.engines.connect import connect
from slocompile.run.scanahead import scanning_ahead
from slocompile.spec.model import TargetSpec


@pytest.fixture
def pg(tmp_path):
    if UNAVAILABLE.get("postgres"):
        pytest.skip(UNAVAILABLE["postgres"])
    eng = connect(TargetSpec(name="pg", type="postgres", options={"dsn": os.environ["SLOCOMPILE_PG_DSN"]}, loc=None),
                  str(tmp_path))
    yield eng
    eng.close()


@pytest.mark.parametrize("engine", ["postgres"])
def test_postgres_reader_has_the_session_zone_and_reads_only(pg, engine):
    with scanning_ahead(pg, ["SET TIME ZONE 'Asia/Tokyo'"]) as ahead:
        ahead.submit(1, lambda eng: eng.query("SELECT current_setting('TimeZone'), pg_backend_pid()"))
        ahead.submit(2, lambda eng: eng.query("SELECT current_setting('transaction_read_only')"))
        (zone, pid), = ahead.result(1)[0]
        assert zone == "Asia/Tokyo" and pid != pg.query("SELECT pg_backend_pid()")[0][0]
        assert ahead.result(2)[0] == [("on",)]
    assert pg.query("SELECT current_setting('transaction_read_only')") == [("off",)]


@pytest.mark.parametrize("engine", ["postgres"])
def test_postgres_scan_of_a_stopped_build_is_cancelled(pg, engine):
    started, outcome = threading.Event(), {}

    def scan(eng):
        started.set()
        try:
            return eng.query("SELECT pg_sleep(600)")
        except QueryFailed as e:
            outcome["error"] = str(e)
            raise

    with pytest.raises(RuntimeError, match="stopped"):
        with scanning_ahead(pg, []) as ahead:
            ahead.submit(1, scan)
            assert started.wait(30)
            for _ in range(300):  # until the server runs it (a cancel before that cancels nothing)
                if pg.query("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                            "AND query = 'SELECT pg_sleep(600)'")[0][0]:
                    break
                time.sleep(0.1)
            raise RuntimeError("stopped")
    assert "cancel" in outcome["error"].lower()
