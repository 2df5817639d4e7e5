"""Row fixes in SQL: the validated view's fixed columns and row-status columns.

The fixes themselves are parsed and checked by declarations/fixes.py (which says what they mean);
this module turns them into the layers of the validated view's SELECT (`shape`), and expands
failing('<table>') into a subquery on the meta status table.
"""
from __future__ import annotations

from typing import cast

from sqlglot import exp

from slocompile import checks as registry
from slocompile.declarations.fixes import Failing, Fix
from slocompile.dialects.nodes import col, is_true, lit, or_all
from slocompile.spec.model import Schemas, TableSpec
from slocompile.sqltrees import meta

OK, VIOLATIONS, FIXED = "_slo_ok", "_slo_violations", "_slo_fixed"
ROW_STATUS_COLUMNS = (OK, VIOLATIONS, FIXED)
ROW_ALIAS = "_slo_row"


def failing_condition(schemas: Schemas, table_name: str) -> exp.Expression:
    """EXISTS a failed latest status (any partition, or the whole table) of `table_name`."""
    status = exp.to_identifier("_slo_s", quoted=True)

    def c(name: str) -> exp.Column:
        return exp.Column(this=exp.to_identifier(name, quoted=True), table=status.copy())

    source = meta.table(schemas, "status")
    source.set("alias", exp.TableAlias(this=status.copy()))
    query = exp.Select(expressions=[exp.Literal.number(1)]).from_(source, copy=False).where(
        exp.And(this=exp.EQ(this=c("table_name"), expression=lit(table_name)),
                expression=exp.EQ(this=c("status"), expression=lit("fail"))), copy=False)
    return exp.Exists(this=query)


def expand_failing(tree: exp.Expression, schemas: Schemas) -> exp.Expression:
    tree = tree.copy()
    for node in list(tree.find_all(Failing)):
        new = exp.Paren(this=failing_condition(schemas, node.this.this))
        if node is tree:
            return new
        node.replace(new)
    return tree


def _with_current(tree: exp.Expression, column: str, current: exp.Expression) -> exp.Expression:
    """`tree` with references to `column` replaced by its value so far."""
    tree = tree.copy()
    for node in list(tree.find_all(exp.Column)):
        if node.name == column and not node.table:
            if node is tree:
                return current.copy()
            node.replace(current.copy())
    return tree


def fix_step(schemas: Schemas, column: str, f: Fix, current: exp.Expression) -> exp.Expression:
    """One fix applied to `current` (the column's value so far, a column reference)."""
    if f.kind == "clip":
        ifs = []
        if f.lo is not None:
            ifs.append(exp.If(this=exp.LT(this=current.copy(), expression=lit(f.lo)), true=lit(f.lo)))
        if f.hi is not None:
            ifs.append(exp.If(this=exp.GT(this=current.copy(), expression=lit(f.hi)), true=lit(f.hi)))
        return exp.Case(ifs=ifs, default=current.copy())  # NULL stays NULL (LEAST/GREATEST differ on NULLs)
    if f.kind == "fill_null":
        return exp.Coalesce(this=current.copy(), expressions=[lit(f.value)])
    # replace: declarations.fixes gives it a `when` condition and a `value` expression
    cond = is_true(expand_failing(_with_current(cast(exp.Expression, f.when), column, current), schemas))
    value = expand_failing(_with_current(cast(exp.Expression, f.value), column, current), schemas)
    return exp.Case(ifs=[exp.If(this=cond, true=value)], default=current.copy())


def _changed(raw: exp.Expression, fixed: exp.Expression) -> exp.Expression:
    """TRUE when the fix changed the value (NULL-safe, written out: IS DISTINCT FROM is not everywhere)."""
    both_null = exp.And(this=exp.Is(this=raw.copy(), expression=exp.Null()),
                        expression=exp.Is(this=fixed.copy(), expression=exp.Null()))
    return exp.Not(this=exp.Paren(this=exp.Or(
        this=exp.Paren(this=both_null), expression=is_true(exp.EQ(this=raw.copy(), expression=fixed.copy())))))


def _names_list(items: list[tuple[str, exp.Expression]]) -> exp.Expression:
    """'a, b' naming the items whose condition holds; NULL when none does."""
    if not items:
        return exp.cast(exp.Null(), exp.DataType.Type.TEXT)
    parts = [exp.Case(ifs=[exp.If(this=cond, true=lit(", " + name))], default=lit("")) for name, cond in items]
    joined: exp.Expression = parts[0]
    for p in parts[1:]:
        joined = exp.DPipe(this=joined, expression=p)
    return exp.Nullif(this=exp.Substring(this=joined, start=exp.Literal.number(3)), expression=lit(""))


def has_fixes(table: TableSpec) -> bool:
    return any(c.fixes for c in table.columns)


def output_columns(table: TableSpec) -> list[str]:
    """The columns a view with fixes lists: the relation's (known at build time), else the declared ones."""
    if table.catalog_columns:
        return list(table.catalog_columns)
    names = [c.name for c in table.columns]
    for extra in (*table.key, table.partition):
        if extra and extra not in names:
            names.append(extra)
    return names


def shape(schemas: Schemas, table: TableSpec, select: exp.Select, extra: tuple[str, ...] = ()) -> exp.Select:
    """Apply the table's fixes and row-status columns to the validated view's `select`
    (SELECT * FROM <source> WHERE <membership>). Unchanged when the table has neither.

    The n-th fix of every column is computed in the n-th layer, as a helper column over the layer
    before (so a chain of fixes stays linear in size); the outer SELECT lists every column, with
    the fixed ones read from their last helper (no portable `* REPLACE` exists). `extra` names
    columns of the source beyond the relation's (e.g. _slo_version)."""
    fixed = [(c.name, c.fixes) for c in table.columns if c.fixes]
    if not fixed and not table.row_status:
        return select
    current = {name: col(name) for name, _ in fixed}
    query = select
    for step in range(max((len(f) for _, f in fixed), default=0)):
        if step:
            alias = exp.TableAlias(this=exp.to_identifier(f"{ROW_ALIAS}{step}", quoted=True))
            query = exp.Select(expressions=[exp.Star()]).from_(exp.Subquery(this=query, alias=alias), copy=False)
        for i, (name, fixes) in enumerate(fixed):
            if step < len(fixes):
                helper = f"_slo_fix{i}_{step}"
                query.select(exp.alias_(fix_step(schemas, name, fixes[step], current[name]), helper, quoted=True),
                             copy=False)
                current[name] = col(helper)
    status: list[exp.Expr] = []
    if table.row_status:
        violations = [(c.name, registry.get(c.type).row_violation(c)) for c in table.checks
                      if c.params.get("rows") != "drop"]
        rules = [(name, cond) for name, cond in violations if cond is not None]
        changed = [(name, _changed(col(name), current[name])) for name, _ in fixed]
        touched = or_all([cond.copy() for _, cond in rules + changed])
        ok = exp.Not(this=exp.Paren(this=touched)) if touched is not None else exp.true()
        status = [exp.alias_(ok, OK, quoted=True), exp.alias_(_names_list(rules), VIOLATIONS, quoted=True),
                  exp.alias_(_names_list(changed), FIXED, quoted=True)]
    if not fixed:
        query.set("expressions", [exp.Star()] + status)
        return query
    listed = [exp.alias_(current[n].copy(), n, quoted=True) if n in current else col(n) for n in output_columns(table)]
    listed += [col(n) for n in extra]
    inner = exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(ROW_ALIAS, quoted=True)))
    return exp.Select(expressions=listed + status).from_(inner, copy=False)
