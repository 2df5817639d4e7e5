"""Which target, which tables, which partitions a command works on; incremental state.

A build checks a partitioned table incrementally: its new partitions, the failing ones, the ones
whose content changed since they were checked (an UPDATE, DELETE or INSERT in the partition: the
content fingerprint, sqltrees/content.py), and all of them when the table's checks changed. Both
fingerprints are kept with each status row ('<checks>:<content>').
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp

from slocompile import checks as registry
from slocompile.compiling.viewcache import ViewCache
from slocompile.declarations.loader import timestamp_needs_grain
from slocompile.dialects.nodes import named
from slocompile.dialects.render import render
from slocompile.dialects.rules import duckdb_type
from slocompile.engines.base import Engine, QueryFailed
from slocompile.errors import SlocompileError, did_you_mean
from slocompile.run import references
from slocompile.run.references import Referenced
from slocompile.spec.model import GRAINS, NULL_PARTITION, ProjectSpec, TableSpec, TargetSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees.content import partition_contents, status_fingerprint
from slocompile.sqltrees.scans import label_of_partition, partition_expr


@dataclass(frozen=True)
class Selection:
    partitions: tuple[str, ...] | None  # --partition (None: let the status decide)
    full_refresh: bool
    # filled by partitions_to_check: table name -> the labels of every partition present (sorted),
    # for the checks judged from the partition list (partitions_complete, via EvalContext.partitions)
    present: dict = field(default_factory=dict, compare=False)


def target(project: ProjectSpec, name: str | None) -> TargetSpec:
    """The target named `name` (None: the project's default)."""
    name = name or project.default_target
    if name not in project.targets:
        raise SlocompileError(f"unknown target '{name}'{did_you_mean(name, project.targets)}; "
                              f"targets in slocompile.yml: {', '.join(project.targets)}")
    return project.targets[name]


def selected(project: ProjectSpec, select: list[str] | None) -> list[TableSpec]:
    """The tables --select names (all of them without it), in the project's order: table names,
    tag:NAME, owner:NAME; space-separated: union, comma-joined: intersection (run.selectors)."""
    if not select:
        return list(project.tables)
    from slocompile.run.selectors import choose

    return choose(project, select)


def fingerprint(table: TableSpec) -> str:
    """Changes whenever the table's checks change, so their partitions are checked again."""
    parts = sorted(repr((c.name, c.type, c.column, c.severity, c.where.sql() if c.where is not None else None,
                         sorted((k, v.sql() if hasattr(v, "sql") else repr(v)) for k, v in c.params.items())))
                   for c in table.checks)
    if table.monitor is not None:  # a monitor change re-judges the history
        parts.append(repr(("monitor", table.monitor.columns, table.monitor.severity, table.monitor.quiet)))
        tuning = (table.monitor.sensitivity, table.monitor.segments, table.monitor.column_sensitivity)
        if tuning != (1.0, (), ()):  # (left out when default: fingerprints from before them stay valid)
            parts.append(repr(("monitor tuning", *tuning)))
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


def present_partitions(engine: Engine, table: TableSpec) -> list[str]:
    """The labels of every partition of `table`, sorted."""
    # the distinct partition values first, labelled after: labelling every row (a text cast of each
    # timestamp) cost 6x the scan of an hourly table of 10M rows
    value = exp.to_identifier("_slo_p", quoted=True)
    values = exp.select(named(partition_expr(table), "_slo_p")).distinct().from_(table.relation.copy(), copy=False)
    present = exp.select(label_of_partition(table, exp.Column(this=value))).from_(
        exp.Subquery(this=values, alias=exp.TableAlias(this=exp.to_identifier("_slo_d", quoted=True))), copy=False)
    return sorted(r[0] for r in engine.query(render(present, engine.dialect)) if r[0] is not None)


@dataclass(frozen=True)
class Fingerprint:
    """What a build records with the status rows of a table: the checks' fingerprint, and the
    content fingerprint of each partition as it was when the build chose what to check."""
    checks: str
    contents: dict = field(default_factory=dict, compare=False)  # partition label -> content fingerprint
    # the columns hashed by the check scans themselves (a build that checks every partition): the
    # contents are then those of the very rows the checks judged, filled in by take_contents
    in_scan: tuple[str, ...] | None = field(default=None, compare=False)
    # what the checks read in other relations (run/references.py), None: nothing
    references: Referenced | None = field(default=None, compare=False)

    def checks_of(self, partition: str | None) -> str:
        """The checks' fingerprint recorded with `partition`'s status."""
        return self.checks if self.references is None else self.references.checks(self.checks, partition)

    def of(self, partition: str | None) -> str:
        content = self.contents.get(partition) if partition is not None else None
        return status_fingerprint(self.checks_of(partition), content)


def take_contents(fingerprint: Fingerprint, metric: object, values: dict) -> None:
    """Move the content fingerprints a check scan measured (`metric`, per partition) from the
    scan's `values` into `fingerprint`: they are recorded with the statuses, not as metrics."""
    for key in [k for k in values if k[0] == metric]:
        content = values.pop(key)
        if key[1] is not None and content is not None:
            fingerprint.contents[key[1]] = content


def partitions_to_check(engine: Engine, project: ProjectSpec, table: TableSpec, fp: str,
                        sel: Selection) -> tuple[str, ...] | None:
    """The partitions of `table` a build checks (None: the table is unpartitioned)."""
    return plan_partitions(engine, project, table, fp, sel)[0]


def plan_tables(engine: Engine, project: ProjectSpec, tables: list[TableSpec], fps: dict[str, str], sel: Selection,
                catalogs: dict[str, list | None], views: ViewCache | None = None
                ) -> dict[str, tuple[tuple[str, ...] | None, Fingerprint]]:
    """plan_partitions of every table, with the statuses of all of them read by one query and the
    partition listings of those checked before by another (one UNION ALL, its SQL kept in `views`
    across builds): a build that finds nothing new runs two queries, not two a table."""
    parted = [t for t in tables if t.partition]
    known: dict[str, dict] | None = None
    listed: dict[str, list[tuple]] = {}
    refs: dict[str, Referenced | None] = {}  # what each table's checks read elsewhere
    if parted and sel.partitions is None and not sel.full_refresh:
        known = {t.name: {} for t in parted}
        for name, p, status, f in _query(engine, meta.status_rows(project.schemas, [t.name for t in parted])):
            known[name][p] = (status, f)
        refs = {t.name: references.read(engine, t) for t in parted}
        again = []
        for t in parted:  # (a table whose catalog is not at hand, or is unusable, lists its own)
            if catalogs.get(t.name) is not None and _passed(known[t.name], Fingerprint(fps[t.name], {}, None,
                                                                                       refs[t.name])):
                try:
                    again.append((t, _catalog(engine, t, catalogs[t.name])[1]))
                except SlocompileError:
                    pass
        listed = _listings(engine, again, views)
    return {t.name: plan_partitions(engine, project, t, fps[t.name], sel, catalogs.get(t.name),
                                    None if known is None else known.get(t.name), listed.get(t.name),
                                    refs.get(t.name) if known is not None else _UNREAD)
            for t in tables}


_UNREAD = object()  # plan_partitions: the references were not read yet


def _passed(known: dict, fp: Fingerprint) -> bool:
    """Whether a partition passed these checks, reading what it read then elsewhere (else every
    partition is checked)."""
    return any(status == "pass" and (f or "").startswith(fp.checks_of(p))
               for p, (status, f) in known.items())


LISTING_BATCH = 100  # tables a UNION ALL of _listings lists


def _listings(engine: Engine, tables: list[tuple[TableSpec, list[str]]],
              views: ViewCache | None) -> dict[str, list[tuple]]:
    """partition_contents of each (table, hashed columns), LISTING_BATCH tables a query (none of a
    query that fails: each of its tables then lists its own, raising its own error)."""
    out: dict[str, list[tuple]] = {}
    for start in range(0, len(tables), LISTING_BATCH):
        batch = tables[start:start + LISTING_BATCH]
        # what the SQL is made of, next to the declarations: the relation (gate last_good reads
        # its audit view), partition column and grain, and the columns hashed (and which as text)
        inputs = [engine.dialect, [(t.relation.sql(), t.partition, t.partition_grain, c, t.hashed_as_text)
                                   for t, c in batch]]
        make = functools.partial(_listing_sql, engine, batch)
        text = make() if views is None else views.rendered(f"listing {start}", inputs, make)
        try:
            rows = engine.query(text[0] if text else make()[0])
        except QueryFailed:
            continue
        listed: dict[str, list[tuple]] = {t.name: [] for t, _ in batch}
        for i, p, content in rows:
            listed[batch[i][0].name].append((p, content))
        out.update(listed)
    return out


def _listing_sql(engine: Engine, batch: list[tuple[TableSpec, list[str]]]) -> list[str]:
    """The one statement listing the partition contents of `batch`."""
    parts = [exp.select(exp.Literal.number(i), exp.Star()).from_(exp.Subquery(
        this=partition_contents(t, columns), alias=exp.TableAlias(this=exp.to_identifier(f"_slo_l{i}", quoted=True))),
        copy=False) for i, (t, columns) in enumerate(batch)]
    return [render(exp.union(*parts, distinct=False, copy=False) if len(parts) > 1 else parts[0], engine.dialect)]


def _catalog(engine: Engine, table: TableSpec, catalog: list | None) -> tuple[list, list[str], str | None]:
    """The relation's columns (read when not given), the columns hashed, the partition column's type;
    a timestamp partition without a granularity is an error."""
    assert table.partition is not None  # (only a partitioned table has partitions to plan)
    catalog = (engine.columns(table.relation) if catalog is None else catalog) or []
    columns = list(table.catalog_columns or [n for n, _ in catalog])
    ptype = dict(catalog).get(table.partition)
    if table.partition_grain is None and ptype is not None and _kind(ptype, engine.dialect) == "timestamp":
        raise SlocompileError(f"{table.loc}: {timestamp_needs_grain(f'table {table.name!r}', table.partition, ptype)}")
    return catalog, columns, ptype


def plan_partitions(engine: Engine, project: ProjectSpec, table: TableSpec, fp: str,
                    sel: Selection, catalog: list | None = None, known: dict | None = None,
                    listed: list[tuple] | None = None, refs: object = _UNREAD
                    ) -> tuple[tuple[str, ...] | None, Fingerprint]:
    """The partitions of `table` a build checks (None: unpartitioned), and the fingerprints to
    record with their statuses. One grouped query lists the partitions with their content
    fingerprints (a hashed scan of the relation: the cost of noticing changed data). `catalog`:
    the relation's columns when the caller read them already (else they are read here); `known`
    its status rows (partition -> (status, fingerprint)) and `listed` that listing, when the
    caller read them (plan_tables), and `refs` what its checks read elsewhere (references.read)."""
    if not table.partition:
        return None, Fingerprint(fp)
    catalog, columns, ptype = _catalog(engine, table, catalog)
    if refs is _UNREAD:
        refs = references.read(engine, table)
    assert refs is None or isinstance(refs, references.Referenced)
    if sel.partitions is not None:
        if any(registry.get(c.type).needs_partition_list for c in table.checks):
            sel.present[table.name] = present_partitions(engine, table)
        if table.partition_grain is not None:
            wanted = tuple(dict.fromkeys(at_grain(table, v) for v in sel.partitions))
        else:
            wanted = tuple(dict.fromkeys(sel.partitions))
            _check_values(table, ptype, wanted, engine.dialect)
        contents = dict(_contents(engine, table, columns, wanted))
        missing = [p for p in wanted if p not in contents]
        if missing:
            present = sel.present.get(table.name) or present_partitions(engine, table)
            raise SlocompileError(_missing_message(table, dict(catalog).get(table.partition), engine.dialect,
                                                   missing, present))
        return tuple(sorted(wanted)), Fingerprint(fp, contents, None, refs)
    if known is None:
        known = {} if sel.full_refresh else {
            r[1]: (r[2], r[3]) for r in _query(engine, meta.status_rows(project.schemas, [table.name]))}
    if not _passed(known, Fingerprint(fp, {}, None, refs)):
        # no partition passed these checks (a first build, changed checks, --full-refresh): every
        # partition is checked, so the partitions are listed from one column and the check scan
        # hashes their content in the same pass (no second hashed read of the table)
        all_parts = present_partitions(engine, table)
        sel.present[table.name] = all_parts
        _guard(project, table, ptype, len(all_parts))
        return tuple(all_parts), Fingerprint(fp, {}, tuple(columns), refs)
    if listed is None:
        listed = _contents(engine, table, columns)
    planned = Fingerprint(fp, {p: c for p, c in listed if p is not None}, None, refs)
    all_parts = sorted(planned.contents)
    sel.present[table.name] = all_parts
    todo = [p for p in all_parts if known.get(p) != ("pass", planned.of(p))]
    _guard(project, table, ptype, len(todo))
    return tuple(todo), planned


def _guard(project: ProjectSpec, table: TableSpec, type_text: str | None, count: int) -> None:
    """The partition-count guard: a build that would check (and record statuses of) more partitions
    of a table than `max_partitions` stops (exit 2) before checking any, naming a granularity that
    makes fewer."""
    if count <= project.max_partitions:
        return
    grain = table.partition_grain
    coarser = GRAINS[GRAINS.index(grain) + 1:] if grain in GRAINS else GRAINS[1:]
    if coarser:
        hint = (f"use a coarser granularity: partition: {{column: {table.partition}, granularity: "
                f"{' | '.join(coarser)}}}")
    else:
        hint = "partition by a coarser column"
    raise SlocompileError(
        f"{table.loc}: table '{table.name}' would check {count:,} partitions of '{table.partition}'"
        + (f" by {grain}" if grain else f" ({type_text})" if type_text else "")
        + f", more than max_partitions ({project.max_partitions:,}, slocompile.yml) allows; {hint}, "
        "or raise max_partitions")


_HOUR = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2})(?::(\d{2})(?::(\d{2})(?:\.0+)?)?)?")
_MONTH = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
_GRAIN_FORMS = {"hour": "YYYY-MM-DD HH:00 (the start of an hour)", "day": "YYYY-MM-DD",
                "week": "YYYY-MM-DD, a Monday (the start of its week)", "month": "YYYY-MM or YYYY-MM-01"}


