"""Scan ahead: the tables' scans run on a second connection while the build judges earlier tables.

A build alternates engine work (a table's scans, its failed-row samples) with Python work (judging
the table's results, its monitors, binding its views). The engine releases the interpreter while
it runs a query, so one worker thread scanning table i+1 (or sampling table i's failed rows) while
the main thread judges table i hides the shorter of the two. Engines that offer ``reader()`` (a second connection to the
same database: a DuckDB cursor, a Postgres connection) get the worker; the others (Spark, which
parallelises inside each query) scan in the main thread, as before.

The reader replays the session's statements (the project's time zone), so its scans cut time
partitions exactly as the main connection would. A build that stops early (an error, Ctrl-C)
cancels the scans not started and waits for the running one before the connections close.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from slocompile.engines.base import Engine, QueryFailed

SWITCH_INTERVAL = 0.0005  # seconds a thread runs before it yields the interpreter to one waiting


class _Stoppable:
    """The reader as the queued work sees it: once the build stops, every further statement fails
    at once (measure would otherwise retry a scan the interrupt ended, metric by metric)."""

    def __init__(self, engine: Engine):
        self.engine, self.stopped = engine, False

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        self._check()
        return self.engine.query(sql)

    def execute(self, sql: str) -> None:
        self._check()
        self.engine.execute(sql)

    def _check(self) -> None:
        if self.stopped:
            raise QueryFailed("the build stopped")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


class ScanAhead:
    """Engine work queued in order: ``submit(key, work)`` runs ``work(engine)`` on the reader's
    thread (or, without a reader, on the main connection when asked for); ``result(key)`` is what
    it returned and the seconds it took."""

    def __init__(self, reader: Engine | None, main: Engine):
        self._reader, self._main = reader, main
        self._guarded = _Stoppable(reader) if reader is not None else None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slocompile-scan") if reader else None
        self._pending: dict[object, Future] = {}
        self._waiting: dict[object, Callable[[Engine], Any]] = {}

    def submit(self, key: object, work: Callable[[Engine], Any]) -> None:
        """Queue `work` after the work queued before it (one at a time: the engine parallelises each
        query itself, and the order is the order the build takes the results in)."""
        if self._pool is not None and self._guarded is not None:
            self._pending[key] = self._pool.submit(_timed, work, self._guarded)
        else:
            self._waiting[key] = work

    def __contains__(self, key: object) -> bool:
        return key in self._pending or key in self._waiting

    def result(self, key: object) -> tuple[Any, float]:
        if key in self._waiting:
            return _timed(self._waiting.pop(key), self._main)
        return self._pending.pop(key).result()

    def close(self, stopped: bool = False) -> None:
        """Cancel the work not started; a build that `stopped` early also interrupts the running
        query (where the reader can), instead of waiting minutes for a scan nobody will read."""
        for future in self._pending.values():
            future.cancel()
        running = [f for f in self._pending.values() if not f.done()]
        if stopped and self._guarded is not None:
            self._guarded.stopped = True
        interrupt = getattr(self._reader, "interrupt", None) if stopped else None
        while interrupt is not None and running and not wait(running, timeout=0.1).done:
            interrupt()  # again until it lands: one sent before the query starts is lost
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._reader is not None:
            self._reader.close()


def _timed(work: Callable[[Engine], Any], engine: Engine) -> tuple[Any, float]:
    t0 = time.perf_counter()
    return work(engine), time.perf_counter() - t0


_switches = {"scanning": 0, "interval": 0.0}  # builds scanning ahead in this process, the interval before
_switches_lock = threading.Lock()


def _short_switches(step: int) -> None:
    """A scan that returns waits for the interpreter until the main thread yields it, by default
    after 5 ms: hundreds of scans wait that long each (1,200 checks: 4% of the build's wall). The
    interval is the process's: set by the first build scanning ahead, put back by the last."""
    with _switches_lock:
        if step > 0 and not _switches["scanning"]:
            _switches["interval"] = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
        _switches["scanning"] += step
        if step < 0 and not _switches["scanning"]:
            sys.setswitchinterval(_switches["interval"])


@contextmanager
def scanning_ahead(main: Engine, session: list[str]) -> Iterator[ScanAhead]:
    """A ScanAhead over `main`'s reader (with the `session` statements run on it), or over `main`
    itself when the engine has no reader."""
    open_reader = getattr(main, "reader", None)
    reader: Engine | None = open_reader() if open_reader is not None else None
    ahead, stopped = None, True
    if reader is not None:
        _short_switches(+1)
    try:
        for stmt in session:
            if reader is not None:
                reader.execute(stmt)
        ahead = ScanAhead(reader, main)
        yield ahead
        stopped = False
    finally:
        if reader is not None:
            _short_switches(-1)
        if ahead is not None:
            ahead.close(stopped)
        elif reader is not None:
            reader.close()
