"""The embedded default engine: a DuckDB file in the project."""
from __future__ import annotations

import os
from contextlib import contextmanager

from sqlglot import exp

from slocompile.errors import SlocompileError
from slocompile.engines.base import QueryFailed


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, con, path: str):
        self.con, self.path = con, path

    @classmethod
    def open(cls, target, project_root: str) -> DuckDBEngine:
        import duckdb

        path = target.options.get("path", "warehouse.duckdb")
        if path != ":memory:" and not os.path.isabs(path):
            path = os.path.join(project_root, path)
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
        return cls(con, path)

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

    def columns(self, relation: exp.Table) -> list[tuple[str, str]] | None:
        schema = relation.db or "main"
        sql = ("SELECT column_name, data_type FROM information_schema.columns "
               "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position")
        params = [schema, relation.name]
        if relation.catalog:
            sql = sql.replace("WHERE", "WHERE table_catalog = ? AND")
            params = [relation.catalog] + params
        rows = self.con.execute(sql, params).fetchall()
        return [(r[0], r[1]) for r in rows] or None

    def insert_rows(self, table: exp.Table, columns: list, rows: list[tuple]) -> None:
        import duckdb

        from slocompile.engines.dbapi import plain_rows

        if not rows:
            return
        names = ", ".join(exp.to_identifier(c, quoted=True).sql("duckdb") for c, _ in columns)
        sql = f"INSERT INTO {table.sql('duckdb', identify=True)} ({names}) VALUES ({', '.join(['?'] * len(columns))})"
        try:
            self.con.executemany(sql, plain_rows(columns, rows))
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
