"""What every engine module shares: the engines' errors and the driver-ready form of rows.

Kept apart from base.py (which opens the engine modules) so that the engine modules import
nothing that imports them."""
from __future__ import annotations

from sqlglot import exp

from slocompile.errors import SlocompileError


class QueryFailed(Exception):
    """The engine rejected or failed a statement; the text is the engine's own message."""


class RelationUnreadable(SlocompileError):
    """Engine.columns: the relation exists, but the role may not read it (permission denied).
    A user error (exit 2) naming the relation and the GRANT to run, not a missing relation."""


class NothingStored(SlocompileError):
    """connect(read_only=True): the target's database is in memory or does not exist yet, so
    there is nothing to read. Callers add what that means for them to the message."""

    def __init__(self, target: str, where: str, in_memory: bool):
        self.target, self.where, self.in_memory = target, where, in_memory
        super().__init__(f"target '{target}' is an in-memory database" if in_memory
                         else f"target '{target}': {where} does not exist")


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
