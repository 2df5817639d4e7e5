"""Other relations a table's checks read: a change there re-checks the partitions it changes.

A partition's status is only still true while what its checks read elsewhere is what it was when
it was checked. So the checks' fingerprint recorded with each partition's status
(run/selection.py) also covers, per partition:

- for a `relationship`, the partition's orphans now: how many of its values have no match in the
  `to` relation (one anti-join grouped by partition). A key deleted there re-checks exactly the
  partitions that gain orphans; a key added re-checks only those it gives a match (they failed, so
  they are checked anyway); a dimension that grows or changes other columns re-checks nothing.
- for a `compare`, the content fingerprint (sqltrees/content.py) of the columns it reads in its
  `with` relation, cut by the table's own partitions: the partitions whose rows changed there.

Every build reads these (the cost of noticing), one query per reference.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from sqlglot import exp

from slocompile import checks as registry
from slocompile.checks import metrics as m
from slocompile.dialects.nodes import named
from slocompile.dialects.render import render
from slocompile.engines.base import Engine, QueryFailed
from slocompile.spec.model import TableSpec
from slocompile.sqltrees.content import partition_contents
from slocompile.sqltrees.scans import partition_expr, partition_text

UNREADABLE = "unreadable"  # a reference the engine could not read (its checks report why)


@dataclass(frozen=True)
class Reference:
    relation: exp.Table
    columns: tuple[str, ...]  # compare: the columns it reads there; relationship: (this table's column,)
    field: str | None = None  # relationship: the column of `relation` its values must match


@dataclass(frozen=True)
class Referenced:
    """What a table's references hold now, by partition."""
    by_partition: dict = field(default_factory=dict, compare=False)  # partition label -> their text
    unreadable: bool = False  # a reference could not be read: every partition counts as changed

    def checks(self, checks: str, partition: str | None) -> str:
        """The checks' fingerprint of `partition`, covering what its checks read elsewhere."""
        here = self.by_partition.get(partition, "") if partition is not None else ""
        text = f"{checks}|{UNREADABLE if self.unreadable else ''}|{here}"
        return hashlib.sha1(text.encode()).hexdigest()[:len(checks)]


def references(table: TableSpec) -> list[Reference]:
    """The references of `table`'s checks, each once (a relationship's apart from a compare's with
    the same relation: they read different things there)."""
    found: dict[tuple, Reference] = {}
    for check in table.checks:
        ctype = registry.get(check.type)
        if not ctype.reads_elsewhere:  # (its metrics are not built for nothing: 1,200 checks, 0.1 s)
            continue
        for metric in ctype.metrics(check):
            if metric.target is None:
                continue
            if metric.kind == m.ORPHANS:
                ref = Reference(metric.target, metric.columns, metric.field)
                found.setdefault(("orphans", metric.target.sql(), ref.columns, ref.field), ref)
                continue
            # a compare's aggregate or keys: its filter applies to both sides
            trees = [t for t in (metric.expr, metric.where) if t is not None]
            columns = list(metric.columns) + [c.name for t in trees for c in t.find_all(exp.Column)]
            key = ("rows", metric.target.sql())
            known = found.get(key, Reference(metric.target, ()))
            found[key] = replace(known, columns=tuple(dict.fromkeys([*known.columns, *columns])))
    return list(found.values())


def read(engine: Engine, table: TableSpec) -> Referenced | None:
    """What `table`'s references hold now (None: its checks read no other relation, or the table
    has no partitions, whose checks run on every build anyway)."""
    refs = references(table) if table.partition else []
    if not refs:
        return None
    by_partition: dict[str, str] = {}
    for i, ref in enumerate(refs):
        try:
            rows = engine.query(render(_query(table, ref), engine.dialect))
        except QueryFailed:
            return Referenced(unreadable=True)
        for label, value in rows:
            by_partition[label] = f"{by_partition.get(label, '')}|{i}:{value}"
    return Referenced(by_partition)


def _query(table: TableSpec, ref: Reference) -> exp.Select:
    """(partition label, what the reference holds for it) rows: a relationship's orphan count (only
    partitions that have orphans), a compare's content fingerprint of the other relation."""
    if ref.field is None:
        other = replace(table, relation=ref.relation, hashed_as_text=())
        return partition_contents(other, list(dict.fromkeys([str(table.partition), *ref.columns])))
    outer, inner = exp.to_identifier("_slo_t", quoted=True), exp.to_identifier("_slo_r", quoted=True)
    value = exp.Column(this=exp.to_identifier(ref.columns[0], quoted=True), table=outer)
    target = ref.relation.copy()
    target.set("alias", exp.TableAlias(this=inner))
    match = exp.select(exp.Literal.number(1)).from_(target, copy=False).where(exp.EQ(
        this=exp.Column(this=exp.to_identifier(ref.field, quoted=True), table=inner.copy()), expression=value.copy()),
        copy=False)
    source = table.relation.copy()
    source.set("alias", exp.TableAlias(this=outer.copy()))
    orphans = exp.and_(exp.Not(this=exp.Is(this=value, expression=exp.Null())), exp.Not(this=exp.Exists(this=match)))
    return (exp.select(partition_text(table), named(exp.Count(this=exp.Star()), "_slo_orphans"))
            .from_(source, copy=False).where(orphans, copy=False).group_by(partition_expr(table), copy=False))

