"""SQL trees of `gate: last_good`: the versions table, the audit view and the published rows.

run/last_good.py describes write-audit-publish and runs it; this module only builds the trees it
and the validated view (sqltrees/views.py) need. The version of a row is the column
`_slo_version` of `<versions schema>.<table>`; `<meta>.versions` records each (version, partition)
and `<meta>.published` the version each partition serves.
"""
from __future__ import annotations

from typing import cast

from sqlglot import exp

from slocompile.dialects.nodes import QueryError, and_all, col, lit
from slocompile.spec.model import Schemas, TableSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees.scans import partition_text

VERSION_COLUMN = "_slo_version"
ALIAS = "_v"
PUBLISHED_ALIAS = "_p"
STAGED_ALIAS = "_m"
AUDIT_SUFFIX = "__slo_audit"  # letters, digits and _ only: Spark refuses other names


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def versions_table(schemas: Schemas, table_name: str) -> exp.Table:
    return exp.Table(this=ident(table_name), db=ident(schemas.versions))


def audit_view(schemas: Schemas, table_name: str) -> exp.Table:
    return exp.Table(this=ident(table_name + AUDIT_SUFFIX), db=ident(schemas.versions))


def qcol(alias: str, name: str) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(alias))


def partition_of(table: TableSpec, alias: str) -> exp.Expression:
    """The partition (its label, as in the meta schema) of a row of the versions table."""
    partition = cast(str, table.partition)  # callers pass partitioned tables only
    return partition_text(table, qcol(alias, partition))


def versions_source(schemas: Schemas, table: TableSpec) -> exp.Table:
    source = versions_table(schemas, table.name)
    source.set("alias", exp.TableAlias(this=ident(ALIAS)))
    return source


def _meta(schemas: Schemas, name: str, alias: str) -> exp.Table:
    t = meta.table(schemas, name)
    t.set("alias", exp.TableAlias(this=ident(alias)))
    return t


def _matches_partition(table: TableSpec, inner: str) -> exp.Expression:
    """inner.partition is the partition of the outer versions row (NULL for unpartitioned tables)."""
    if table.partition is None:
        return exp.Is(this=qcol(inner, "partition"), expression=exp.Null())
    return exp.EQ(this=qcol(inner, "partition"), expression=partition_of(table, ALIAS))


def _is_published(schemas: Schemas, table: TableSpec) -> exp.Expression:
    p = PUBLISHED_ALIAS
    query = exp.Select(expressions=[exp.Literal.number(1)]).from_(_meta(schemas, "published", p), copy=False).where(
        and_all([exp.EQ(this=qcol(p, "table_name"), expression=lit(table.name)),
                 exp.EQ(this=qcol(p, "version"), expression=qcol(ALIAS, VERSION_COLUMN)),
                 _matches_partition(table, p)]), copy=False)
    return exp.Exists(this=query)


def published_condition(schemas: Schemas, table: TableSpec) -> exp.Expression:
    """Rows of the published version of their partition; every query fails while no version of
    the table has ever passed (rather than serving nothing silently)."""
    p = PUBLISHED_ALIAS
    n = exp.Count(this=exp.Star())
    # the message is not a constant (Postgres would fail the cast when the view is created)
    message = exp.DPipe(this=lit(f"slocompile: {schemas.validated}.{table.name} has no version that passed its SLOs "
                                 "yet (gate last_good); published versions: "),
                        expression=exp.cast(n.copy(), exp.DataType.Type.TEXT))
    check = exp.Case(ifs=[exp.If(this=exp.EQ(this=n, expression=exp.Literal.number(0)),
                                 true=exp.EQ(this=QueryError(this=message), expression=exp.Literal.number(0)))],
                     default=exp.true())
    any_published = exp.Subquery(this=exp.Select(expressions=[check]).from_(
        _meta(schemas, "published", p), copy=False).where(
        exp.EQ(this=qcol(p, "table_name"), expression=lit(table.name)), copy=False))
    return exp.And(this=any_published, expression=_is_published(schemas, table))


def audit_select(schemas: Schemas, table: TableSpec, columns: list[str], version: int | None) -> exp.Select:
    """What the view would serve if `version` were published: its rows, plus the published rows of
    every partition it does not hold."""
    new = exp.EQ(this=qcol(ALIAS, VERSION_COLUMN), expression=exp.Literal.number(version)) \
        if version is not None else exp.false()
    if table.partition is None:
        keep = new if version is not None else _is_published(schemas, table)
    else:
        m = STAGED_ALIAS
        staged_here = exp.Exists(this=exp.Select(expressions=[exp.Literal.number(1)]).from_(
            _meta(schemas, "versions", m), copy=False).where(and_all([
                exp.EQ(this=qcol(m, "table_name"), expression=lit(table.name)),
                exp.EQ(this=qcol(m, "version"), expression=exp.Literal.number(version if version is not None else -1)),
                _matches_partition(table, m)]), copy=False))
        keep = exp.Or(this=exp.Paren(this=new), expression=exp.Paren(this=exp.And(
            this=_is_published(schemas, table), expression=exp.Not(this=staged_here))))
    return exp.Select(expressions=[qcol(ALIAS, c) for c in columns]).from_(
        versions_source(schemas, table), copy=False).where(keep, copy=False)


# ------------------------------------------------------------------ conditions on the meta tables

def eq_table(name: str) -> exp.Expression:
    return exp.EQ(this=col("table_name"), expression=lit(name))


def eq_version(v: int) -> exp.Expression:
    return exp.EQ(this=col("version"), expression=exp.Literal.number(v))


def eq_partition(p: str | None) -> exp.Expression:
    return exp.Is(this=col("partition"), expression=exp.Null()) if p is None else \
        exp.EQ(this=col("partition"), expression=lit(p))


def point_partition(s: Schemas, table_name: str, partition: str | None, version: int, run_id: str, now) -> list:
    """Statements making `version` the published version of the table's `partition`."""
    return [exp.Delete(this=meta.table(s, "published"),
                       where=exp.Where(this=exp.And(this=eq_table(table_name), expression=eq_partition(partition)))),
            *meta.insert(s, "published", [(table_name, partition, version, run_id, now)])]
