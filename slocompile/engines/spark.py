"""Apache Spark through pyspark (`pip install 'slocompile[spark]'`): a local master or Spark Connect.

Target options (slocompile.yml):
    master: "local[2]"              # a local (or cluster) master; the default when `remote` is absent
    remote: "sc://host:15002"       # Spark Connect instead of a master (needs pyspark's connect extras)
    warehouse: spark-warehouse      # spark.sql.warehouse.dir (relative to the project); local masters only
    catalog: hive                   # hive (default): a persistent metastore next to the warehouse, so
                                    # the views outlive the build; in-memory: this process only
    metastore: spark-warehouse/metastore_db   # the embedded Derby metastore (catalog: hive)
    conf: {spark.executor.memory: 2g}         # any other Spark settings

One SparkSession serves every build of a process (starting one costs 4-10 s). Its static settings
(master, warehouse, catalog) are fixed when it starts: a target asking for different ones stops
it and starts another.

What differs from the transactional engines:
- No multi-statement transactions: `transaction()` is best effort. Statements commit one by one,
  so a build that dies while publishing can leave its results and metrics rows written and its
  run recorded as 'running'. The views are never dropped: they are `CREATE OR REPLACE`d and select
  by a WHERE on the status table, so publishing needs no DDL that could leave them missing.
- DELETE and UPDATE: tables whose format supports them (Delta, Iceberg) run them as they are.
  Plain parquet tables do not, and Spark cannot overwrite a table it reads in the same statement:
  the meta schema's status and runs tables are then rewritten copy-on-write. Inside a
  transaction() the changes to such a table (and the INSERTs into it that follow) are collected
  and applied once when the block ends: the table's new rows go to a staging table, then
  INSERT OVERWRITE. A DELETE or UPDATE that a probe finds touching no row rewrites nothing: the
  INSERTs that follow it still wait for the end, then append. A publish that fails before its
  end changes no status; a reader querying during the overwrite (a fraction of a second) can see
  the status table empty.
- Blocked views call raise_error(msg); the query fails with `[USER_RAISED_EXCEPTION] msg`.
- TIMESTAMP (with local time zone) values come back as UTC; the session time zone is UTC
  unless `conf` sets spark.sql.session.timeZone.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from sqlglot import exp

from slocompile.engines.common import LoadTimeUnknown, QueryFailed, plain_rows
from slocompile.engines.sparksession import get_session, message, session_settings, stopped
from slocompile.errors import Problem, SlocompileError

_DML = re.compile(r"^\s*(DELETE|UPDATE)\b", re.IGNORECASE)
_NAME = r"(?:`(?:[^`]|``)*`|\w+)"
_INSERT = re.compile(rf"^\s*INSERT\s+INTO\s+(?:TABLE\s+)?({_NAME}(?:\s*\.\s*{_NAME})*)", re.IGNORECASE)
_NO_NATIVE_DML = ("UNSUPPORTED_FEATURE.TABLE_OPERATION", "does not support DELETE", "does not support UPDATE",
                  "DELETE is only supported", "UPDATE TABLE is not supported")
_STAGING_PREFIX = "_slo_rewrite_"

class SparkEngine:
    dialect = "spark"

    def __init__(self, spark, name: str):
        self.spark, self.name = spark, name
        self._copy_on_write: set[str] = set()  # tables known to lack DELETE/UPDATE
        self._depth = 0                         # transaction() nesting
        self._pending: dict[str, _Rewrite] = {}  # copy-on-write changes applied when the transaction ends
        # the session is shared by the process: a build that sets its project's time zone gives
        # the next user of the session (another project's build) the zone it found
        self._zone = spark.conf.get("spark.sql.session.timeZone", None)

    @classmethod
    def open(cls, target, project_root: str, read_only: bool = False) -> SparkEngine:
        """The shared session (`read_only` promises nothing on Spark: a session has no such mode)."""
        where = f"target '{target.name}'"
        settings = session_settings(target, project_root)
        spark = get_session(settings, where)
        engine = cls(spark, target.name)
        try:  # touch the catalog now: a metastore in use by another process fails here, not mid-build
            spark.sql("SHOW DATABASES").collect()
        except Exception as e:
            text = message(e)
            if "Derby" in text or "metastore" in text.lower() or "HiveException" in text:
                text = ("the Spark metastore could not be opened (another process using the same "
                        f"metastore_db? a local Derby metastore allows one at a time): {text}")
            raise SlocompileError([Problem(target.loc, f"{where}: {text}")]) from None
        return engine

    # -- the Engine protocol -------------------------------------------------------------

    def query(self, sql: str) -> list[tuple]:
        try:
            df = self.spark.sql(sql)
            rows = df.collect()
            ltz = [i for i, f in enumerate(df.schema.fields) if type(f.dataType).__name__ == "TimestampType"]
        except Exception as e:
            raise stopped(e, f"target '{self.name}'") or QueryFailed(message(e)) from None
        out = [tuple(r) for r in rows]
        if ltz and out:
            out = [tuple(_utc(v) if i in ltz else v for i, v in enumerate(row)) for row in out]
        return out

    def execute(self, sql: str) -> None:
        if self._pending:
            into = _INSERT.match(sql)
            if into and _quoted(exp.to_table(into.group(1), dialect="spark")) in self._pending:
                tree = self._parse(sql)
                if isinstance(tree, exp.Insert):
                    self._pending[_quoted(_insert_table(tree))].ops.append(tree)  # after the queued DELETE
                    return
        if _DML.match(sql):
            return self._dml(sql)
        self._run(sql)

    def insert_rows(self, table: exp.Table, columns: list, rows: list[tuple], batch: int = 2000) -> None:
        """The rows as one DataFrame (createDataFrame: no SQL text) inserted by one INSERT ... SELECT
        from a temporary view; timestamps travel as text and are cast as their literals were. Into a
        table with copy-on-write changes pending, INSERT ... VALUES trees (doubles as CAST('repr' AS
        DOUBLE): exact, NaN and infinities included) join them without being rendered and parsed."""
        target = exp.Schema(this=_plain(table), expressions=[exp.to_identifier(c, quoted=True) for c, _ in columns])
        types = [t for _, t in columns]
        values = plain_rows(columns, rows)
        if not values:
            return
        if _quoted(_plain(table)) not in self._pending:
            return self._insert_frame(target, columns, values)
        for i in range(0, len(values), batch):
            tree = exp.Insert(this=target.copy(), expression=exp.Values(expressions=[
                exp.Tuple(expressions=[_literal(v, t) for v, t in zip(r, types)]) for r in values[i:i + batch]]))
            self._pending[_quoted(_insert_table(tree))].ops.append(tree)

    def _insert_frame(self, target: exp.Schema, columns: list, values: list[tuple]) -> None:
        from pyspark.sql import types as st

        T = exp.DataType.Type
        spark_types = {T.DOUBLE: st.DoubleType, T.FLOAT: st.DoubleType, T.INT: st.IntegerType,
                       T.BIGINT: st.LongType, T.BOOLEAN: st.BooleanType}
        stamps = [i for i, (_, t) in enumerate(columns) if t in (T.TIMESTAMP, T.DATE)]
        if stamps:
            values = [tuple(v.isoformat(sep=" ") if i in stamps and isinstance(v, dt.datetime)
                            else v.isoformat() if i in stamps and isinstance(v, dt.date) else v
                            for i, v in enumerate(r)) for r in values]
        schema = st.StructType([st.StructField(f"c{i}", spark_types.get(t, st.StringType)(), True)
                                for i, (_, t) in enumerate(columns)])
        view = f"_slo_rows_{uuid.uuid4().hex[:12]}"
        select = exp.select(*[exp.cast(_col(f"c{i}"), t) if t in (T.TIMESTAMP, T.DATE) else _col(f"c{i}")
                              for i, (_, t) in enumerate(columns)]).from_(exp.to_identifier(view, quoted=True))
        try:
            self.spark.createDataFrame(values, schema).createOrReplaceTempView(view)
        except Exception as e:
            raise QueryFailed(message(e)) from None
        try:
            self._run(exp.Insert(this=target, expression=select).sql("spark", identify=True))
        finally:
            try:
                self.spark.catalog.dropTempView(view)
            except Exception:
                pass

    def last_loaded(self, relation: exp.Table):
        """The newest modification time of the table's data files (the `_metadata` column of
        file-based tables); other tables (views, tables of other sources) record none."""
        from slocompile.dialects.render import render

        newest = exp.Max(this=exp.column("file_modification_time", table="_metadata"))
        try:
            return self.query(render(exp.select(newest).from_(relation.copy(), copy=False), self.dialect))[0][0]
        except QueryFailed:
            raise LoadTimeUnknown(f"Spark records a load time only for file-based tables (the newest data file's "
                                  f"modification time), which {_quoted(relation)} is not; give freshness a "
                                  "`column:` (a date or timestamp the load writes)") from None

    def columns(self, relation: exp.Table) -> list[tuple[str, str]] | None:
        name = _quoted(relation)
        try:
            if not self.spark.catalog.tableExists(name):
                return None
            fields = self.spark.table(name).schema.fields
        except Exception as e:
            text = message(e)
            if "TABLE_OR_VIEW_NOT_FOUND" in text or "SCHEMA_NOT_FOUND" in text or "not found" in text.lower():
                return None
            raise QueryFailed(text) from None
        return [(f.name, f.dataType.simpleString()) for f in fields] or None

    def columns_of(self, relations) -> None:
        """None: the session's catalog answers for one relation at a time (columns())."""
        return None

    def view_definitions(self, views) -> None:
        """None: a build replaces its views every time (the catalog's view text is not compared)."""
        return None

    @contextmanager
    def transaction(self):
        """Best effort (Spark has no multi-statement transactions; see the module's notes).

        Copy-on-write changes (DELETE/UPDATE on tables without them, and the INSERTs into those
        tables that follow) are collected and applied once per table when the outermost block
        ends, and dropped if it raises: each table is rewritten once per build, and its old rows
        are replaced in one overwrite rather than deleted and re-inserted statement by statement."""
        self._depth += 1
        try:
            yield
        except BaseException:
            if self._depth == 1:
                self._pending.clear()
            raise
        finally:
            self._depth -= 1
        if self._depth == 0:
            pending, self._pending = self._pending, {}
            for rewrite in pending.values():
                self._apply(rewrite)

    def close(self) -> None:
        """The session is shared by the process: it stays up for the next build (stop_session() ends
        it), with the session time zone this engine found."""
        try:
            if self._zone is not None and self.spark.conf.get("spark.sql.session.timeZone", None) != self._zone:
                self.spark.conf.set("spark.sql.session.timeZone", self._zone)
        except Exception:  # a session that died (its JVM gone) has no zone to give back: the error that
            pass  # stopped the build is the one to report

    def probe(self, schemas=()) -> dict:
        """What `slocompile debug` reports: Spark's version, the master (or Connect URL), the
        warehouse and catalog, and which of `schemas` (databases) exist."""
        spark = self.spark
        try:
            conf = spark.conf
            where = conf.get("spark.master", None) or conf.get("spark.remote", None) or "spark"
            info = {"version": f"Spark {spark.version}", "where": where,
                    "warehouse": conf.get("spark.sql.warehouse.dir", None),
                    "catalog": conf.get("spark.sql.catalogImplementation", None), "user": None}
            try:
                info["user"] = spark.sparkContext.sparkUser()
            except Exception:  # Spark Connect has no SparkContext
                pass
            info["schemas"] = {s: bool(spark.catalog.databaseExists(s)) for s in schemas}
        except Exception as e:
            raise QueryFailed(message(e)) from None
        return info

    # -- helpers ---------------------------------------------------------------------------

    def _run(self, sql: str) -> None:
        try:
            self.spark.sql(sql)
        except Exception as e:
            raise stopped(e, f"target '{self.name}'") or QueryFailed(message(e)) from None

    @staticmethod
    def _parse(sql: str):
        import sqlglot

        try:
            return sqlglot.parse_one(sql, read="spark")
        except Exception:
            return None

    def _dml(self, sql: str) -> None:
        tree = self._parse(sql)
        if not isinstance(tree, (exp.Delete, exp.Update)) or not isinstance(tree.this, exp.Table):
            return self._run(sql)
        key = _quoted(tree.this)
        if key not in self._copy_on_write:
            try:
                return self._run(sql)
            except QueryFailed as e:
                if not any(marker in str(e) for marker in _NO_NATIVE_DML):
                    raise
                self._copy_on_write.add(key)
        touches = key in self._pending or self._matches(tree)
        if self._depth:
            table = tree.this.copy()
            table.set("alias", None)
            rewrite = self._pending.setdefault(key, _Rewrite(table, []))
            if touches:  # else the table is only marked: the INSERTs that follow still wait for the end
                rewrite.ops.append(tree)
            return
        if not touches:
            return
        self._apply(_Rewrite(_plain(tree.this), [tree]))

    def _matches(self, op: exp.Delete | exp.Update) -> bool:
        """Does the statement touch a row of its table (with no changes pending for it)? A probe
        (SELECT 1 ... LIMIT 1) costs one query, a copy-on-write rewrite three statements."""
        where = op.args.get("where")
        probe = exp.select(exp.Literal.number(1)).from_(_plain(op.this))
        if where is not None:
            probe = probe.where(where.this.copy())
        return bool(self.query(probe.limit(1).sql("spark", identify=True)))

    def _apply(self, rewrite: _Rewrite) -> None:
        """Copy-on-write: the table's new rows go to a staging table, then INSERT OVERWRITE. When
        nothing is deleted or updated (a DELETE that matched no row), the INSERTs just append."""
        table = rewrite.table
        if all(isinstance(op, exp.Insert) for op in rewrite.ops):
            for op in rewrite.ops:
                self._run(op.sql("spark", identify=True))
            return
        cols = self.columns(table)
        if cols is None:
            raise QueryFailed(f"table {_quoted(table)} does not exist")
        select = _rewritten_rows(table, cols, rewrite.ops)
        staging = exp.Table(this=exp.to_identifier(_STAGING_PREFIX + table.name, quoted=True),
                            db=table.args.get("db"), catalog=table.args.get("catalog"))
        s_sql, t_sql = staging.sql("spark", identify=True), table.sql("spark", identify=True)
        self._run(f"DROP TABLE IF EXISTS {s_sql}")
        self._run(f"CREATE TABLE {s_sql} USING parquet AS {select.sql('spark', identify=True)}")
        try:
            self._run(f"INSERT OVERWRITE TABLE {t_sql} SELECT * FROM {s_sql}")
        except QueryFailed as e:
            raise QueryFailed(f"{e} (the rows it should hold are in {s_sql})") from None
        self._run(f"DROP TABLE IF EXISTS {s_sql}")