def at_grain(table: TableSpec, value: str) -> str:
    """A --partition value of a table with a granularity as its partition label ('2026-11-01T05'
    -> '2026-11-01 05:00:00' by the hour, '2026-11' -> '2026-11-01' by the month); a value that is
    not the start of a partition at that grain: an error naming the partition it falls in."""
    grain = table.partition_grain
    assert grain is not None
    if value == NULL_PARTITION:
        return value
    start = _grain_start(grain, value)
    where = f"--partition {value!r}: table '{table.name}' is partitioned by {grain} of '{table.partition}'"
    if start is None:
        raise SlocompileError(f"{where}: write {_GRAIN_FORMS[grain]}")
    label, exact = start
    if not exact:
        raise SlocompileError(f"{where}: {value!r} is inside partition {label!r}; name that one")
    return label


def _grain_start(grain: str, value: str) -> tuple[str, bool] | None:
    """(the label of the partition `value` falls in, whether `value` is its start), None: no time."""
    text = value.strip()
    if grain == "hour":
        m = _HOUR.fullmatch(text)
        if not m or not _valid_date(m[1]) or int(m[2]) > 23 or int(m[3] or 0) > 59 or int(m[4] or 0) > 59:
            return None
        return f"{m[1]} {m[2]}:00:00", not int(m[3] or 0) and not int(m[4] or 0)
    if grain == "month":
        m = _MONTH.fullmatch(text)
        if not m or not _valid_date(f"{m[1]}-{m[2]}-{m[3] or '01'}"):
            return None
        return f"{m[1]}-{m[2]}-01", (m[3] or "01") == "01"
    if not _valid_date(text):
        return None
    if grain == "day":
        return text, True
    day = dt.date.fromisoformat(text)
    monday = day - dt.timedelta(days=day.weekday())
    return monday.isoformat(), day == monday


