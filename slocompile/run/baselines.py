"""Load the history of a table's change SLOs from slo.results (checks/baselines.py holds it).

The latest result of each partition counts (re-checking a partition replaces its value); an
unpartitioned table has one observation per build, ordered by the build's time (each build is a
snapshot of the whole table). A check with group_by has one history per segment.
"""
from __future__ import annotations

import math

from slocompile.checks import change
from slocompile.checks.baselines import Baselines
from slocompile.checks.evaluate import baselines_key
from slocompile.dialects.render import render
from slocompile.sqltrees import meta


def load(engine, schemas, table) -> Baselines:
    """The recorded history of `table`'s change checks (nothing to read when it has none)."""
    base = Baselines(table.partition is not None)
    names = [c.name for c in table.checks if change.has_change(c.params)]
    if not names:
        return base
    latest: dict[tuple, tuple] = {}
    for check, partition, value, status, checked_at, segment in engine.query(
            render(meta.check_history(schemas, table.name, names), engine.dialect)):
        if status == "error":
            continue
        name = baselines_key(check, segment)  # a segmented check has a history per segment
        key = (name, partition if base.partitioned else str(checked_at))
        if key not in latest or str(checked_at) > str(latest[key][3]):
            latest[key] = (value, status, partition, checked_at)
    for (name, order), (value, status, _, _) in sorted(latest.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        number = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        base.series.setdefault(name, []).append((order, number, status == "pass"))
    return base
