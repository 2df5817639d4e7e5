"""`compare` (checks.compare): the keys present on one side only, counted per partition and sampled.

Both sides' distinct keys (NULL keys left out; per partition label when the table has one) meet in
one FULL OUTER JOIN; each joined row says on which side its key is (SIDE_ALIAS: here, there or
both). The partition is compared by its label, so the NULL partition ('(null)') matches too. The
other side's metrics need no SQL of their own: a fused scan of the other relation (sqltrees.scans).
Callers pass the partition label expression and the rows' filter (this module reads no plan).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from slocompile.checks.compare import HERE, THERE
from slocompile.dialects.nodes import and_all, col, count_if, lit, named

SIDE_ALIAS = "_slo_side"
BOTH = "both"
_LABEL = "_slo_partition"  # scans.PARTITION_ALIAS (scans imports this module)


def sides(relation: exp.Table, other: exp.Table, keys: tuple[str, ...], where: exp.Expression | None,
          label: Callable[[], exp.Expression] | None) -> exp.Subquery:
    """(label,) keys..., side: one row per distinct key of either side."""
    a, b = exp.to_identifier("_slo_a", quoted=True), exp.to_identifier("_slo_b", quoted=True)
    names = ([_LABEL] if label is not None else []) + list(keys)

    def distinct(source: exp.Table, alias: exp.Identifier) -> exp.Subquery:
        outputs = ([named(label(), _LABEL)] if label is not None else []) + [named(col(k), k) for k in keys]
        not_null = [exp.Not(this=exp.Is(this=col(k), expression=exp.Null())) for k in keys]
        select = exp.Select(expressions=outputs, distinct=exp.Distinct())
        select.set("from_", exp.From(this=source.copy()))
        select.set("where", exp.Where(this=and_all([where.copy() if where is not None else None, *not_null])))
        return exp.Subquery(this=select, alias=exp.TableAlias(this=alias.copy()))

    def at(alias: exp.Identifier, name: str) -> exp.Column:
        return exp.Column(this=exp.to_identifier(name, quoted=True), table=alias.copy())

    on = and_all([exp.EQ(this=at(a, n), expression=at(b, n)) for n in names])
    first = keys[0]
    side = exp.Case(ifs=[exp.If(this=exp.Is(this=at(b, first), expression=exp.Null()), true=lit(HERE)),
                         exp.If(this=exp.Is(this=at(a, first), expression=exp.Null()), true=lit(THERE))],
                    default=lit(BOTH))
    select = exp.Select(expressions=[named(exp.Coalesce(this=at(a, n), expressions=[at(b, n)]), n) for n in names]
                        + [named(side, SIDE_ALIAS)])
    select.set("from_", exp.From(this=distinct(relation, a)))
    select.set("joins", [exp.Join(this=distinct(other, b), side="FULL", kind="OUTER", on=on)])
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier("_slo_k", quoted=True)))


def key_diff_sql(relation: exp.Table, other: exp.Table, keys: tuple[str, ...], fields: list[str],
                 where: exp.Expression | None, label: Callable[[], exp.Expression] | None) -> exp.Select:
    """Per partition (label first, as _slo_partition): the count of keys on each side of `fields`
    (here or there), as m0, m1, ..."""
    counts = [named(count_if(exp.EQ(this=col(SIDE_ALIAS), expression=lit(f))), f"m{i}") for i, f in enumerate(fields)]
    select = exp.Select(expressions=([col(_LABEL)] if label is not None else []) + counts)
    select.set("from_", exp.From(this=sides(relation, other, keys, where, label)))
    if label is not None:
        select.set("group", exp.Group(expressions=[col(_LABEL)]))
    return select


def key_diff_samples(relation: exp.Table, other: exp.Table, keys: tuple[str, ...], where: exp.Expression | None,
                     label: Callable[[], exp.Expression] | None, limit: int) -> exp.Select:
    """Up to `limit` keys present on one side only: (label,) keys..., side; in the order of every column."""
    width = len(keys) + 1 + (label is not None)
    select = exp.Select(expressions=[col(n) for n in ([_LABEL] if label is not None else []) + list(keys)]
                        + [col(SIDE_ALIAS)])
    select.set("from_", exp.From(this=sides(relation, other, keys, where, label)))
    select.set("where", exp.Where(this=exp.NEQ(this=col(SIDE_ALIAS), expression=lit(BOTH))))
    select.set("order", exp.Order(expressions=[exp.Ordered(this=exp.Literal.number(i), nulls_first=True)
                                               for i in range(1, width + 1)]))
    select.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return select


__all__ = ["SIDE_ALIAS", "HERE", "THERE", "sides", "key_diff_sql", "key_diff_samples"]
