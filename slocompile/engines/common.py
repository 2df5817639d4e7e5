"""What every engine module shares: the engines' errors and the driver-ready form of rows.

Kept apart from base.py (which opens the engine modules) so that the engine modules import
nothing that imports them."""
from __future__ import annotations

import datetime as dt

from sqlglot import exp

from slocompile.errors import SlocompileError


class QueryFailed(Exception):
    """The engine rejected or failed a statement; the text is the engine's own message."""


class RelationUnreadable(SlocompileError):
    """Engine.columns: the relation exists, but the role may not read it (permission denied).
    A user error (exit 2) naming the relation and the GRANT to run, not a missing relation."""


class LoadTimeUnknown(Exception):
    """Engine.last_loaded: the engine records no load time for the relation (the text says why)."""


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
    return list(zip(*plain_columns(columns, rows))) if rows else []


def plain_columns(columns: list, rows: list) -> list[list]:
    """``plain_rows`` by column: one list per column. A column whose values already have their
    plain type (the usual case) is copied as it is."""
    if not rows:
        return [[] for _ in columns]
    out = []
    for values, (_, t) in zip(zip(*rows), columns):
        f = _PLAIN.get(t)
        if all(v is None or type(v) is f for v in values) if f is not None else \
                all(type(v) in _NATIVE for v in values):
            out.append(list(values))
        else:
            out.append([_plain(v, f) for v in values])
    return out


_T = exp.DataType.Type
_PLAIN = {_T.DOUBLE: float, _T.FLOAT: float, _T.INT: int, _T.BIGINT: int, _T.TEXT: str, _T.BOOLEAN: bool}
_NATIVE = {type(None), str, int, float, bool, dt.datetime, dt.date}  # values no driver needs unwrapped


def _plain(v, f):
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    return f(v) if f is not None else v
