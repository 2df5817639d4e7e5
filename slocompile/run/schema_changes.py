"""schema_changes in a build: the columns each build records, the previous build's read back.

The relation's (column, type) list, as schema_drift.inspect read it from the catalog, replaces the
table's rows of the meta table `relation_columns` in the build's commit, for the tables with a
`schema_changes` check (declared, or implied by `monitor: all`). A table whose relation is gone
keeps its last recorded columns.
"""
from __future__ import annotations

import datetime as dt

from sqlglot import exp

from slocompile import checks as registry
from slocompile.checks.base import EvalContext
from slocompile.checks.evaluate import FAIL, PASS, WARN, Result
from slocompile.dialects.nodes import col, lit
from slocompile.dialects.render import render
from slocompile.engines.base import Engine, QueryFailed
from slocompile.spec.model import ProjectSpec, TableSpec
from slocompile.sqltrees import meta

CHECK = "schema_changes"


def tracked(table: TableSpec) -> bool:
    return any(c.type == CHECK for c in table.checks)


def load(engine: Engine, project: ProjectSpec, tables: list[TableSpec]) -> dict[str, list[tuple[str, str]]]:
    """table name -> the (column, type) list the previous build recorded, in the relation's order."""
    names = [t.name for t in tables if tracked(t)]
    if not names:
        return {}
    q = (exp.select(col("table_name"), col("column_name"), col("column_type"))
         .from_(meta.table(project.schemas, "relation_columns"), copy=False)
         .where(exp.In(this=col("table_name"), expressions=[lit(n) for n in names]), copy=False)
         .order_by(col("table_name"), col("position"), copy=False))
    try:
        rows = engine.query(render(q, engine.dialect))
    except QueryFailed:  # a meta schema from before this table existed: nothing recorded yet
        return {}
    out: dict[str, list[tuple[str, str]]] = {}
    for table, name, typ in rows:
        out.setdefault(table, []).append((name, typ))
    return out


def drifted_results(table: TableSpec, actual: list[tuple[str, str]] | None, ctx: EvalContext,
                    results: list[Result]) -> list[Result]:
    """The schema_changes results of a table schema drift kept from being measured (its catalog
    columns are known all the same); none when the relation is gone (schema_drift says so)."""
    if actual is None:
        return []
    out = []
    done = {r.check for r in results}
    for check in table.checks:
        if check.type != CHECK or check.name in done:
            continue
        outcome = registry.get(CHECK).evaluate(check, [actual], ctx)
        status = PASS if outcome.passed else (FAIL if check.severity == "error" else WARN)
        out.append(Result(table.name, check.name, CHECK, None, None, status, check.severity, outcome.observed,
                          outcome.expected, outcome.message))
    return out


def statements(project: ProjectSpec, columns: dict, tables: list[TableSpec], run_id: str,
               now: dt.datetime | None) -> list:
    """Replace the recorded columns of the tracked `tables` whose relation exists (`columns`: table
    name -> its catalog (column, type) list, None when it is gone)."""
    s = project.schemas
    out: list = []
    rows = []
    for table in tables:
        found = columns.get(table.name)
        if not tracked(table) or found is None:
            continue
        out.append(exp.Delete(this=meta.table(s, "relation_columns"),
                              where=exp.Where(this=exp.EQ(this=col("table_name"), expression=lit(table.name)))))
        rows += [(table.name, i, name, typ, run_id, now) for i, (name, typ) in enumerate(found, 1)]
    return out + meta.rows(s, "relation_columns", rows)
