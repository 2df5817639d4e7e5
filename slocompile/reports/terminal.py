"""The terminal summary: one line per table, then each failure with observed vs expected."""
from __future__ import annotations

import re
import sys
import time

import click

from slocompile.support.secrets import RedactingStream

MAX_LISTED = 20
PROGRESS_AFTER = 1.0  # seconds a phase runs before the live progress line appears (terminals only)

# what a terminal would obey rather than print: escape sequences (CSI such as colours, OSC such as
# window titles and hyperlinks, DCS/APC/PM/SOS strings, 7- and 8-bit forms) and other control
# characters. Names, partition values and messages come from the data and the declarations.
_CONTROL = re.compile(r"""
      \x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?      # OSC ... BEL or ST
    | \x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?        # OSC, 8-bit
    | \x1b[P_^X][^\x1b\x9c]*(?:\x1b\\|\x9c)?           # DCS, APC, PM, SOS ... ST
    | [\x90\x9e\x9f\x98][^\x1b\x9c]*(?:\x1b\\|\x9c)?     # the same, 8-bit
    | \x1b\[[0-?]*[ -/]*[@-~]                         # CSI
    | \x9b[0-?]*[ -/]*[@-~]                           # CSI, 8-bit
    | \x1b[ -/]*[0-~]?                                # any other escape sequence
    | [\x00-\x08\x0b-\x1f\x7f-\x9f]                     # other control characters (not tab, newline)
""", re.VERBOSE)


def clean(text) -> str:
    """`text` without terminal control sequences: printed, never obeyed."""
    return _CONTROL.sub("", str(text))


def _style(text: str, status: str) -> str:
    color = {"pass": "green", "fail": "red", "warn": "yellow", "error": "magenta"}.get(status)
    return click.style(text, fg=color, bold=status in ("fail", "error"))


class Progress:
    """The build's progress callback: a "[i/n] checking T ..." line per table (also in logs), and on
    a terminal a live status line under it once a phase has lasted a second: the table, the
    partitions checked so far, the seconds in the phase and in all; then the publishing phase. Quiet
    with -q; no live line when stderr is not a terminal (CI logs). ``close()`` ends the live line."""

    def __init__(self, quiet: bool, stream=None):
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.live = _Live(self.stream) if not quiet and _is_terminal(self.stream) else None
        self.partitions = 0
        self.tables = self.n = 0

    def __call__(self, event: str, obj, i: int, n: int) -> None:
        if self.quiet:
            return
        self.n = n
        if event == "start":
            if self.live:
                self.live.clear()
            click.echo(f"[{i}/{n}] checking {clean(obj.name)} ...", file=self.stream)
            if self.live:
                self.live.phase(f"[{i}/{n}] checking {clean(obj.name)}", self._done)
        elif event == "done":
            self.tables += 1
            self.partitions += len(getattr(obj, "partitions", None) or ())
            if self.live and i == n:
                self.live.phase("publishing results, statuses and views", self._done)

    def _done(self) -> str:
        return f"{self.tables}/{self.n} tables done, {self.partitions} partitions checked"

    def close(self) -> None:
        if self.live:
            self.live.close()


def progress(quiet: bool) -> Progress:
    return Progress(quiet)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Live:
    """One status line on a terminal, redrawn four times a second from a thread once its phase has
    lasted PROGRESS_AFTER seconds; cleared before other output and at the end."""

    def __init__(self, stream):
        import threading

        self.stream, self.lock, self.stop = stream, threading.Lock(), threading.Event()
        self.text, self.detail, self.shown = "", None, False
        self.t0 = self.since = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="slocompile-progress", daemon=True)
        self.thread.start()

    def phase(self, text: str, detail) -> None:
        with self.lock:
            self.text, self.detail, self.since = text, detail, time.monotonic()

    def clear(self) -> None:
        with self.lock:
            self._erase()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.clear()

    def _erase(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            with self.lock:
                now = time.monotonic()
                if not self.text or now - self.since < PROGRESS_AFTER:
                    continue
                line = f"{self.text}: {now - self.since:.0f}s ({self.detail() if self.detail else ''}; " \
                       f"{now - self.t0:.0f}s in all)"
                self.stream.write("\r\x1b[K" + line[:_width() - 1])
                self.stream.flush()
                self.shown = True


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 20)).columns


def table_line(tr) -> str:
    rs = tr.results
    n = {s: sum(r.status == s for r in rs) for s in ("pass", "fail", "warn", "error")}
    worst = "error" if n["error"] else "fail" if n["fail"] else "warn" if n["warn"] else "pass"
    parts = [f"{n['pass']} passed"]
    parts += [f"{n[s]} {label}" for s, label in (("fail", "failed"), ("warn", "warned"), ("error", "errored")) if n[s]]
    queries = sum(1 for _, sql in tr.compiled.scans if sql)
    scope = ""
    if tr.partitions is not None:
        scope = f"{len(tr.partitions)} partitions checked, " if tr.partitions else "no new partitions, "
    return f"{_style(worst.upper().ljust(5), worst)} {clean(tr.table.name)}: {', '.join(parts)} " \
           f"({scope}{queries} queries, {tr.seconds:.2f}s)"


def summary(run, quiet: bool = False, out=None) -> None:
    out = RedactingStream(out or sys.stdout)  # no recorded secret reaches the terminal
    for tr in run.tables:
        bad = [r for r in tr.results if r.status != "pass"]
        if quiet and not any(r.status in ("fail", "error") for r in bad):
            continue
        click.echo(table_line(tr), file=out)
        for r in bad[:MAX_LISTED]:
            if quiet and r.status == "warn":
                continue
            where = f" [{clean(r.partition)}]" if r.partition is not None else ""
            click.echo(f"  {_style(r.status, r.status)} {clean(r.check)}{where}: {clean(r.message)}", file=out)
        if len(bad) > MAX_LISTED:
            click.echo(f"  ... and {len(bad) - MAX_LISTED} more (see target/run_results.json)", file=out)
    from slocompile.run.last_good import summary_lines as published
    from slocompile.run.triggers import summary_lines as alerts

    if run.monitors:  # (run.monitors brings NumPy: imported by builds that monitored a table)
        from slocompile.run.monitors import summary_lines as monitored

        for status, text in monitored(run):  # monitors: partitions judged, alerts and incidents
            if not quiet:
                click.echo(_style(clean(text), status), file=out)
    for status, text in published(run):  # gate last_good: what each view serves now
        if not quiet or status == "fail":
            click.echo(_style(clean(text), "warn" if status == "fail" else "pass"), file=out)
    for status, text in alerts(run):  # trigger deliveries; a failed one never fails the build
        if not quiet or status == "failed":
            click.echo(_style(clean(text), "warn" if status == "failed" else "pass"), file=out)
    c = {s: sum(r.status == s for r in run.results) for s in ("pass", "fail", "warn", "error")}
    verdict = "FAIL" if run.exit_code else "PASS"  # always, also with --quiet: the one line CI reads
    click.echo(_style(f"{verdict}: {c['pass']} passed, {c['fail']} failed, {c['warn']} warned, "
                      f"{c['error']} errored in {len(run.tables)} tables (run {run.run_id})",
                      "fail" if run.exit_code else "pass"), file=out)
