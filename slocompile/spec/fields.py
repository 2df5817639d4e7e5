"""Typed parameter fields: the one definition used by validation, docs and the JSON Schema."""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from slocompile.errors import ProblemCollector, did_you_mean
from slocompile.spec.yamlload import Node

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Change:
    """An allowed change of a metric: relative ('25%' -> 0.25 of the baseline) or absolute (0.05)."""
    amount: float
    relative: bool

    def __str__(self) -> str:
        return f"{self.amount * 100:g}%" if self.relative else f"{self.amount:g}"


@dataclass(frozen=True)
class Field:
    """One parameter of a check or a declaration.

    kind: str | int | number | fraction | bool | enum | str_list | scalar_list | duration | sql | columns
    | change (a Change: '25%' or a number) | scalar | mapping | list | monitor | partition (the last four are
    validated by the loader, key by key)
    """

    kind: str
    required: bool = False
    default: Any = None
    choices: tuple = ()
    doc: str = ""

    def convert(self, node: Node, what: str, problems: ProblemCollector) -> Any:
        """Return the field's value from `node`, or None after recording a problem."""
        v = node.value
        if node.from_jinja and isinstance(v, str) and self.kind in _NUMERIC:
            v = _number(v)  # "{{ var('min_rows') }}": quoted for YAML editors, a number once rendered
        bad = _INVALID
        if self.kind == "str" or self.kind == "sql":
            if isinstance(v, str) and v.strip():
                return v
            bad = "a non-empty string"
        elif self.kind == "int":
            if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
                return v
            bad = "a non-negative integer"
        elif self.kind == "number":
            if _is_number(v):
                return v
            bad = "a finite number"
        elif self.kind == "fraction":
            if _is_number(v) and 0 <= v <= 1:
                return float(v)
            bad = "a number between 0 and 1"
        elif self.kind == "bool":
            if isinstance(v, bool):
                return v
            bad = "true or false"
        elif self.kind == "enum":
            if isinstance(v, str) and v in self.choices:
                return v
            problems.add(node.loc, f"{what} must be one of {', '.join(self.choices)}, not {_describe(node.plain())}"
                         + (did_you_mean(v, self.choices) if isinstance(v, str) else ""))
            return None
        elif self.kind == "duration":
            seconds = parse_duration(v)
            if seconds is not None:
                return seconds
            bad = "a duration such as 36h, 90m, 2d or 1w"
        elif self.kind == "change":
            change = parse_change(v)
            if change is not None:
                return change
            bad = "a percentage of the baseline such as '25%', or an absolute amount (a number >= 0)"
        elif self.kind in ("mapping", "list"):
            if (self.kind == "mapping") == node.is_map and (self.kind == "list") == node.is_list:
                return v
            bad = f"a {self.kind}"
        elif self.kind == "monitor":  # `all`, a column list or {columns, severity}: the loader checks the parts
            if (isinstance(v, str) and v.strip()) or isinstance(v, (list, dict)):
                return v
            bad = "all, a list of columns or a mapping {columns: ..., severity: ...}"
        elif self.kind == "partition":  # a column, or {column, granularity}: the loader checks the parts
            if (isinstance(v, str) and v.strip()) or isinstance(v, dict):
                return v
            bad = "a column name or a mapping {column: ..., granularity: hour | day | week | month}"
        elif self.kind == "scalar":
            if _is_scalar(v):
                return v
            bad = "a string, number, boolean or date"
        elif self.kind in ("str_list", "columns", "scalar_list"):
            items = v if isinstance(v, list) else None
            if self.kind in ("columns", "str_list") and isinstance(v, str) and v:  # one, or a list
                return (v,)
            if items is not None and items:
                ok = str if self.kind != "scalar_list" else None
                out = []
                for item in items:
                    iv = item.value
                    if (ok is str and not (isinstance(iv, str) and iv)) or (ok is None and not _is_scalar(iv)):
                        problems.add(item.loc, f"each item of {what} must be "
                                     + ("a non-empty string" if ok is str else "a string, number or date"))
                        return None
                    out.append(iv)
                return tuple(out)
            bad = {"columns": "a column name or a list of column names",
                   "str_list": "a string or a non-empty list of strings"}.get(self.kind, "a non-empty list")
        if bad is _INVALID:
            raise AssertionError(f"unknown field kind {self.kind}")
        problems.add(node.loc, f"{what} must be {bad}, not {_describe(v)}")
        return None

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema fragment for this field (used by `slocompile schema`)."""
        by_kind: dict[str, dict[str, Any]] = {
            "str": {"type": "string", "minLength": 1}, "sql": {"type": "string", "minLength": 1},
            "int": {"type": "integer", "minimum": 0}, "number": {"type": "number"},
            "fraction": {"type": "number", "minimum": 0, "maximum": 1}, "bool": {"type": "boolean"},
            "enum": {"enum": list(self.choices)},
            "duration": {"type": "string", "pattern": _DURATION.pattern},
            "change": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": _PERCENT.pattern}]},
            "scalar": {"type": ["string", "number", "boolean"]},
            "str_list": {"anyOf": [{"type": "string", "minLength": 1},
                                   {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]},
            "scalar_list": {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "minItems": 1},
            "columns": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
            "mapping": {"type": "object"}, "list": {"type": "array"},
            "monitor": _MONITOR_SCHEMA, "partition": _PARTITION_SCHEMA,
        }
        base = by_kind[self.kind]
        return {**base, "description": self.doc} if self.doc else base


_INVALID = object()
_COLUMN_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_SENSITIVITY_SCHEMA = {"anyOf": [{"enum": ["low", "normal", "high"]}, {"type": "number", "exclusiveMinimum": 0}],
                       "description": "The monitors' sensitivity: low, normal, high or a factor (2: changes "
                                      "half as large alert)."}
_MONITOR_SCHEMA = {"anyOf": [
    {"const": "all"}, _COLUMN_LIST,
    {"type": "object", "additionalProperties": False,
     "properties": {"columns": {"anyOf": [{"const": "all"}, _COLUMN_LIST], "default": "all",
                                "description": "all (the catalog's columns but the partition and the key) "
                                               "or a list of columns."},
                    "severity": {"enum": ["error", "warn"], "default": "warn",
                                 "description": "warn reports alerts; error also fails the partition."},
                    "sensitivity": _SENSITIVITY_SCHEMA,
                    "segments": {"type": "array", "items": {"type": "string", "minLength": 1},
                                 "description": "Columns whose top values (by rows, 20, the rest pooled) get "
                                                "bands of their own."}}},
]}
_PARTITION_SCHEMA = {"anyOf": [
    {"type": "string", "minLength": 1},
    {"type": "object", "additionalProperties": False, "required": ["column"],
     "properties": {"column": {"type": "string", "minLength": 1, "description": "A date or timestamp column."},
                    "granularity": {"enum": ["hour", "day", "week", "month"],
                                    "description": "The partitions' size: the column truncated to it."}}},
]}


_NUMERIC = ("int", "number", "fraction", "change")


def _number(text: str):
    """The number a rendered text spells (as YAML would read it unquoted), else the text itself."""
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        value = float(t)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_scalar(v) -> bool:
    return isinstance(v, (str, dt.date)) or _is_number(v) or isinstance(v, bool)


def _describe(v) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list" if v else "an empty list"
    return repr(v)


def parse_duration(v) -> float | None:
    """'36h' -> 129600.0 seconds; None when not a duration."""
    if isinstance(v, str):
        m = _DURATION.match(v)
        if m:
            return float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    return None


def parse_change(v) -> Change | None:
    """'25%' -> relative 0.25; 0.05 -> absolute 0.05; None when neither."""
    if isinstance(v, str):
        m = _PERCENT.match(v)
        return Change(float(m.group(1)) / 100, True) if m else None
    if _is_number(v) and v >= 0:
        return Change(float(v), False)
    return None


def format_duration(seconds: float) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds:.0f}s"


def lenient_values(flat: dict, fields: dict[str, Field]) -> dict:
    """The values of `flat` that convert (their problems were reported already), defaults for the rest:
    validation goes on with them to find the other problems too."""
    quiet = ProblemCollector()
    out = {k: f.default for k, f in fields.items()}
    for key, child in flat.items():
        if key in fields:
            value = fields[key].convert(child, key, quiet)
            if value is not None:
                out[key] = value
    return out


def read_mapping(node: Node, fields: dict[str, Field], what: str, problems: ProblemCollector) -> dict | None:
    """Validate a mapping against `fields`: unknown keys, missing keys and types are all reported."""
    if not node.is_map:
        problems.add(node.loc, f"{what} must be a mapping, not {_describe(node.value)}")
        return None
    out: dict[str, Any] = {}
    ok = True
    for key, child in node.value.items():
        f = fields.get(key)
        if f is None:
            problems.add(node.key_locs.get(key, child.loc),
                         f"unknown key '{key}' in {what}{did_you_mean(key, fields)}")
            ok = False
            continue
        value = f.convert(child, f"'{key}' in {what}", problems)
        if value is None:
            ok = False
        out[key] = value
    for key, f in fields.items():
        if key not in out:
            if f.required:
                problems.add(node.loc, f"{what} is missing required key '{key}'")
                ok = False
            else:
                out[key] = f.default
    return out if ok else None
