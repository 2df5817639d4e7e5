"""`slocompile suggest TABLE`: profile a relation in one scan and write a table declaration.

One aggregate query (sqlglot AST, rendered for the target's engine) measures, per column, the
non-NULL count, the distinct count, and the minimum and maximum of numeric and temporal columns.
If some string columns have few distinct values, one more small query lists their values
(GROUP BY GROUPING SETS: one scan, at most `max_values` rows per column).

From that profile the suggestion is, per column:

- `type`: the column's type family, and a table-level `schema` check;
- `not_null` when no value is missing (a coverage SLO `not_null: {max_fraction}` when a few are);
- `between` from the observed range widened by `margin` (of the range) and rounded outward; a
  bound never crosses 0 or 1 that the data did not cross; dates and timestamps get a lower bound
  only (new data is later); growing keys get no upper bound;
- `accepted_values` for string columns with at most `max_values` distinct values, each seen at
  least twice on average;
- `unique` for key candidates (integer or string, no NULLs, every value distinct), the first
  of them (preferring `id`-like names) as the table's `key`;
- `row_count: {min: 1}` and `monitor: all` (commented out on a table without a partition, and
  when this version's loader does not accept monitors).

Every suggestion holds on the profiled data, so a build right after it passes; the result is
checked with the loader before it is returned.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal

from sqlglot import exp

from slocompile.errors import SlocompileError, SpecError

FAMILIES = ("integer", "number", "string", "boolean", "date", "timestamp")
NUMERIC = ("integer", "number")
TEMPORAL = ("date", "timestamp")
MAX_VALUES = 20
MARGIN = 0.1
MAX_NULL_FRACTION = 0.2  # above this, no coverage SLO is suggested (the column is sparse by design)


@dataclass
class ColumnProfile:
    name: str
    data_type: str
    family: str | None          # profiling family (None: only existence is checked)
    declared: str | None        # the `type:` to declare (compatible with data_type), or None
    non_null: int = 0
    distinct: int | None = None   # the most distinct values of one partition (of the table, unpartitioned)
    all_distinct: bool = False    # no NULLs and no repeated value, in every partition
    max_missing_fraction: float = 0.0  # the largest fraction of NULLs in one partition
    low: object = None
    high: object = None
    values: list | None = None  # the distinct values of a low-cardinality string column


@dataclass
class TableProfile:
    relation: str
    rows: int
    columns: list[ColumnProfile] = field(default_factory=list)
    partition: str | None = None
    partitions: int = 0  # groups scanned (1 when unpartitioned and not empty)
    min_partition_rows: int | None = None
    queries: list[str] = field(default_factory=list)  # the SQL that measured it

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)


# ------------------------------------------------------------------------------------ profiling

def type_families(data_type: str) -> tuple[str | None, str | None]:
    """(profiling family, declarable type family) of an engine's type name."""
    from slocompile.checks.table_slos import type_compatible

    for fam in FAMILIES:
        if type_compatible(fam, data_type):
            return fam, fam
    base = data_type.lower().split("(")[0].strip()
    if base.startswith("timestamp") or base.startswith("datetime"):
        return "timestamp", None
    if base.startswith(("decimal", "numeric")):
        return "number", None
    return None, None


def _col(name: str) -> exp.Column:
    from slocompile.dialects.nodes import col

    return col(name)


def profile_query(relation: exp.Table, columns: list[ColumnProfile]) -> exp.Select:
    """COUNT(*), then per column COUNT(c), COUNT(DISTINCT c) [, MIN(c), MAX(c)] — one scan."""
    select: list[exp.Expression] = [exp.Count(this=exp.Star())]
    for c in columns:
        if c.family is None:
            select.append(exp.Count(this=_col(c.name)))
            continue
        select += [exp.Count(this=_col(c.name)), exp.Count(this=exp.Distinct(expressions=[_col(c.name)]))]
        if c.family in NUMERIC + TEMPORAL:
            select += [exp.Min(this=_col(c.name)), exp.Max(this=_col(c.name))]
    return exp.select(*select).from_(relation.copy())


def values_query(relation: exp.Table, names: list[str]) -> exp.Select:
    """The distinct values of several columns in one scan: GROUP BY GROUPING SETS ((a), (b), ...)."""
    q = exp.select(*[_col(n) for n in names]).from_(relation.copy())
    q.set("group", exp.Group(grouping_sets=[exp.GroupingSets(
        expressions=[exp.Tuple(expressions=[_col(n)]) for n in names])]))
    return q


