"""The --select grammar, as dbt users know it: each --select value (and each space-separated word
in one) is a selector, and a table is selected when any selector selects it (union); a selector of
comma-joined parts selects the tables every part selects (intersection). A part is a table name
(or a glob such as `feature_*`), `tag:NAME` (the table, one of its columns or checks carries the
tag) or `owner:NAME` (the table, one of its columns or checks is owned by NAME). `state:modified`
is expanded by the CLI (tools.state) before this.
"""
from __future__ import annotations

import fnmatch

from slocompile.errors import SlocompileError, did_you_mean
from slocompile.spec.model import CheckSpec, ColumnSpec, ProjectSpec, TableSpec

METHODS = ("tag", "owner")


def words(select: list[str] | tuple[str, ...], names: set[str] | None = None) -> list[str]:
    """The selectors of --select values: space-separated words are selectors of their own (a value
    that is one of `names`, a table name with a space, stays whole)."""
    return [w for s in select for w in ([s] if names and s in names else s.split())]


def choose(project: ProjectSpec, select: list[str] | tuple[str, ...]) -> list[TableSpec]:
    """The tables the selectors select, in the project's order; an unknown table name, tag or owner
    (one that selects nothing in the project) is an error naming what there is."""
    chosen: set[str] = set()
    problems = []
    names = {t.name for t in project.tables}
    for selector in words(select, names):
        sets = []
        for part in [selector] if selector in names else selector.split(","):
            hit = {t.name for t in project.tables if _selects(t, part)}
            if not hit:
                problems.append(_unknown(project, part))
            sets.append(hit)
        chosen |= set.intersection(*sets) if sets else set()
    if problems:
        raise SlocompileError("; ".join(dict.fromkeys(problems)))
    return [t for t in project.tables if t.name in chosen]


def _selects(table: TableSpec, part: str) -> bool:
    method, sep, value = part.partition(":")
    if not sep:
        return fnmatch.fnmatchcase(table.name, part) if any(ch in part for ch in "*?[") else table.name == part
    specs = _specs(table)
    if method == "tag":
        return any(value in s.tags for s in specs)
    if method == "owner":
        return any(s.owner == value for s in specs)
    return False


def _specs(table: TableSpec) -> tuple[TableSpec | ColumnSpec | CheckSpec, ...]:
    return (table, *table.columns, *table.checks)


def _unknown(project: ProjectSpec, part: str) -> str:
    method, sep, value = part.partition(":")
    specs = [s for t in project.tables for s in _specs(t)]
    if not sep:
        names = [t.name for t in project.tables]
        return f"--select: unknown table '{part}'{did_you_mean(part, names)}"
    if method == "tag":
        known = sorted({tag for s in specs for tag in s.tags})
    elif method == "owner":
        known = sorted({s.owner for s in specs if s.owner})
    else:
        return (f"--select {part}: unknown selector method '{method}:' (known: "
                f"{', '.join(m + ':' for m in (*METHODS, 'state'))}){did_you_mean(method, METHODS)}")
    return (f"--select: no table, column or check has {method} '{value}'{did_you_mean(value, known)}"
            + (f" ({method}s: {', '.join(known)})" if known else f" (the project declares no {method}s)"))
