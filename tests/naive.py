"""The naive reference: one simple SELECT per metric, written apart from the fused builder.

The differential tests hold the planned scans (scans.py, run by measure.py) to these
numbers. Every query here is the plainest SQL that answers one metric:

    rows          SELECT COUNT(*) FROM t WHERE <where>
    count_if      SELECT COUNT(*) FROM t WHERE <where> AND <condition>
    aggregate     SELECT <aggregate> FROM t WHERE <where>
    duplicates    (SELECT COUNT(*) ...) - (SELECT COUNT(*) FROM (SELECT DISTINCT keys ...)), two queries
    orphans       SELECT COUNT(*) FROM t WHERE c IS NOT NULL AND c NOT IN (SELECT f FROM r WHERE f IS NOT NULL)
    aggregate on another relation (compare): SELECT <aggregate> FROM other WHERE <where>
    key_diff      the distinct keys of each side (SELECT DISTINCT), their set difference taken in Python

each grouped by the partition when the table has one and the metric is per partition.
A metric with segments (`group_by`) lists the segments and their rows first (one query), then
measures each kept segment with its own query (WHERE partition = p AND each column = its value)
and the pooled one with a query over the rows of no kept segment (an OR of the kept ones, negated).
Slow on purpose; never used by `build`.
"""
from __future__ import annotations

from sqlglot import exp

from slocompile.checks import metrics as m
from slocompile.checks import segments
from slocompile.checks.evaluate import Measurements
from slocompile.dialects.nodes import col
from slocompile.dialects.render import render
from slocompile.engines.base import Engine, QueryFailed
from slocompile.planning.planner import TablePlan
from slocompile.spec.model import NULL_PARTITION, TableSpec

PART = "_naive_partition"
VALUE = "_naive_value"


def _partition_key(table: TableSpec) -> exp.Expression:
    return _label_key(table.partition)


def _label_key(column: str) -> exp.Expression:
    # the same label convention as the fused scans: a NULL partition is the partition '(null)', a
    # value reading like it ('(' ... 'null)') gets one more '(' (spec.model.partition_label);
    # segments are labelled alike
    text = exp.Cast(this=col(column), to=exp.DataType.build("text"))
    escaped = exp.If(this=exp.Like(this=text.copy(), expression=exp.Literal.string("(%null)")),
                     true=exp.DPipe(this=exp.Literal.string("("), expression=text.copy()))
    return exp.Case(ifs=[exp.If(this=exp.Is(this=col(column), expression=exp.Null()),
                                true=exp.Literal.string(NULL_PARTITION)), escaped], default=text)


def _query(table: TableSpec, metric: m.Metric, value: exp.Expression, conditions: list,
           source: exp.Expression | None = None) -> exp.Select:
    """SELECT [partition,] value FROM source WHERE conditions [GROUP BY partition]."""
    grouped = table.partition is not None and metric.scope == m.PER_PARTITION
    outputs = [exp.alias_(value, VALUE, quoted=True)]
    if grouped:
        outputs.insert(0, exp.alias_(_partition_key(table), PART, quoted=True))
    q = exp.select(*outputs).from_(source if source is not None else table.relation.copy(), copy=False)
    conditions = [c for c in conditions if c is not None]
    if metric.where is not None:
        conditions.insert(0, metric.where.copy())
    for c in conditions:
        q = q.where(exp.Paren(this=c), copy=False)
    if grouped:
        q = q.group_by(_partition_key(table), copy=False)
    return q


def _not_null(name: str) -> exp.Expression:
    return exp.Not(this=exp.Is(this=col(name), expression=exp.Null()))


def _distinct_keys(table: TableSpec, metric: m.Metric) -> exp.Select:
    """SELECT DISTINCT [partition,] keys FROM t WHERE keys are not NULL AND where (the partition once)."""
    names = list(dict.fromkeys(([table.partition] if table.partition else []) + list(metric.columns)))
    inner = exp.select(*[col(n) for n in names]).distinct().from_(table.relation.copy(), copy=False)
    for c in [metric.where] + [_not_null(k) for k in metric.columns]:
        if c is not None:
            inner = inner.where(exp.Paren(this=c.copy()), copy=False)
    return inner


def queries(table: TableSpec, metric: m.Metric) -> list[exp.Select]:
    """The reference queries of one metric; the metric's value is the first minus the others."""
    star = exp.Count(this=exp.Star())
    if metric.kind == m.ROWS:
        return [_query(table, metric, star, [])]
    if metric.kind == m.COUNT_IF:
        return [_query(table, metric, star, [metric.expr.copy()])]
    if metric.kind == m.AGGREGATE:
        other = metric.target.copy() if metric.target is not None else None
        return [_query(table, metric, metric.expr.copy(), [], source=other)]
    if metric.kind == m.DUPLICATES:
        keyed = _query(table, metric, star, [_not_null(k) for k in metric.columns])
        distinct = exp.Subquery(this=_distinct_keys(table, metric),
                                alias=exp.TableAlias(this=exp.to_identifier("k", quoted=True)))
        no_where = m.Metric(metric.kind, columns=metric.columns, scope=metric.scope)  # applied inside
        return [keyed, _query(table, no_where, star.copy(), [], source=distinct)]
    if metric.kind == m.ORPHANS:
        value = col(metric.columns[0])
        targets = exp.select(col(metric.field)).from_(metric.target.copy(), copy=False).where(
            _not_null(metric.field), copy=False)
        missing = exp.Not(this=exp.In(this=value.copy(), query=exp.Subquery(this=targets)))
        return [_query(table, metric, star, [_not_null(metric.columns[0]), missing])]
    raise ValueError(f"no naive query for metric kind {metric.kind}")