@dataclass
class _Rewrite:
    table: exp.Table
    ops: list  # exp.Delete | exp.Update | exp.Insert, in the order they were issued


def _rewritten_rows(table: exp.Table, cols: list[tuple[str, str]], ops: list) -> exp.Select:
    """SELECT of the table's rows after `ops`, in the table's column order and types.

    The table's current rows and each INSERT's rows are parts of a UNION ALL; a DELETE filters,
    and an UPDATE rewrites, every part that exists when it is issued."""
    names = [n for n, _ in cols]
    parts: list[tuple[exp.Select, list]] = [(exp.select(*[_col(n) for n in names]).from_(table.copy()), [])]
    for op in ops:
        if isinstance(op, exp.Insert):
            parts.append((_inserted_rows(op, names), []))
        else:
            for _, later in parts:
                later.append(op)
    selects = [_apply_ops(source, later, names) for source, later in parts]
    union: exp.Query = selects[0]
    for sel in selects[1:]:
        union = exp.Union(this=union, expression=sel, distinct=False)
    alias = exp.TableAlias(this=exp.to_identifier("_slo_rows", quoted=True))
    typed = [exp.alias_(exp.cast(_col(n), exp.DataType.build(t, dialect="spark")), n, quoted=True) for n, t in cols]
    return exp.select(*typed).from_(exp.Subquery(this=union, alias=alias))


