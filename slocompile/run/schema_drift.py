"""Schema drift in a build: the relation, or a column the table's checks, fixes, monitors,
partition or key use, is gone or changed type.

Once a table has been built (its views or statuses exist), that is a data failure, not a broken
declaration: the build records its run, fails the checks that use the drifted columns and the
table's schema check (the declared `schema` check, or an implied one named `schema` covering the
columns in use), fires triggers, and publishes views that serve what the gate says. A drifted
table is not measured otherwise: no partition is recorded as checked when its checks did not all
run. On a table's first build (and without a declared schema check) a missing relation or column
is a declaration error instead, reported with its file and line (exit 2: most likely a typo).

A type changed when it no longer matches the column's declared `type:` or, for an undeclared
type, when its family (number, string, date, timestamp, boolean, or the type itself) differs from
the type the table's quarantine view recorded at the previous build (a view's column types are
fixed when it is created). Declaring the column's `type:` accepts a change.

Views: a table's compiled views are bound (`SELECT 1 FROM (<view query>) LIMIT 0`) before the
build's commit whenever its columns differ from the recorded ones; views that do not bind are
replaced by sqltrees.fallback's (block: the block message; other gates: no rows; last_good ones
read the versions table, kept with the types they had, and are replaced only if even that fails).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlglot import exp

from slocompile import checks as registry
from slocompile.checks.base import EvalContext
from slocompile.checks.evaluate import FAIL, PASS, WARN, Result
from slocompile.checks.table_slos import TYPE_FAMILIES, type_compatible
from slocompile.compiling.viewcache import ViewCache
from slocompile.declarations import fixes
from slocompile.dialects.nodes import col, lit
from slocompile.dialects.render import render
from slocompile.engines.base import Engine, QueryFailed, RelationUnreadable
from slocompile.errors import Problem, SpecError, did_you_mean
from slocompile.spec.model import ProjectSpec, Schemas, TableSpec
from slocompile.sqltrees import fallback, meta, views
from slocompile.sqltrees.versions import VERSION_COLUMN, versions_table
from slocompile.sqltrees.views import VIOLATIONS, view_name

IMPLIED = "schema"  # the name of the implied schema check (when the table declares none)
IMPLIED_EXPECTED = "the columns the checks, fixes and monitors use, with their declared types"
FAMILIES = ("integer", "number", "string", "boolean", "date", "timestamp")
BLOCKED = "is blocked by failed SLOs"  # a block view's own message: the query bound


@dataclass
class Found:
    """What the catalog says about one table's relation at the start of a build."""

    actual: list[tuple[str, str]] | None      # the relation's (name, type); None: it does not exist
    recorded: list[tuple[str, str]] | None    # the columns its views had at the previous build
    problems: list[str] = field(default_factory=list)       # drift, for the schema check's message
    reasons: dict[str, str] = field(default_factory=dict)   # drifted column -> why (for the checks using it)
    whole: str | None = None                  # why nothing can be measured (relation, partition or key gone)
    implied_failed: bool = False              # the previous build failed the implied schema check

    @property
    def drifted(self) -> bool:
        return bool(self.problems)

    def add(self, column: str | None, problem: str, reason: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)
        if column is not None:
            self.reasons.setdefault(column, reason)


def declared_schema(table: TableSpec):
    return next((c for c in table.checks if c.type == "schema"), None)


def implied_name(table: TableSpec) -> str:
    taken = {c.name for c in table.checks}
    return IMPLIED if IMPLIED not in taken else "_" + IMPLIED


def check_columns(check) -> list[str]:
    """The relation's columns a check reads: its own, those of its SQL fields and of its `where`."""
    cols = list(registry.get(check.type).referenced_columns(check)) if check.type != "schema" else []
    if check.where is not None:
        cols += [c.name for c in check.where.find_all(exp.Column)]
    return list(dict.fromkeys(cols))


def used_columns(table: TableSpec) -> list[str]:
    """Every column the table's checks, fixes, monitors, partition and key use, in a stable order."""
    cols: list[str] = [c for c in (table.partition, *table.key) if c]
    for check in table.checks:
        cols += check_columns(check)
    for c in table.columns:
        if c.fixes:
            cols.append(c.name)
            for f in c.fixes:
                cols += f.referenced_columns()
    if table.monitor is not None and table.monitor.columns is not None:
        cols += list(table.monitor.columns)
    return list(dict.fromkeys(cols))


