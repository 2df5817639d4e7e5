"""Write-audit-publish for `gate: last_good`.

Design (one versions table per table, published by a status row, no DDL at publish time):

- **write**: the build copies the new data into `<versions schema>.<table>` (default
  `slo_versions`), tagged with a new version number in the column `_slo_version`: the whole
  relation when unpartitioned, else the partitions the build checks (new, failing, changed or
  named by --partition). `<meta>.versions` gets one row per (version, partition), `pending`.
- **audit**: the checks run on a staging view holding exactly what the validated view would serve
  if the new version were published: the new version's partitions, plus the published version of
  every other partition (so whole-table SLOs such as freshness judge the data consumers would see).
- **publish**: in the build's one commit (with results, statuses and views), each new partition
  that passed (and whose whole-table SLOs passed) becomes the published version of its partition in
  `<meta>.published`; a version that failed stays unpublished and the view keeps serving the last
  good one. The validated view selects, per partition, the rows of the published version, so
  publishing is one transactional row change on every engine; readers see the old or the new
  version, never a mix. Old versions beyond `keep` per partition are deleted in the same commit
  (the published one is always kept).

A build that dies leaves its version `pending`: invisible to the views, deleted by the next build.
`slocompile rollback TABLE [--to VERSION]` points partitions back at an earlier passing version.

This module runs the steps against an engine; the SQL trees they (and the validated view) use are
in sqltrees/versions.py.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlglot import exp

from slocompile.checks.evaluate import partition_statuses
from slocompile.dialects.nodes import and_all, col, lit
from slocompile.dialects.render import render
from slocompile.engines.base import QueryFailed
from slocompile.errors import SlocompileError, did_you_mean
from slocompile.run.selection import fingerprint, partitions_to_check
from slocompile.spec.model import ProjectSpec, Schemas, TableSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees.scans import partition_in, partition_text
from slocompile.sqltrees.versions import (
    ALIAS,
    VERSION_COLUMN,
    audit_select,
    audit_view,
    eq_partition,
    eq_table,
    eq_version,
    ident,
    partition_of,
    point_partition,
    qcol,
    versions_source,
    versions_table,
)
from slocompile.support.testhooks import pause

DEFAULT_KEEP = 3
PENDING, PASS, FAIL = "pending", "pass", "fail"


@dataclass
class Staged:
    """What a build wrote for one last_good table."""

    table: str
    version: int | None                  # None: nothing new to stage (no new partitions)
    partitions: dict = field(default_factory=dict)  # partition text (None: unpartitioned) -> rows
    columns: tuple[str, ...] = ()
    decided: dict = field(default_factory=dict)     # partition -> failed checks (empty: published)
    previous: dict = field(default_factory=dict)    # partition -> version served before this build


# ------------------------------------------------------------------ build: write and audit

def stage(engine, project: ProjectSpec, tables: list[TableSpec], sel, run) -> list[TableSpec]:
    """Write a new version of every last_good table and point its checks at the audit view.

    Returns the tables to check (last_good ones with their relation replaced by the audit view);
    records what was staged in `run.staged`."""
    if not any(t.gate == "last_good" for t in tables):
        return tables
    s = project.schemas
    dialect = engine.dialect
    engine.execute(render(meta.create_schema(s.versions), dialect))
    out = []
    for table in tables:
        if table.gate != "last_good":
            out.append(table)
            continue
        raw_cols = engine.columns(table.relation)
        names = [n for n, _ in raw_cols or ()]
        if raw_cols is None or (table.partition and table.partition not in names):
            out.append(table)  # reported as a declaration problem by the build's catalog check
            continue
        if VERSION_COLUMN in names:
            raise SlocompileError(f"table '{table.name}': {table.relation_text} has a column named {VERSION_COLUMN}, "
                                  "which gate last_good uses for its version numbers")
        _ensure_versions_table(engine, s, table, raw_cols)
        next_version = _cleanup_pending(engine, s, table)
        if table.partition:
            parts = partitions_to_check(engine, project, table, fingerprint(table), sel)
        else:
            parts = None
        staged = _write_version(engine, s, table, names, next_version, parts, run)
        run.staged[table.name] = staged
        engine.execute(render(exp.Create(kind="VIEW", replace=True, this=audit_view(s, table.name),
                                         expression=audit_select(s, table, names, staged.version)), dialect))
        out.append(replace(table, relation=audit_view(s, table.name)))
    pause("staged")
    return out


def _ensure_versions_table(engine, s: Schemas, table: TableSpec, raw_cols) -> None:
    target = versions_table(s, table.name)
    have = engine.columns(target)
    if have is None:
        select = exp.Select(expressions=[exp.Star(), exp.alias_(exp.cast(exp.Null(), exp.DataType.Type.INT),
                                                                VERSION_COLUMN, quoted=True)])
        select = select.from_(table.relation.copy(), copy=False).where(exp.false(), copy=False)
        engine.execute(render(exp.Create(kind="TABLE", this=target, expression=select), engine.dialect))
        return
    known = {n: t for n, t in have}
    name_sql = render(target, engine.dialect)
    for name, typ in raw_cols:  # the raw relation changed: follow it (older versions get NULL)
        quoted = render(ident(name), engine.dialect)
        if name not in known:
            engine.execute(f"ALTER TABLE {name_sql} ADD COLUMN {quoted} {typ}")
        elif known[name] != typ:
            # take the new type when the kept versions convert to it (a wider decimal, int -> text);
            # otherwise keep the old one and let the copy convert the new values (or fail, reported)
            try:
                engine.execute(f"ALTER TABLE {name_sql} ALTER COLUMN {quoted} TYPE {typ}")
            except QueryFailed:
                pass


def _rows(engine, tree) -> list[tuple]:
    return engine.query(render(tree, engine.dialect))


def _cleanup_pending(engine, s: Schemas, table: TableSpec) -> int:
    """Delete the versions a dead build left pending (data and meta rows); return the next version
    number. Numbers are never reused, also after a crash."""
    rows = _rows(engine, exp.select(col("version"), col("status")).from_(meta.table(s, "versions"), copy=False)
                 .where(eq_table(table.name), copy=False))
    recorded = max((v for v, st in rows if st != PENDING), default=0)
    data_max = _rows(engine, exp.select(exp.Max(this=col(VERSION_COLUMN))).from_(
        versions_table(s, table.name), copy=False))[0][0] or 0
    next_version = max(max((v for v, _ in rows), default=0), data_max) + 1
    stmts = []
    if data_max > recorded:  # a dead build's rows (its versions are newer than every finished one)
        stmts.append(exp.Delete(this=versions_table(s, table.name), where=exp.Where(
            this=exp.GT(this=col(VERSION_COLUMN), expression=exp.Literal.number(recorded)))))
    if any(st == PENDING for _, st in rows):
        stmts.append(exp.Delete(this=meta.table(s, "versions"), where=exp.Where(this=exp.And(
            this=eq_table(table.name), expression=exp.EQ(this=col("status"), expression=lit(PENDING))))))
    if stmts:
        _execute_all(engine, stmts)
    return next_version


def _execute_all(engine, stmts) -> None:
    with engine.transaction():
        for stmt in stmts:
            engine.execute(render(stmt, engine.dialect))


def _write_version(engine, s: Schemas, table: TableSpec, names: list[str], version: int, parts, run) -> Staged:
    """Copy the relation (or the partitions `parts`) into the versions table as `version`, with its
    pending meta rows, in one transaction."""
    if parts is not None and not parts:
        return Staged(table.name, None, {}, tuple(names))
    select = exp.Select(expressions=[col(n) for n in names] + [exp.Literal.number(version)]).from_(
        table.relation.copy(), copy=False)
    if parts is not None:
        select = select.where(partition_in(table, parts), copy=False)
    insert = exp.Insert(this=exp.Schema(this=versions_table(s, table.name),
                                        expressions=[ident(n) for n in names + [VERSION_COLUMN]]),
                        expression=select)
    pt = partition_of(table, ALIAS) if table.partition else exp.cast(exp.Null(), exp.DataType.Type.TEXT)
    counts = exp.Select(expressions=[pt, exp.Count(this=exp.Star())]).from_(
        versions_source(s, table), copy=False).where(
        exp.EQ(this=qcol(ALIAS, VERSION_COLUMN), expression=exp.Literal.number(version)), copy=False)
    if table.partition:
        counts = counts.group_by(pt.copy(), copy=False)
    now = run.started_at
    with engine.transaction():
        try:
            engine.execute(render(insert, engine.dialect))
        except QueryFailed as e:
            raise SlocompileError(f"table '{table.name}': could not copy {table.relation_text} into its versions "
                                  f"table {s.versions}.{table.name} (did a column change type?): {e}") from None
        rows = engine.query(render(counts, engine.dialect))
        staged = {p: int(n) for p, n in rows}
        if table.partition is None:
            staged = {None: sum(staged.values())}
        ordered = sorted(staged.items(), key=lambda kv: (kv[0] is None, kv[0]))
        for stmt in meta.insert(s, "versions", [(table.name, version, p, PENDING, None, n, run.run_id, now)
                                                for p, n in ordered]):
            engine.execute(render(stmt, engine.dialect))
    return Staged(table.name, version, staged, tuple(names))


# ------------------------------------------------------------------ build: publish

def statements(project: ProjectSpec, run, engine) -> list[exp.Expression]:
    """Statements for the build's commit: version statuses, the published pointers, retention."""
    s = project.schemas
    out: list[exp.Expression] = []
    now = run.finished_at
    for tr in run.tables:
        staged = run.staged.get(tr.table.name)
        if tr.table.gate != "last_good" or staged is None:
            continue
        table = tr.table
        out.append(exp.Drop(kind="VIEW", exists=True, tables=[audit_view(s, table.name)]))
        versions, published = _state(engine, s, table.name)
        staged.previous = dict(published)
        statuses = partition_statuses(tr.results)
        whole = statuses.get(None, []) if table.partition else []
        decided = {}
        if staged.version is not None:
            for p in staged.partitions:
                failed = list(dict.fromkeys(statuses.get(p, []) + whole))
                decided[p] = failed
                out.append(exp.Update(this=meta.table(s, "versions"), expressions=[
                    exp.EQ(this=col("status"), expression=lit(FAIL if failed else PASS)),
                    exp.EQ(this=col("failed_checks"), expression=lit(", ".join(failed)) if failed else exp.Null())],
                    where=exp.Where(this=and_all([eq_table(table.name), eq_version(staged.version),
                                                  eq_partition(p)]))))
                if not failed:
                    out += point_partition(s, table.name, p, staged.version, run.run_id, now)
        staged.decided = decided
        out += _retention(table, s, staged.version, decided, versions, published)
    return out


