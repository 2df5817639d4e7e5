"""The meta schema: run history, per-check results, metric history, latest status.

Ordinary tables any SQL client can read. Column types are sqlglot types so the
DDL renders for every dialect.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from slocompile.dialects.nodes import col, lit
from slocompile.spec.model import Schemas

T = exp.DataType.Type  # in annotations exp.DType, the same enum (mypy takes no class attribute as a type)
TABLES: dict[str, list[tuple[str, exp.DType]]] = {
    "runs": [("run_id", T.TEXT), ("project", T.TEXT), ("target", T.TEXT), ("started_at", T.TIMESTAMP),
             ("finished_at", T.TIMESTAMP), ("status", T.TEXT), ("passed", T.INT), ("failed", T.INT),
             ("warned", T.INT), ("errored", T.INT)],
    "results": [("run_id", T.TEXT), ("table_name", T.TEXT), ("check_name", T.TEXT), ("check_type", T.TEXT),
                ("column_name", T.TEXT), ("partition", T.TEXT), ("status", T.TEXT), ("severity", T.TEXT),
                ("observed_value", T.DOUBLE), ("observed", T.TEXT), ("expected", T.TEXT), ("message", T.TEXT),
                ("checked_at", T.TIMESTAMP), ("segment", T.TEXT)],
    "metrics": [("run_id", T.TEXT), ("table_name", T.TEXT), ("metric", T.TEXT), ("partition", T.TEXT),
                ("value", T.DOUBLE), ("measured_at", T.TIMESTAMP), ("segment", T.TEXT)],
    "status": [("table_name", T.TEXT), ("partition", T.TEXT), ("status", T.TEXT), ("failed_checks", T.TEXT),
               ("run_id", T.TEXT), ("checked_at", T.TIMESTAMP), ("fingerprint", T.TEXT)],
    # latest status per check and partition: what triggers compare a build against (triggers.py)
    "check_status": [("table_name", T.TEXT), ("check_name", T.TEXT), ("column_name", T.TEXT), ("partition", T.TEXT),
                     ("status", T.TEXT), ("severity", T.TEXT), ("run_id", T.TEXT), ("checked_at", T.TIMESTAMP)],
    # one row per alert and action, with its delivery (triggers.py)
    "alerts": [("alert_id", T.TEXT), ("run_id", T.TEXT), ("trigger_name", T.TEXT), ("event", T.TEXT),
               ("table_name", T.TEXT), ("checks", T.TEXT), ("action_index", T.INT), ("action", T.TEXT),
               ("destination", T.TEXT), ("delivery", T.TEXT), ("attempts", T.INT), ("detail", T.TEXT),
               ("payload", T.TEXT), ("created_at", T.TIMESTAMP), ("delivered_at", T.TIMESTAMP)],
    # mutes of alerts: a selector (table, table.check, a glob), until when, why, who; unmute sets ended_at (mutes.py)
    "mutes": [("mute_id", T.TEXT), ("selector", T.TEXT), ("until", T.TIMESTAMP), ("reason", T.TEXT),
              ("created_by", T.TEXT), ("created_at", T.TIMESTAMP), ("ended_at", T.TIMESTAMP), ("ended_by", T.TEXT)],
    # gate last_good: one row per version and partition, and the version each partition serves (publish.py)
    "versions": [("table_name", T.TEXT), ("version", T.INT), ("partition", T.TEXT), ("status", T.TEXT),
                 ("failed_checks", T.TEXT), ("row_count", T.BIGINT), ("run_id", T.TEXT), ("created_at", T.TIMESTAMP)],
    "published": [("table_name", T.TEXT), ("partition", T.TEXT), ("version", T.INT), ("run_id", T.TEXT),
                  ("published_at", T.TIMESTAMP)],
    # monitors (monitoring.py): each judged partition's metrics (column NULL: table-level) and small
    # summaries (bins, top-k counts), the table's learned state (bin edges, accepted changes, column
    # families), and the alerts grouped into incidents. A re-judged partition replaces its rows.
    "monitor_metrics": [("table_name", T.TEXT), ("column_name", T.TEXT), ("metric", T.TEXT), ("partition", T.TEXT),
                        ("value", T.DOUBLE), ("alerted", T.BOOLEAN), ("run_id", T.TEXT),
                        ("measured_at", T.TIMESTAMP)],
    "monitor_summaries": [("table_name", T.TEXT), ("column_name", T.TEXT), ("partition", T.TEXT),
                          ("summary", T.TEXT), ("run_id", T.TEXT), ("measured_at", T.TIMESTAMP)],
    "monitor_state": [("table_name", T.TEXT), ("column_name", T.TEXT), ("key", T.TEXT), ("value", T.TEXT),
                      ("run_id", T.TEXT), ("updated_at", T.TIMESTAMP)],
    "monitor_alerts": [("run_id", T.TEXT), ("table_name", T.TEXT), ("partition", T.TEXT), ("column_name", T.TEXT),
                       ("check_name", T.TEXT), ("metric", T.TEXT), ("severity", T.TEXT), ("observed", T.DOUBLE),
                       ("expected", T.TEXT), ("message", T.TEXT), ("incident", T.TEXT), ("cause", T.TEXT),
                       ("created_at", T.TIMESTAMP)],
    "monitor_incidents": [("run_id", T.TEXT), ("table_name", T.TEXT), ("partition", T.TEXT), ("incident", T.TEXT),
                          ("cause", T.TEXT), ("columns", T.TEXT), ("alerts", T.INT), ("severity", T.TEXT),
                          ("created_at", T.TIMESTAMP)],
    # incidents across partitions (monitors.incidents.track): `open` on the first affected partition,
    # `recover` on the first one back in its band; a notification per event, not per partition
    "monitor_incident_events": [("run_id", T.TEXT), ("table_name", T.TEXT), ("incident", T.TEXT), ("event", T.TEXT),
                                ("partition", T.TEXT), ("opened", T.TEXT), ("columns", T.TEXT), ("cause", T.TEXT),
                                ("partitions", T.INT), ("severity", T.TEXT), ("created_at", T.TIMESTAMP)],
    # `slocompile accept`: a change declared intended from a partition on (run.acceptances)
    "monitor_acceptances": [("table_name", T.TEXT), ("column_name", T.TEXT), ("metric", T.TEXT),
                            ("from_partition", T.TEXT), ("reason", T.TEXT), ("accepted_by", T.TEXT),
                            ("accepted_at", T.TIMESTAMP)],
    # failed-row samples (run.failures): up to N offending rows per failing check and run, each row's
    # columns (the key, the partition, the offending values) as one JSON object, secrets redacted
    "failed_rows": [("run_id", T.TEXT), ("table_name", T.TEXT), ("check_name", T.TEXT), ("partition", T.TEXT),
                    ("row_number", T.INT), ("row_values", T.TEXT), ("created_at", T.TIMESTAMP)],
    # schema_changes (run.schema_changes): each tracked relation's columns and types at the latest build
    "relation_columns": [("table_name", T.TEXT), ("position", T.INT), ("column_name", T.TEXT),
                         ("column_type", T.TEXT), ("run_id", T.TEXT), ("recorded_at", T.TIMESTAMP)],
}
# columns added to a table after its first release: a build adds them to a meta schema that lacks them
# segment: group_by (checks/segments.py)
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {"results": ("segment",), "metrics": ("segment",)}
RUN_RUNNING, RUN_PASS, RUN_FAIL = "running", "pass", "fail"
RUN_ABORTED = "aborted"  # a run still `running` when a later build of its project and target starts
INSERT_BATCH = 400


def table(schemas: Schemas, name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True), db=exp.to_identifier(schemas.meta, quoted=True))


def create_schema(name: str) -> exp.Create:
    return exp.Create(kind="SCHEMA", this=exp.Table(db=exp.to_identifier(name, quoted=True)), exists=True)


def setup_statements(schemas: Schemas) -> list[exp.Expression]:
    out: list[exp.Expression] = [create_schema(s) for s in (schemas.meta, schemas.validated, schemas.quarantine)]
    for name, cols in TABLES.items():
        defs = [exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t)) for c, t in cols]
        out.append(exp.Create(kind="TABLE", exists=True, this=exp.Schema(this=table(schemas, name), expressions=defs)))
    return out


def add_columns(schemas: Schemas, name: str, have: list[str]) -> list[exp.Alter]:
    """ALTER TABLE ... ADD COLUMN for each column of ADDED_COLUMNS[name] not among `have`."""
    types = dict(TABLES[name])
    return [exp.Alter(this=table(schemas, name), kind="TABLE", actions=[
        exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(types[c]))])
        for c in ADDED_COLUMNS.get(name, ()) if c not in have]


def insert(schemas: Schemas, name: str, rows: list[tuple]) -> list[exp.Insert]:
    """INSERT ... VALUES statements (batched) for rows matching TABLES[name]'s columns."""
    cols = [exp.to_identifier(c, quoted=True) for c, _ in TABLES[name]]
    types = [t for _, t in TABLES[name]]
    out = []
    for i in range(0, len(rows), INSERT_BATCH):
        values = exp.Values(expressions=[exp.Tuple(expressions=[_value(v, t) for v, t in zip(r, types)])
                                         for r in rows[i:i + INSERT_BATCH]])
        out.append(exp.Insert(this=exp.Schema(this=table(schemas, name), expressions=cols), expression=values))
    return out


