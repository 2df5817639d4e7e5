"""Other relations a table's checks read: a change there re-checks what it can change.

A `relationship` reads its `to` relation whole (a key removed there makes orphans in any
partition); a `compare` reads its `with` relation cut by the table's own partitions. A partition's
status is only still true while those rows are what they were when it was checked, so the
checks' fingerprint recorded with each status (run/selection.py) also covers them: the content
fingerprint (sqltrees/content.py) of the columns the checks read there, of the whole relation or
of the same partition. A build then re-checks every partition when a relation read whole changed,
and the partitions whose rows changed in a relation read by partition.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from sqlglot import exp

from slocompile import checks as registry
from slocompile.checks import metrics as m
from slocompile.dialects.render import render
from slocompile.engines.base import Engine, QueryFailed
from slocompile.spec.model import TableSpec
from slocompile.sqltrees.content import content_fingerprint, partition_contents

UNREADABLE = "unreadable"  # a relation the engine could not fingerprint (its checks report why)


@dataclass(frozen=True)
class Reference:
    relation: exp.Table
    columns: tuple[str, ...]  # the columns the checks read there
    whole: bool  # read whole (relationship), else cut by the table's partitions (compare)


@dataclass(frozen=True)
class Referenced:
    """The content fingerprints of a table's references, as a build found them."""
    whole: str = ""  # of the relations read whole
    by_partition: dict = field(default_factory=dict, compare=False)  # partition label -> of its rows elsewhere

    def checks(self, checks: str, partition: str | None) -> str:
        """The checks' fingerprint of `partition`, covering what its checks read elsewhere."""
        text = f"{checks}|{self.whole}|{self.by_partition.get(partition, '') if partition is not None else ''}"
        return hashlib.sha1(text.encode()).hexdigest()[:len(checks)]


def references(table: TableSpec) -> list[Reference]:
    """The other relations `table`'s checks read, each once: read whole if any check reads it whole."""
    found: dict[str, tuple[exp.Table, list[str], bool]] = {}
    for check in table.checks:
        ctype = registry.get(check.type)
        if not ctype.reads_elsewhere:  # (its metrics are not built for nothing: 1,200 checks, 0.1 s)
            continue
        for metric in ctype.metrics(check):
            if metric.target is None:
                continue
            if metric.kind == m.ORPHANS:  # the check's filter applies to this table's rows only
                columns, whole = [str(metric.field)], True
            else:  # a compare's aggregate or keys: its filter applies to both sides
                trees = [t for t in (metric.expr, metric.where) if t is not None]
                columns = list(metric.columns) + [c.name for t in trees for c in t.find_all(exp.Column)]
                whole = not table.partition
            key = metric.target.sql()
            relation, known, was_whole = found.get(key, (metric.target, [], False))
            found[key] = (relation, known + [c for c in columns if c not in known], was_whole or whole)
    return [Reference(relation, tuple(columns), whole) for relation, columns, whole in found.values()]


def read(engine: Engine, table: TableSpec) -> Referenced | None:
    """The fingerprints of `table`'s references now (None: its checks read no other relation, or the
    table has no partitions, whose checks run on every build anyway)."""
    refs = references(table) if table.partition else []
    if not refs:
        return None
    whole: list[str] = []
    by_partition: dict[str, str] = {}
    for ref in refs:
        if ref.whole:
            whole.append(_whole(engine, ref))
            continue
        other = replace(table, relation=ref.relation, hashed_as_text=())
        columns = list(dict.fromkeys([str(table.partition), *ref.columns]))
        try:
            rows = engine.query(render(partition_contents(other, columns), engine.dialect))
        except QueryFailed:
            whole.append(UNREADABLE)
            continue
        for label, content in rows:
            by_partition[label] = f"{by_partition.get(label, '')}|{content}"
    return Referenced("|".join(whole), by_partition)


def _whole(engine: Engine, ref: Reference) -> str:
    """The fingerprint of the distinct values read there: a relationship reads which keys exist, so
    new rows repeating known keys (a dimension's next snapshot) re-check nothing."""
    values = exp.select(*[exp.column(c, quoted=True) for c in ref.columns]).distinct().from_(
        ref.relation.copy(), copy=False)
    select = exp.select(content_fingerprint(list(ref.columns))).from_(
        exp.Subquery(this=values, alias=exp.TableAlias(this=exp.to_identifier("_slo_values", quoted=True))),
        copy=False)
    try:
        rows = engine.query(render(select, engine.dialect))
    except QueryFailed:
        return UNREADABLE
    return str(rows[0][0]) if rows else ""
