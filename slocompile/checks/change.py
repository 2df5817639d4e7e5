"""Change over time: a measured number's SLO against earlier partitions (or earlier builds).

`row_count: {max_drop: 25%}` fails when the row count falls by more than a quarter of its
baseline; `missing_fraction: {max_increase: 0.02, baseline: 7}` when the share of NULLs rises by
more than two points over the median of the 7 partitions before. The baseline is read from the
check's own history (slo.results, see baselines.py): the values it measured on earlier partitions
where it passed, so a partition that broke the SLO never becomes the normal it is compared with:
until the metric is back near its old level, every later partition fails too.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from slocompile.errors import Location, ProblemCollector
from slocompile.spec.fields import Change, Field

CHANGE_FIELDS: dict[str, Field] = {
    "max_increase": Field("change", doc="Largest allowed rise over the baseline: a percentage of it ('25%') "
                                        "or an absolute amount (0.05)."),
    "max_drop": Field("change", doc="Largest allowed fall below the baseline: a percentage of it ('25%') "
                                    "or an absolute amount."),
    "baseline": Field("int", doc="How many earlier passing partitions (or builds, without a partition) "
                                 "form the baseline, their median (default 1: the previous one)."),
}


def has_change(params: dict) -> bool:
    return params.get("max_increase") is not None or params.get("max_drop") is not None


def window(params: dict) -> int:
    return params.get("baseline") or 1


def validate(type_name: str, params: dict, loc: Location, problems: ProblemCollector) -> None:
    if params.get("baseline") is not None and not has_change(params):
        problems.add(loc, f"{type_name}: 'baseline' is the window of 'max_increase' / 'max_drop'; give one of them")
    elif params.get("baseline") == 0:
        problems.add(loc, f"{type_name}: 'baseline' must be at least 1 (the previous partition)")


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _limit(base: float, change: Change, sign: int) -> float:
    return base + sign * (change.amount * abs(base) if change.relative else change.amount)


def _relative(value: float, base: float) -> float | None:
    if base == 0:
        return 0.0 if value == 0 else None
    return (value - base) / abs(base)


def judge(params: dict, value: float | None, earlier: Sequence[float], subject: str,
          fmt: Callable[[float], str]) -> tuple[bool, dict, str, str]:
    """(passed, observed, expected, message) of the change part of a check."""
    up, down = params.get("max_increase"), params.get("max_drop")
    n = window(params)
    allowed = " and ".join(t for t in (f"rise <= {up}" if up else "", f"drop <= {down}" if down else "") if t)
    of = "the previous partition" if n == 1 else f"the median of up to {n} earlier partitions"
    expected = f"{allowed} vs {of}"
    usable = [v for v in earlier if v is not None and not math.isnan(v)]
    if not usable:
        return True, {"value": value, "baseline": None}, expected, f"{subject}: no baseline yet (first partition)"
    base = median(usable[-n:])
    if value is None or math.isnan(value):
        return False, {"value": value, "baseline": base}, expected, \
            f"{subject} is undefined; baseline {fmt(base)}; expected {expected}"
    rel = _relative(value, base)
    observed = {"value": value, "baseline": base, "change": value - base, "relative_change": rel}
    too_high = up is not None and value > _limit(base, up, +1)
    too_low = down is not None and value < _limit(base, down, -1)
    moved = "rose" if value > base else "fell" if value < base else "stayed"
    how = f" ({'+' if value >= base else ''}{rel * 100:.3g}%)" if rel is not None else ""
    msg = f"{subject} {moved} from {fmt(base)} to {fmt(value)}{how}"
    if value == base:
        msg = f"{subject} stayed at {fmt(value)}"
    passed = not (too_high or too_low)
    return passed, observed, expected, msg + ("" if passed else f"; expected {expected}")
