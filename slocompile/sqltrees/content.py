"""Content fingerprints of partitions: what a build checked, and whether the data still is that.

A partition's content fingerprint is '<rows>:<sum of a hash of every row's values>' (the hash is
per dialect: dialects.nodes.RowHash), computed by SQL over the relation grouped by the partition
column, so an UPDATE, DELETE or INSERT in a partition changes it. The build stores it with the
partition's status (meta `status.fingerprint` = '<checks fingerprint>:<content fingerprint>') and
re-checks a partition whose content no longer matches; the validated views of gates filter and
block compute it again at query time, so data changed after its build is never served as checked.
"""
from __future__ import annotations

from sqlglot import exp

from slocompile.checks import metrics as m
from slocompile.dialects.nodes import HashedAsText, QueryError, RowHash, and_all, col, lit
from slocompile.spec.model import NULL_PARTITION, Schemas, TableSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees.fixes import output_columns
from slocompile.sqltrees.scans import label_of_partition, partition_expr, partition_in, partition_text

CHECKS_CHARS = 16  # the checks' fingerprint (run/selection.py) that precedes ':<content>' in status rows
CONTENT_ALIAS = "_slo_content"
SOURCE_ALIAS = "_slo_raw"
VERIFIED_ALIAS = "_slo_verified"
CURRENT_ALIAS = "_slo_now"
STORED_ALIAS = "_slo_checked"
ACCEPTED_ALIAS = "_slo_ok"


def hashed_columns(table: TableSpec) -> list[str]:
    """Every column of the relation (known at build time), else the declared ones."""
    return output_columns(table)


def content_fingerprint(columns: list[str], as_text: tuple[str, ...] = ()) -> exp.Expression:
    """The aggregate, as text: '<COUNT(*)>:<SUM(row hash)>'; the columns named in `as_text` are
    hashed as their JSON text (TableSpec.hashed_as_text)."""
    values = [HashedAsText(this=col(c)) if c in as_text else col(c) for c in columns]
    total = exp.Coalesce(this=exp.Sum(this=RowHash(expressions=values)), expressions=[exp.Literal.number(0)])
    return exp.DPipe(this=exp.DPipe(this=exp.cast(exp.Count(this=exp.Star()), exp.DataType.Type.TEXT),
                                    expression=lit(":")),
                     expression=exp.cast(total, exp.DataType.Type.TEXT))


def content_metric(table: TableSpec, columns: tuple[str, ...]) -> m.Metric:
    """The content fingerprint as a metric of the fused scan, grouped by partition like the checks'."""
    return m.aggregate(content_fingerprint(list(columns), table.hashed_as_text))


def status_fingerprint(checks: str, content: str | None) -> str:
    """The text of status.fingerprint: the checks' fingerprint, then the content's."""
    assert len(checks) == CHECKS_CHARS, checks
    return checks if content is None else f"{checks}:{content}"


def stored_content(fingerprint: exp.Expression) -> exp.Expression:
    """The content part of a status.fingerprint column ('' for a status written before content
    fingerprints existed: it never matches, so such a partition counts as changed)."""
    return exp.Substring(this=fingerprint, start=exp.Literal.number(CHECKS_CHARS + 2))


def partition_contents(table: TableSpec, columns: list[str], partitions=None) -> exp.Select:
    """SELECT <partition label>, <content fingerprint> FROM <relation> GROUP BY <partition column>
    (only the partitions labelled `partitions`, when given)."""
    assert table.partition is not None  # only a partitioned table has partition contents
    select = exp.Select(expressions=[partition_text(table), content_fingerprint(columns, table.hashed_as_text)]).from_(
        table.relation.copy(), copy=False).group_by(partition_expr(table), copy=False)
    if partitions is not None:
        select = select.where(partition_in(table, partitions), copy=False)
    return select


def _q(alias: str, name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name, quoted=True), table=exp.to_identifier(alias, quoted=True))


def _aliased(source: exp.Expression, alias: str) -> exp.Expression:
    if isinstance(source, exp.Select):
        return exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    source.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    return source


