"""Spec -> plans and SQL files for one dialect (connects to nothing)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from slocompile.checks.metrics import Metric
from slocompile.compiling.viewcache import ViewCache
from slocompile.dialects.render import UnsupportedConstruct, render
from slocompile.errors import Problem, SlocompileError
from slocompile.planning.planner import CATALOG, Scan, TablePlan, plan_table
from slocompile.spec.model import CheckSpec, ProjectSpec, Schemas, TableSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees import views as view_trees
from slocompile.sqltrees.content import content_metric
from slocompile.sqltrees.fragments import Fragments
from slocompile.sqltrees.scans import scan_sql
from slocompile.support.gcpause import gc_paused


@dataclass
class CompiledTable:
    table: TableSpec
    plan: TablePlan
    scans: list[tuple[Scan, str | None]]   # (Scan, SQL or None for catalog reads)
    validated_view: str
    quarantine_view: str
    content_metric: Metric | None = None  # the partitions' content fingerprints, measured by the scans


@dataclass
class Compiled:
    project: ProjectSpec
    dialect: str
    setup: list[str]
    tables: list[CompiledTable] = field(default_factory=list)

    def files(self) -> dict[str, str]:
        out = {"_setup/meta.sql": _join(self.setup)}
        for t in self.tables:
            folder = safe_file_name(t.table.name)
            out[f"{folder}/checks.sql"] = _join(
                [f"-- {s.kind} scan: {s.reason}\n{sql}" for s, sql in t.scans if sql is not None])
            out[f"{folder}/validated_view.sql"] = t.validated_view + ";\n"
            out[f"{folder}/quarantine_view.sql"] = t.quarantine_view + ";\n"
        return out


def safe_file_name(name: str) -> str:
    """A table name as a portable folder name: unsafe characters become '_', plus a hash if any changed."""
    import hashlib
    import re

    safe = re.sub(r"[^0-9A-Za-z_.-]", "_", name).strip(".") or "table"
    return safe if safe == name else f"{safe}_{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def _join(statements: list[str]) -> str:
    return "".join(s + ";\n\n" for s in statements)


def compile_project(project: ProjectSpec, dialect: str, select: list[str] | None = None,
                    partitions: dict[str, tuple[str, ...]] | None = None,
                    contents: dict[str, tuple[str, ...]] | None = None, views: ViewCache | None = None,
                    each: Callable[[CompiledTable], None] | None = None) -> Compiled:
    """`partitions` maps a table to the partitions its per-partition scans are limited to;
    `contents` a table to the columns whose content fingerprint per partition its fused scan
    computes (a build that checks every partition: no separate hashed pass lists them); `views`:
    the views rendered by earlier builds (compiling.viewcache), reused where their inputs match;
    `each` is called with every table as soon as it is compiled (a build starts its scans)."""
    problems: list[Problem] = []
    with gc_paused():  # a compile only builds (see gcpause)
        cached = views.rendered(f"setup {dialect}", vars(project.schemas), lambda: _setup_if_rendered(
            project.schemas, dialect)) if views is not None else None
        setup, setup_problems = (tuple(cached), ()) if cached is not None else _setup(project.schemas, dialect)
        problems += setup_problems
        out = Compiled(project, dialect, list(setup))
        # pieces are rendered once per compile; copy=False: each is built anew for its rendering
        fragments = Fragments(lambda tree: render(tree, dialect, pretty=True, copy=False))
        for table in project.tables:
            if select and table.name not in select:
                continue
            out.tables.append(_compile_table(project, table, dialect, problems, fragments,
                                             (partitions or {}).get(table.name), (contents or {}).get(table.name),
                                             views))
            if each is not None and not problems:
                each(out.tables[-1])
    if problems:
        raise SlocompileError(problems)
    return out


@functools.lru_cache(maxsize=16)
def _setup(schemas: Schemas, dialect: str) -> tuple[tuple[str, ...], tuple[Problem, ...]]:
    """The meta schema's DDL and its problems, rendered once a process (a build compiles twice:
    the setup first, then the tables)."""
    problems: list[Problem] = []
    setup = tuple(_render(s, dialect, "the meta schema", None, problems) for s in meta.setup_statements(schemas))
    return setup, tuple(problems)


def _setup_if_rendered(schemas: Schemas, dialect: str) -> list[str] | None:
    setup, problems = _setup(schemas, dialect)
    return None if problems else list(setup)


def _compile_table(project: ProjectSpec, table: TableSpec, dialect: str, problems: list[Problem],
                   fragments: Fragments, partitions: tuple[str, ...] | None = None,
                   hashed: tuple[str, ...] | None = None, views: ViewCache | None = None) -> CompiledTable:
    content = content_metric(table, hashed) if hashed is not None and table.partition is not None else None
    plan = plan_table(table, dialect, partitions=partitions, extra=(content,) if content is not None else ())
    owners = _metric_owners(plan)
    scans: list[tuple[Scan, str | None]] = []
    for scan in plan.scans:
        if scan.kind == CATALOG:
            scans.append((scan, None))
            continue
        try:
            scans.append((scan, _render_scan(table, scan, dialect, fragments)))
        except UnsupportedConstruct as e:
            # name the check (and its line) whose metric the dialect cannot express
            culprits: list[CheckSpec | None] = [
                owners[x] for x in scan.metrics if not _renders(table, scan, x, dialect)] or [None]
            for check in culprits:
                where = f"check '{check.name}' of table '{table.name}'" if check else f"table '{table.name}'"
                problems.append(Problem(check.loc if check else table.loc, f"{where}: {e}"))
            scans.append((scan, ""))
    key = views.key(table, project.schemas, dialect) if views is not None else None
    cached = views.get(table.name, key) if views is not None else None
    if cached is not None:
        validated, quarantine = cached
    else:
        validated = _render(view_trees.validated_view(project.schemas, table), dialect,
                            f"the validated view of '{table.name}'", table, problems)
        quarantine = _render(view_trees.quarantine_view(project.schemas, table), dialect,
                             f"the quarantine view of '{table.name}'", table, problems)
        if views is not None:
            views.put(table.name, key, validated, quarantine)  # ("" when a dialect cannot render it: not kept)
    return CompiledTable(table, plan, scans, validated, quarantine, content)


def _render_scan(table: TableSpec, scan: Scan, dialect: str, fragments: Fragments) -> str:
    try:
        return render(scan_sql(table, scan, fragments), dialect, pretty=True, copy=False)
    except UnsupportedConstruct:  # raise the error the whole statement gives, as without fragments
        return render(scan_sql(table, scan), dialect, pretty=True, copy=False)


def _renders(table: TableSpec, scan: Scan, metric: Metric, dialect: str) -> bool:
    from dataclasses import replace

    try:
        render(scan_sql(table, replace(scan, metrics=[metric])), dialect, copy=False)
        return True
    except UnsupportedConstruct:
        return False


def _metric_owners(plan: TablePlan) -> dict[Metric, CheckSpec]:
    owners: dict[Metric, CheckSpec] = {}
    for check, metrics in plan.checks:
        for metric in metrics:
            owners.setdefault(metric, check)
    return owners


def _render(tree: exp.Expression, dialect: str, what: str, table: TableSpec | None, problems: list[Problem]) -> str:
    try:
        return render(tree, dialect, pretty=True, copy=False)
    except UnsupportedConstruct as e:
        problems.append(Problem(table.loc if table else None, f"{what}: {e}"))
        return ""
