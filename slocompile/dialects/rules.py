"""What differs per dialect, in one class per dialect: a new engine is one engine module
(slocompile/engines/) plus its entry here.

- SQL: the constructs render.py rewrites (an error raised from a query, exact quantiles, regex
  search, FILTER clauses, ordered string aggregation, approximate distinct counts, NaN tests,
  epoch seconds, ANY_VALUE) are chosen by these attributes, never by the dialect's name;
- catalog types: ``duckdb_type`` spells an engine's type name the DuckDB way (the monitors
  classify columns by DuckDB type names);
- engines (`slocompile debug`): whether DDL is transactional, how the catalog is probed, how a
  connection is described, and the hints for an engine's own error messages.
"""
from __future__ import annotations

import re

from sqlglot import exp

CANONICAL = "duckdb"  # the dialect whose type names the monitors classify


class Rules:
    """The defaults: what sqlglot writes for the dialect is used as it is."""

    name = ""
    # SQL (render.py)
    error_function: str | None = None   # raises its message at query time; None: CAST(message AS INT) fails
    quantile_function: str | None = None  # an exact quantile as a function f(x, q)
    quantile_within_group = False        # ... or as PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)
    quantile_array = True                # the within-group form takes an array of fractions too
    regex_instr = False                  # a regex search is REGEXP_INSTR(x, p) > 0 (REGEXP_LIKE anchors)
    aggregate_filter = True              # AGG(x) FILTER (WHERE c) is accepted
    ordered_agg_within_group = False     # LISTAGG(x) WITHIN GROUP (ORDER BY x), not inside the parentheses
    approx_distinct = True               # an approximate distinct count exists (else: COUNT(DISTINCT))
    approx_distinct_accuracy = True      # ... and takes an accuracy argument
    isnan = True                         # ISNAN(x) exists (else: x = 'NaN')
    epoch_micros = False                 # epoch seconds from UNIX_MICROS (the seconds function truncates)
    any_value = True                     # ANY_VALUE(x) exists
    datetime_trunc = False               # truncate naive timestamps with DATETIME_TRUNC (else DATE_TRUNC)
    week_unit = "WEEK"                   # the unit that truncates to the Monday of a week
    time_zone_setting: str | None = "TimeZone"  # SET <setting> = 'zone' sets the session time zone
    # nodes.ValueTest as a semi-join on the distinct values meeting the condition: DuckDB groups a
    # column by value far faster than it tests a NOT IN list on every row (10M rows: 0.02s vs 0.20s)
    value_test_once = False
                                                # (None: SET TIME ZONE 'zone')
    row_hash: str | None = None          # how a row's values hash to a number SUM cannot overflow (render.py
                                         # _row_hash: hash, hashtext, xxhash64, farm_fingerprint, trino, md5)
    unhashable_type: str | None = None   # a regex on the engine's type names the row hash refuses: such
                                         # columns are hashed as their JSON text (TableSpec.hashed_as_text)
    # engines (`slocompile debug`)
    transactional_ddl = True             # CREATE/DROP roll back with a transaction
    file_created_on_connect = False      # connecting creates a missing database file (option `path`)
    catalog_query = "SELECT table_schema, table_name, column_name FROM information_schema.columns LIMIT 1"
    catalog_readable = "information_schema.columns is readable"

    def connect_detail(self, info: dict) -> str:
        return str(info.get("where") or "")

    def connect_hint(self, low: str, target: str) -> str:
        """The hint for a failed connection (`low`: the message, lower-cased)."""
        return f"check target '{target}' and that its database is reachable"

    def probe_hint(self, probe: str, message: str, info: dict) -> str | None:
        """The hint for a probe's failure in the engine's own words; None: the generic ones apply."""
        return None


class DuckDB(Rules):
    name = "duckdb"
    row_hash = "hash"  # hash(a, b, ...) is a UBIGINT; its SUM a HUGEINT
    error_function = "error"
    quantile_function = "quantile_cont"
    approx_distinct_accuracy = False  # a fixed-size HyperLogLog
    value_test_once = True
    file_created_on_connect = True

    def connect_detail(self, info: dict) -> str:
        return f"DuckDB file {info.get('where') or ''}"

    def connect_hint(self, low: str, target: str) -> str:
        if "in use" in low or "lock" in low:
            return "another process (a build, a DuckDB shell) holds the file: close it and try again"
        return f"check the path of target '{target}' and that its folder is writable"

    def probe_hint(self, probe: str, message: str, info: dict) -> str | None:
        low = message.lower()
        if "read-only" in low or "read only" in low:
            return "the DuckDB file is read-only here: check its permissions, or that no tool opened it read-only"
        return None