def _accepted(schemas: Schemas, table: TableSpec) -> exp.Select:
    """The values of the partition column whose current content may be served: for gate filter,
    those that passed with this very content; for gate block, all of them, but reading one whose
    content differs from what was checked, or that was never checked, raises an error naming it
    (failed partitions are refused by the block condition of the view itself)."""
    partition = table.partition
    assert partition is not None  # gates filter and block verify the partitions of a partitioned table
    now, checked = CURRENT_ALIAS, STORED_ALIAS
    # the partition (at the table's grain) under the column's own name
    value = exp.alias_(partition_expr(table), partition, quoted=True) if table.partition_grain else col(partition)
    content = content_fingerprint(hashed_columns(table), table.hashed_as_text)
    current = exp.Select(expressions=[value, exp.alias_(content, CONTENT_ALIAS, quoted=True)])
    current = current.from_(table.relation.copy(), copy=False).group_by(partition_expr(table), copy=False)
    status: exp.Expression = exp.EQ(this=col("table_name"), expression=lit(table.name))
    if table.gate == "filter":
        status = exp.And(this=status, expression=exp.EQ(this=col("status"), expression=lit("pass")))
    # DISTINCT: one row per partition even if two builds ever wrote its status at once
    stored = exp.Select(expressions=[col("partition"), exp.alias_(stored_content(col("fingerprint")), CONTENT_ALIAS,
                                                                  quoted=True)]).distinct()
    stored = stored.from_(meta.table(schemas, "status"), copy=False).where(status, copy=False)
    label = label_of_partition(table, _q(now, partition))
    same_partition = exp.EQ(this=_q(checked, "partition"), expression=label)
    same_content = exp.EQ(this=_q(checked, CONTENT_ALIAS), expression=_q(now, CONTENT_ALIAS))
    select = exp.Select(expressions=[_q(now, partition)]).from_(_aliased(current, now), copy=False)
    if table.gate == "filter":
        return select.join(_aliased(stored, checked), on=exp.And(this=same_partition, expression=same_content),
                           join_type="inner", copy=False)
    def refusal(why: str) -> exp.Expression:
        message = exp.DPipe(this=exp.DPipe(
            this=lit(f"slocompile: {schemas.validated}.{table.name} is blocked: partition "), expression=label.copy()),
            expression=lit(why))
        return exp.EQ(this=QueryError(this=message), expression=exp.Literal.number(0))

    # a partition with no status (it arrived after the last build) has not been checked: block
    # refuses it like a changed one, rather than serving it as if it had passed
    never_checked = exp.Is(this=_q(checked, "partition"), expression=exp.Null())
    changed = exp.Or(this=exp.Is(this=_q(checked, CONTENT_ALIAS), expression=exp.Null()),
                     expression=exp.NEQ(this=_q(checked, CONTENT_ALIAS), expression=_q(now, CONTENT_ALIAS)))
    refuse = exp.Case(ifs=[
        exp.If(this=never_checked, true=refusal(" has not been checked yet (build to check it)")),
        exp.If(this=changed, true=refusal(" changed since it was checked (build again to check it)"))],
        default=exp.true())
    return select.join(_aliased(stored, checked), on=same_partition, join_type="left", copy=False).where(
        refuse, copy=False)


def verified_source(schemas: Schemas, table: TableSpec) -> exp.Subquery:
    """The raw rows of the partitions `_accepted` lets through, as a derived table with the
    relation's columns. An inner join on the partition column itself, so a consumer's filter on
    it (WHERE ds = ...) reaches the grouped fingerprint query too: reading one partition hashes
    that partition only. Rows whose partition is NULL cannot meet in that join: a second branch
    serves them, after a cheap look at their status (it saves a scan for NULLs on most tables)."""
    partition = table.partition
    assert partition is not None  # only a partitioned table's partitions are verified
    raw, ok = SOURCE_ALIAS, ACCEPTED_ALIAS
    joined = exp.Select(expressions=[exp.Column(this=exp.Star(), table=exp.to_identifier(raw, quoted=True))])
    joined = joined.from_(_aliased(table.relation.copy(), raw), copy=False).join(
        _aliased(_accepted(schemas, table), ok),
        on=exp.EQ(this=partition_expr(table, _q(raw, partition)), expression=_q(ok, partition)),
        join_type="inner", copy=False)
    null_status = exp.And(this=exp.EQ(this=col("table_name"), expression=lit(table.name)),
                          expression=exp.EQ(this=col("partition"), expression=lit(NULL_PARTITION)))
    if table.gate == "filter":
        null_status = exp.And(this=null_status, expression=exp.EQ(this=col("status"), expression=lit("pass")))
    checked_null = exp.Exists(this=exp.Select(expressions=[exp.Literal.number(1)]).from_(
        meta.table(schemas, "status"), copy=False).where(null_status, copy=False))
    # the status test sits inside the hashing subquery (a one-time filter there), so an engine that
    # evaluates every EXISTS of a WHERE up front (Postgres before a parallel plan) skips the scan
    null_accepted = exp.Exists(this=exp.Select(expressions=[exp.Literal.number(1)]).from_(
        _aliased(_accepted(schemas, table), ok), copy=False).where(
        and_all([exp.Is(this=_q(ok, partition), expression=exp.Null()), checked_null.copy()]), copy=False))
    # filter: the NULL partition passed with this content; block: it was checked and its content
    # is unchanged (a changed one raises inside _accepted). Never checked: not served (a NULL
    # status cannot be told from "no NULL rows" without the scan this branch saves)
    serve_nulls = null_accepted
    nulls = exp.Select(expressions=[exp.Star()]).from_(table.relation.copy(), copy=False).where(
        and_all([exp.Is(this=col(partition), expression=exp.Null()), serve_nulls]), copy=False)
    union = exp.Union(this=joined, expression=nulls, distinct=False)
    return exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier(VERIFIED_ALIAS, quoted=True)))
