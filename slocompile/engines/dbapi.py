"""A DuckDB-connection-shaped view of any engine, for code written against DuckDB's Python API.

The monitors (``slocompile.monitors`` and ``monitoring.py``) read through ``con.execute(sql,
params)`` and the cursor's ``fetchall`` / ``fetchone`` / ``description``. ``connection(engine)``
gives them DuckDB's own connection on DuckDB (nothing changes there) and an ``EngineConnection``
on Postgres and Spark, whose ``execute`` takes:

- a sqlglot tree (the profile queries are built as trees): rendered for the engine by render.py,
  where the dialect rewrites live, in place (not copied: pass a tree built for the call);
- text: DuckDB SQL, parsed as DuckDB, its ``?`` parameters bound as literals in the tree (never
  pasted into the text), and rendered for the engine;
- a query of ``information_schema.columns`` or ``information_schema.tables`` (where the monitors
  look up a relation's columns, and whether a meta table exists): answered from
  ``Engine.columns``, with the types in DuckDB's names. Spark has no information_schema, and the
  monitors classify columns by DuckDB type names.

``execute_duckdb_sql(engine, sql)`` runs a statement written in DuckDB SQL on any engine. A
``RowsInsert`` (the DuckDB text of a meta-table INSERT that also carries its rows) is handed to the
engine's ``insert_rows`` instead of being parsed: sqlglot would spend seconds on a long history's
VALUES lists.
"""
from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from slocompile.dialects.render import render
from slocompile.dialects.nodes import lit


class RowsInsert(str):
    """DuckDB SQL text of an ``INSERT ... VALUES`` that also carries what it inserts: the table,
    its columns as (name, sqlglot type) and the rows, in that column order."""

    table: exp.Table
    columns: list
    rows: list

    def __new__(cls, sql: str, table: exp.Table, columns: list, rows: list) -> RowsInsert:
        obj = super().__new__(cls, sql)
        obj.table, obj.columns, obj.rows = table, list(columns), list(rows)
        return obj


class Cursor:
    """The part of a DuckDB cursor the monitors use."""

    def __init__(self, names: list[str], rows: list[tuple]):
        self.description = [(n, None, None, None, None, None, None) for n in names] if names else None
        self._rows, self._next = rows, 0

    def fetchall(self) -> list[tuple]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def fetchone(self) -> tuple | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]


class EngineConnection:
    """``execute(sql, params)`` on a Postgres or Spark engine, as on a DuckDB connection."""

    def __init__(self, engine):
        self.engine = engine
        self.dialect = engine.dialect

    def execute(self, sql: str | exp.Expression, params=None) -> Cursor:
        tree = sql if isinstance(sql, exp.Expression) else parse_duckdb(sql, params)
        answer = self._catalog(tree)
        if answer is not None:
            return answer
        names = list(tree.named_selects) if isinstance(tree, exp.Query) else None
        text = render(tree, self.dialect, copy=False)
        if names is not None:
            return Cursor(names, self.engine.query(text))
        self.engine.execute(text)
        return Cursor([], [])

    # -- information_schema --------------------------------------------------------------

    def _catalog(self, tree: exp.Expression) -> Cursor | None:
        """information_schema.columns / .tables filtered by table_name (and table_schema), from
        Engine.columns; None for any other query."""
        from_ = tree.args.get("from_") if isinstance(tree, exp.Select) else None
        if not isinstance(from_, exp.From):
            return None
        source = from_.this
        if not isinstance(source, exp.Table) or source.db.lower() != "information_schema" \
                or source.name.lower() not in ("columns", "tables") or tree.args.get("joins"):
            return None
        where = tree.args.get("where")
        filters = _equalities(where.this) if where is not None else None
        if filters is None or "table_name" not in filters:
            raise NotImplementedError(f"information_schema query not supported on {self.dialect}: {tree.sql('duckdb')}")
        relation = exp.Table(this=exp.to_identifier(filters["table_name"], quoted=True),
                             db=exp.to_identifier(filters["table_schema"], quoted=True)
                             if filters.get("table_schema") else None)
        columns = self.engine.columns(relation) or []
        names = list(tree.named_selects)
        if source.name.lower() == "tables":
            if len(tree.expressions) != 1 or not isinstance(tree.expressions[0].unalias(), exp.Count):
                raise NotImplementedError(f"only count(*) of information_schema.tables is supported on {self.dialect}")
            return Cursor(names, [(1 if columns else 0,)])
        values = {"column_name": lambda c: c[0], "data_type": lambda c: duckdb_type(c[1], self.dialect)}
        unknown = [n for n in names if n.lower() not in values]
        if unknown:
            raise NotImplementedError(f"information_schema.columns.{unknown[0]} is not supported on {self.dialect}")
        return Cursor(names, [tuple(values[n.lower()](c) for n in names) for c in columns])


