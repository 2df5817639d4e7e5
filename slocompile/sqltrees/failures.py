"""Failed-row samples: the SELECT that reads up to N offending rows of one failing check.

A check "has rows" when a row (or a key, or a returned row) is what fails it: row rules (the rows
violating the rule), `unique` (the duplicated keys, with how often each occurs), `relationship`
(the orphan rows) and `assert` with a whole SELECT (the rows it returns). The sample query reads
the same relation the check's scan read, only the partitions the check failed on, and is ordered
on every output column (NULLs first on every dialect) so each engine returns the same sample.
"""
from __future__ import annotations

from sqlglot import exp

from slocompile import checks as registry
from slocompile.checks.base import RowRule
from slocompile.checks.custom import KIND
from slocompile.dialects.nodes import ValueTest, and_all, col, lit, named, or_all
from slocompile.spec.model import CheckSpec, TableSpec
from slocompile.sqltrees.compare import SIDE_ALIAS, key_diff_samples
from slocompile.sqltrees.fragments import PLAIN, Fragments
from slocompile.sqltrees.scans import PARTITION_ALIAS, ROWS_ALIAS, partition_in, partition_text, segment_text

QUERY_ALIAS = "_slo_q"  # assert: the user's SELECT as a subquery
OUTER_ALIAS = "_slo_t"  # relationship: the checked relation, as the anti-join's subquery names it
BATCH_ALIAS = "_slo_i"  # batched: which sample query a row answers
BRANCH_ALIAS = "_slo_b"  # batched: one sample query as a subquery
SEGMENT_ALIAS = "_slo_segment"  # group_by: the segment a sampled row is in (checks.segments.label's text)

# group_by: partition label (None: unpartitioned) -> (the failing segments, whether the pooled one failed,
# the segments judged apart there): the rows to sample are those of the segments that failed
SegmentsFailed = dict[str | None, tuple[list[str], bool, list[str]]]


def keeps_rows(check: CheckSpec) -> bool:
    """Whether a failing `check` has offending rows to sample."""
    if check.type == "assert" or is_query(check) or check.params.get(KIND) is not None:
        return is_query(check)  # assert, and custom check types (checks.custom): their own SELECT's rows
    if check.type == "compare":  # the keys on one side only
        return bool(check.params.get("on"))
    return registry.get(check.type).has_rows


def is_query(check: CheckSpec) -> bool:
    """Whether `check` is a whole SELECT returning its failing rows (assert with a query, a custom
    check type of kind rows): its samples are that query's rows, in its own columns."""
    return check.params.get("query") is not None


def sample_columns(table: TableSpec, check: CheckSpec) -> list[str]:
    """The row columns a sample shows: the table's key, then the columns the check reads (the
    partition column is shown as the partition's label instead); for `unique`, its key only."""
    ctype = registry.get(check.type)
    if check.type == "compare":
        return list(check.params["on"]) + [SIDE_ALIAS]
    if check.type == "unique":
        names = list(ctype.referenced_columns(check))
    else:
        names = list(table.key) + list(ctype.referenced_columns(check))
    names = [n for n in dict.fromkeys(names) if n != table.partition]
    if table.catalog_columns is not None:
        names = [n for n in names if n in table.catalog_columns]
    return names


def segment_label(group_by: tuple[str, ...]) -> exp.Expression:
    """A row's segment as checks.segments.label writes it: 'country=US, device=ios'."""
    parts: list[exp.Expression] = []
    for i, c in enumerate(group_by):
        parts += [lit(f"{', ' if i else ''}{c}="), segment_text(c)]
    label = parts[0]
    for part in parts[1:]:
        label = exp.DPipe(this=label, expression=part)
    return label


def _in_failed_segments(table: TableSpec, group_by: tuple[str, ...], failed: SegmentsFailed) -> exp.Expression:
    """The rows of the segments that failed, partition by partition (the pooled segment: every
    segment not judged apart there)."""
    label = segment_label(group_by)
    cases = []
    for partition, (named_failed, pooled_failed, apart) in failed.items():
        which: list[exp.Expression | None] = [
            exp.In(this=label.copy(), expressions=[lit(s) for s in named_failed]) if named_failed else None]
        if pooled_failed:
            which.append(exp.Not(this=exp.In(this=label.copy(), expressions=[lit(s) for s in apart]))
                         if apart else exp.true())
        here = exp.EQ(this=partition_text(table), expression=lit(partition)) if partition is not None else None
        chosen = or_all(which)  # (nothing named: a result without a segment failed, every row counts)
        cases.append(and_all([here, exp.Paren(this=chosen) if chosen is not None else exp.true()]))
    return exp.Paren(this=or_all(cases)) if cases else exp.false()


