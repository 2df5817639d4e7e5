"""Keeping Python's cyclic garbage collector out of stages that only build.

Loading and compiling a large project allocate millions of small objects that mostly live until
the stage ends (YAML nodes, located values, sqlglot trees, whose parent links are cycles). The
collector, triggered by the allocations alone, traverses the growing heap again and again for
almost nothing to free: about a seventh of a 10,000-check compile.
"""
from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No collections inside; the garbage made meanwhile is collected after (memory peaks higher)."""
    if not gc.isenabled():  # nested, or the caller disabled it: leave it as it is
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def for_short_process() -> None:
    """For a command that exits when done (`slocompile compile`): no collections while it runs, and
    none at exit, where the interpreter's last collection would traverse the whole heap (0.4 s after
    a 10,000-check compile) that the process is about to give back anyway."""
    gc.disable()
    atexit.register(gc.freeze)  # frozen objects are left out of that last collection
