"""Build progress: a "[i/n] checking T ..." line per table, and on a terminal (a real pseudo-terminal
here) a live line once a phase has lasted PROGRESS_AFTER seconds: the table, the tables and
partitions done, the seconds; nothing live when the stream is not a terminal, nothing with -q."""
from __future__ import annotations

import io
import os
import pty
import time
from types import SimpleNamespace

import pytest

from slocompile.reports import terminal


def _drive(progress, pause: float) -> None:
    progress("start", SimpleNamespace(name="orders"), 1, 2)
    time.sleep(pause)
    progress("done", SimpleNamespace(partitions=("2024-01-01", "2024-01-02")), 1, 2)
    progress("start", SimpleNamespace(name="items"), 2, 2)
    progress("done", SimpleNamespace(partitions=None), 2, 2)
    time.sleep(pause)
    progress.close()


def _read_all(fd: int) -> str:
    """Everything written to the terminal so far (one read may return part of it)."""
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


@pytest.fixture
def tty():
    main, secondary = pty.openpty()
    stream = os.fdopen(secondary, "w")
    yield stream, main
    stream.close()
    os.close(main)


def test_live_line_on_a_terminal(tty, monkeypatch):
    monkeypatch.setattr(terminal, "PROGRESS_AFTER", 0.2)
    stream, main = tty
    _drive(terminal.Progress(False, stream), 1.0)
    stream.flush()
    out = _read_all(main)
    assert "[1/2] checking orders ..." in out and "[2/2] checking items ..." in out
    assert "\r\x1b[K[1/2] checking orders: " in out and "0/2 tables done, 0 partitions checked" in out
    assert "publishing results, statuses and views: " in out and "2/2 tables done, 2 partitions checked" in out
    assert out.endswith("\r\x1b[K")  # the live line is gone at the end


def test_a_short_phase_shows_no_live_line(tty):
    stream, main = tty
    _drive(terminal.Progress(False, stream), 0.0)
    stream.flush()
    assert "\x1b[K" not in _read_all(main)


def test_no_live_line_in_logs_and_nothing_when_quiet(monkeypatch):
    monkeypatch.setattr(terminal, "PROGRESS_AFTER", 0.0)
    log = io.StringIO()
    _drive(terminal.Progress(False, log), 0.4)
    assert log.getvalue() == "[1/2] checking orders ...\n[2/2] checking items ...\n"
    tty_main, tty_secondary = pty.openpty()
    stream = os.fdopen(tty_secondary, "w")
    try:
        _drive(terminal.Progress(True, stream), 0.4)
        stream.write("end")
        stream.flush()
        assert _read_all(tty_main) == "end"
    finally:
        stream.close()
        os.close(tty_main)