def sample_sql(table: TableSpec, check: CheckSpec, partitions: list[str] | None, limit: int,
               segments: SegmentsFailed | None = None, fragments: Fragments = PLAIN) -> exp.Select:
    """Up to `limit` offending rows of `check` in `partitions` (labels; None: every partition), and
    with `group_by`, of the `segments` that failed only. Output: the partition label (partitioned
    tables), then sample_columns (and for `unique` the number of rows sharing the key; with
    `group_by`, the row's segment); for `assert` the user's SELECT's own columns. `fragments` may
    supply the partition's label and filter as rendered text (the table's samples repeat them)."""
    if is_query(check):
        return _query_rows(check, limit)
    if check.type == "compare":
        grouped = table.partition is not None
        only = partition_in(table, partitions) if grouped and partitions is not None else None
        both = and_all([check.where.copy() if check.where is not None else None, only])
        label = (lambda: partition_text(table)) if grouped else None
        return key_diff_samples(table.relation, check.params["other"], tuple(check.params["on"]), both, label, limit)
    names = sample_columns(table, check)
    outputs: list[exp.Expression] = [named(col(n), n) for n in names]
    grouped = table.partition is not None

    def partition_label() -> exp.Expression:  # (under the key the scans' fragments give it)
        return fragments.get(("partition", table.partition, table.partition_grain), lambda: partition_text(table))

    if grouped:
        outputs.insert(0, named(partition_label(), PARTITION_ALIAS))
    where: list[exp.Expression | None] = [check.where.copy() if check.where is not None else None]
    if grouped and partitions is not None:
        chosen = list(partitions)
        where.append(fragments.get(("partition_in", table.partition, table.partition_grain, tuple(chosen)),
                                   lambda: partition_in(table, chosen)))
    group_by = tuple(check.params.get("group_by") or ())
    if group_by and segments is not None:
        outputs.append(named(segment_label(group_by), SEGMENT_ALIAS))
        where.append(_in_failed_segments(table, group_by, segments))
    source: exp.Expression = table.relation.copy()
    select = exp.Select()
    if check.type == "unique":
        keys = [col(c) for c in registry.get("unique").referenced_columns(check)]
        where += [exp.Not(this=exp.Is(this=k, expression=exp.Null())) for k in keys]
        group = ([partition_label()] if grouped else []) + [col(n) for n in names]
        select.set("group", exp.Group(expressions=group))
        select.set("having", exp.Having(this=exp.GT(this=exp.Count(this=exp.Star()),
                                                    expression=exp.Literal.number(1))))
        outputs.append(named(exp.Count(this=exp.Star()), ROWS_ALIAS))
    elif check.type == "relationship":
        where.append(_orphan(check))
        source.set("alias", exp.TableAlias(this=exp.to_identifier(OUTER_ALIAS, quoted=True)))
    else:
        rule = registry.get(check.type)
        if isinstance(rule, RowRule) and check.column is not None and any(x.per_value for x in rule.metrics(check)):
            # a condition on the column's value alone (accepted_values): tested once per value where faster
            test = ValueTest(this=rule.condition(check), column=col(check.column), source=table.relation.copy(),
                             where=and_all([w.copy() for w in where if w is not None]))
            where.append(test)
        else:
            violation = rule.violation_filter(check)
            assert violation is not None  # keeps_rows: a row rule
            where[0] = violation  # the violation filter holds the check's `where`
    select.set("expressions", outputs)
    select.set("from_", exp.From(this=source))
    cond = and_all(where)
    if cond is not None:
        select.set("where", exp.Where(this=cond))
    return _ordered(select, len(outputs), limit)


def batched(selects: list[exp.Select], width: int) -> exp.Query:
    """One query for several sample queries (sample_sql) of one table with the same output columns:
    each as a subquery tagged with its position (BATCH_ALIAS, first), in a UNION ALL ordered by the
    tag, then on every column (NULLs first) as each is ordered alone: every query's rows, in its own
    order, one round trip for all of them. `width`: the number of output columns of each."""
    branches: list[exp.Query] = []
    for i, select in enumerate(selects):
        branch = exp.Select(expressions=[named(exp.Literal.number(i), BATCH_ALIAS), exp.Star()])
        branch.set("from_", exp.From(this=exp.Subquery(this=select, alias=exp.TableAlias(
            this=exp.to_identifier(BRANCH_ALIAS, quoted=True)))))
        branches.append(branch)
    query: exp.Query = branches[0]
    for more in branches[1:]:
        query = exp.Union(this=query, expression=more, distinct=False)
    query.set("order", exp.Order(expressions=[exp.Ordered(this=exp.Literal.number(1))] + [
        exp.Ordered(this=exp.Literal.number(i), nulls_first=True) for i in range(2, width + 2)]))
    return query


def _orphan(check: CheckSpec) -> exp.Expression:
    """The column's value is not NULL and has no match in the referenced relation."""
    from slocompile.spec.usersql import parse_relation

    ref = exp.to_identifier("_slo_r", quoted=True)
    target = parse_relation(check.params["to"])
    target.set("alias", exp.TableAlias(this=ref))
    value = col(str(check.column))
    lookup = exp.Select(expressions=[exp.Literal.number(1)])
    lookup.set("from_", exp.From(this=target))
    lookup.set("where", exp.Where(this=exp.EQ(
        this=exp.Column(this=exp.to_identifier(check.params["field"], quoted=True), table=ref.copy()),
        expression=exp.Column(this=exp.to_identifier(str(check.column), quoted=True),
                              table=exp.to_identifier(OUTER_ALIAS, quoted=True)))))
    return exp.And(this=exp.Not(this=exp.Is(this=value, expression=exp.Null())),
                   expression=exp.Not(this=exp.Exists(this=lookup)))


def _query_rows(check: CheckSpec, limit: int) -> exp.Select:
    """SELECT * FROM (the user's SELECT) ORDER BY every column LIMIT n (the positions of its columns:
    a SELECT * has no names before it runs)."""
    query = check.params["query"].copy()
    width = _width(query)
    select = exp.select(exp.Star()).from_(exp.Subquery(this=query, alias=exp.TableAlias(
        this=exp.to_identifier(QUERY_ALIAS, quoted=True))), copy=False)
    return _ordered(select, width, limit)


def _width(query: exp.Expression) -> int:
    """The number of output columns of `query` when it names them all (no *), else 0 (unordered)."""
    selects = query.selects if isinstance(query, exp.Query) else []
    if not selects or any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
                          for s in selects):
        return 0
    return len(selects)


def _ordered(select: exp.Select, width: int, limit: int) -> exp.Select:
    if width:
        select.set("order", exp.Order(expressions=[
            exp.Ordered(this=exp.Literal.number(i), nulls_first=True) for i in range(1, width + 1)]))
    select.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return select