def summary_lines(run) -> list[tuple[str, str]]:
    """(status, text) per last_good table of the build, for the terminal."""
    out = []
    for name, st in getattr(run, "staged", {}).items():
        if st.version is None:
            continue
        view = f"{run.project.schemas.validated}.{name}"
        good = sorted((p for p, failed in st.decided.items() if not failed), key=lambda p: p or "")
        bad = sorted((p for p, failed in st.decided.items() if failed), key=lambda p: p or "")
        if None in st.decided:  # unpartitioned
            if good:
                out.append(("pass", f"{view}: published version {st.version}"))
            else:
                was = st.previous.get(None)
                keeps = f"keeps serving version {was}" if was is not None else "serves no version yet"
                out.append(("fail", f"{view}: version {st.version} failed its audit; the view {keeps}"))
            continue
        if good:
            out.append(("pass", f"{view}: published version {st.version} of {len(good)} partition"
                                f"{'s' if len(good) != 1 else ''}"))
        if bad:
            kept = [p for p in bad if p in st.previous]
            text = f"{view}: version {st.version} of {len(bad)} partition{'s' if len(bad) != 1 else ''} failed its " \
                   f"audit ({', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''})"
            if len(kept) == len(bad):
                text += "; the view keeps serving the last good version of " + ("each" if len(bad) > 1 else "it")
            elif kept:
                text += f"; the view keeps serving the last good version of {len(kept)}, the others are not served"
            else:
                text += "; not served"
            out.append(("fail", text))
    return out


