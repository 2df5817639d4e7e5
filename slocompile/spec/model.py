"""The validated project: frozen, located, and free of YAML details."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from slocompile.errors import Location

GATES = ("block", "filter", "last_good", "warn")
SEVERITIES = ("error", "warn")
DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark", "databricks", "trino", "redshift")
ENGINE_TYPES = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark", "databricks": "databricks",
                "snowflake": "snowflake", "bigquery": "bigquery", "trino": "trino", "redshift": "redshift"}
EXECUTABLE = ("duckdb", "postgres", "spark")
# partition granularities: a timestamp partition column is cut into partitions of this size (in the
# project's time zone); hour labels read 'YYYY-MM-DD HH:00:00', the others 'YYYY-MM-DD' (the first day)
GRAINS = ("hour", "day", "week", "month")
DEFAULT_TIME_ZONE = "UTC"
DEFAULT_MAX_PARTITIONS = 10_000  # a build that would check more partitions of one table stops (exit 2)
DEFAULT_FAILED_ROWS = 20  # failed-row samples kept per failing check and run
MAX_FAILED_ROWS = 10_000  # the most a check or project may ask for
DEFAULT_MAX_SEGMENTS = 100  # group_by: segments judged apart per partition, the rest pooled (checks.segments)
MAX_SEGMENTS_LIMIT = 10_000  # the most a check or project may ask for
# the partition label (the partition as text, in results and the meta schema) of rows whose
# partition column is NULL; whole-table statuses have partition NULL, so the two are never confused.
# A real value could read '(null)' too (a string partition column), so the label of a value that
# looks like it ('(' ... 'null)') gets one more '(' in front: labels and partitions map one to one.
# sqltrees/scans.py renders the same rule in SQL (partition_text); partition_label is it in Python.
NULL_PARTITION = "(null)"
LOOKALIKE_PREFIX, LOOKALIKE_SUFFIX = "(", "null)"  # SQL: text LIKE '(%null)'


def _lookalike(text: str) -> bool:
    return text.startswith(LOOKALIKE_PREFIX) and text.endswith(LOOKALIKE_SUFFIX)


def partition_label(text: str | None) -> str:
    """The label of a partition whose value, as text, is `text` (None: the NULL partition)."""
    if text is None:
        return NULL_PARTITION
    return LOOKALIKE_PREFIX + text if _lookalike(text) else text


def partition_value(label: str) -> str | None:
    """The partition value (as text) a label stands for: None for the NULL partition."""
    if label == NULL_PARTITION:
        return None
    return label[len(LOOKALIKE_PREFIX):] if _lookalike(label) else label


# the settings each executable target reads (engines/*.py); compile-only targets read none, so
# they may carry any (an account name kept for later, say)
TARGET_OPTIONS = {
    "duckdb": ("path", "threads"),
    "postgres": ("dsn", "host", "port", "user", "password", "dbname", "database", "sslmode", "options",
                 "application_name", "connect_timeout"),
    "spark": ("master", "remote", "warehouse", "metastore", "catalog", "conf"),
}


@dataclass(frozen=True)
class CheckSpec:
    type: str
    name: str
    table: str
    column: str | None
    severity: str
    where: exp.Expression | None
    params: dict[str, Any] = field(hash=False, compare=False)
    loc: Location | None = field(hash=False, compare=False, default=None)
    # owner, tags and meta (declarations/metadata.py): inherited from the column and table; never in SQL
    owner: str | None = field(default=None, compare=False)
    tags: tuple[str, ...] = field(default=(), compare=False)
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.table}.{self.name}"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str | None
    loc: Location
    fixes: tuple = ()  # fixes.Fix, applied in order in the validated view
    owner: str | None = field(default=None, compare=False)  # inherited from the table unless declared
    tags: tuple[str, ...] = field(default=(), compare=False)  # the table's and its own
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class MonitorSpec:
    """`monitor:` of a table: threshold-free monitors on these columns (None: every column the
    catalog has, but the partition and the key), alerting at this severity."""
    columns: tuple[str, ...] | None = None
    severity: str = "warn"
    loc: Location | None = field(default=None, hash=False, compare=False)
    # profiled for drift SLOs only, their alerts not reported: columns, and None for the table's
    # own metrics (row count, key duplicates) when the table did not ask for monitors
    quiet: tuple[str | None, ...] = ()
    # `sensitivity:` low | normal | high or a factor: bands (z and floors) divided by it (monitors.bands.sensitive)
    sensitivity: float = 1.0
    # `segments:` columns whose top values get bands of their own (row count, missing fractions, means)
    segments: tuple[str, ...] = ()
    # `sensitivity:` of monitored columns, overriding the table's: (column, factor), ...
    column_sensitivity: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class TableSpec:
    name: str
    relation: exp.Table
    relation_text: str
    key: tuple[str, ...]
    partition: str | None
    gate: str
    monitor: MonitorSpec | None
    columns: tuple[ColumnSpec, ...]
    checks: tuple[CheckSpec, ...]
    loc: Location
    file: str
    row_status: bool = False  # the validated view adds _slo_ok, _slo_violations, _slo_fixed
    keep: int | None = None   # gate last_good: versions kept per partition (None: the default)
    catalog_columns: tuple[str, ...] | None = None  # the relation's columns, in order (set by the build)
    # the relation's columns the engine's row hash cannot take as they are (Spark: a MAP anywhere in
    # the type), hashed as their JSON text instead (set by the build; dialects.rules.hashes_as_text)
    hashed_as_text: tuple[str, ...] = ()
    # `partition: {column, granularity}`: the partition is the column truncated to this grain (GRAINS);
    # None: the column's value itself (a date, an integer, a string)
    partition_grain: str | None = None
    owner: str | None = field(default=None, compare=False)  # owner, tags, meta: declarations/metadata.py
    tags: tuple[str, ...] = field(default=(), compare=False)
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    def labels(self, check: str | None, column: str | None = None) -> tuple[str | None, tuple[str, ...]]:
        """(owner, tags) of a result of this table: its check's, else its column's, else the table's."""
        by_name = self.__dict__.get("_checks_by_name")  # asked once a result: 10,000s on a large build
        if by_name is None:  # frozen: cached around __setattr__ (the checks never change)
            by_name = self.__dict__["_checks_by_name"] = {c.name: c for c in reversed(self.checks)}
        spec: CheckSpec | ColumnSpec | TableSpec | None = by_name.get(check) if check else None
        if spec is None and column:
            spec = self.column(column)
        if spec is None:
            spec = self
        return spec.owner, spec.tags

    @property
    def row_rules_dropping(self) -> tuple[CheckSpec, ...]:
        return tuple(c for c in self.checks if c.params.get("rows") == "drop")


@dataclass(frozen=True)
class TargetSpec:
    name: str
    type: str
    options: dict[str, Any]
    loc: Location

    @property
    def dialect(self) -> str:
        return ENGINE_TYPES[self.type]


@dataclass(frozen=True)
class Schemas:
    validated: str = "validated"
    quarantine: str = "quarantine"
    meta: str = "slo"
    versions: str = "slo_versions"  # gate last_good: the snapshots (versions) of each table


@dataclass(frozen=True)
class ProjectSpec:
    root: str
    name: str
    default_target: str
    targets: dict[str, TargetSpec]
    schemas: Schemas
    vars: dict[str, Any]
    sql_dialect: str
    tables: tuple[TableSpec, ...]
    triggers: tuple = ()  # triggers.Trigger
    time_zone: str = DEFAULT_TIME_ZONE  # time partitions are cut at this zone's hours and days
    max_partitions: int = DEFAULT_MAX_PARTITIONS  # per table and build (the partition-count guard)
    failed_rows: int = DEFAULT_FAILED_ROWS  # failed-row samples kept per failing check and run (0: none)
    max_segments: int = DEFAULT_MAX_SEGMENTS  # group_by: segments judged apart per partition (checks.segments)

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)