def _apply_ops(source: exp.Select, ops: list, names: list[str]) -> exp.Select:
    """Wrap `source` in the filters (DELETE) and rewrites (UPDATE) issued after it."""
    current = source
    deletes: list[exp.Expression] = []
    n = 0

    def wrap(sel: exp.Select) -> exp.Subquery:
        nonlocal n
        n += 1
        return exp.Subquery(this=sel, alias=exp.TableAlias(this=exp.to_identifier(f"_slo_{n}", quoted=True)))

    def flush():
        nonlocal current, deletes
        if deletes:
            hit = deletes[0] if len(deletes) == 1 else exp.or_(*[exp.Paren(this=d) for d in deletes])
            keep = exp.Not(this=exp.Paren(this=hit))
            current = exp.select(*[_col(c) for c in names]).from_(wrap(current)).where(keep)
            deletes = []

    for op in ops:
        where = op.args.get("where")
        hit = exp.Coalesce(this=exp.Paren(this=where.this.copy()), expressions=[exp.false()]) \
            if where is not None else exp.true()
        if isinstance(op, exp.Delete):
            deletes.append(hit)
            continue
        flush()
        sets = {eq.this.name: eq.expression for eq in op.expressions}
        projections = [exp.alias_(exp.Case(ifs=[exp.If(this=hit.copy(), true=sets[c].copy())], default=_col(c)), c,
                                  quoted=True) if c in sets else _col(c) for c in names]
        current = exp.select(*projections).from_(wrap(current))
    flush()
    return current