def profile(engine, relation: exp.Table, relation_text: str, max_values: int = MAX_VALUES,
            partition: str | None = None) -> TableProfile:
    """Measure `relation` on `engine`: one aggregate scan (grouped by `partition` when given, so that
    coverage and uniqueness are judged per partition, as the checks will be), plus one small query
    for the values of low-cardinality string columns."""
    from slocompile.dialects.render import render
    from slocompile.engines.base import QueryFailed

    catalog = engine.columns(relation)
    if catalog is None:
        raise SlocompileError(f"relation {relation_text} does not exist (target dialect {engine.dialect})")
    cols = []
    for name, data_type in catalog:
        fam, declared = type_families(str(data_type))
        cols.append(ColumnProfile(name, str(data_type), fam, declared))
    if partition is not None and partition not in {c.name for c in cols}:
        from slocompile.errors import did_you_mean

        raise SlocompileError(f"--partition: {relation_text} has no column '{partition}'"
                              + did_you_mean(partition, [c.name for c in cols]))
    out = TableProfile(relation_text, 0, cols, partition=partition)
    query = profile_query(relation, cols)
    if partition is not None:
        query = query.group_by(_col(partition))
    sql = render(query, engine.dialect)
    out.queries.append(sql)
    try:
        rows = engine.query(sql)
    except QueryFailed as e:
        raise SlocompileError(f"profiling {relation_text} failed: {e}") from None
    for c in cols:
        c.all_distinct = True
    for row in rows:
        n = int(row[0] or 0)
        out.rows += n
        out.partitions += 1
        out.min_partition_rows = n if out.min_partition_rows is None else min(out.min_partition_rows, n)
        i = 1
        for c in cols:
            non_null = int(row[i] or 0)
            i += 1
            c.non_null += non_null
            if n:
                c.max_missing_fraction = max(c.max_missing_fraction, (n - non_null) / n)
            if c.family is None:
                c.all_distinct = False
                continue
            distinct = int(row[i] or 0)
            i += 1
            c.distinct = max(c.distinct or 0, distinct)
            c.all_distinct = c.all_distinct and distinct == n and non_null == n
            if c.family in NUMERIC + TEMPORAL:
                lo, hi = _plain(row[i], c.family), _plain(row[i + 1], c.family)
                i += 2
                if lo is not None:
                    c.low = lo if c.low is None else min(c.low, lo)
                if hi is not None:
                    c.high = hi if c.high is None else max(c.high, hi)
    small = [c for c in cols if c.family == "string" and c.distinct and c.distinct <= max_values
             and c.distinct * 2 <= c.non_null / max(out.partitions, 1)]
    if small:
        sql = render(values_query(relation, [c.name for c in small]), engine.dialect)
        out.queries.append(sql)
        try:
            rows = engine.query(sql)
        except QueryFailed as e:
            raise SlocompileError(f"profiling {relation_text} failed: {e}") from None
        found: dict[int, set] = {k: set() for k in range(len(small))}
        for r in rows:
            for k, v in enumerate(r):
                if v is not None:  # in grouping set k only column k is not NULL
                    found[k].add(v)
        for k, c in enumerate(small):
            if len(found[k]) <= max_values:
                c.values = sorted(found[k], key=str)
    return out


def _plain(v, family: str):
    if v is None:
        return None
    if isinstance(v, Decimal):
        v = float(v)
    if family == "integer" and isinstance(v, float) and v.is_integer():
        v = int(v)
    if family in NUMERIC and isinstance(v, float) and not math.isfinite(v):
        return None  # NaN or infinity: no range to suggest
    if family in TEMPORAL and isinstance(v, str):
        try:
            v = dt.datetime.fromisoformat(v) if family == "timestamp" else dt.date.fromisoformat(v)
        except ValueError:
            return None
    return v


# ------------------------------------------------------------------------------------ suggesting

@dataclass
class Suggestion:
    yaml: str
    profile: TableProfile
    monitor_enabled: bool
    name: str = ""  # the declared table's name