def _query(engine: Engine, tree: exp.Expr) -> list[tuple]:
    return engine.query(render(tree, engine.dialect))


def _contents(engine: Engine, table: TableSpec, columns: list[str],
              partitions: tuple[str, ...] | None = None) -> list[tuple]:
    """(partition label, content fingerprint) rows; an engine that refuses the query is a problem
    of this table (exit 2, naming it), not an internal error."""
    try:
        return _query(engine, partition_contents(table, columns, partitions))
    except QueryFailed as e:
        raise SlocompileError(f"{table.loc}: table '{table.name}': cannot fingerprint the content of the "
                              f"partitions of {table.relation_text}: {str(e).splitlines()[0][:300]}") from None


# --partition values, by the partition column's type (spelt the DuckDB way): what each must look like
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "UHUGEINT"}
_NUMBER_TYPES = ("DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL")


def _kind(type_text: str | None, dialect: str) -> str:
    """date, timestamp, integer, number, boolean or text: what a partition column holds."""
    if not type_text:
        return "text"
    name = duckdb_type(type_text, dialect).upper()
    if name == "DATE":
        return "date"
    if name.startswith(("TIMESTAMP", "DATETIME")):
        return "timestamp"
    if name in _INTEGER_TYPES:
        return "integer"
    if name.startswith(_NUMBER_TYPES):
        return "number"
    if name in ("BOOLEAN", "BOOL"):
        return "boolean"
    return "text"


