"""Scan ahead: the tables' scans run on other connections while the build judges earlier tables.

A build alternates engine work (a table's scans, its failed-row samples) with Python work (judging
the table's results, its monitors, binding its views). The engine releases the interpreter while
it runs a query, so a worker thread scanning table i+1 (or sampling table i's failed rows) while
the main thread judges table i hides the shorter of the two. Engines that offer ``reader()`` (a
second connection to the same database: a DuckDB cursor, a Postgres connection) get the workers;
the others (Spark, which parallelises inside each query) scan in the main thread, as before.

An engine may ask for more than one worker (``scan_workers``; DuckDB: two, up to the machine's
cores), each with its own reader, opened when that worker first takes work: a small table's scan
runs on one core, so a second one runs next to it while the main thread judges (1,200 checks on
small tables: about 0.85x the build's wall time); a large scan already uses every core, and two
take the same time as one after the other. A table's work is one unit (its scans in order on one
connection); units of different tables may run at once, and the build takes each by its key.

Every reader replays the session's statements (the project's time zone), so its scans cut time
partitions exactly as the main connection would. A build that stops early (an error, Ctrl-C)
cancels the work not started and interrupts what is running before the connections close.
"""
from __future__ import annotations

import os
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
    """Engine work queued in order: ``submit(key, work)`` runs ``work(engine)`` on a worker's
    reader (or, without a reader, on the main connection when asked for); ``result(key)`` is what
    it returned and the seconds it took. `reader`: the first worker's; `more()` opens another
    (with the session's statements run on it) for each further worker of the `workers`."""

    def __init__(self, reader: Engine | None, main: Engine, more: Callable[[], Engine | None] | None = None,
                 workers: int = 1):
        self._main, self._more = main, more
        self._readers = [_Stoppable(reader)] if reader is not None else []
        self._free = list(self._readers)  # opened, and no worker's yet
        self._lock, self._mine, self._stopped = threading.Lock(), threading.local(), False
        self.workers = (workers if more is not None else 1) if reader is not None else 0
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="slocompile-scan") \
            if self.workers else None
        self._pending: dict[object, Future] = {}
        self._waiting: dict[object, Callable[[Engine], Any]] = {}

    def submit(self, key: object, work: Callable[[Engine], Any]) -> None:
        """Queue `work` after the work queued before it (the workers take it in that order, which
        is the order the build takes the results in)."""
        if self._pool is not None:
            self._pending[key] = self._pool.submit(self._run, work)
        else:
            self._waiting[key] = work

    def _run(self, work: Callable[[Engine], Any]) -> tuple[Any, float]:
        return _timed(work, self._reader())

    def _reader(self) -> _Stoppable:
        """This worker's reader: a free one, else a new one."""
        mine = getattr(self._mine, "reader", None)
        if mine is None:
            with self._lock:
                mine = self._free.pop() if self._free else None
            if mine is None:
                opened = self._more() if self._more is not None else None  # (a second worker has `more`)
                if opened is None:
                    raise QueryFailed("the engine could not open another connection for the scans")
                mine = _Stoppable(opened)
                with self._lock:
                    self._readers.append(mine)
                    mine.stopped = self._stopped
            self._mine.reader = mine
        return mine

    def __contains__(self, key: object) -> bool:
        return key in self._pending or key in self._waiting

    def result(self, key: object) -> tuple[Any, float]:
        if key in self._waiting:
            return _timed(self._waiting.pop(key), self._main)
        return self._pending.pop(key).result()

    def close(self, stopped: bool = False) -> None:
        """Cancel the work not started; a build that `stopped` early also interrupts the running
        queries (where the readers can), instead of waiting minutes for a scan nobody will read."""
        for future in self._pending.values():
            future.cancel()
        running = [f for f in self._pending.values() if not f.done()]
        if stopped:
            with self._lock:
                self._stopped = True
                for reader in self._readers:
                    reader.stopped = True
        while stopped and running and not wait(running, timeout=0.1).done:
            with self._lock:  # again until it lands: one sent before the query starts is lost
                interrupts = [getattr(r.engine, "interrupt", None) for r in self._readers]
            if not any(interrupts):
                break
            for interrupt in interrupts:
                if interrupt is not None:
                    interrupt()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for reader in self._readers:
            reader.engine.close()


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
    """A ScanAhead over `main`'s readers (with the `session` statements run on each), or over
    `main` itself when the engine has no reader."""
    open_reader = getattr(main, "reader", None)

    def opened() -> Engine | None:  # (None: the engine cannot open one)
        assert open_reader is not None
        reader = open_reader()
        try:
            for stmt in session if reader is not None else ():
                reader.execute(stmt)
        except BaseException:
            reader.close()
            raise
        return reader

    first = opened() if open_reader is not None else None
    ahead, stopped = None, True
    if first is not None:
        _short_switches(+1)
    try:
        ahead = ScanAhead(first, main, opened, max(1, min(getattr(main, "scan_workers", 1), os.cpu_count() or 1)))
        yield ahead
        stopped = False
    finally:
        if first is not None:
            _short_switches(-1)
        if ahead is not None:
            ahead.close(stopped)
        elif first is not None:
            first.close()
