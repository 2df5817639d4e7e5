"""PostgreSQL through psycopg 3 (`pip install 'slocompile[postgres]'`).

Target options (slocompile.yml):
    dsn: "postgresql://user:pass@host:5432/db"   # or a libpq "key=value" string
    # or separately: host, port, user, password, dbname (alias: database), sslmode
    connect_timeout: 10                           # seconds (default 10)
    options: "-c statement_timeout=600000"        # passed to libpq

Postgres has no function that raises an error from inside a query: render.py casts the
(non-constant) message of a blocked view to an integer, so every query on the view fails with
`invalid input syntax for type integer: "slocompile: validated.t is blocked by failed SLOs: ..."`.

`CREATE OR REPLACE VIEW` in Postgres may only append columns; when a view's columns change
(the raw table gained a column before `_slo_violations`, a type changed, ...) the view is
dropped and created again inside the publishing transaction, so readers never see it missing.

`CREATE SCHEMA IF NOT EXISTS s` needs CREATE on the database even when `s` exists (Postgres
checks the privilege first): the engine skips it for a schema that exists (pg_namespace), so a
role that owns pre-created schemas needs no CREATE on the database.

A relation the role may not read is invisible in information_schema: `columns` then looks it up
in pg_catalog and raises RelationUnreadable (permission denied, with the GRANT to run) instead
of reporting it missing.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

from sqlglot import exp

from slocompile.engines.common import LoadTimeUnknown, QueryFailed, RelationUnreadable, plain_rows
from slocompile.errors import Problem, SlocompileError
from slocompile.support.secrets import register_settings

_PARAM_KEYS = ("host", "port", "user", "password", "dbname", "sslmode", "options", "application_name")
# SQLSTATEs of a CREATE OR REPLACE VIEW whose columns differ from the existing view's
_VIEW_SHAPE_ERRORS = ("42P16", "42804")
_CREATE_VIEW = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+", re.IGNORECASE)
_CREATE_SCHEMA = re.compile(r'^\s*CREATE\s+SCHEMA\s+IF\s+NOT\s+EXISTS\s+("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*;?\s*$',
                            re.IGNORECASE)


class PostgresEngine:
    dialect = "postgres"

    def __init__(self, con, where: str, reconnect=None):
        self.con, self.where = con, where
        self._in_transaction = False
        self._reconnect = reconnect  # opens another connection like this one (reader)

    @classmethod
    def open(cls, target, project_root: str, read_only: bool = False) -> PostgresEngine:
        """Connect (autocommit: transaction() groups statements); read-only: the session's
        transactions are read-only, so nothing read through it can change the warehouse."""
        try:
            import psycopg
        except ImportError:
            raise SlocompileError([Problem(target.loc, (
                f"target '{target.name}' (postgres) needs the psycopg driver: "
                "pip install 'slocompile[postgres]'"))]) from None
        opts = dict(target.options)
        register_settings(opts)  # the password (also inside the DSN) is redacted from every message
        kwargs = {k: opts[k] for k in _PARAM_KEYS if opts.get(k) not in (None, "")}
        if "database" in opts and "dbname" not in kwargs:
            kwargs["dbname"] = opts["database"]
        if "port" in kwargs:
            kwargs["port"] = str(kwargs["port"])
        kwargs["connect_timeout"] = int(opts.get("connect_timeout", 10))
        dsn = opts.get("dsn") or ""
        if not dsn and not any(k in kwargs for k in ("host", "dbname", "user")):
            raise SlocompileError([Problem(target.loc, (
                f"target '{target.name}' (postgres) needs 'dsn' or 'host'/'dbname'/'user' options, "
                "e.g. dsn: \"{{ env_var('PG_DSN') }}\""))])
        where = _describe(dsn, kwargs)
        def reconnect():
            return psycopg.connect(dsn, autocommit=True, **kwargs)

        try:
            con = reconnect()
        except psycopg.Error as e:
            raise SlocompileError([Problem(target.loc, (
                f"target '{target.name}': cannot connect to Postgres at {where}: {_first(e)}"))]) from None
        engine = cls(con, where, reconnect)
        if read_only:
            try:
                engine.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            except QueryFailed:
                pass
        return engine

    # -- the Engine protocol -------------------------------------------------------------

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        try:
            with self.con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as e:
            raise self._failed(e) from None

    def execute(self, sql: str) -> None:
        import psycopg

        if _CREATE_VIEW.match(sql):
            return self._replace_view(sql)
        schema = _CREATE_SCHEMA.match(sql)
        if schema and self._schema_exists(_unquote(schema.group(1))):
            return None  # exists: no CREATE privilege on the database needed
        try:
            with self.con.cursor() as cur:
                cur.execute(sql)
        except psycopg.Error as e:
            raise self._failed(e) from None

    def last_loaded(self, relation: exp.Table):
        """The newest commit time of the relation's rows (pg_xact_commit_timestamp of their xmin):
        Postgres records it only with track_commit_timestamp = on."""
        from slocompile.dialects.render import render

        if self.query("SELECT current_setting('track_commit_timestamp')")[0][0] != "on":
            raise LoadTimeUnknown("Postgres records when rows were written only with track_commit_timestamp = on "
                                  "(postgresql.conf, then a restart), and it is off on this server; give freshness "
                                  "a `column:` (a date or timestamp the load writes)")
        newest = exp.Max(this=exp.Anonymous(this="pg_xact_commit_timestamp", expressions=[exp.column("xmin")]))
        return self.query(render(exp.select(newest).from_(relation.copy(), copy=False), self.dialect))[0][0]

    def columns(self, relation: exp.Table) -> list[tuple[str, str]] | None:
        sql = ("SELECT column_name, CASE WHEN data_type IN ('USER-DEFINED', 'ARRAY') THEN udt_name "
               "ELSE data_type END FROM information_schema.columns "
               "WHERE table_schema = COALESCE(%s, current_schema()) AND table_name = %s "
               "AND (%s::text IS NULL OR table_catalog = %s) ORDER BY ordinal_position")
        import psycopg

        catalog = relation.catalog or None
        try:
            with self.con.cursor() as cur:
                cur.execute(sql, (relation.db or None, relation.name, catalog, catalog))
                rows = cur.fetchall()
                if not rows:  # missing, or present but unreadable: information_schema shows neither
                    self._readable_or_raise(cur, relation)
        except psycopg.Error as e:
            raise self._failed(e) from None
        return [(r[0], r[1]) for r in rows] or None

    def columns_of(self, relations) -> None:
        """None: columns() reads one relation at a time (it tells a missing relation from an unreadable one)."""
        return None

    def view_definitions(self, views) -> None:
        """None: a build creates its views every time (pg_get_viewdef is not compared yet)."""
        return None

    def _readable_or_raise(self, cur, relation: exp.Table) -> None:
        """Raise RelationUnreadable when pg_catalog has the relation but the role may not read it."""
        cur.execute("SELECT n.nspname, c.relname, has_schema_privilege(n.oid, 'USAGE'), "
                    "has_table_privilege(c.oid, 'SELECT'), current_user FROM pg_catalog.pg_class c "
                    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relname = %s AND n.nspname = COALESCE(%s, current_schema()) "
                    "AND c.relkind IN ('r', 'v', 'm', 'f', 'p')", (relation.name, relation.db or None))
        row = cur.fetchone()
        if row is None:
            return
        schema, name, usage, select, user = row
        ident = exp.Table(this=exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True))
        ref, role = ident.sql("postgres", identify=True), exp.to_identifier(user, quoted=True).sql("postgres")
        if not usage:
            raise RelationUnreadable(
                f"relation {schema}.{name} exists, but role {user} may not read it: permission denied for schema "
                f"{schema} (GRANT USAGE ON SCHEMA {ident.args['db'].sql('postgres')} TO {role}"
                + ("" if select else f"; GRANT SELECT ON {ref} TO {role}") + ")")
        if not select:
            raise RelationUnreadable(f"relation {schema}.{name} exists, but role {user} may not read it: permission "
                                     f"denied for table {name} (GRANT SELECT ON {ref} TO {role})")

    def _schema_exists(self, name: str) -> bool:
        import psycopg

        try:
            with self.con.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = %s", (name,))
                return bool(cur.fetchone()[0])
        except psycopg.Error as e:
            raise self._failed(e) from None

    def insert_rows(self, table: exp.Table, columns: list, rows: list[tuple]) -> None:
        """COPY ... FROM STDIN through psycopg (the driver adapts each value; no SQL literals, one
        stream for all the rows)."""
        import psycopg
        from psycopg import sql

        if not rows:
            return
        names = [c for c, _ in columns]
        stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(*[p for p in (table.catalog, table.db, table.name) if p]),
            sql.SQL(", ").join(sql.Identifier(n) for n in names))
        try:
            with self.con.cursor() as cur, cur.copy(stmt) as copy:
                for row in plain_rows(columns, rows):
                    copy.write_row(row)
        except psycopg.Error as e:
            raise self._failed(e) from None

    @contextmanager
    def transaction(self):
        if self._in_transaction:  # nested: part of the outer transaction
            yield
            return
        self._in_transaction = True
        try:
            with self.con.transaction():
                yield
        finally:
            self._in_transaction = False

    def reader(self) -> PostgresEngine | None:
        """A second session as this one connected (read-only), for scans on another thread
        (run/scanahead.py); session settings are its own."""
        import psycopg

        if self._reconnect is None:
            return None
        try:
            engine = PostgresEngine(self._reconnect(), self.where)
        except psycopg.Error as e:
            raise SlocompileError(f"cannot open a second connection to Postgres at {self.where}: {_first(e)}") from None
        engine.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        return engine

    def interrupt(self) -> None:
        """Cancel the statement running on this connection (from another thread)."""
        self.con.cancel_safe() if hasattr(self.con, "cancel_safe") else self.con.cancel()

    def close(self) -> None:
        try:
            self.con.close()
        except Exception:  # closing a broken connection must not hide the real error
            pass

    def probe(self, schemas=()) -> dict:
        """What `slocompile debug` reports: the server's version, the role and database connected
        to, and which of `schemas` exist (from pg_namespace: information_schema.schemata lists
        only the schemas the role has rights on)."""
        import psycopg

        try:
            with self.con.cursor() as cur:
                cur.execute("SELECT version(), current_user, current_database()")
                version, user, database = cur.fetchone()
                exists = {}
                for s in schemas:
                    cur.execute("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = %s", (s,))
                    exists[s] = bool(cur.fetchone()[0])
        except psycopg.Error as e:
            raise self._failed(e) from None
        return {"version": version, "where": self.where, "user": user, "database": database, "schemas": exists}

    # -- helpers ---------------------------------------------------------------------------

    def _failed(self, e: Exception) -> Exception:
        """QueryFailed for a statement the server rejected; a lost connection ends the build (exit 2)
        instead of being recorded as failed checks."""
        if self.con.broken or self.con.closed:
            return SlocompileError(f"lost the connection to Postgres at {self.where}: {_first(e)}")
        return QueryFailed(_message(e))

    def _replace_view(self, sql: str) -> None:
        """CREATE OR REPLACE VIEW; when the columns changed, DROP and CREATE instead (same transaction)."""
        import psycopg

        try:
            # a savepoint inside a transaction (a failure leaves it usable), else a transaction of its own
            with self.con.transaction():
                with self.con.cursor() as cur:
                    cur.execute(sql)
            return
        except psycopg.Error as e:
            if getattr(e, "sqlstate", None) not in _VIEW_SHAPE_ERRORS:
                raise self._failed(e) from None
            first = e
        name = _view_name(sql)
        if name is None:
            raise QueryFailed(_message(first))
        try:
            with self.con.transaction():
                with self.con.cursor() as cur:
                    cur.execute(f"DROP VIEW IF EXISTS {name}")
                    cur.execute(_CREATE_VIEW.sub("CREATE VIEW ", sql, count=1))
        except psycopg.Error as e:
            hint = ""
            if getattr(e, "sqlstate", None) == "2BP01":  # dependent objects
                hint = " (other views depend on it: drop them, build, and create them again)"
            raise QueryFailed(f"{_message(first)}; dropping and re-creating the view failed: {_message(e)}{hint}") \
                from None


def _view_name(sql: str) -> str | None:
    import sqlglot

    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except Exception:
        return None
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Table):
        return None
    return tree.this.sql("postgres", identify=True)


def _unquote(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident.lower()


def _first(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _message(e: Exception) -> str:
    """The server's message (first line; the LINE/caret context adds nothing for generated SQL)."""
    diag = getattr(e, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or _first(e)
    detail = getattr(diag, "message_detail", None) if diag is not None else None
    return f"{text} ({detail})" if detail else text


def _describe(dsn: str, kwargs: dict) -> str:
    """host:port/dbname for messages, never the password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = {**conninfo_to_dict(dsn), **{k: v for k, v in kwargs.items() if k != "password"}}
    except Exception:
        info = {k: v for k, v in kwargs.items() if k != "password"}
    host = info.get("host") or "localhost"
    port = info.get("port") or 5432
    db = info.get("dbname") or info.get("user") or ""
    return f"{host}:{port}/{db}"