def _valid_date(text: str) -> bool:
    m = _DATE.fullmatch(text)
    if not m:
        return False
    try:
        dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


_EXPECTED = {"date": "a date written YYYY-MM-DD", "timestamp": "a timestamp written YYYY-MM-DD HH:MM:SS",
             "integer": "an integer", "number": "a number", "boolean": "true or false"}


def _valid(kind: str, value: str) -> bool:
    if value == NULL_PARTITION or kind == "text":
        return True
    if kind == "date":
        return _valid_date(value)
    if kind == "timestamp":
        return _valid_date(value[:10]) and (len(value) == 10 or value[10] in " T")
    if kind == "integer":
        return bool(_INTEGER.fullmatch(value))
    if kind == "number":
        return bool(_NUMBER.fullmatch(value))
    return value in ("true", "false")


def _check_values(table: TableSpec, type_text: str | None, values: Iterable[str], dialect: str) -> None:
    """--partition values that cannot be a value of the partition column: an error (exit 2)."""
    kind = _kind(type_text, dialect)
    bad = [v for v in values if not _valid(kind, v)]
    if bad:
        raise SlocompileError("; ".join(
            f"--partition {v!r}: not {_EXPECTED[kind]}, as partition column '{table.partition}' of table "
            f"'{table.name}' ({type_text}) holds" for v in bad))


def _missing_message(table: TableSpec, type_text: str | None, dialect: str, missing: list[str],
                     present: list[str]) -> str:
    """The partitions --partition names that the table does not have, each with its neighbours."""
    numeric = _kind(type_text, dialect) in ("integer", "number")

    def key(label: str) -> tuple[int, float, str]:
        if numeric:
            try:
                return (0, float(label), "")
            except ValueError:
                pass
        return (1, 0.0, label)

    ordered = sorted(present, key=key)
    keys = [key(p) for p in ordered]
    out = []
    for value in missing:
        i = bisect.bisect_left(keys, key(value))
        near = ordered[max(i - 1, 0):i + 1]
        hint = f" (nearest: {', '.join(near)})" if near else " (it has no partitions)"
        out.append(f"--partition {value!r}: table '{table.name}' has no partition {value!r} in "
                   f"{table.relation_text}{hint}")
    return "; ".join(out)