def _state(engine, s: Schemas, table_name: str):
    """(versions: {partition: {version: status}}, published: {partition: version})."""
    versions: dict = {}
    for v, p, st in _rows(engine, exp.select(col("version"), col("partition"), col("status")).from_(
            meta.table(s, "versions"), copy=False).where(eq_table(table_name), copy=False)):
        versions.setdefault(p, {})[v] = st
    published = {p: v for p, v in _rows(engine, exp.select(col("partition"), col("version")).from_(
        meta.table(s, "published"), copy=False).where(eq_table(table_name), copy=False))}
    return versions, published


def _retention(table: TableSpec, s: Schemas, version, decided: dict, versions: dict, published: dict) -> list:
    """Delete the versions beyond `keep` per partition (never the published one)."""
    keep = table.keep or DEFAULT_KEEP
    published = dict(published)
    for p, failed in decided.items():
        versions.setdefault(p, {})[version] = FAIL if failed else PASS
        if not failed:
            published[p] = version
    doomed: dict[int, list] = {}
    for p, by_version in versions.items():
        newest = sorted(by_version, reverse=True)
        for v in newest[keep:]:
            if published.get(p) != v and by_version[v] != PENDING:
                doomed.setdefault(v, []).append(p)
    out = []
    for v, parts in sorted(doomed.items()):
        data: exp.Expression = exp.EQ(this=col(VERSION_COLUMN), expression=exp.Literal.number(v))
        rows = eq_version(v)
        if table.partition:
            real = [p for p in parts if p is not None]
            if not real:
                continue
            data = exp.And(this=data, expression=exp.In(this=partition_text(table), expressions=[lit(p) for p in real]))
            rows = exp.And(this=rows, expression=exp.In(this=col("partition"), expressions=[lit(p) for p in real]))
        out.append(exp.Delete(this=versions_table(s, table.name), where=exp.Where(this=data)))
        out.append(exp.Delete(this=meta.table(s, "versions"), where=exp.Where(this=exp.And(
            this=eq_table(table.name), expression=rows))))
    return out


