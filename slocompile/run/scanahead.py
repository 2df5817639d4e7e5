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
    reader (one worker a reader of `readers`), or, without readers, on the main connection when
    asked for; ``result(key)`` is what it returned and the seconds it took."""

    def __init__(self, readers: list[Engine], main: Engine):
        self._main = main
        self._readers = [_Stoppable(r) for r in readers]
        self._free = list(self._readers)  # no worker's yet
        self._lock, self._mine = threading.Lock(), threading.local()
        self.workers = len(readers)
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
        mine = getattr(self._mine, "reader", None)
        if mine is None:  # a worker's first work: a reader of its own (the pool starts one per reader)
            with self._lock:
                mine = self._mine.reader = self._free.pop()
        return _timed(work, mine)

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
        for reader in self._readers if stopped else ():
            reader.stopped = True
        interrupts = [i for i in (getattr(r.engine, "interrupt", None) for r in self._readers) if i is not None]
        while stopped and interrupts and running and wait(running, timeout=0.1).not_done:
            for interrupt in interrupts:  # again until every one lands: one sent before a query starts is lost
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
    """A ScanAhead over readers of `main` (the engine's `scan_workers`, at most one a core; each
    with the `session` statements run on it), or over `main` itself when the engine has no reader."""
    readers: list[Engine] = []
    ahead, stopped = None, True
    try:
        for _ in range(max(1, min(getattr(main, "scan_workers", 1), _cores()))):
            reader = _opened(main, session, first=not readers)
            if reader is None:
                break  # (past the first, a reader the engine cannot open is one worker fewer)
            readers.append(reader)
        if readers:
            _short_switches(+1)
        ahead = ScanAhead(readers, main)
        yield ahead
        stopped = False
    finally:
        if readers:
            _short_switches(-1)
        if ahead is not None:
            ahead.close(stopped)
        else:
            for reader in readers:
                reader.close()


def _opened(main: Engine, session: list[str], first: bool) -> Engine | None:
    """A reader of `main` with the session's statements run on it; None: the engine has none. Past
    the `first`, one that fails to open or to take the session is None too."""
    open_reader = getattr(main, "reader", None)
    if open_reader is None:
        return None
    try:
        reader = open_reader()
    except Exception:
        if first:
            raise
        return None
    if reader is None:
        return None
    try:
        for stmt in session:
            reader.execute(stmt)
    except Exception:
        reader.close()
        if first:
            raise
        return None
    return reader


def _cores() -> int:
    """The cores this process may run on (a container's limit where the kernel applies it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