def _inserted_rows(insert: exp.Insert, names: list[str]) -> exp.Select:
    """An INSERT ... VALUES as a SELECT in the table's column order (unlisted columns NULL)."""
    target = insert.this
    listed = [e.name for e in target.expressions] if isinstance(target, exp.Schema) else list(names)
    source = insert.expression
    if isinstance(source, exp.Values):
        alias = exp.TableAlias(this=exp.to_identifier("_slo_values", quoted=True),
                               columns=[exp.to_identifier(c, quoted=True) for c in listed])
        values = source.copy()
        values.set("alias", alias)
        from_: exp.Expression = values
    else:  # INSERT ... SELECT
        from_ = exp.Subquery(this=source.copy(), alias=exp.TableAlias(
            this=exp.to_identifier("_slo_values", quoted=True), columns=[exp.to_identifier(c, quoted=True)
                                                                          for c in listed]))
    return exp.select(*[_col(c) if c in listed else exp.alias_(exp.Null(), c, quoted=True) for c in names]) \
        .from_(from_)


def _insert_table(insert: exp.Insert) -> exp.Table:
    target = insert.this
    return _plain(target.this if isinstance(target, exp.Schema) else target)


def _plain(table: exp.Table) -> exp.Table:
    table = table.copy()
    table.set("alias", None)
    return table


def _literal(v, t: exp.DType) -> exp.Expression:
    """A Spark literal of a plain Python value for a column of type t."""
    T = exp.DataType.Type
    if v is None:
        return exp.cast(exp.Null(), t)
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, float):  # a decimal literal would widen across rows (and round past 38 digits)
        return exp.cast(exp.Literal.string(repr(v)), T.DOUBLE)
    if isinstance(v, int):
        return exp.Literal.number(v) if v >= 0 else exp.Neg(this=exp.Literal.number(-v))
    if isinstance(v, dt.datetime):
        return exp.cast(exp.Literal.string(v.isoformat(sep=" ")), T.TIMESTAMP)
    if isinstance(v, dt.date):
        return exp.cast(exp.Literal.string(v.isoformat()), T.DATE)
    return exp.Literal.string(str(v))


def _col(name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name, quoted=True))


def _quoted(table: exp.Table) -> str:
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    return ".".join("`" + p.replace("`", "``") + "`" for p in parts)


def _utc(v):
    """pyspark turns TIMESTAMP (local time zone) values into naive local datetimes: make them naive UTC."""
    if isinstance(v, dt.datetime) and v.tzinfo is None:
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return v