class Postgres(Rules):
    name = "postgres"
    quantile_within_group = True
    approx_distinct = False
    isnan = False      # its float NaN equals itself: x = 'NaN'
    any_value = False  # only from version 16
    row_hash = "hashtext"  # hashtextextended(ROW(a, b, ...)::text, 0), a BIGINT; its SUM a NUMERIC

    def connect_detail(self, info: dict) -> str:
        return f"Postgres at {info.get('where') or ''} as role {info.get('user')}"

    def connect_hint(self, low: str, target: str) -> str:
        if "password" in low:
            return ("check the user and password (keep the password in an environment variable: "
                    "dsn: \"{{ env_var('PG_DSN') }}\")")
        if "does not exist" in low and "database" in low:
            return "the database named in the target does not exist on this server: create it or fix dbname"
        if "needs 'dsn'" in low:
            return "set dsn, or host/port/dbname/user, in the target"
        return (f"check target '{target}': host, port and dbname; that the server runs and accepts this client "
                "and user (listen_addresses, pg_hba.conf); connect_timeout for slow networks")

    def probe_hint(self, probe: str, message: str, info: dict) -> str | None:
        low = message.lower()
        user = info.get("user")
        role = f'"{user}"' if user else "<role>"
        db = info.get("database") or "<database>"
        if "permission denied for database" in low:  # only for a schema that does not exist: the
            # engine skips CREATE SCHEMA IF NOT EXISTS for one that does
            return f'GRANT CREATE ON DATABASE "{db}" TO {role}: the build creates this schema'
        m = re.search(r'permission denied for schema (\S+)', message)
        if m:
            schema = m.group(1).strip('"')
            if probe.startswith("relation"):
                return f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'
            return f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO {role}'
        m = re.search(r'permission denied for (?:table|relation|view|materialized view) (\S+)', message)
        if m:
            what = probe.split(" ", 1)[1] if probe.startswith("relation") else m.group(1)
            return f"GRANT SELECT ON {what} TO {role}"
        if "must be owner" in low:
            return f"the object belongs to another role: ALTER ... OWNER TO {role}, or build as its owner"
        if "read-only transaction" in low:
            return ("the server or session is read-only (a standby, or default_transaction_read_only): "
                    "connect to the primary")
        return None


class Spark(Rules):
    name = "spark"
    row_hash = "xxhash64"  # xxhash64(a, b, ...) as DECIMAL(20,0): ANSI mode raises on a BIGINT SUM's overflow
    unhashable_type = r"(?i)\bmap<"  # xxhash64 refuses a MAP, also inside an ARRAY or a STRUCT
    error_function = "raise_error"
    quantile_function = "percentile"  # exact, unlike percentile_approx
    time_zone_setting = None          # SET TIME ZONE 'zone' (spark.sql.session.timeZone)
    epoch_micros = True               # UNIX_TIMESTAMP truncates to whole seconds
    transactional_ddl = False
    catalog_query = "SHOW DATABASES"
    catalog_readable = "the Spark catalog is readable ({n} databases)"

    def connect_detail(self, info: dict) -> str:
        return (f"Spark session on {info.get('where') or ''}, catalog {info.get('catalog') or '?'}, "
                f"warehouse {info.get('warehouse') or '?'}")

    def connect_hint(self, low: str, target: str) -> str:
        if "java" in low:
            return "install Java 17+ (e.g. openjdk-17-jre-headless) and put it on PATH or in JAVA_HOME"
        if "metastore" in low or "derby" in low:
            return ("another process (a build, spark-sql, a notebook) holds the Derby metastore: stop it, or use "
                    "catalog: in-memory or another metastore: path")
        if "connect" in low:
            return "pip install 'pyspark[connect]', and check the remote: URL and that the Connect server runs"
        return f"check target '{target}': master/remote, warehouse and conf"

    def probe_hint(self, probe: str, message: str, info: dict) -> str | None:
        low = message.lower()
        if any(k in low for k in ("permission denied", "accesscontrolexception", "mkdirs failed",
                                  "read-only file system")):
            warehouse = info.get("warehouse") or "spark.sql.warehouse.dir"
            return f"the warehouse ({warehouse}) must be writable by this user"
        return None


class Databricks(Spark):
    name = "databricks"


class Snowflake(Rules):
    name = "snowflake"
    row_hash = "hash"  # HASH(a, b, ...) is a NUMBER(19,0); its SUM a NUMBER(38,0)
    quantile_within_group = True
    quantile_array = False
    regex_instr = True  # REGEXP_LIKE anchors the whole value there


class Redshift(Rules):
    name = "redshift"
    row_hash = "md5"
    quantile_within_group = True
    quantile_array = False
    aggregate_filter = False
    ordered_agg_within_group = True  # sqlglot writes the ORDER BY inside the parentheses, where Redshift rejects it


class BigQuery(Rules):
    name = "bigquery"
    row_hash = "farm_fingerprint"
    datetime_trunc = True   # TIMESTAMP_TRUNC takes a TIMESTAMP, not the DATETIME a naive cast gives
    week_unit = "ISOWEEK"   # WEEK starts on Sunday there
    error_function = "ERROR"


class Trino(Rules):
    name = "trino"
    row_hash = "trino"
    error_function = "fail"


RULES: dict[str, Rules] = {r.name: r for r in (DuckDB(), Postgres(), Spark(), Databricks(), Snowflake(), Redshift(),
                                              BigQuery(), Trino())}


def rules(dialect: str) -> Rules:
    """The rules of a dialect; sqlglot's defaults for one without an entry."""
    return RULES.get(dialect) or _DEFAULT


def hashes_as_text(dialect: str, type_text: str | None) -> bool:
    """Whether a column of this type (the engine's name for it) is hashed as its JSON text."""
    pattern = rules(dialect).unhashable_type
    return bool(pattern and type_text and re.search(pattern, type_text))


_DEFAULT = Rules()


def duckdb_type(type_text: str, dialect: str) -> str:
    """An engine's type name in DuckDB's spelling (`double precision` -> DOUBLE, Spark's `string`
    -> TEXT, `array<int>` -> INT[]); the name itself, upper-cased, when sqlglot does not know it."""
    if dialect == CANONICAL:
        return type_text
    try:
        return exp.DataType.build(type_text, dialect=dialect).sql(CANONICAL).upper()
    except Exception:
        return type_text.upper()