def family(type_name: str) -> str:
    """number (integers too), string, boolean, date, timestamp, or the type's own base name."""
    base = type_name.lower().split("(")[0].strip()
    for fam in FAMILIES:
        if base in TYPE_FAMILIES[fam]:
            return "number" if fam == "integer" else fam
    return base


# ------------------------------------------------------------------ reading the catalog

def inspect(engine: Engine, project: ProjectSpec, tables: list[TableSpec]) -> dict[str, Found]:
    """The catalog's view of every table; raises SpecError for declaration problems (unreadable
    relations; missing relations and columns on a table's first build)."""
    s = project.schemas
    built = _names(engine, exp.select(col("table_name")).distinct().from_(meta.table(s, "status"), copy=False),
                   tables)
    implied = _names(engine, exp.select(col("table_name")).from_(meta.table(s, "check_status"), copy=False).where(
        exp.and_(exp.EQ(this=col("check_name"), expression=lit(IMPLIED)), exp.Is(this=col("partition"),
                 expression=exp.Null()), exp.In(this=col("status"), expressions=[lit(FAIL), lit("error")])),
        copy=False), [t for t in tables if declared_schema(t) is None])
    problems: list[Problem] = []
    out = {}
    # every relation and view at once where the engine reads them in one catalog query
    read = engine.columns_of([t.relation for t in tables] + [view_name(s.quarantine, t) for t in tables])
    for i, table in enumerate(tables):
        try:
            actual = engine.columns(table.relation) if read is None else read[i]
        except RelationUnreadable as e:  # Postgres: exists, but the role may not read it
            problems.append(Problem(table.loc, f"table '{table.name}': {e}"))
            continue
        recorded = _recorded(_view_columns(engine, s, table) if read is None else read[len(tables) + i])
        found = Found(actual, recorded, implied_failed=table.name in implied and declared_schema(table) is None)
        was_built = table.name in built or recorded is not None
        if actual is None and not was_built:
            problems.append(Problem(table.loc, f"table '{table.name}': relation {table.relation_text} does not exist"))
            continue
        if was_built or declared_schema(table) is not None:
            _drift(table, found, engine.dialect)
        else:
            first = _declaration_problems(table, actual, engine.dialect)
            problems += first
            if not first:
                _types(table, found)
        out[table.name] = found
    if problems:
        raise SpecError(problems)
    return out


def _names(engine: Engine, select: exp.Select, tables: list[TableSpec]) -> set[str]:
    if not tables:
        return set()
    select = select.where(exp.In(this=col("table_name"), expressions=[lit(t.name) for t in tables]), copy=False)
    return {r[0] for r in engine.query(render(select, engine.dialect))}


def _view_columns(engine: Engine, s: Schemas, table: TableSpec) -> list[tuple[str, str]] | None:
    """The columns of the table's quarantine view (None: none, or one that no longer binds)."""
    try:
        return engine.columns(view_name(s.quarantine, table))
    except (QueryFailed, RelationUnreadable):  # Spark re-reads a view's query: one that no longer binds
        return None


