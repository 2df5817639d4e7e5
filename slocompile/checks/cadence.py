"""Partition cadences: reading partition labels as points in time (or numbers), declaring or
learning how often partitions come, and listing the ones that should be there and are not.

Learning (no cadence declared): the gap between consecutive distinct partitions that most of the
gaps share (a strict majority, with at least `min_partitions` partitions) is the cadence: 1 day,
1 hour, 1 week, 15 minutes, or a number of calendar months (monthly partitions on the same day of
the month, or on month ends). With a cadence of a day or less, weekdays on which no partition
ever came over three weeks or more (weekends of a business-day table) are not expected; below a
day, neither are times of day no partition ever had over three days or more (nights of an
hourly table that loads in office hours). Holidays and other one-off gaps are not learned: list
them in `ignore`. A declared cadence is taken as it is (`weekday`: Monday to Friday).
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from slocompile.spec.fields import format_duration, parse_duration

DAY, WEEK = 86400, 604800
NAMED = {"hour": (3600, 0), "day": (DAY, 0), "week": (WEEK, 0), "month": (0, 1), "quarter": (0, 3), "year": (0, 12),
         "weekday": (DAY, 0)}
OFF = ("none",)            # `cadence: none` (or false) on a table: no implied partitions_complete
MIN_PARTITIONS = 4         # default: fewer partitions teach no cadence
LEARN_WEEKDAYS_DAYS = 21   # weekdays never seen over this many days are days off
LEARN_TIMES_DAYS = 3       # times of day never seen over this many days are hours off
MAX_WALK = 100_000         # expected partitions enumerated at most (a huge gap in a minutely table)


@dataclass(frozen=True)
class Cadence:
    step: float = 0              # seconds between partitions (numbers: the step between values)
    months: int = 0              # or calendar months (month, quarter, year)
    weekdays: frozenset[int] | None = None  # the weekdays partitions come on (0 = Monday; None: all)
    times: frozenset[int] | None = None     # the seconds of the day they come at (None: all)
    learned: bool = False

    def describe(self, numeric: bool = False) -> str:
        if numeric:
            text = f"a step of {self.step:g}"
        elif self.months:
            text = {1: "monthly", 3: "quarterly", 12: "yearly"}.get(self.months, f"every {self.months} months")
        else:
            text = {3600: "hourly", DAY: "daily", WEEK: "weekly"}.get(int(self.step), "") if self.step.is_integer() \
                else ""
            text = text or f"every {format_duration(self.step)}"
        if self.weekdays is not None:
            text += " on " + ", ".join(calendar.day_abbr[d] for d in sorted(self.weekdays))
        if self.times is not None:
            text += f" at {len(self.times)} time{'s' if len(self.times) != 1 else ''} of day"
        return text + (", learned" if self.learned else "")


def parse_cadence(value) -> Cadence | None:
    """A declared cadence: hour, day, week, month, quarter, year, weekday, a duration (15m, 6h, 2d)
    or a positive number (the step of a numeric partition); None when it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Cadence(step=float(value)) if value > 0 else None
    if not isinstance(value, str):
        return None
    if value in NAMED:
        step, months = NAMED[value]
        return Cadence(step=float(step), months=months,
                       weekdays=frozenset(range(5)) if value == "weekday" else None)
    seconds = parse_duration(value)
    return Cadence(step=seconds) if seconds else None


CADENCE_HELP = ("hour, day, week, month, quarter, year, weekday (Monday to Friday), a duration such as 15m or 6h, "
                "or a number (the step of a numeric partition)")


# ------------------------------------------------------------------ partition labels as values