@dataclass
class Rows:
    """Rows to append to a meta table, in its columns' order (TABLES), as plain Python values: written
    by ``Engine.insert_rows`` through the engine's bulk path (no SQL text, no sqlglot tree per value)."""
    table: exp.Table
    columns: list[tuple[str, exp.DType]]
    rows: list[tuple]


def rows(schemas: Schemas, name: str, values: list[tuple]) -> list[Rows]:
    """What ``insert`` writes, as a Rows (none for no rows): each value as ``insert`` would store it
    (NaN and infinite doubles NULL, text as str, ...), so both paths leave the same table content."""
    if not values:
        return []
    types = [t for _, t in TABLES[name]]
    columns = [_plain_column(c, t) for c, t in zip(zip(*values), types)]
    return [Rows(table(schemas, name), TABLES[name], list(zip(*columns)))]


def _plain_column(values: tuple, t: exp.DType) -> tuple | list:
    """_plain of every value, skipping the values that are already what it would return."""
    if t == T.TEXT:
        return [v if type(v) is str else _plain(v, t) for v in values]
    if t == T.DOUBLE:  # v - v is 0.0 for a finite float only
        return [v if type(v) is float and v - v == 0.0 else _plain(v, t) for v in values]
    if t == T.TIMESTAMP:
        return [v if type(v) is dt.datetime and v.tzinfo is None else _plain(v, t) for v in values]
    return [_plain(v, t) for v in values]