def _run(engine: Engine, table: TableSpec, metric: m.Metric) -> dict:
    """partition (None when not grouped) -> value."""
    grouped = table.partition is not None and metric.scope == m.PER_PARTITION
    out: dict = {}
    if metric.kind == m.QUERY_ROWS:  # the query's rows, counted here (the planner counts them in SQL)
        return {None: len(engine.query(render(metric.expr, engine.dialect)))}
    if metric.kind == m.KEY_DIFF:  # compare: keys on one side only, as sets in Python
        def keys(source: exp.Table) -> set:
            outputs = ([_partition_key(table)] if grouped else []) + [col(k) for k in metric.columns]
            q = exp.select(*outputs).distinct().from_(source.copy(), copy=False)
            for c in [metric.where] + [_not_null(k) for k in metric.columns]:
                if c is not None:
                    q = q.where(exp.Paren(this=c.copy()), copy=False)
            return set(engine.query(render(q, engine.dialect)))
        here, there = keys(table.relation), keys(metric.target)
        for row in (here - there) if metric.field == "here" else (there - here):
            p = row[0] if grouped else None
            out[p] = out.get(p, 0) + 1
        return out
    for i, q in enumerate(queries(table, metric)):
        for row in engine.query(render(q, engine.dialect)):
            p, v = (row[0], row[1]) if grouped else (None, row[0])
            out[p] = v if i == 0 else (out.get(p, 0) - v)
    return out


def _value(metric: m.Metric) -> tuple[exp.Expression, list]:
    """(the value to select, extra conditions) of a segmentable metric."""
    if metric.kind == m.AGGREGATE:
        return metric.expr.copy(), []
    return exp.Count(this=exp.Star()), [metric.expr.copy()] if metric.kind == m.COUNT_IF else []


def _where(q: exp.Select, conditions: list) -> exp.Select:
    for c in conditions:
        q = q.where(exp.Paren(this=c), copy=False)
    return q


def _run_segmented(engine: Engine, table: TableSpec, metric: m.Metric, out: Measurements) -> None:
    grouped = table.partition is not None and metric.scope == m.PER_PARTITION
    keys = [_label_key(c) for c in metric.group_by]
    base = [metric.where.copy()] if metric.where is not None else []
    listing = exp.select(*([_partition_key(table)] if grouped else []), *keys, exp.Count(this=exp.Star())).from_(
        table.relation.copy(), copy=False)
    listing = _where(listing, [c.copy() for c in base]).group_by(
        *([_partition_key(table)] if grouped else []), *[k.copy() for k in keys], copy=False)
    found: dict = {}
    for row in engine.query(render(listing, engine.dialect)):
        p, texts, n = (row[0], row[1:-1], row[-1]) if grouped else (None, row[:-1], row[-1])
        found.setdefault(p, []).append((", ".join(f"{c}={t}" for c, t in zip(metric.group_by, texts)), texts, n))
    value, extra = _value(metric)
    for p, segs in found.items():
        segs.sort(key=lambda s: (-s[2], s[0]))
        kept, rest = segs[:metric.max_segments], segs[metric.max_segments:]
        here = [exp.EQ(this=_partition_key(table), expression=exp.Literal.string(p))] if grouped else []

        def one(conditions: list, here: list = here):
            q = _where(exp.select(value.copy()).from_(table.relation.copy(), copy=False),
                       [c.copy() for c in base + here + extra] + conditions)
            return engine.query(render(q, engine.dialect))[0][0]

        def equal(texts) -> exp.Expression:
            return exp.and_(*[exp.EQ(this=k.copy(), expression=exp.Literal.string(t)) for k, t in zip(keys, texts)])

        per = {name: one([equal(texts)]) for name, texts, _ in kept}
        if rest:
            per[segments.OTHER] = one([exp.Not(this=exp.Paren(this=exp.or_(*[equal(texts) for _, texts, _ in kept])))])
            out.pooled[(metric, p)] = len(rest)
        out.segments[(metric, p)] = per


def measure_naive(engine: Engine, plan: TablePlan) -> Measurements:
    """Measure every metric the plan's checks request, one metric at a time (ignores plan.scans)."""
    table = plan.table
    if table.partition is not None:
        listing = exp.select(exp.alias_(_partition_key(table), PART, quoted=True)).distinct().from_(
            table.relation.copy(), copy=False)
        partitions = sorted((r[0] for r in engine.query(render(listing, engine.dialect))),
                            key=lambda p: (p is None, p))
    else:
        partitions = [None]
    values: dict = {}
    errors: dict = {}
    out = Measurements(values, partitions, errors)
    metrics = list(dict.fromkeys(x for _, ms in plan.checks for x in ms))
    for metric in metrics:
        if metric.kind == m.CATALOG:
            values[(metric, None)] = engine.columns(table.relation) or []
            continue
        try:
            if metric.group_by:
                _run_segmented(engine, table, metric, out)
                continue
            found = _run(engine, table, metric)
        except QueryFailed as e:
            errors[metric] = str(e).splitlines()[0][:300] if str(e) else "query failed"
            continue
        wanted = partitions if table.partition is not None and metric.scope == m.PER_PARTITION else [None]
        for p in wanted:
            values[(metric, p)] = found.get(p, metric.default)
    return out