def _recorded(view: list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
    """The relation's columns when the table's views were last created, from the quarantine
    view's columns (None: no views yet)."""
    if view is None:
        return None
    return [(n, t) for n, t in view if n not in (VIOLATIONS, VERSION_COLUMN)]


def _monitor_problems(table: TableSpec, catalog: list, dialect: str) -> list[tuple]:
    """run.monitor_tables.missing_columns for a monitored table, else nothing. Imported here: the
    monitors bring NumPy, which a build that monitors nothing never needs."""
    if table.monitor is None:
        return []
    from slocompile.run.monitor_tables import missing_columns

    return missing_columns(table, catalog, dialect)


def _declaration_problems(table: TableSpec, actual, dialect: str) -> list[Problem]:
    """First build, no schema check: a column the declaration names but the relation lacks is a
    mistake in the declaration (with a did-you-mean)."""
    names = {n for n, _ in actual}
    problems = [Problem(loc, msg) for loc, msg in fixes.missing_columns(table, names)]
    problems += [Problem(loc, msg) for loc, msg in _monitor_problems(table, actual, dialect)]
    for c in table.checks:
        refs = registry.get(c.type).referenced_columns(c) if c.type != "schema" else []
        for name in [r for r in refs if r not in names]:
            problems.append(Problem(c.loc, f"table '{table.name}', check '{c.name}': column '{name}' is not "
                                    f"in {table.relation_text}{did_you_mean(name, names)}"))
    for key in [table.partition, *table.key]:
        if key and key not in names:
            problems.append(Problem(table.loc, f"table '{table.name}': column '{key}' is not in "
                                    f"{table.relation_text}{did_you_mean(key, names)}"))
    return problems


def _drift(table: TableSpec, found: Found, dialect: str) -> None:
    rel = table.relation_text
    if found.actual is None:
        found.whole = f"relation {rel} does not exist"
        found.add(None, found.whole, found.whole)
        return
    names = [n for n, _ in found.actual]
    for name in used_columns(table):
        if name not in names:
            found.add(name, f"{name} is missing{did_you_mean(name, names)}", f"column {name} is not in {rel}")
    if table.monitor is not None and table.monitor.columns is not None:  # monitors profile only some types
        types = dict(found.actual)
        for name in [c for c in table.monitor.columns if c in types]:
            alone = replace(table, monitor=replace(table.monitor, columns=(name,)))
            if _monitor_problems(alone, found.actual, dialect):
                what = f"{name} is {types[name]}, a type monitors do not profile"
                found.add(name, what, "column " + what)
    _types(table, found)
    for key in [table.partition, *table.key]:
        if key and key in found.reasons:
            kind = "partition" if key == table.partition else "key"
            found.whole = f"{kind} column {found.reasons[key][len('column '):]}"
            break


def _types(table: TableSpec, found: Found) -> None:
    """Columns in use whose type left the declared one (or the recorded family)."""
    types = dict(found.actual or [])
    recorded = dict(found.recorded or [])
    for name in used_columns(table):
        if name not in types or name in found.reasons:
            continue
        spec = table.column(name)
        declared = spec.type if spec is not None else None
        if declared:
            if not type_compatible(declared, types[name]):
                found.add(name, f"{name} is {types[name]}, declared {declared}",
                          f"column {name} is {types[name]}, declared {declared}")
        elif name in recorded and family(recorded[name]) != family(types[name]):
            found.add(name, f"{name} was {recorded[name]} at the previous build, is {types[name]} now (declare "
                      "its `type:` to accept the change)", f"column {name} was {recorded[name]}, is {types[name]} now")


# ------------------------------------------------------------------ results

def results(table: TableSpec, found: Found, ctx: EvalContext) -> list[Result]:
    """A drifted table's results: its schema check and every check that uses a drifted column (all
    of them when the relation, partition or key is gone), failed, for the whole table."""
    out = [schema_result(table, found, ctx)]
    for check in table.checks:
        if check.type == "schema":
            continue
        why = [found.reasons[c] for c in check_columns(check) if c in found.reasons]
        why = why or ([found.whole] if found.whole else [])
        if not why:
            continue
        out.append(Result(table.name, check.name, check.type, check.column, None,
                          FAIL if check.severity == "error" else WARN, check.severity, None, "",
                          "not measured: " + "; ".join(dict.fromkeys(why))))
    return out


def schema_result(table: TableSpec, found: Found, ctx: EvalContext, extra: tuple[str, ...] = ()) -> Result:
    """The table's schema check, failed with the drift problems (merged with what the declared
    check itself finds in the catalog)."""
    declared = declared_schema(table)
    problems = list(found.problems) + [p for p in extra if p not in found.problems]
    if declared is None:
        name, severity, expected = implied_name(table), "error", IMPLIED_EXPECTED
    else:
        name, severity = declared.name, declared.severity
        outcome = registry.get("schema").evaluate(declared, [found.actual or []], ctx)
        expected = outcome.expected
        if not outcome.passed and found.actual is not None:
            own = outcome.message.split("; ")
            problems = own + [p for p in problems if p not in own]
    return Result(table.name, name, "schema", None, None, FAIL if severity == "error" else WARN, severity,
                  len(problems), expected, "; ".join(problems))


def recovered(table: TableSpec, found: Found) -> list[Result]:
    """The implied schema check passes again (reported once, so that triggers see the recovery)."""
    if not found.implied_failed or found.drifted:
        return []
    n = len([c for c in used_columns(table) if c in dict(found.actual or [])])
    return [Result(table.name, implied_name(table), "schema", None, None, PASS, "error", 0, IMPLIED_EXPECTED,
                   f"{n} columns in use are there with their types")]


def fail_schema(table: TableSpec, found: Found, results_: list[Result], problem: str, ctx: EvalContext) -> None:
    """Fail the table's schema result with `problem` added (a failed implied one if it has none)."""
    failed = schema_result(table, found, ctx, (problem,))
    for i, r in enumerate(results_):
        if r.check_type == "schema" and r.partition is None:
            results_[i] = failed
            return
    results_.insert(0, failed)


# ------------------------------------------------------------------ views

def settle_views(engine: Engine, project: ProjectSpec, compiled, found: Found,
                 cache: ViewCache | None = None) -> str | None:
    """Bind the table's compiled views (when its columns differ from the recorded ones); if they do
    not bind, put fallback views in their place in `compiled`. Returns the engine's error, or None.
    `cache`: the views rendered by earlier builds, which keeps the probes too."""
    table = compiled.table
    if not found.drifted and found.recorded is not None and found.recorded == found.actual:
        return None  # the same columns the views bound to at the previous build
    s = project.schemas
    error = None
    for probe in _probes(engine.dialect, s, table, cache):
        error = error or _probe_error(engine, probe)
    if error is None:
        return None
    columns, recorded = _fallback_columns(engine, s, table, found)
    kept = [c for c in columns if c[0] in recorded]
    validated, quarantine = fallback.validated_view(s, table, columns), fallback.quarantine_view(s, table, kept)
    if _bind_error(engine, validated) or _bind_error(engine, quarantine):  # a type the engine does not take
        columns = [(n, fallback.data_type(None, engine.dialect)) for n, _ in columns]
        validated, quarantine = fallback.validated_view(s, table, columns), fallback.quarantine_view(s, table, [])
    compiled.validated_view = render(validated, engine.dialect, pretty=True)
    compiled.quarantine_view = render(quarantine, engine.dialect, pretty=True)
    return error


def _probes(dialect: str, s: Schemas, table: TableSpec, cache: ViewCache | None) -> list[str]:
    """The probes of the table's validated and quarantine views: rendered once for the inputs the
    views are rendered from (their cache key), as the views themselves are."""
    def make() -> list[str]:
        return [render(fallback.probe(tree), dialect) for tree in (views.validated_view(s, table),
                                                                   views.quarantine_view(s, table))]
    return cache.probes(table, s, dialect, make) if cache is not None else make()


def _bind_error(engine: Engine, view: exp.Create) -> str | None:
    return _probe_error(engine, render(fallback.probe(view), engine.dialect))


def _probe_error(engine: Engine, probe: str) -> str | None:
    try:
        engine.query(probe)
    except QueryFailed as e:
        text = str(e)
        return None if BLOCKED in text else (text.splitlines()[0][:300] if text else "query failed")
    return None


def _fallback_columns(engine: Engine, s: Schemas, table: TableSpec, found: Found):
    """The columns the views had (recorded), else the relation's, else the declared ones; and the
    names whose type is real. The quarantine view lists only those: it is what the next build reads
    as the types recorded at this one, and an undeclared column of a relation that is gone has none."""
    d = engine.dialect
    known: list[tuple[str, str]] | None = None
    if table.gate == "last_good":
        known = [(n, t) for n, t in engine.columns(versions_table(s, table.name)) or [] if n != VERSION_COLUMN]
    known = known or found.recorded or found.actual
    if known:
        return [(n, fallback.data_type(t, d)) for n, t in known], {n for n, _ in known}
    names = [(c.name, c.type) for c in table.columns]
    names += [(c, None) for c in (table.partition, *table.key) if c and c not in {n for n, _ in names}]
    return [(n, fallback.data_type(t, d, declared=True)) for n, t in names], {n for n, t in names if t}
