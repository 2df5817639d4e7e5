"""Views a build publishes when a table's own views no longer bind (its relation is gone, a column
they use is gone or changed type): they never read the relation, so they always bind, and they
serve what the gate says about a table whose schema check failed. gate block raises its block
message (the failed schema check is in the status); the other gates serve no rows. The columns
are the ones the views had before (or the relation's, or the declared ones), so queries that name
them still bind, and the next build can tell what the schema was.
"""
from __future__ import annotations

from sqlglot import exp

from slocompile.spec.model import Schemas, TableSpec
from slocompile.sqltrees.fixes import FIXED, OK
from slocompile.sqltrees.versions import VERSION_COLUMN
from slocompile.sqltrees.views import VIOLATIONS, block_condition, view_name

T = exp.DataType.Type
# a declared `type:` family -> the type of an empty column that stands for it
DECLARED = {"integer": T.BIGINT, "int": T.BIGINT, "bigint": T.BIGINT, "number": T.DOUBLE, "float": T.DOUBLE,
            "double": T.DOUBLE, "decimal": T.DOUBLE, "numeric": T.DOUBLE, "string": T.TEXT, "text": T.TEXT,
            "varchar": T.TEXT, "boolean": T.BOOLEAN, "bool": T.BOOLEAN, "date": T.DATE, "timestamp": T.TIMESTAMP,
            "datetime": T.TIMESTAMP}
PROBE_ALIAS = "_slo_probe"


def data_type(text: str | None, dialect: str, declared: bool = False) -> exp.DataType:
    """An engine's type name (or, `declared`, a declaration's `type:`) as a type tree; TEXT when it
    is not one sqlglot knows."""
    if not text:
        return exp.DataType.build(T.TEXT)
    if declared and text.lower() in DECLARED:
        return exp.DataType.build(DECLARED[text.lower()])
    try:
        built = exp.DataType.build(text, dialect=dialect)
    except Exception:  # sqlglot raises ParseError, ValueError, ... for names it does not know
        return exp.DataType.build(T.TEXT)
    return exp.DataType.build(T.TEXT) if built.this == T.USERDEFINED and "-" in text else built


def _empty_columns(columns: list[tuple[str, exp.DataType]], condition: exp.Expression) -> exp.Select:
    items = [exp.alias_(exp.Cast(this=exp.Null(), to=t.copy()), name, quoted=True) for name, t in columns]
    return exp.Select(expressions=items).where(condition, copy=False)


def _extra(table: TableSpec) -> list[tuple[str, exp.DataType]]:
    return [(VERSION_COLUMN, exp.DataType.build(T.INT))] if table.gate == "last_good" else []


def validated_view(schemas: Schemas, table: TableSpec, columns: list[tuple[str, exp.DataType]]) -> exp.Create:
    """gate block: raises the block message on every query; else no rows."""
    cols = columns + _extra(table)
    if table.row_status:
        cols += [(OK, exp.DataType.build(T.BOOLEAN)), (VIOLATIONS, exp.DataType.build(T.TEXT)),
                 (FIXED, exp.DataType.build(T.TEXT))]
    condition = block_condition(schemas, table) if table.gate == "block" else exp.false()
    return exp.Create(kind="VIEW", this=view_name(schemas.validated, table),
                      expression=_empty_columns(cols, condition), replace=True)


def quarantine_view(schemas: Schemas, table: TableSpec, columns: list[tuple[str, exp.DataType]]) -> exp.Create:
    cols = columns + _extra(table) + [(VIOLATIONS, exp.DataType.build(T.TEXT))]
    return exp.Create(kind="VIEW", this=view_name(schemas.quarantine, table),
                      expression=_empty_columns(cols, exp.false()), replace=True)


def probe(view: exp.Create) -> exp.Select:
    """SELECT 1 FROM (<the view's query>) LIMIT 0: binds the query (every column, function and
    type in it) without reading a row."""
    inner = exp.Subquery(this=view.expression.copy(), alias=exp.TableAlias(this=exp.to_identifier(PROBE_ALIAS)))
    return exp.select(exp.Literal.number(1)).from_(inner, copy=False).limit(0, copy=False)
