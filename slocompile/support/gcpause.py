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



@contextmanager
def frozen_after() -> Iterator[None]:
    """For `slocompile build`, around its imports and the loading of its declarations: no
    collections inside, and what exists after is frozen out of the collector (each collection
    would traverse it again: 5% of a build that finds nothing new), as is the heap at exit.
    Collections go on for what the build allocates next (unlike for_short_process: a build of
    many partitions makes garbage worth collecting)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # before the collector is enabled again: none of it is traversed even once
        if enabled:
            gc.enable()
        atexit.register(gc.freeze)
