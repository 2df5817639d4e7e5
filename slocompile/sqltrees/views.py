"""Validated and quarantine views: row rules with `rows: drop`, and the table's gate.

validated = raw rows breaking no dropping rule, in the partitions the gate shows;
quarantine = the other raw rows of those partitions, with the rules each broke.
"""
from __future__ import annotations

from typing import cast

from sqlglot import exp

from slocompile import checks as registry
from slocompile.dialects.nodes import QueryError, and_all, col, lit, not_, or_all
from slocompile.spec.model import Schemas, TableSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees.content import verified_source
from slocompile.sqltrees.fixes import shape
from slocompile.sqltrees.scans import partition_text
from slocompile.sqltrees.versions import VERSION_COLUMN, published_condition, versions_source

VIOLATIONS = "_slo_violations"


def view_name(schema: str, table: TableSpec) -> exp.Table:
    return exp.Table(this=exp.to_identifier(table.name, quoted=True), db=exp.to_identifier(schema, quoted=True))


def _status_filter(schemas: Schemas, table: TableSpec, failing: bool) -> exp.Expression:
    cond: exp.Expression = exp.EQ(this=col("table_name"), expression=lit(table.name))
    if failing:
        cond = exp.And(this=cond, expression=exp.EQ(this=col("status"), expression=lit("fail")))
    return cond


def _status_select(schemas: Schemas, projection: exp.Expression, where: exp.Expression) -> exp.Select:
    select = exp.Select(expressions=[projection]).from_(meta.table(schemas, "status"), copy=False)
    return select.where(where, copy=False)


def block_condition(schemas: Schemas, table: TableSpec) -> exp.Expression:
    """A scalar subquery that raises while any partition of the table failed; TRUE otherwise.

    An aggregate always returns one row, so a table with no status row is not silently empty.
    """
    where_text = exp.Coalesce(this=col("partition"), expressions=[lit("whole table")])
    item = exp.DPipe(this=exp.DPipe(this=where_text, expression=lit(": ")), expression=col("failed_checks"))
    message = exp.DPipe(
        this=lit(f"slocompile: {schemas.validated}.{table.name} is blocked by failed SLOs: "),
        expression=exp.GroupConcat(this=item, separator=lit("; ")))
    check = exp.Case(ifs=[exp.If(this=exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)),
                                 true=exp.EQ(this=QueryError(this=message), expression=exp.Literal.number(0)))],
                     default=exp.true())
    return exp.Subquery(this=_status_select(schemas, check, _status_filter(schemas, table, failing=True)))


def filter_condition(schemas: Schemas, table: TableSpec) -> exp.Expression:
    """Rows of partitions whose latest status passed, while no whole-table SLO fails."""
    no_table_failure = exp.Not(this=exp.Exists(this=_status_select(
        schemas, exp.Literal.number(1),
        exp.And(this=_status_filter(schemas, table, failing=True),
                expression=exp.Is(this=col("partition"), expression=exp.Null())))))
    if table.partition is None:
        # unpartitioned: visible only once the table has a passing status
        has_pass = exp.Exists(this=_status_select(
            schemas, exp.Literal.number(1),
            exp.And(this=_status_filter(schemas, table, failing=False),
                    expression=exp.EQ(this=col("status"), expression=lit("pass")))))
        return exp.And(this=has_pass, expression=no_table_failure)
    passing = _status_select(schemas, col("partition"), exp.And(
        this=_status_filter(schemas, table, failing=False),
        expression=exp.EQ(this=col("status"), expression=lit("pass"))))
    return exp.And(this=exp.In(this=partition_text(table), query=exp.Subquery(this=passing)),
                   expression=no_table_failure)


def gate_condition(schemas: Schemas, table: TableSpec) -> exp.Expression | None:
    if table.gate == "block":
        return block_condition(schemas, table)
    if table.gate == "filter":
        return filter_condition(schemas, table)
    if table.gate == "last_good":
        return published_condition(schemas, table)
    return None  # warn: serve everything


def _source(schemas: Schemas, table: TableSpec, verified: bool = False) -> exp.Expression:
    """The rows the views read: the raw relation, or the versions of a last_good table. `verified`
    (the validated view of a partitioned table gated by filter or block): only the partitions whose
    content is still what was checked (sqltrees/content.py)."""
    if table.gate == "last_good":
        return versions_source(schemas, table)
    if verified and table.partition and table.gate in ("filter", "block"):
        return verified_source(schemas, table)
    return table.relation.copy()


def _dropping_violations(table: TableSpec) -> list[tuple[str, exp.Expression]]:
    # `rows: drop` is an option of row rules, which always have a violation condition
    return [(c.name, cast(exp.Expression, registry.get(c.type).row_violation(c))) for c in table.row_rules_dropping]


def validated_view(schemas: Schemas, table: TableSpec) -> exp.Create:
    keep = and_all([not_(v) for _, v in _dropping_violations(table)] + [gate_condition(schemas, table)])
    select = exp.Select(expressions=[exp.Star()]).from_(_source(schemas, table, verified=True), copy=False)
    if keep is not None:
        select.set("where", exp.Where(this=keep))
    extra = (VERSION_COLUMN,) if table.gate == "last_good" else ()
    return _create_view(view_name(schemas.validated, table), shape(schemas, table, select, extra))


def quarantine_view(schemas: Schemas, table: TableSpec) -> exp.Create:
    """The rows the validated view drops by row rules, with the names of the rules each broke."""
    violations = _dropping_violations(table)
    visible = gate_condition(schemas, table) if table.gate in ("filter", "last_good") else None
    if violations:
        # ', a, b' -> 'a, b': each broken rule contributes ', name'
        parts = [exp.Case(ifs=[exp.If(this=v, true=lit(", " + name))], default=lit("")) for name, v in violations]
        joined: exp.Expression = parts[0]
        for p in parts[1:]:
            joined = exp.DPipe(this=joined, expression=p)
        names: exp.Expression = exp.Substring(this=joined, start=exp.Literal.number(3))
        any_broken = or_all([v.copy() for _, v in violations])
    else:
        names, any_broken = exp.cast(exp.Null(), exp.DataType.Type.TEXT), exp.false()
    select = exp.Select(expressions=[exp.Star(), exp.alias_(names, VIOLATIONS, quoted=True)])
    select = select.from_(_source(schemas, table), copy=False).where(and_all([any_broken, visible]), copy=False)
    return _create_view(view_name(schemas.quarantine, table), select)


def _create_view(name: exp.Table, select: exp.Select) -> exp.Create:
    return exp.Create(kind="VIEW", this=name, expression=select, replace=True)