def connection(engine):
    """DuckDB's own connection for the DuckDB engine, an EngineConnection for the others; None
    for an object that cannot run queries."""
    if engine.dialect == "duckdb" and hasattr(engine, "con"):
        return engine.con
    if not callable(getattr(engine, "query", None)) or not callable(getattr(engine, "columns", None)):
        return None
    return EngineConnection(engine)


def execute_duckdb_sql(engine, sql: str) -> None:
    """Run a statement written in DuckDB SQL on `engine` (rows of a RowsInsert go to insert_rows)."""
    if engine.dialect == "duckdb":
        engine.execute(sql)
    elif isinstance(sql, RowsInsert):
        engine.insert_rows(sql.table, sql.columns, sql.rows)
    else:
        engine.execute(render(parse_duckdb(sql), engine.dialect, copy=False))


def parse_duckdb(sql: str, params=None) -> exp.Expression:
    """DuckDB SQL text as a tree, the ``?`` parameters (in order) bound as literals."""
    params = list(params or [])
    if params:
        tokens = [t for t in sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)
                  if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
        if len(tokens) != len(params):
            raise ValueError(f"{len(params)} parameters for {len(tokens)} placeholders in: {sql}")
        for n, t in reversed(list(enumerate(tokens, 1))):  # numbered, so binding does not depend on tree order
            sql = f"{sql[:t.start]}${n}{sql[t.end + 1:]}"
    tree = sqlglot.parse_one(sql, read="duckdb")
    if params:
        for node in list(tree.find_all(exp.Placeholder)):
            node.replace(_literal(params[int(node.name) - 1]))
    return tree


def duckdb_type(type_text: str, dialect: str) -> str:
    """An engine's type name in DuckDB's spelling (`double precision` -> DOUBLE, Spark's `string`
    -> TEXT, `array<int>` -> INT[]); the name itself, upper-cased, when sqlglot does not know it."""
    if dialect == "duckdb":
        return type_text
    try:
        return exp.DataType.build(type_text, dialect=dialect).sql("duckdb").upper()
    except Exception:
        return type_text.upper()


def _literal(value) -> exp.Expression:
    if value is None:
        return exp.Null()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    return lit(value)


def _equalities(cond: exp.Expression) -> dict[str, str] | None:
    """{column: value} of a conjunction of `column = 'text'` conditions; None for anything else."""
    out = {}
    for part in cond.flatten() if isinstance(cond, exp.And) else [cond]:
        part = part.unnest()
        if not isinstance(part, exp.EQ):
            return None
        col, val = part.this, part.expression
        if isinstance(val, exp.Column):
            col, val = val, col
        if not isinstance(col, exp.Column) or not isinstance(val, exp.Literal) or not val.is_string:
            return None
        out[col.name.lower()] = val.this
    return out


def plain_rows(columns: list, rows: list) -> list[tuple]:
    """Rows with each value as the Python type its column holds (numpy scalars unwrapped, numbers
    as float or int), for the drivers; None stays None."""
    T = exp.DataType.Type
    conv = {T.DOUBLE: float, T.FLOAT: float, T.INT: int, T.BIGINT: int, T.TEXT: str, T.BOOLEAN: bool}

    def plain(v, t):
        if v is None:
            return None
        if hasattr(v, "item") and not isinstance(v, (str, bytes)):
            v = v.item()
        f = conv.get(t)
        return f(v) if f is not None else v

    return [tuple(plain(v, t) for v, (_, t) in zip(r, columns)) for r in rows]
