"""The engine interface: what the build needs from a database, in the engine's own dialect.

Callers build SQL as sqlglot trees and render them for ``engine.dialect`` with
``slocompile.dialects.render.render``; an engine runs text and moves rows, nothing more.
engines.connect opens one for a target."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from sqlglot import exp

from slocompile.engines.common import LoadTimeUnknown, NothingStored, QueryFailed, RelationUnreadable, plain_rows

__all__ = ["Engine", "LoadTimeUnknown", "NothingStored", "QueryFailed", "RelationUnreadable", "plain_rows"]


class Engine(Protocol):
    dialect: str

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a SELECT and return all rows."""

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing of interest."""

    def columns(self, relation: exp.Table) -> list[tuple[str, str]] | None:
        """(name, type) of the relation's columns in order, the types in the engine's own names
        (``dialects.rules.duckdb_type`` spells them the DuckDB way), or None when it does not exist."""

    def columns_of(self, relations: Sequence[exp.Table]) -> list[list[tuple[str, str]] | None] | None:
        """columns() of each relation, read in one catalog query where the engine can (a build
        inspects every table and its views); None: ask columns() one relation at a time."""

    def view_definitions(self, views: Sequence[exp.Table]) -> list[str | None] | None:
        """The text the engine keeps of each view (None: no such view), read in one query; None:
        the engine cannot tell (a build then creates its views every time)."""

    def last_loaded(self, relation: exp.Table) -> Any:
        """When the relation was last loaded, as the engine records it (freshness without a column);
        LoadTimeUnknown, saying why, where it records nothing."""

    # exp.DType is what exp.DataType.Type names (mypy does not take the class attribute as a type)
    def insert_rows(self, table: exp.Table, columns: list[tuple[str, exp.DType]],
                    rows: list[tuple[Any, ...]]) -> None:
        """Append rows (values in `columns` order) to a table; bulk writes of the meta schema
        (sqltrees.meta.rows: results, metrics, statuses, alerts; the monitors' history). Through the
        engine's bulk path, never SQL literals nor a statement per row: DuckDB scans NumPy arrays
        (bound parameters for a few rows), Postgres COPY, Spark a DataFrame. NaN and infinite
        doubles are stored as given."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""

    def close(self) -> None:
        ...

    def probe(self, schemas: Sequence[str] = ()) -> dict[str, Any]:
        """What `slocompile debug` reports: version, where it is, the user, which `schemas` exist."""
