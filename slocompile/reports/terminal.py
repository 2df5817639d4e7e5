"""The terminal summary: one line per table, then each failure with observed vs expected."""
from __future__ import annotations

import re
import sys

import click

from slocompile.support.secrets import RedactingStream

MAX_LISTED = 20

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


def progress(quiet: bool):
    def report(event, obj, i, n):
        if quiet:
            return
        if event == "start":
            click.echo(f"[{i}/{n}] checking {clean(obj.name)} ...", err=True)
    return report


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
    from slocompile.run.monitors import summary_lines as monitored
    from slocompile.run.triggers import summary_lines as alerts

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
