"""`slocompile accept TABLE [COLUMN] [--metric M] --from PARTITION --reason WHY`: a monitored change
declared intended.

An acceptance is a row of `<meta>.monitor_acceptances` (who, when, why), in the warehouse, so
every build and every `backtest` reads it: from that partition on, the new level of the metric (or
of every metric of the column, or of the table) is the baseline, the affected partitions count as
clean, and the open incident it explains recovers at the next build (which re-checks the failing
partitions). Builds and backtests judge with the same acceptances, so they agree.
"""
from __future__ import annotations

import datetime as dt
import getpass

from sqlglot import exp

from slocompile.dialects.nodes import col, lit
from slocompile.dialects.render import render
from slocompile.dialects.rules import duckdb_type
from slocompile.engines.base import QueryFailed
from slocompile.errors import SlocompileError, did_you_mean
from slocompile.monitors import METRICS
from slocompile.monitors.history import Acceptance
from slocompile.monitors.profile import parse_partition, partition_text
from slocompile.sqltrees import meta

COLUMNS = [c for c, _ in meta.TABLES["monitor_acceptances"]]


def load(engine, schemas, table: str) -> list:
    """The table's acceptances (monitors.history.Acceptance), oldest first; none before the first."""
    q = exp.select(*(col(c) for c in COLUMNS)).from_(meta.table(schemas, "monitor_acceptances"), copy=False).where(
        exp.EQ(this=col("table_name"), expression=lit(table)), copy=False)
    if engine.columns(meta.table(schemas, "monitor_acceptances")) is None:
        return []
    try:
        rows = engine.query(render(q, engine.dialect, copy=False))
    except QueryFailed:
        return []
    out = [Acceptance(c, m, str(p), r or "", by or "", str(at or "")) for _t, c, m, p, r, by, at in rows]
    return sorted(out, key=lambda a: (a.at, a.start))


def accept(engine, spec, table_name: str, column: str | None, metric: str | None, start: str, reason: str,
           who: str | None = None) -> dict:
    """Validate and record one acceptance; returns it as a dict."""
    tables = {t.name: t for t in spec.tables}
    table = tables.get(table_name)
    if table is None:
        raise SlocompileError(f"accept: no table '{table_name}' is declared{did_you_mean(table_name, tables)}")
    if table.monitor is None or not table.partition:
        raise SlocompileError(f"accept: table '{table_name}' has no monitors (declare `partition:` and `monitor:`)")
    if not (reason or "").strip():
        raise SlocompileError("accept: --reason is required: say why the change is intended (it is recorded and "
                              "shown in the report)")
    if metric is not None and metric not in METRICS:
        raise SlocompileError(f"accept: --metric '{metric}' is no monitor metric{did_you_mean(metric, METRICS)} "
                              f"(one of {', '.join(sorted(METRICS))})")
    catalog = [(n, duckdb_type(t, engine.dialect)) for n, t in engine.columns(table.relation) or []]
    if column is not None and column not in dict(catalog):
        raise SlocompileError(f"accept: column '{column}' is not in {table.relation_text}"
                              f"{did_you_mean(column, dict(catalog))}")
    dtype = dict(catalog).get(table.partition, "").upper()
    kind = "date" if dtype == "DATE" else "timestamp" if dtype.startswith("TIMESTAMP") else "other"
    try:
        value = parse_partition(start, kind)
    except ValueError:
        raise SlocompileError(f"accept: --from {start!r} is not a partition of '{table_name}' ({kind}, e.g. "
                              f"{'2026-01-31' if kind == 'date' else '2026-01-31 00:00:00'})") from None
    text = partition_text(value)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    row = (table_name, column, metric, text, reason.strip(), who or _user(), now)
    with engine.transaction():
        for stmt in meta.setup_statements(spec.schemas):
            engine.execute(render(stmt, engine.dialect))
    with engine.transaction():
        for stmt in meta.insert(spec.schemas, "monitor_acceptances", [row]):
            engine.execute(render(stmt, engine.dialect))
    return dict(zip(COLUMNS, row))


def describe(a: dict) -> str:
    what = a["metric"] or "every metric"
    where = f"{a['table_name']}.{a['column_name']}" if a["column_name"] else f"{a['table_name']} (every column)"
    return (f"accepted {what} of {where} from {a['from_partition']} as intended, by {a['accepted_by']} "
            f"at {a['accepted_at']:%Y-%m-%d %H:%M} UTC: {a['reason']}")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        return "unknown"
