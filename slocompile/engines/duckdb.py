"""The embedded default engine: a DuckDB file in the project."""
from __future__ import annotations

import datetime as dt
import math
import os
from contextlib import contextmanager

from sqlglot import exp

from slocompile.engines.common import NothingStored, QueryFailed
from slocompile.errors import SlocompileError

INSERT_BATCH = 5000  # rows per INSERT statement of insert_rows


class DuckDBEngine:
    dialect = "duckdb"

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
        """INSERT ... VALUES with the values written as DuckDB literals, INSERT_BATCH rows a
        statement: many times faster than executemany's statement per row, and than building
        a long history's VALUES lists as sqlglot trees."""
        import duckdb

        if not rows:
            return
        names = ", ".join(exp.to_identifier(c, quoted=True).sql("duckdb") for c, _ in columns)
        head = f"INSERT INTO {table.sql('duckdb', identify=True)} ({names}) VALUES "
        try:
            for i in range(0, len(rows), INSERT_BATCH):
                self.con.execute(head + ", ".join("(" + ", ".join(map(_literal, r)) + ")"
                                                  for r in rows[i:i + INSERT_BATCH]))
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


def _literal(v) -> str:
    """A DuckDB SQL literal (lossless for floats: repr, and 'nan'/'inf' as doubles)."""
    if v is None:
        return "NULL"
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        v = v.item()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else f"CAST('{v!r}' AS DOUBLE)"
    if isinstance(v, dt.datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    return "'" + str(v).replace("'", "''") + "'"
