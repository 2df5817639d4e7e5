"""`--format github`: GitHub Actions workflow commands for declaration errors and failing checks.

`::error file=slos/orders.yml,line=12,title=...::message` makes GitHub annotate that line of the
pull request. Files are given from the repository's root: GITHUB_WORKSPACE when set (a workflow's
checkout), else the current folder. A failed check points at the line that declares it (a
monitor or schema result, declared by the table, at the table's line); an error-severity failure
is an `error`, a warning or a warn-severity failure a `warning`. Messages are redacted
(support.secrets) and escaped as the runner's command syntax asks.
(https://docs.github.com/actions/reference/workflow-commands-for-github-actions)
"""
from __future__ import annotations

import os

from slocompile.support.secrets import redact

MAX_ANNOTATIONS = 50  # GitHub shows at most 10 errors and 10 warnings a step; the rest go to the log


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, file: str | None = None, line: int | None = None, col: int | None = None,
            title: str | None = None) -> str:
    props = [f"{k}={_prop(str(v))}" for k, v in (("file", file), ("line", line), ("col", col), ("title", title))
             if v]
    return f"::{level}{' ' + ','.join(props) if props else ''}::{_data(redact(message))}"


def repo_path(root: str, file: str | None) -> str | None:
    """A declaration file (relative to the project root) from the repository's root."""
    if not file:
        return None
    base = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    path = os.path.relpath(os.path.join(os.path.abspath(root), file), os.path.abspath(base))
    return path.replace(os.sep, "/")


def problem_lines(problems, root: str) -> list[str]:
    """One `::error` per located problem of a SlocompileError."""
    out = []
    for p in problems:
        loc = p.location
        out.append(command("error", p.message, repo_path(root, loc.file) if loc else None,
                           loc.line if loc else None, loc.col if loc else None, "slocompile"))
    return out


def result_lines(run) -> list[str]:
    """One annotation per result that did not pass, at the line declaring its check."""
    spec = run.project
    checks, tables = {}, {}
    for t in spec.tables:
        tables[t.name] = t.loc
        for c in t.checks:
            checks[(t.name, c.name)] = c.loc
    out = []
    for r in run.results:
        if r.status == "pass":
            continue
        level = "error" if r.status in ("fail", "error") and r.severity == "error" else "warning"
        loc = checks.get((r.table, r.check)) or tables.get(r.table)
        where = f" [{r.partition}]" if r.partition is not None else ""
        text = f"{r.table}.{r.check}{where} {r.status}: {r.message}"
        out.append(command(level, text, repo_path(spec.root, loc.file) if loc else None, loc.line if loc else None,
                           title=f"slocompile: {r.table}.{r.check} {r.status}"))
    if len(out) > MAX_ANNOTATIONS:
        out = out[:MAX_ANNOTATIONS] + [command("warning", f"{len(out) - MAX_ANNOTATIONS} more results did not "
                                               "pass (see target/run_results.json)")]
    return out
