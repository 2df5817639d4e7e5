"""The engine interface: what the build needs from a database, in the engine's own dialect."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Protocol
from collections.abc import Iterator

from sqlglot import exp

from slocompile.errors import SlocompileError


class QueryFailed(Exception):
    """The engine rejected or failed a statement; the text is the engine's own message."""


class RelationUnreadable(SlocompileError):
    """Engine.columns: the relation exists, but the role may not read it (permission denied).
    A user error (exit 2) naming the relation and the GRANT to run, not a missing relation."""


class Engine(Protocol):
    dialect: str

    def query(self, sql: str) -> list[tuple]:
        """Run a SELECT and return all rows."""

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing of interest."""

    def columns(self, relation: exp.Table) -> list[tuple[str, str]] | None:
        """(name, type) of the relation's columns in order, or None when it does not exist."""

    def insert_rows(self, table: exp.Table, columns: list[tuple[str, exp.DataType.Type]], rows: list[tuple]) -> None:
        """Append rows (values in `columns` order) to a table; bulk writes of the meta schema."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""

    def close(self) -> None:
        ...


def connect(target, project_root: str) -> Engine:
    """Open the engine for a target; drivers are imported only here, lazily.

    A missing driver is a user error (exit 2) naming the extra to install."""
    from slocompile.errors import Problem, SlocompileError
    from slocompile.spec.yamlload import unset_env_names

    missing = unset_env_names(target.options)
    if missing:
        raise SlocompileError([Problem(target.loc, f"target '{target.name}' needs the environment variable "
                                       f"'{missing[0]}', which is not set")])
    if target.type == "duckdb":
        from slocompile.engines.duckdb import DuckDBEngine

        return DuckDBEngine.open(target, project_root)
    if target.type in _DRIVERS:
        module, extra = _DRIVERS[target.type]
        try:
            __import__(module)
        except ImportError:
            raise SlocompileError([Problem(getattr(target, "loc", None), (
                f"target '{target.name}' ({target.type}) needs the {module} package: "
                f"pip install 'slocompile[{extra}]'"))]) from None
        if target.type == "postgres":
            from slocompile.engines.postgres import PostgresEngine

            return PostgresEngine.open(target, project_root)
        from slocompile.engines.spark import SparkEngine

        return SparkEngine.open(target, project_root)
    raise SlocompileError(
        f"target '{target.name}' of type {target.type} cannot be executed by this version "
        f"(executable: duckdb, postgres, spark); use `slocompile compile --target {target.name}` to get its SQL")


# engine type -> (driver module, pip extra)
_DRIVERS = {"postgres": ("psycopg", "postgres"), "spark": ("pyspark", "spark")}