_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})([ T])(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$")


@dataclass(frozen=True)
class Axis:
    """Partition labels read as ordered values, and how to write a value back as a label."""
    values: list[Any]                  # sorted, distinct: naive datetimes (local to the labels) or ints
    render: Callable[[Any], str]
    numeric: bool = False
    offset: dt.timedelta = dt.timedelta(0)  # the labels' UTC offset (a timestamptz partition)
    resolution: str = ""               # what a label can tell apart: "day", "month" ("": any step)

    def too_fine(self, cadence: Cadence) -> bool:
        """The cadence steps between values the labels cannot tell apart (hourly on dates)."""
        if self.resolution == "month":
            return not cadence.months
        return self.resolution == "day" and not cadence.months and cadence.step % DAY != 0


def axis(labels: list[str]) -> Axis | None:
    """The labels as dates, timestamps, yyyymmdd, yyyy-mm or integers; None when they are not all
    one of these (string partitions such as region codes have no cadence)."""
    if not labels:
        return None
    for fmt, pattern, resolution in (("%Y-%m-%d", r"^\d{4}-\d{2}-\d{2}$", "day"), ("%Y%m%d", r"^\d{8}$", "day"),
                                     ("%Y-%m", r"^\d{4}-\d{2}$", "month")):
        if all(re.match(pattern, t) for t in labels):
            try:
                values = sorted({dt.datetime.strptime(t, fmt) for t in labels})
            except ValueError:
                continue
            return Axis(values, _strftime(fmt), resolution=resolution)
    iso = _timestamps(labels)
    if iso is not None:
        return iso
    if all(re.match(r"^-?\d{1,18}$", t) for t in labels):
        return Axis(sorted({int(t) for t in labels}), _integer, numeric=True)
    return None


def _strftime(fmt: str) -> Callable[[Any], str]:
    return lambda v: v.strftime(fmt)


def _integer(v: Any) -> str:
    return str(int(v))


def _timestamps(labels: list[str]) -> Axis | None:
    """Timestamps as engines print them ('2026-11-20 13:00:00', '...+00'); one UTC offset for all."""
    matches = [m for m in map(_ISO.match, labels) if m is not None]
    if len(matches) < len(labels):
        return None
    first = matches[0]
    sep, seconds, fraction, zone = first.group(2), first.group(5) is not None, first.group(6), first.group(7) or ""
    if any((m.group(7) or "") != zone for m in matches):
        return None
    try:
        values = sorted({dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(3)}:{m.group(4)}:{m.group(5) or '00'}"
                                                   + (m.group(6) or "")) for m in matches})
    except ValueError:
        return None
    digits = len(fraction) - 1 if fraction else 0

    def render(v) -> str:
        text = v.strftime(f"%Y-%m-%d{sep}%H:%M" + (":%S" if seconds else ""))
        if digits:
            text += f".{v.microsecond:06d}"[:digits + 1]
        return text + zone

    return Axis(values, render, offset=_offset(zone))


def _offset(zone: str) -> dt.timedelta:
    if zone in ("", "Z"):
        return dt.timedelta(0)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))


# ------------------------------------------------------------------ learning

def _month_end(v: dt.datetime) -> bool:
    return v.day == calendar.monthrange(v.year, v.month)[1]


def _months_apart(a: dt.datetime, b: dt.datetime) -> int | None:
    """Whole calendar months from a to b (same day of the month, or both month ends), else None."""
    if a.time() != b.time() or (b - a).days < 28:
        return None
    if a.day != b.day and not (_month_end(a) and _month_end(b)):
        return None
    return (b.year - a.year) * 12 + b.month - a.month


def _gap(a, b, numeric: bool) -> tuple[str, float]:
    if not numeric:
        months = _months_apart(a, b)
        if months is not None:
            return ("months", months)
        return ("step", (b - a).total_seconds())
    return ("step", float(b - a))


