"""Failed-row samples: read after a table is judged, stored with the run, shown by `show --failures`.

For each check that has rows (sqltrees.failures.keeps_rows) and failed (or warned) in this build,
one query reads up to `failed_rows` offending rows (the check's setting, else the project's; 0: off)
of the partitions it failed on. Passing checks cost nothing; the queries of a table's failing checks
that return the same columns go to the engine as one (a UNION ALL of up to BATCH). Values are stored
as JSON, every configured secret redacted (support.secrets), in the meta table `failed_rows`.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlglot import exp

from slocompile.checks.evaluate import FAIL, WARN, Result
from slocompile.checks.segments import OTHER
from slocompile.dialects.render import render
from slocompile.engines.base import Engine, QueryFailed
from slocompile.spec.model import CheckSpec, ProjectSpec, TableSpec
from slocompile.sqltrees import meta
from slocompile.sqltrees.failures import (
    SEGMENT_ALIAS,
    SegmentsFailed,
    batched,
    is_query,
    keeps_rows,
    sample_columns,
    sample_sql,
)
from slocompile.sqltrees.fragments import Fragments
from slocompile.sqltrees.scans import PARTITION_ALIAS, ROWS_ALIAS
from slocompile.support.secrets import redact


@dataclass
class Samples:
    """The sampled rows of one failing check: each row's columns and values, and its partition."""
    check: str
    rows: list[tuple[str | None, dict[str, Any]]]
    error: str | None = None  # the sample query failed (the check's result stands)

    def as_list(self) -> list[dict[str, Any]]:
        return [{"partition": p, "values": v} for p, v in self.rows]


def limit_of(project: ProjectSpec, check: CheckSpec) -> int:
    """How many rows to keep for `check`: its `failed_rows`, else the project's."""
    n = check.params.get("failed_rows")
    return project.failed_rows if n is None else int(n)


BATCH = 50  # sample queries of one shape per UNION ALL (a bound on the statement's size)


def collect(engine: Engine, project: ProjectSpec, table: TableSpec, checks: list[CheckSpec],
            results: list[Result]) -> dict[str, Samples]:
    """check name -> its samples, for the checks of `table` that failed or warned in `results`.
    Sample queries with the same output columns go to the engine together (sqltrees.failures.batched);
    a batch the engine refuses is asked again one query at a time, so one bad query costs only its check."""
    failing: dict[str, list[str | None]] = {}
    for r in results:
        if r.status in (FAIL, WARN) and r.table == table.name:
            failing.setdefault(r.check, []).append(r.partition)
    segments = _segments_failed([r for r in results if r.table == table.name and r.check in failing])
    out: dict[str, Samples] = {}
    shapes: dict[tuple[str, ...], list[tuple[CheckSpec, exp.Select]]] = {}
    # the partition's label and filter recur in the table's samples: rendered once (as _sql renders)
    fragments = Fragments(lambda tree: render(tree, engine.dialect, copy=False))
    for check in checks:
        n = limit_of(project, check)
        if check.name not in failing or n <= 0 or not keeps_rows(check):
            continue
        parts = failing[check.name]
        labels = None if None in parts or table.partition is None else sorted({p for p in parts if p is not None})
        tree = sample_sql(table, check, labels, n, segments.get(check.name), fragments)
        if is_query(check):  # the user's own columns: asked alone
            out[check.name] = _alone(engine, table, check, tree)
        else:
            shapes.setdefault(tuple(_names(engine, table, check, tree, [])), []).append((check, tree))
    for shape, queries in shapes.items():
        for at in range(0, len(queries), BATCH):
            chunk = queries[at:at + BATCH]
            if len(chunk) == 1:
                out[chunk[0][0].name] = _alone(engine, table, *chunk[0])
                continue
            try:
                rows = engine.query(_sql(engine, batched([tree for _, tree in chunk], len(shape))))
            except QueryFailed:
                for check, tree in chunk:
                    out[check.name] = _alone(engine, table, check, tree)
                continue
            answers: list[list] = [[] for _ in chunk]
            for row in rows:
                answers[int(row[0])].append(row[1:])
            for (check, _), found in zip(chunk, answers):
                out[check.name] = _samples(check, list(shape), found)
    for name, by_partition in segments.items():  # a pooled row is sampled as the segment that failed
        for p, values in out[name].rows if name in out else ():
            if values.get(SEGMENT_ALIAS) not in by_partition.get(p, ([], False, []))[2]:
                values[SEGMENT_ALIAS] = OTHER
    return {c.name: out[c.name] for c in checks if c.name in out}  # in the checks' order


def _segments_failed(results: list[Result]) -> dict[str, SegmentsFailed]:
    """check name -> what sqltrees.failures.sample_sql needs to sample the failed segments only,
    for the checks judged per segment (group_by)."""
    out: dict[str, SegmentsFailed] = {}
    for r in results:
        if r.segment is None:
            continue
        named, pooled, apart = out.setdefault(r.check, {}).setdefault(r.partition, ([], False, []))
        if r.segment != OTHER:
            apart.append(r.segment)
        if r.status in (FAIL, WARN):
            if r.segment == OTHER:
                out[r.check][r.partition] = (named, True, apart)
            else:
                named.append(r.segment)
    return {check: {p: v for p, v in by.items() if v[0] or v[1]} for check, by in out.items()}


def _alone(engine: Engine, table: TableSpec, check: CheckSpec, tree: exp.Select) -> Samples:
    """The samples of one check, from its own query."""
    try:
        rows = engine.query(_sql(engine, tree))
    except QueryFailed as e:
        return Samples(check.name, [], redact(str(e).splitlines()[0][:300] if str(e) else "failed"))
    return _samples(check, _names(engine, table, check, tree, rows), rows)