def widen(lo, hi, margin: float, integer: bool) -> tuple:
    """[lo, hi] widened by `margin` of its span on each side, rounded outward to a round step;
    never across 0 (or 1, for fractions) unless the data crossed it."""
    span = hi - lo
    pad = span * margin if span > 0 else abs(lo) * margin
    if pad <= 0:
        pad = 1
    if integer:
        step = max(1, 10 ** (int(math.floor(math.log10(max(pad, 1)))) - 1))
        pad = int(math.ceil(pad))
        new_lo = ((int(lo) - pad) // step) * step
        new_hi = -((-(int(hi) + pad)) // step) * step
    else:
        step = 10.0 ** (math.floor(math.log10(pad)) - 1)
        digits = max(0, -int(math.floor(math.log10(step))))
        new_lo = round(math.floor((lo - pad) / step) * step, digits)
        new_hi = round(math.ceil((hi + pad) / step) * step, digits)
        new_lo, new_hi = min(new_lo, lo), max(new_hi, hi)
    if lo >= 0 and new_lo < 0:
        new_lo = 0
    if hi <= 0 and new_hi > 0:
        new_hi = 0
    if not integer and 0 <= lo <= hi <= 1:
        new_hi = min(new_hi, 1)
        new_lo = max(new_lo, 0)
    return tuple(int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 53 else v
                 for v in (new_lo, new_hi))


def _round_up(x: float) -> float:
    """x rounded up to two significant digits."""
    if x <= 0:
        return 0.0
    step = 10.0 ** (math.floor(math.log10(x)) - 1)
    digits = max(0, -int(math.floor(math.log10(step))))
    return min(1.0, round(math.ceil(x / step - 1e-9) * step, digits))


def yaml_value(value) -> str:
    """One YAML value in flow style, quoted where YAML needs it."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10 ** 6, sort_keys=False)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text


def jinja_escape(text: str) -> str:
    """`text` with every Jinja opener ({{, {%, {#) written so that rendering gives it back: the loader
    renders each declaration file with Jinja before reading its YAML."""
    import re

    return re.sub(r"\{[{%#]", lambda m: "{{ '" + m.group(0) + "' }}", text)


def _key_preference(c: ColumnProfile) -> tuple:
    n = c.name.lower()
    return (0 if n == "id" else 1 if n.endswith("_id") or n.endswith("id") else 2, )


def column_checks(c: ColumnProfile, rows: int, key_candidate: bool, margin: float, max_values: int) -> tuple:
    """(checks as YAML flow items, comment) for one profiled column."""
    checks: list[str] = []
    if rows == 0:
        return checks, "no rows to profile"
    if c.non_null == 0:
        return checks, "all values are NULL"
    if c.non_null == rows:
        checks.append("not_null")
    elif c.max_missing_fraction <= MAX_NULL_FRACTION:
        checks.append(f"not_null: {{max_fraction: {yaml_value(_round_up(c.max_missing_fraction * 1.5))}}}")
    if key_candidate:
        checks.append("unique")
    if c.family in NUMERIC and c.low is not None and c.high is not None:
        lo, hi = widen(c.low, c.high, margin, c.family == "integer" and isinstance(c.low, int))
        if key_candidate:  # keys grow: a lower bound only
            checks.append(f"between: {{min: {yaml_value(lo)}}}")
        else:
            checks.append(f"between: {{min: {yaml_value(lo)}, max: {yaml_value(hi)}}}")
    elif c.family in TEMPORAL and isinstance(c.low, dt.date):
        low = c.low.date() if isinstance(c.low, dt.datetime) else c.low
        high = c.high.date() if isinstance(c.high, dt.datetime) else c.high
        days = max(1, math.ceil((high - low).days * margin)) if isinstance(high, dt.date) else 1
        checks.append(f"between: {{min: {yaml_value(low - dt.timedelta(days=days))}}}")
    if c.values is not None and c.family == "string" and 0 < len(c.values) <= max_values:
        checks.append(f"accepted_values: {yaml_value(list(c.values))}")
    return checks, None


def render_yaml(prof: TableProfile, name: str, *, margin: float = MARGIN,
                max_values: int = MAX_VALUES, monitor: bool = True, header: list[str] | None = None) -> str:
    candidates = [c for c in prof.columns if c.family in ("integer", "string") and prof.rows >= 2
                  and c.all_distinct and c.name != prof.partition]
    key = min(candidates, key=_key_preference) if candidates else None
    lines = [f"# {h}" if h else "#" for h in (header or [])]
    lines += ["tables:", f"  - name: {yaml_value(name)}", f"    relation: {yaml_value(prof.relation)}"]
    if key is not None:
        lines.append(f"    key: [{yaml_value(key.name)}]")
    dates = [c for c in prof.columns if c.family == "date" and c.non_null]
    if prof.partition:
        lines.append(f"    partition: {yaml_value(prof.partition)}")
    elif dates:
        lines.append(f"    # partition: {yaml_value(dates[0].name)}    # per-partition checks, statuses and monitors")
    if monitor and prof.partition:
        lines.append("    monitor: all                      # threshold-free monitors on every column")
    elif monitor:
        lines.append("    # monitor: all    # threshold-free monitors: they need a partition")
    else:
        lines.append("    # monitor: all    # threshold-free monitors: not accepted by this version yet")
    lines.append("    checks:")
    if prof.rows > 0:
        lines.append("      - row_count: {min: 1}")
    lines.append("      - schema                          # every column below exists with its type")
    stamps = [c for c in prof.columns if c.family == "timestamp" and c.non_null]
    if stamps:
        lines.append(f"      # - freshness: {{column: {yaml_value(stamps[0].name)}, max_age: 36h}}"
                     "   # your load schedule")
    lines.append("    columns:")
    for c in prof.columns:
        checks, note = column_checks(c, prof.rows, c in candidates, margin, max_values)
        lines.append(f"      - name: {yaml_value(c.name)}" + (f"    # {note}" if note else ""))
        if c.declared:
            lines.append(f"        type: {c.declared}")
        else:
            lines.append(f"        # type: ?    # {c.data_type}: no type family: the schema check wants it present")
        if checks:
            lines.append("        checks:")
            lines += [f"          - {x}" for x in checks]
    return jinja_escape("\n".join(lines) + "\n")


def monitors_accepted() -> bool:
    """Whether this version's loader takes `monitor:` (the monitors feature is in)."""
    from slocompile.declarations.loader import NOT_YET, TABLE_FIELDS

    return "monitor" in TABLE_FIELDS and "monitor" not in NOT_YET


def _loads(text: str, dialect: str) -> list[str]:
    """Problems the loader finds in a declaration file `text` ([] when it loads)."""
    from slocompile.declarations.loader import load_project

    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "slos"))
        with open(os.path.join(tmp, "slocompile.yml"), "w", encoding="utf-8") as fh:
            fh.write(f"name: suggest_check\nsql_dialect: {dialect}\n")
        with open(os.path.join(tmp, "slos", "t.yml"), "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            load_project(tmp, env={})
        except SpecError as e:
            return [str(p) for p in e.problems]
        except SlocompileError as e:
            return [str(p) for p in e.problems]
    return []


def suggest(spec, relation_text: str, target: str | None = None, name: str | None = None,
            partition: str | None = None, margin: float = MARGIN, max_values: int = MAX_VALUES) -> Suggestion:
    """Profile `relation_text` on the project's target and return a declaration that passes on it."""
    from slocompile.engines.connect import connect
    from slocompile.run import selection
    from slocompile.spec.usersql import parse_relation

    if not 0 <= margin <= 10:
        raise SlocompileError(f"--margin must be between 0 and 10 (a fraction of the observed range), not {margin}")
    tgt = selection.target(spec, target)
    try:
        relation = parse_relation(relation_text, spec.sql_dialect)
    except ValueError as e:
        raise SlocompileError(f"relation {e}") from None
    engine = connect(tgt, spec.root)
    try:
        prof = profile(engine, relation, relation_text, max_values, partition)
    finally:
        engine.close()
    table_name = name or relation.name
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [f"Suggested by `slocompile suggest {relation_text}` on target {tgt.name}, {now}, from "
              f"{prof.rows} rows.",
              "Every rule holds on the data profiled; ranges are the observed ones widened by "
              f"{margin:.0%}. Review before relying on them."]
    monitor = monitors_accepted()
    text = render_yaml(prof, table_name, margin=margin, max_values=max_values,
                       monitor=monitor, header=header)
    problems = _loads(text, spec.sql_dialect)
    if problems and monitor:  # e.g. this version's monitors want a partition: leave the line for the user
        monitor = False
        text = render_yaml(prof, table_name, margin=margin, max_values=max_values,
                           monitor=False, header=header)
        problems = _loads(text, spec.sql_dialect)
    if problems:
        raise SlocompileError("the suggested declaration does not load (please report it): " + "; ".join(problems))
    return Suggestion(text, prof, monitor, table_name)