def learn(ax: Axis, min_partitions: int = MIN_PARTITIONS) -> Cadence | None:
    """The cadence most gaps share, or None (too few partitions, or no gap is the majority's)."""
    values = ax.values
    if len(values) < max(min_partitions, 3):
        return None
    gaps = Counter(_gap(a, b, ax.numeric) for a, b in zip(values, values[1:]))
    (kind, size), n = gaps.most_common(1)[0]
    if n * 2 <= len(values) - 1 or size <= 0:
        return None
    if kind == "months":
        return Cadence(months=int(size), learned=True)
    cadence = Cadence(step=size, learned=True)
    if ax.numeric or size > DAY:
        return cadence
    span_days = (values[-1] - values[0]).total_seconds() / DAY
    weekdays = times = None
    if span_days >= LEARN_WEEKDAYS_DAYS:
        seen = frozenset(v.weekday() for v in values)
        weekdays = seen if len(seen) < 7 else None
    if size < DAY and DAY % size == 0 and span_days >= LEARN_TIMES_DAYS:
        seen = frozenset(_time_of_day(v) for v in values)
        times = seen if len(seen) < DAY // size else None
    return Cadence(step=size, weekdays=weekdays, times=times, learned=True)


def _time_of_day(v: dt.datetime) -> int:
    return v.hour * 3600 + v.minute * 60 + v.second


# ------------------------------------------------------------------ expected partitions

def _add_months(v: dt.datetime, months: int, month_end: bool) -> dt.datetime:
    y, m = divmod(v.month - 1 + months, 12)
    year, month = v.year + y, m + 1
    last = calendar.monthrange(year, month)[1]
    return v.replace(year=year, month=month, day=last if month_end else min(v.day, last))


def _expected(v, cadence: Cadence, numeric: bool) -> bool:
    if numeric:
        return True
    if cadence.weekdays is not None and v.weekday() not in cadence.weekdays:
        return False
    return cadence.times is None or _time_of_day(v) in cadence.times


def following(v, cadence: Cadence, numeric: bool) -> Iterator:
    """The expected partitions after `v`, in order (endless; callers stop)."""
    if cadence.months:
        month_end, k = _month_end(v), 0
        while True:
            k += 1
            yield _add_months(v, cadence.months * k, month_end)
    step = cadence.step if numeric else dt.timedelta(seconds=cadence.step)
    # a week of steps without an expected one: `v` is off the learned times (stop rather than spin)
    patience = 1 if numeric else int(WEEK // cadence.step) + 1
    q, idle = v, 0
    while idle <= patience:
        q = q + step
        if _expected(q, cadence, numeric):
            idle = 0
            yield q
        else:
            idle += 1


@dataclass
class Gaps:
    missing: list          # expected values absent between the first and the newest partition
    late: list             # expected values after the newest that are overdue
    capped: bool = False   # the enumeration stopped at MAX_WALK


def find_gaps(ax: Axis, cadence: Cadence, now: dt.datetime | None = None, late_after: float | None = None) -> Gaps:
    """Missing partitions between consecutive present ones (a value within half a step of the next
    present one counts as that one), and, given `late_after` seconds and `now` (UTC), the partitions
    after the newest that are overdue: partition q is due once the one before it is `late_after` old
    (the freshness check's rule: the newest partition may be at most that old)."""
    out = Gaps([], [])
    walked = 0
    half = (cadence.step / 2 if ax.numeric else dt.timedelta(seconds=cadence.step / 2)) if not cadence.months else None
    values = ax.values
    for a, b in zip(values, values[1:]):
        limit = b - half if half is not None else b
        for q in following(a, cadence, ax.numeric):
            if q >= limit or walked >= MAX_WALK:
                break
            walked += 1
            out.missing.append(q)
        if walked >= MAX_WALK:
            out.capped = True
            break
    if late_after is not None and now is not None and values and not ax.numeric and not out.capped:
        local_now = now + ax.offset
        prev = values[-1]
        for q in following(values[-1], cadence, False):
            if (local_now - prev).total_seconds() <= late_after or walked >= MAX_WALK:
                break
            walked += 1
            out.late.append(q)
            prev = q
        out.capped = walked >= MAX_WALK
    return out