# ------------------------------------------------------------------ rollback and listing

def _last_good(project: ProjectSpec, name: str) -> TableSpec:
    table = project.table(name)
    if table is None:
        raise SlocompileError(f"unknown table '{name}'{did_you_mean(name, [t.name for t in project.tables])}")
    if table.gate != "last_good":
        raise SlocompileError(f"table '{name}' has gate {table.gate}; only gate last_good tables have versions")
    return table


def list_versions(project: ProjectSpec, engine, name: str) -> list[dict]:
    """Every kept version of a last_good table: version, partition, status, rows, published."""
    table = _last_good(project, name)
    s = project.schemas
    _require_meta(engine, s)
    _, published = _state(engine, s, table.name)
    rows = _rows(engine, exp.select(col("version"), col("partition"), col("status"), col("failed_checks"),
                                    col("row_count"), col("created_at")).from_(meta.table(s, "versions"), copy=False)
                 .where(eq_table(table.name), copy=False))
    out = [{"version": v, "partition": p, "status": st, "failed_checks": f, "rows": n, "created_at": at,
            "published": published.get(p) == v} for v, p, st, f, n, at in rows]
    return sorted(out, key=lambda r: (r["version"], r["partition"] or ""))


def _require_meta(engine, s: Schemas) -> None:
    if engine.columns(meta.table(s, "published")) is None:
        raise SlocompileError(f"no {s.meta}.published table on this target: run `slocompile build` first")


def rollback(project: ProjectSpec, engine, name: str, to: int | None = None, now=None) -> dict:
    """Point the table's partitions back at an earlier version that passed.

    With `to`: every partition that version holds and passed in serves it. Without: the partitions
    serving the most recently published version go back to their previous passing version (or, if
    they have none left, stop being served). Returns {partition: (old, new)}."""
    table = _last_good(project, name)
    s = project.schemas
    _require_meta(engine, s)
    versions, published = _state(engine, s, table.name)
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    changes: dict = {}
    if to is not None:
        held = {p: by_v[to] for p, by_v in versions.items() if to in by_v}
        if not held:
            kept = sorted({v for by_v in versions.values() for v in by_v})
            raise SlocompileError(f"table '{name}' has no version {to}; kept versions: "
                                  f"{', '.join(map(str, kept)) or 'none'}")
        passing = [p for p, st in held.items() if st == PASS]
        if not passing:
            raise SlocompileError(f"version {to} of table '{name}' did not pass its SLOs "
                                  f"({', '.join(sorted(set(held.values())))}); only passing versions can be published")
        for p in passing:
            changes[p] = (published.get(p), to)
    else:
        if not published:
            raise SlocompileError(f"table '{name}' has no published version to roll back")
        latest = max(published.values())
        for p, v in published.items():
            if v != latest:
                continue
            earlier = sorted((x for x, st in versions.get(p, {}).items() if x < v and st == PASS), reverse=True)
            changes[p] = (v, earlier[0] if earlier else None)
        if table.partition is None and changes.get(None, (None, None))[1] is None:
            raise SlocompileError(f"table '{name}' has no earlier passing version than {latest} left "
                                  f"(keep: {table.keep or DEFAULT_KEEP})")
    stmts = []
    run_id = "rollback"
    for p, (_, new) in changes.items():
        if new is None:
            stmts.append(exp.Delete(this=meta.table(s, "published"), where=exp.Where(
                this=exp.And(this=eq_table(table.name), expression=eq_partition(p)))))
        else:
            stmts += point_partition(s, table.name, p, new, run_id, now)
    with engine.transaction():
        for stmt in stmts:
            engine.execute(render(stmt, engine.dialect))
    return changes
