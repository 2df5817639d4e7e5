"""The embedded default engine: a DuckDB file in the project."""
from __future__ import annotations

import importlib
import os
import sys
import threading
import uuid
from contextlib import contextmanager

from sqlglot import exp

from slocompile.engines.common import LoadTimeUnknown, NothingStored, QueryFailed, plain_columns
from slocompile.errors import SlocompileError

_DOUBLE, _FLOAT = exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT
FEW_ROWS = 100  # insert_rows: fewer rows go as bound parameters of one INSERT, more through NumPy arrays


class DuckDBEngine:
    dialect = "duckdb"
    # readers scanning at once (run/scanahead.py): a cursor costs nothing, and a small table's scan
    # runs on one core, so a second reader uses the other while the main thread judges
    scan_workers = 2

    def __init__(self, con, path: str):
        self.con, self.path = con, path

    @classmethod
    def open(cls, target, project_root: str, read_only: bool = False) -> DuckDBEngine:
        """The target's file (created when missing); read-only: the existing file opened
        read-only, NothingStored when there is none."""
        import duckdb

        path = target.options.get("path", "warehouse.duckdb")
        if read_only and path == ":memory:":
            raise NothingStored(target.name, path, in_memory=True)
        if path != ":memory:" and not os.path.isabs(path):
            path = os.path.join(project_root, path)
        if read_only:
            if not os.path.exists(path):
                raise NothingStored(target.name, path, in_memory=False)
            try:
                return cls(duckdb.connect(path, read_only=True), path)
            except duckdb.Error as e:
                raise SlocompileError(f"target '{target.name}': cannot open {path} read-only: "
                                      f"{str(e).splitlines()[0]}") from None
        try:
            con = duckdb.connect(path, config={"threads": int(target.options["threads"])}
                                 if "threads" in target.options else {})
        except duckdb.IOException as e:
            text = str(e)
            if "lock" in text.lower():
                raise SlocompileError(f"target '{target.name}': {path} is in use by another process "
                                      f"(another build?): {text.splitlines()[0]}") from None
            raise SlocompileError(f"target '{target.name}': cannot open {path}: {text.splitlines()[0]}") from None
        except duckdb.Error as e:
            raise SlocompileError(f"target '{target.name}': cannot open {path}: {e}") from None
        engine = cls(con, path)
        if "threads" in target.options:  # a target held to fewer cores scans on as many readers
            engine.scan_workers = max(1, min(cls.scan_workers, int(target.options["threads"])))
        return engine

    def reader(self) -> DuckDBEngine:
        """A second connection to the same database (a cursor of this one; session settings are
        its own), for scans on another thread (run/scanahead.py)."""
        return DuckDBEngine(self.con.cursor(), self.path)

    def warm_up(self, rows: int) -> None:
        """Before scans that will be followed by about `rows` rows of results to insert: import
        NumPy (insert_rows' bulk path) on a thread while the scans run. The import takes a
        twentieth of a second, and a scan leaves the interpreter free for it."""
        if rows >= FEW_ROWS and "numpy" not in sys.modules:
            threading.Thread(target=importlib.import_module, args=("numpy",), name="slocompile-warm-up").start()

    def interrupt(self) -> None:
        """Stop the query running on this connection (from another thread)."""
        self.con.interrupt()

    def query(self, sql: str) -> list[tuple]:
        import duckdb

        try:
            return self.con.execute(sql).fetchall()
        except duckdb.Error as e:
            raise QueryFailed(str(e).strip()) from None

    def execute(self, sql: str) -> None:
        import duckdb

        try:
            self.con.execute(sql)
        except duckdb.Error as e:
            raise QueryFailed(str(e).strip()) from None

    # information_schema.columns is a view projecting duckdb_columns() (the same rows, ordinal_position
    # = column_index) that computes some 40 columns for every column of the catalog: 5x slower to read
    def columns(self, relation: exp.Table) -> list[tuple[str, str]] | None:
        schema = relation.db or "main"
        sql = ("SELECT column_name, data_type FROM duckdb_columns() "
               "WHERE schema_name = ? AND table_name = ? ORDER BY column_index")
        params = [schema, relation.name]
        if relation.catalog:
            sql = sql.replace("WHERE", "WHERE database_name = ? AND")
            params = [relation.catalog] + params
        rows = self.con.execute(sql, params).fetchall()
        return [(r[0], r[1]) for r in rows] or None

    def columns_of(self, relations) -> list[list[tuple[str, str]] | None]:
        """columns() of every relation from one read of duckdb_columns()."""
        if not relations:
            return []
        names = sorted({r.name for r in relations})
        rows = self.con.execute("SELECT database_name, schema_name, table_name, column_name, data_type "
                                "FROM duckdb_columns() WHERE list_contains(?, table_name) "
                                "ORDER BY column_index", [names]).fetchall()
        by_name: dict[tuple[str, str], list[tuple]] = {}
        for catalog, schema, name, column, type_ in rows:
            by_name.setdefault((schema, name), []).append((catalog, column, type_))
        out: list[list[tuple[str, str]] | None] = []
        for r in relations:  # as columns(): the schema and name, the catalog where the relation names one
            found = [(c, t) for catalog, c, t in by_name.get((r.db or "main", r.name), ())
                     if not r.catalog or catalog == r.catalog]
            out.append(found or None)
        return out

    def view_definitions(self, views) -> list[str | None]:
        """duckdb_views().sql of each view of the open database: the statement DuckDB stores and
        replays when it opens the file, so the same text is the same view."""
        if not views:
            return []
        rows = self.con.execute("SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal "
                                "AND database_name = current_database() AND list_contains(?, view_name)",
                                [sorted({v.name for v in views})]).fetchall()
        shown = {(schema, name): text for schema, name, text in rows}
        return [shown.get((v.db or "main", v.name)) for v in views]

    def last_loaded(self, relation: exp.Table):
        raise LoadTimeUnknown("DuckDB does not record when a table was last loaded; give freshness a `column:` "
                              "(a date or timestamp the load writes)")

    def insert_rows(self, table: exp.Table, columns: list, rows: list[tuple]) -> None:
        """Append rows with no SQL literal and no statement per row: a few as the bound parameters of
        one INSERT ... VALUES (?, ...), more through DuckDB's scan of NumPy arrays (registered as a
        relation, one object array a column, and inserted by one INSERT ... SELECT). That scan
        reads a NaN as NULL: a double column holding NaN gets a flag column that puts the NaN back."""
        import duckdb

        if not rows:
            return
        target = exp.Schema(this=table.copy(), expressions=[exp.to_identifier(c, quoted=True) for c, _ in columns])
        if len(rows) < FEW_ROWS:  # a few rows: bound parameters, without importing NumPy for them
            values = list(zip(*plain_columns(columns, rows)))
            insert = exp.Insert(this=target, expression=exp.Values(expressions=[
                exp.Tuple(expressions=[exp.Placeholder() for _ in columns]) for _ in values]))
            try:
                self.con.execute(insert.sql("duckdb", identify=True), [v for r in values for v in r])
            except duckdb.Error as e:
                raise QueryFailed(str(e).strip()) from None
            return
        import numpy as np

        data: dict[str, object] = {}
        select: list[exp.Expression] = []
        for i, (values, (_, t)) in enumerate(zip(plain_columns(columns, rows), columns)):
            column = np.empty(len(values), dtype=object)
            column[:] = values
            data[f"c{i}"] = column
            ref: exp.Expression = exp.column(f"c{i}", quoted=True)
            if t in (_DOUBLE, _FLOAT) and any(v != v for v in values):  # NaN: the only value unequal to itself
                data[f"n{i}"] = np.array([v != v for v in values], dtype=bool)
                ref = exp.Case(ifs=[exp.If(this=exp.column(f"n{i}", quoted=True),
                                           true=exp.cast(exp.Literal.string("nan"), exp.DataType.Type.DOUBLE))],
                               default=ref)
            select.append(ref)
        name = f"_slo_rows_{uuid.uuid4().hex[:12]}"
        insert = exp.Insert(this=target, expression=exp.select(*select).from_(exp.to_identifier(name, quoted=True)))
        try:
            self.con.register(name, data)
            try:
                self.con.execute(insert.sql("duckdb", identify=True))
            finally:
                self.con.unregister(name)
        except duckdb.Error as e:
            raise QueryFailed(str(e).strip()) from None

    @contextmanager
    def transaction(self):
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def probe(self, schemas=()) -> dict:
        """What `slocompile debug` reports: the engine's version, where it is, and which of
        `schemas` exist."""
        import duckdb

        exists = {s: bool(self.con.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE catalog_name = current_database() "
            "AND schema_name = ?", [s]).fetchone()[0]) for s in schemas}
        return {"version": f"DuckDB {duckdb.__version__}", "where": self.path, "user": None, "schemas": exists}

