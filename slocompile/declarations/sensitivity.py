"""`sensitivity:` of the monitors, on a table's `monitor:` or on one monitored column (which then
overrides the table's): low | normal | high or a factor above 0 (monitors.bands.sensitive)."""
from __future__ import annotations

from dataclasses import replace

from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.model import MonitorSpec

SENSITIVITY = {"low": 0.7, "normal": 1.0, "high": 1.4}


def factor_of(value, loc: Location, where: str, problems: ProblemCollector) -> float | None:
    """The factor of a `sensitivity:` value, or None (reported at `loc`) when it is not one."""
    f = SENSITIVITY.get(value, 0.0) if isinstance(value, str) else \
        float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
    if 0 < f < float("inf"):
        return f
    problems.add(loc, f"{where}: sensitivity must be low, normal, high or a number above 0, not {value!r}"
                 + (did_you_mean(value, SENSITIVITY) if isinstance(value, str) else ""))
    return None


def with_column_sensitivity(monitor: MonitorSpec | None, table: dict, column_nodes: list, where: str,
                            problems: ProblemCollector) -> MonitorSpec | None:
    """The table's monitor with the `sensitivity:` its monitored columns declare. A column's
    sensitivity on a column the monitors do not judge (no `monitor:`, a column the monitor list
    leaves out, the partition or the key) would be silently ignored: reported instead."""
    found = []
    for node in column_nodes:
        if "sensitivity" not in node.value:
            continue
        name, value = node.value["name"].value, node.value["sensitivity"]
        here = f"{where}, column '{name}'"
        factor = factor_of(value.value, value.loc, here, problems)
        if factor is None:
            continue
        why = _not_monitored(monitor, table, name)
        if why:
            problems.add(value.loc, f"{here}: 'sensitivity' tunes the monitors of a monitored column; {why}")
            continue
        found.append((name, factor))
    return replace(monitor, column_sensitivity=tuple(found)) if found and monitor is not None else monitor


def _not_monitored(monitor: MonitorSpec | None, table: dict, name: str) -> str | None:
    if monitor is None or None in monitor.quiet:
        return "the table has no 'monitor:' (add `monitor: all`, or `monitor: [" + name + "]`)"
    if name == table["partition"] or name in (table["key"] or ()):
        return f"'{name}' is the table's {'partition' if name == table['partition'] else 'key'}, which monitors do " \
               "not profile"
    if monitor.columns is not None and (name not in monitor.columns or name in monitor.quiet):
        listed = ", ".join(c for c in monitor.columns if c not in monitor.quiet)
        return f"'monitor' does not list '{name}' (it lists {listed})"
    return None