def _sql(engine: Engine, tree: exp.Expr) -> str:
    """One private copy to render in place (render's copy=True copies twice where it lowers nodes): a
    sample query holds nodes of the check's declaration."""
    return render(tree.copy(), engine.dialect, copy=False)


def _samples(check: CheckSpec, names: list[str], rows: list) -> Samples:
    samples = Samples(check.name, [])
    for row in rows:
        values = {name: _plain(v) for name, v in zip(names, row)}
        partition = values.pop(PARTITION_ALIAS, None) if not is_query(check) else None  # redacted text
        samples.rows.append((partition, values))
    return samples


def _names(engine: Engine, table: TableSpec, check: CheckSpec, tree: exp.Select, rows: list) -> list[str]:
    """The output column names of a sample query, in order."""
    if not is_query(check):
        names = ([PARTITION_ALIAS] if table.partition is not None else []) + sample_columns(table, check)
        segmented = any(isinstance(e, exp.Alias) and e.alias == SEGMENT_ALIAS for e in tree.expressions)
        return names + ([ROWS_ALIAS] if check.type == "unique" else []) + ([SEGMENT_ALIAS] if segmented else [])
    query = check.params["query"]
    names = []
    for s in query.selects if isinstance(query, exp.Query) else []:
        if isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star)):
            names += _star(engine, query, s.table if isinstance(s, exp.Column) else None)
        else:
            names.append(s.alias_or_name)
    width = len(rows[0]) if rows else len(names)
    return names if len(names) == width and all(names) else [f"column_{i}" for i in range(1, width + 1)]


def _star(engine: Engine, query: exp.Expression, qualifier: str | None) -> list[str]:
    """The columns a * of `query` stands for: the columns of the relations it reads (from the
    catalog); [] when one of them is not a relation the catalog knows (a CTE, a subquery)."""
    sources = [query.args["from_"].this] if isinstance(query, exp.Select) and query.args.get("from_") else []
    sources += [j.this for j in (query.args.get("joins") or [])]
    ctes = {c.alias_or_name: c.this for c in (query.args.get("with_") or query.args.get("with") or exp.With())
            .expressions} if isinstance(query, exp.Query) else {}
    out: list[str] = []
    for src in sources:
        if not isinstance(src, exp.Table) or (qualifier and qualifier not in (src.alias_or_name, src.name)):
            if qualifier:
                continue
            return []
        cte = ctes.get(src.name) if src.args.get("db") is None else None
        if cte is not None:  # a CTE's columns are the names its own SELECT gives them
            names = [e.alias_or_name for e in cte.selects]
            if not names or any(n == "*" or not n for n in names):
                return []
            out += names
            continue
        found = engine.columns(exp.Table(this=src.this.copy(), db=src.args.get("db"), catalog=src.args.get("catalog")))
        if not found:
            return []
        out += [name for name, _ in found]
    return out


def _plain(v: Any) -> Any:
    """A JSON value that reads the same from every engine (secrets in text redacted)."""
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return None
        return int(v) if v.is_integer() and abs(v) < 1e15 else v
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if v is None or isinstance(v, (bool, int)):
        return v
    return redact(str(v))


def meta_rows(run_id: str, tables: list, now: dt.datetime | None) -> list[tuple]:
    """The `failed_rows` rows of a build's TableRuns."""
    return [(run_id, tr.table.name, s.check, partition, i, json.dumps(values), now)
            for tr in tables for s in tr.failures.values() for i, (partition, values) in enumerate(s.rows, 1)]


def read(engine: Engine, project: ProjectSpec, table: str, check: str | None = None) -> tuple[str | None, list[dict]]:
    """(the latest run that judged `table`, its samples: check, partition, row_number, values)."""
    from slocompile.dialects.nodes import col, lit

    s = project.schemas
    has_table = exp.EQ(this=col("table_name"), expression=lit(table))
    latest = (exp.select(col("run_id")).from_(meta.table(s, "results"), copy=False).where(has_table.copy(), copy=False)
              .order_by(exp.Ordered(this=col("checked_at"), desc=True), copy=False).limit(1, copy=False))
    found = engine.query(render(latest, engine.dialect))
    if not found:
        return None, []
    run_id = found[0][0]
    cond = exp.and_(has_table, exp.EQ(this=col("run_id"), expression=lit(run_id)))
    if check is not None:
        cond = exp.and_(cond, exp.EQ(this=col("check_name"), expression=lit(check)))
    q = (exp.select(col("check_name"), col("partition"), col("row_number"), col("row_values"))
         .from_(meta.table(s, "failed_rows"), copy=False).where(cond, copy=False)
         .order_by(col("check_name"), col("row_number"), copy=False))
    return run_id, [{"check": c, "partition": p, "row_number": int(n), "values": json.loads(v)}
                    for c, p, n, v in engine.query(render(q, engine.dialect))]


def format_samples(table: str, run_id: str | None, rows: list[dict], check: str | None = None) -> str:
    """The text `slocompile show TABLE --failures [CHECK]` prints."""
    if run_id is None:
        return f"table {table} has no build yet: run `slocompile build`"
    if not rows:
        which = f"check {check} of " if check else ""
        return f"{which}table {table}: no failed rows in run {run_id}"
    out: list[str] = []
    current = None
    for r in rows:
        if r["check"] != current:
            current = r["check"]
            n = sum(1 for x in rows if x["check"] == current)
            out.append(f"{'' if not out else chr(10)}-- {table}.{current}: {n} failed row{'s' * (n != 1)} "
                       f"(run {run_id})")
        where = f"[{r['partition']}] " if r["partition"] is not None else ""
        out.append(f"  {where}" + ", ".join(f"{k}={json.dumps(v)}" for k, v in r["values"].items()))
    return "\n".join(out)