def _plain(v, t: exp.DType):
    """The Python value ``_value`` turns into SQL: the same NULLs, numbers, text and timestamps."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if t == T.TIMESTAMP:
        if isinstance(v, dt.datetime):  # an aware one as the text _value casts: each engine reads the
            return v if v.tzinfo is None else v.isoformat(sep=" ")  # offset as before (Spark applies it)
        if isinstance(v, dt.date):
            return dt.datetime(v.year, v.month, v.day)
        return str(v)
    if t == T.DOUBLE:
        f = float(v)
        return None if f in (float("inf"), float("-inf")) else f
    if t in (T.INT, T.BIGINT):
        return int(v)
    if t == T.BOOLEAN:
        return bool(v)
    return str(v)


def _value(v, t: exp.DType) -> exp.Expression:
    if v is None or (isinstance(v, float) and v != v):
        return exp.cast(exp.Null(), t)
    if t == T.TIMESTAMP:
        return exp.cast(exp.Literal.string(v.isoformat(sep=" ")), t)
    if t == T.DOUBLE:
        if v in (float("inf"), float("-inf")):
            return exp.cast(exp.Null(), t)
        return exp.cast(lit(float(v)), t)
    if t in (T.INT, T.BIGINT):
        return lit(int(v))
    if t == T.BOOLEAN:
        return exp.Boolean(this=bool(v))
    return exp.cast(lit(str(v)), T.TEXT)


DELETE_BATCH = 100  # tables per DELETE of delete_replaced: one statement, not one per table


def delete_status(schemas: Schemas, table_name: str, partitions: list[str] | None) -> exp.Delete:
    """Delete the status rows a build replaces: the partitions it measured and the whole-table row
    (all of the table's rows when `partitions` is None)."""
    return exp.Delete(this=table(schemas, "status"), where=exp.Where(this=_replaced(table_name, partitions)))


def delete_replaced(schemas: Schemas, name: str, replaced: list[tuple[str, list[str] | None]]) -> list[exp.Delete]:
    """What delete_status deletes from meta table `name` ('status', 'check_status'), for many
    tables: (table, partitions) pairs, DELETE_BATCH tables a statement."""
    out = []
    for i in range(0, len(replaced), DELETE_BATCH):
        conds = [_replaced(t, parts) for t, parts in replaced[i:i + DELETE_BATCH]]
        out.append(exp.Delete(this=table(schemas, name), where=exp.Where(this=exp.or_(*conds, copy=False))))
    return out


def _replaced(table_name: str, partitions: list[str] | None) -> exp.Expression:
    """The rows of `table_name` a build replaces: the whole-table row and `partitions` (all rows: None)."""
    cond: exp.Expression = exp.EQ(this=col("table_name"), expression=lit(table_name))
    if partitions is not None:
        replaced: exp.Expression = exp.Is(this=col("partition"), expression=exp.Null())
        if partitions:
            replaced = exp.Or(this=replaced, expression=exp.In(this=col("partition"),
                                                               expressions=[lit(p) for p in partitions]))
        cond = exp.And(this=cond, expression=exp.Paren(this=replaced))
    return cond


def status_rows(schemas: Schemas, table_names: list[str]) -> exp.Select:
    """table_name, partition, status, fingerprint of the latest statuses of these tables."""
    names = [lit(n) for n in table_names]
    return (exp.select(col("table_name"), col("partition"), col("status"), col("fingerprint"))
            .from_(table(schemas, "status"), copy=False)
            .where(exp.EQ(this=col("table_name"), expression=names[0]) if len(names) == 1
                   else exp.In(this=col("table_name"), expressions=names), copy=False))


def check_history(schemas: Schemas, table_name: str, check_names: list[str]) -> exp.Select:
    """check_name, partition, observed_value, status, checked_at, segment of every recorded result of these checks."""
    names = exp.In(this=col("check_name"), expressions=[lit(n) for n in check_names])
    return (exp.select(col("check_name"), col("partition"), col("observed_value"), col("status"), col("checked_at"),
                       col("segment"))
            .from_(table(schemas, "results"), copy=False)
            .where(exp.and_(exp.EQ(this=col("table_name"), expression=lit(table_name)), names), copy=False))


def abort_runs(schemas: Schemas, project: str, target: str, finished_at) -> exp.Update:
    """Mark the runs of `project` on `target` still `running` aborted: their build died (a signal, a
    lost connection) before its commit, which would have set their status."""
    cond = exp.and_(exp.EQ(this=col("status"), expression=lit(RUN_RUNNING)),
                    exp.EQ(this=col("project"), expression=lit(project)),
                    exp.EQ(this=col("target"), expression=lit(target)))
    return exp.Update(this=table(schemas, "runs"), expressions=[
        exp.EQ(this=col("status"), expression=lit(RUN_ABORTED)),
        exp.EQ(this=col("finished_at"), expression=_value(finished_at, T.TIMESTAMP))], where=exp.Where(this=cond))


def finish_run(schemas: Schemas, run_id: str, status: str, finished_at, counts: dict) -> exp.Update:
    sets = [exp.EQ(this=col("status"), expression=lit(status)),
            exp.EQ(this=col("finished_at"), expression=_value(finished_at, T.TIMESTAMP))]
    sets += [exp.EQ(this=col(k), expression=lit(int(counts.get(k, 0))))
             for k in ("passed", "failed", "warned", "errored")]
    return exp.Update(this=table(schemas, "runs"), expressions=sets,
                      where=exp.Where(this=exp.EQ(this=col("run_id"), expression=lit(run_id))))


def session_time_zone(zone: str, dialect: str) -> exp.Expression:
    """SET the session's time zone to `zone` (the project's `time_zone`, an IANA name): time
    partitions are cut at its hours and days (dialects.nodes.TimeBucket casts in the session's zone)."""
    from slocompile.dialects.rules import rules

    setting = rules(dialect).time_zone_setting
    if setting is None:  # Spark: SET TIME ZONE 'zone', which sqlglot parses as a command only
        return exp.Command(this="SET", expression=exp.Literal.string("TIME ZONE ").name + lit(zone).sql(dialect))
    return exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.var(setting), expression=lit(zone)))])
