"""Project loading: slocompile.yml and slos/**/*.yml -> a validated ProjectSpec.

Every problem in every file is collected and reported at once, each with its
file, line and column.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace

from slocompile.checks import REGISTRY, get, use_custom
from slocompile.checks.partitions import with_partitions_complete
from slocompile.declarations import macros
from slocompile.declarations.columns import check_column_type, check_values_fit_column
from slocompile.declarations.compare import read_compare, resolve_compares
from slocompile.declarations.metadata import METADATA_FIELDS, labelled, labels_of, read_labels
from slocompile.declarations.paths import slo_files
from slocompile.declarations.project import (
    PROJECT_FILE,
    check_schema_clashes,
    check_unknown_vars,
    read_project,
    reject_unset_env_outside_targets,
)
from slocompile.declarations.queries import (
    FAILED_ROWS_FIELD,
    failed_rows_ok,
    parse_assert_query,
    resolve_queries,
    with_schema_changes,
)
from slocompile.declarations.segments import SEGMENT_FIELDS, segment_params_ok, segmentable, with_project_cap
from slocompile.declarations.sensitivity import factor_of, with_column_sensitivity
from slocompile.dialects.nodes import sql_text
from slocompile.errors import Location, ProblemCollector, SpecError, did_you_mean
from slocompile.spec.fields import Field, lenient_values, read_mapping
from slocompile.spec.model import GATES, GRAINS, SEVERITIES, ColumnSpec, MonitorSpec, ProjectSpec, TableSpec
from slocompile.spec.userquery import looks_like_query
from slocompile.spec.usersql import AGGREGATE, ROW, parse_relation, parse_user_sql, typo_of
from slocompile.spec.yamlload import Node, load_yaml

MAX_NAME = 64
MAX_TABLE_NAME_BYTES = 200

TABLE_FIELDS = {
    "name": Field("str", required=True, doc="The table's name; the validated view is <validated>.<name>."),
    "relation": Field("str", required=True, doc="The raw relation, schema.table."),
    "description": Field("str", doc="Free text."),
    "key": Field("columns", doc="Columns unique per partition (per table when unpartitioned)."),
    "partition": Field("partition", doc="Checks and statuses are per partition: a date (or other) column, whose "
                       "values are the partitions, or {column: a timestamp column, granularity: hour, day, week "
                       "or month}: the partitions are its values truncated to that grain, in the project's "
                       "time_zone. A timestamp column needs the granularity."),
    "gate": Field("enum", default="warn", choices=GATES,
                  doc="What the validated view does when an error-severity SLO fails."),
    "monitor": Field("monitor", doc="Threshold-free monitors (partitioned tables): `all`, a list of columns, or "
                     "{columns: all or [...], severity: warn (default) or error}. Each metric's normal band is "
                     "learned from earlier partitions; alerts name the column."),
    "checks": Field("list", doc="Table-level checks."),
    "columns": Field("list", doc="Column declarations."),
    "row_status": Field("bool", default=False,
                        doc="Add _slo_ok, _slo_violations and _slo_fixed to each row of the validated view."),
    "cadence": Field("scalar", doc="Partitioned tables: how often partitions come, for the implied "
                     "partitions_complete check: hour, day, week, month, quarter, year, weekday (Monday to Friday), "
                     "a duration such as 15m, or a number (the step of a numeric partition); `none` turns the "
                     "check off (default: learned from the partitions)."),
    "keep": Field("int", doc="gate last_good: versions kept per partition (default 3; the published one is "
                  "always kept)."),
}
COLUMN_FIELDS = {
    "name": Field("str", required=True, doc="The column's name, exactly as in the relation."),
    "type": Field("str", doc="Declared type family for the schema check (integer, number, string, ...)."),
    "description": Field("str", doc="Free text."),
    "checks": Field("list", doc="Checks on this column."),
    "fix": Field("list", doc="Row fixes applied in order in the validated view: clip, fill_null, replace."),
    "sensitivity": Field("scalar", doc="Monitored columns: the monitors' sensitivity for this column, overriding "
                         "the table's `monitor: {sensitivity: ...}`: low, normal, high or a factor."),
}
COMMON_CHECK_FIELDS = {
    "name": Field("str", doc="Stable name of the check; the key of its history (default: derived)."),
    "severity": Field("enum", default="error", choices=SEVERITIES, doc="error fails the build; warn reports."),
    "where": Field("sql", doc="A row filter: the check only sees rows where this is true."),
    **SEGMENT_FIELDS,
}
for _fields in (TABLE_FIELDS, COLUMN_FIELDS, COMMON_CHECK_FIELDS):
    _fields.update(METADATA_FIELDS)
PARTITION_FIELDS = {
    "column": Field("str", required=True, doc="The partition column (a date or timestamp)."),
    "granularity": Field("enum", choices=GRAINS, doc="The partitions' size: the column truncated to it."),
}
MONITOR_FIELDS = {
    "columns": Field("columns", default="all", doc="all (every column but the partition and the key) or a list."),
    "severity": Field("enum", default="warn", choices=SEVERITIES, doc="warn reports; error also fails the partition."),
    "sensitivity": Field("scalar", default="normal", doc="low, normal or high, or a factor (2: changes half as "
                         "large alert; low is 0.7, high 1.4)."),
}
MONITOR_FIELDS["segments"] = Field("str_list", default=None, doc="Columns whose top values (by rows, 20, the rest "
                                   "pooled) get bands of their own: row count, missing fractions, means.")
NOT_YET: dict[str, str] = {}  # declaration keys reserved for features not in this version: key -> feature


def load_project(root: str, cli_vars: dict | None = None, env: dict | None = None,
                 require_tables: bool = True) -> ProjectSpec:
    """The validated project in `root`. `require_tables=False` loads a project that declares no
    table yet (`suggest` writes the first declaration, `debug` tests the connection)."""
    root = os.path.abspath(root)
    path = os.path.join(root, PROJECT_FILE)
    if not os.path.isfile(path):
        raise SpecError(f"{path}: no {PROJECT_FILE} here; run `slocompile init` to create a project")
    from slocompile.declarations import fixes
    from slocompile.declarations import triggers as trig

    problems = ProblemCollector()
    cli_vars = cli_vars or {}
    asked: set[str] = set()
    # unset env_var() in a target is reported only when that target is used (engines.connect)
    node = load_yaml(path, PROJECT_FILE, dict(cli_vars), env, problems.problems, defer_env=True, asked=asked)
    reject_unset_env_outside_targets(node, problems)
    project = read_project(node, problems, cli_vars)
    problems.raise_if_any()
    custom = macros.load_definitions(root, project["sql_dialect"], project["allow_outside_paths"], problems)
    use_custom({name: d.ctype for name, d in custom.items()})
    tables, triggers = [], []
    seen: dict[str, Location] = {}
    files = slo_files(root, project["slo_paths"], project["allow_outside_paths"], project["slo_paths_loc"], problems)
    problems.raise_if_any()  # a path outside the project, a loop: nothing under it is read
    if not files and require_tables:
        problems.add(Location(PROJECT_FILE), f"no table declarations found under {', '.join(project['slo_paths'])}/")
    for f in files:
        display = os.path.relpath(f, root)
        try:
            fnode = load_yaml(f, display, project["vars"], env, problems.problems, asked=asked)
        except SpecError as e:
            problems.problems.extend(e.problems)
            continue
        for table in _file_tables(fnode, display, project["sql_dialect"], problems, custom):
            if table.name in seen:
                problems.add(table.loc, f"duplicate table '{table.name}' (also declared at {seen[table.name]})")
                continue
            seen[table.name] = table.loc
            tables.append(table)
        if fnode.is_map and "triggers" in fnode.value:
            triggers += trig.parse_triggers(fnode.value["triggers"], display, project["sql_dialect"], problems)
    fixes.check_references(tables, problems)
    resolve_queries(tables)
    with_project_cap(tables, project["max_segments"])
    resolve_compares(tables, project["sql_dialect"])
    trig.check_triggers(triggers, tables, problems)
    check_unknown_vars(cli_vars, project["declared_vars"], asked, problems)
    check_schema_clashes(project["schemas"], tables, project["schemas_loc"], problems)
    problems.raise_if_any()
    return ProjectSpec(root=root, name=project["name"], default_target=project["target"],
                       targets=project["targets"], schemas=project["schemas"], vars=project["vars"],
                       sql_dialect=project["sql_dialect"], tables=tuple(tables), triggers=tuple(triggers),
                       time_zone=project["time_zone"], max_partitions=project["max_partitions"],
                       failed_rows=project["failed_rows"], max_segments=project["max_segments"])


def _file_tables(node: Node, display: str, dialect: str, problems: ProblemCollector,
                 custom: dict | None = None) -> list[TableSpec]:
    if not node.is_map:
        problems.add(node.loc, "a declaration file must be a mapping with a 'tables' list")
        return []
    for key in node.value:
        if key not in ("tables", "triggers"):
            problems.add(node.key_locs[key], f"unknown key '{key}' at the top of a declaration file"
                         + did_you_mean(key, ["tables", "triggers"]))
    tables = node.value.get("tables")
    if tables is None:
        return []
    if not tables.is_list:
        problems.add(tables.loc, "'tables' must be a list of table declarations")
        return []
    out = []
    for t in tables.value:
        spec = _table(t, display, dialect, problems, custom or {})
        if spec is not None:
            out.append(spec)
    return out


def _table(node: Node, display: str, dialect: str, problems: ProblemCollector,
           custom: dict | None = None) -> TableSpec | None:
    flat = {k: v for k, v in node.value.items() if k not in ("checks", "columns")} if node.is_map else node.value
    raw = read_mapping(Node(flat, node.loc, node.key_locs), TABLE_FIELDS, "a table", problems)
    ok = raw is not None
    if not node.is_map:
        return None
    if raw is None:  # go on with the keys that are fine, so the columns' and checks' problems are reported too
        raw = lenient_values(flat, TABLE_FIELDS)
    for key, feature in NOT_YET.items():
        if key in node.value:
            problems.add(node.key_locs[key], f"'{key}': {feature} are not available in this version yet")
    name = raw["name"] or "?"
    where = f"table '{name}'"
    labels = read_labels(node, raw, where, problems)
    raw["partition"], grain = _partition(node.value.get("partition"), where, problems)
    unusable = _unusable_table_name(name) if raw["name"] else None
    if unusable:
        shown = name if len(name) <= 40 else name[:40] + "..."
        problems.add(node.value["name"].loc, f"table name {shown!r} {unusable} (it names the table's views "
                     "and its files under target/)")
        ok = False
    if raw["keep"] is not None and raw["gate"] != "last_good":
        problems.add(node.value["keep"].loc, f"{where}: 'keep' counts the versions of gate last_good "
                     f"(this table's gate is {raw['gate']})")
    elif raw["keep"] == 0:
        problems.add(node.value["keep"].loc, f"{where}: 'keep' must be at least 1 (the published version)")
    relation = None
    if raw["relation"] is not None:
        try:
            relation = parse_relation(raw["relation"], dialect)
        except ValueError as e:
            problems.add(node.value["relation"].loc, f"{where}: relation {e}")
            ok = False
    columns, column_nodes = _columns(node.value.get("columns"), where, dialect, problems, labels)
    known = None
    if columns:
        known = {c.name for c in columns} | set(raw["key"] or ()) | ({raw["partition"]} if raw["partition"] else set())
    ctx = _TableContext(name, dialect, known, problems, {c.name: c.type for c in columns})
    ctx.labels = {None: labels, **{c.name: labels_of(c) for c in columns}}
    ctx.custom = custom or {}
    for field_name in ("partition",):
        if raw[field_name] and known is not None and raw[field_name] not in known:
            problems.add(node.value[field_name].loc, f"{where}: unknown column '{raw[field_name]}'")
    declared_type = next((c.type for c in columns if c.name == raw["partition"]), None)
    if raw["partition"] and grain is None and declared_type and _is_timestamp_type(declared_type):
        problems.add(node.value["partition"].loc, timestamp_needs_grain(where, raw["partition"], declared_type))
    monitor = _monitor(node, raw, where, known, problems)
    checks = []
    table_checks = node.value.get("checks")
    if table_checks is not None:
        checks += ctx.checks(table_checks, None)
    for i, (col_spec, col_node) in enumerate(zip(columns, column_nodes)):
        if "checks" in col_node.value:
            checks += ctx.checks(col_node.value["checks"], col_spec.name)
        if "fix" in col_node.value:
            from slocompile.declarations.fixes import parse_fixes

            columns[i] = replace(col_spec, fixes=parse_fixes(col_node.value["fix"], col_spec.name,
                                                             f"{where}, column '{col_spec.name}'", dialect, known,
                                                             problems))
    if raw["key"] and not any(c.type == "unique" and tuple(c.params["columns"] or (c.column,)) == raw["key"]
                              and c.where is None for c in checks):
        checks.append(ctx.implicit_key_check(raw["key"], node.value["key"].loc))
    if any(c.type == "schema" for c in checks):
        declared = tuple((c.name, c.type) for c in columns)
        checks = [_with_param(c, "declared", declared) if c.type == "schema" else c for c in checks]
    checks = with_partitions_complete(checks, name, raw["partition"], raw["cadence"],
                                      node.key_locs.get("cadence", node.loc), problems, grain)
    checks = _name_checks(with_schema_changes(checks, monitor, name), where, problems)
    checks = [labelled(c, labels_of(c).under(labels)) for c in checks]  # the implied checks: the table's
    monitor = _with_drift_columns(monitor, checks, raw["partition"], where, problems)
    monitor = with_column_sensitivity(monitor, raw, column_nodes, where, problems)
    if not ok:
        return None
    assert relation is not None  # required: a table without one was reported (not ok)
    return TableSpec(name=name, relation=relation, relation_text=raw["relation"], key=tuple(raw["key"] or ()),
                     partition=raw["partition"], gate=raw["gate"], monitor=monitor, columns=tuple(columns),
                     checks=tuple(checks), loc=node.loc, file=display, row_status=bool(raw["row_status"]),
                     keep=raw["keep"], partition_grain=grain, owner=labels.owner, tags=labels.tags,
                     meta=labels.meta)


def timestamp_needs_grain(where: str, column: str, type_text: str) -> str:
    """The refusal of `partition: <a timestamp column>` without a granularity."""
    return (f"{where}: partition column '{column}' is a timestamp ({type_text}): every distinct timestamp would be "
            f"a partition of its own; name their size with the 'granularity' key: partition: {{column: {column}, "
            f"granularity: {' | '.join(GRAINS)}}}")


def _is_timestamp_type(type_text: str) -> bool:
    low = type_text.strip().lower()
    return low.startswith(("timestamp", "datetime"))


def _partition(pnode: Node | None, where: str, problems: ProblemCollector) -> tuple[str | None, str | None]:
    """`partition: column` or `partition: {column: ..., granularity: hour | day | week | month}`:
    the column and the grain (None: the column's values are the partitions)."""
    if pnode is None or pnode.value is None:
        return None, None
    if isinstance(pnode.value, str):
        return (pnode.value if pnode.value.strip() else None), None
    if not pnode.is_map:
        return None, None  # reported by the field
    p = read_mapping(pnode, PARTITION_FIELDS, f"'partition' of {where}", problems)
    if p is None:
        return None, None
    if p["granularity"] is None:
        problems.add(pnode.loc, f"{where}: 'partition' as a mapping names the partitions' size: "
                     f"{{column: {p['column']}, granularity: {' | '.join(GRAINS)}}} (or write partition: "
                     f"{p['column']} for a date column)")
        return p["column"], None
    return p["column"], p["granularity"]


def _monitor(node: Node, raw: dict, where: str, known: set[str] | None,
             problems: ProblemCollector) -> MonitorSpec | None:
    """`monitor: all`, `monitor: [col, ...]` or `monitor: {columns: all | [...], severity: warn | error}`."""
    if raw.get("monitor") is None or "monitor" not in node.value:
        return None
    mnode = node.value["monitor"]
    loc = node.key_locs.get("monitor", mnode.loc)
    shape = "all, a list of columns or a mapping {columns: ..., severity: ...}"
    severity, cols, sensitivity = "warn", mnode, 1.0
    segments: tuple[str, ...] = ()
    if mnode.is_map:
        m = read_mapping(mnode, MONITOR_FIELDS, f"'monitor' of {where}", problems)
        if m is None:
            return None
        severity, cols = m["severity"], mnode.value.get("columns")
        segments = tuple(m.get("segments") or ())
        bad = [c for c in segments if c == raw["partition"] or typo_of(c, known)]
        if bad:
            problems.add(mnode.value["segments"].loc, f"{where}: 'monitor' segments: '{bad[0]}' is "
                         + ("the partition column" if bad[0] == raw["partition"] else
                            f"an unknown column{typo_of(bad[0], known)}"))
            return None
        node_s = mnode.value.get("sensitivity")
        factor = factor_of(m["sensitivity"], node_s.loc if node_s is not None else loc, f"{where}, 'monitor'", problems)
        if factor is None:
            return None
        sensitivity = factor
    columns = None
    if cols is not None and isinstance(cols.value, str):
        if cols.value != "all":
            hint = (f" (for one column write [{cols.value}])" if known and cols.value in known
                    else did_you_mean(cols.value, ["all"]))
            problems.add(cols.loc, f"{where}: 'monitor' must be {shape}, not {cols.value!r}{hint}")
            return None
    elif cols is not None:
        items = cols.value if cols.is_list else None
        if not items or any(not isinstance(i.value, str) or not i.value.strip() for i in items):
            problems.add(cols.loc, f"{where}: 'monitor' must be {shape}"
                         + ("; the column list is empty" if items == [] else "; columns are non-empty names"))
            return None
        seen: dict[str, Location] = {}
        for i in items:
            if i.value in seen:
                problems.add(i.loc, f"{where}: 'monitor' lists column '{i.value}' twice")
            elif i.value == raw["partition"]:
                problems.add(i.loc, f"{where}: '{i.value}' is the partition column; monitors track the other "
                             "columns (and the row count per partition)")
            elif typo_of(i.value, known):
                problems.add(i.loc, f"{where}: 'monitor': unknown column '{i.value}'{typo_of(i.value, known)}")
            seen.setdefault(i.value, i.loc)
        columns = tuple(seen)
    return MonitorSpec(columns, severity, loc, sensitivity=sensitivity, segments=segments)


def _with_drift_columns(monitor: MonitorSpec | None, checks: list, partition: str | None, where: str,
                        problems: ProblemCollector) -> MonitorSpec | None:
    """Checks judged from monitor history (drift) need their column profiled by the monitors: add
    the columns the monitors do not cover yet, quietly (no monitor alerts the table did not ask for)."""
    needing = [c for c in checks if get(c.type).needs_partition]
    if needing and not partition:
        for c in needing:
            problems.add(c.loc, f"{where}: '{c.type}' compares partitions and needs the table's 'partition' column")
        return monitor
    extra = [c.column for c in needing if get(c.type).from_monitor_history]
    if not extra:
        return monitor
    if monitor is None:
        return MonitorSpec(tuple(dict.fromkeys(extra)), "warn", needing[0].loc, quiet=(None, *dict.fromkeys(extra)))
    if monitor.columns is None:  # every column is monitored already
        return monitor
    new = tuple(c for c in dict.fromkeys(extra) if c not in monitor.columns)
    return replace(monitor, columns=monitor.columns + new, quiet=new) if new else monitor


def _unusable_table_name(name: str) -> str | None:
    """Why a table name cannot also name a folder under target/compiled/<dialect>/, else None."""
    if len(name.encode("utf-8")) > MAX_TABLE_NAME_BYTES:
        return f"is too long (at most {MAX_TABLE_NAME_BYTES} bytes)"
    return None


def _with_param(check, key, value):
    from dataclasses import replace

    return replace(check, params={**check.params, key: value})


def _columns(node: Node | None, where: str, dialect: str, problems: ProblemCollector, parent=None):
    if node is None:
        return [], []
    if not node.is_list:
        problems.add(node.loc, f"{where}: 'columns' must be a list")
        return [], []
    out, nodes = [], []
    seen: dict[str, Location] = {}
    for c in node.value:
        flat = {k: v for k, v in c.value.items() if k != "checks"} if c.is_map else c.value
        raw = read_mapping(Node(flat, c.loc, c.key_locs), COLUMN_FIELDS, f"a column of {where}", problems)
        if raw is None and c.is_map:  # problems are recorded; go on so that its checks are validated too
            raw = lenient_values(flat, COLUMN_FIELDS)
        if raw is None or not raw["name"]:
            continue
        if raw["name"] in seen:
            problems.add(c.loc, f"{where}: duplicate column '{raw['name']}' (first at line {seen[raw['name']].line})")
            continue
        seen[raw["name"]] = c.loc
        if raw["type"]:
            check_column_type(raw["type"], c.value["type"].loc, f"{where}, column '{raw['name']}'", dialect, problems)
        labels = read_labels(c, raw, f"{where}, column '{raw['name']}'", problems, parent)
        out.append(ColumnSpec(raw["name"], raw["type"], c.loc, owner=labels.owner, tags=labels.tags,
                              meta=labels.meta))
        nodes.append(c)
    return out, nodes


class _TableContext:
    """Validates the checks of one table: types, parameters, SQL and referenced columns."""

    def __init__(self, table: str, dialect: str, known: set[str] | None, problems: ProblemCollector,
                 types: dict[str, str | None]):
        self.table, self.dialect, self.known, self.problems = table, dialect, known, problems
        self.types = types  # declared column types
        self.labels: dict = {}  # column name (None: the table) -> its metadata.Labels
        self.custom: dict = {}  # the project's custom check types: name -> macros.Definition

    def checks(self, node: Node, column: str | None) -> list:
        where = f"table '{self.table}'" + (f", column '{column}'" if column else "")
        if not node.is_list:
            self.problems.add(node.loc, f"{where}: 'checks' must be a list")
            return []
        out = []
        for item in node.value:
            c = self._check(item, column, where)
            if c is not None:
                out.append(c)
        return out

    def _check(self, item: Node, column: str | None, where: str):
        from slocompile.spec.model import CheckSpec

        if isinstance(item.value, str):
            type_name, params_node, type_loc = item.value, Node({}, item.loc), item.loc
        elif item.is_map and len(item.value) == 1:
            type_name = next(iter(item.value))
            params_node, type_loc = item.value[type_name], item.key_locs[type_name]
        else:
            self.problems.add(item.loc, f"{where}: a check is a check type, or a mapping with one check type as key")
            return None
        definition = self.custom.get(type_name)
        ctype = REGISTRY.get(type_name) or (definition.ctype if definition is not None else None)
        if ctype is None:
            self.problems.add(type_loc, f"{where}: unknown check type '{type_name}'"
                              f"{did_you_mean(type_name, [*REGISTRY, *self.custom])}")
            return None
        level_ok = ctype.column_level if column else ctype.table_level
        if not level_ok:
            self.problems.add(type_loc, f"{where}: '{type_name}' is a {'table' if column else 'column'}-level check"
                              + (" (declare it under the table's checks)" if column
                                 else " (declare it under a column)"))
            return None
        fields = {**ctype.fields, **COMMON_CHECK_FIELDS}
        if ctype.has_rows:
            fields["failed_rows"] = FAILED_ROWS_FIELD
        if ctype.needs_column and column is None:
            fields["column"] = Field("str", required=True, doc="The column the check is about.")
        what = f"'{type_name}' of {where}" + (f" (check type defined at {definition.loc})" if definition else "")
        if params_node.value is None:
            params_node = Node({}, params_node.loc)
        if not params_node.is_map:
            if ctype.shorthand is None:
                self.problems.add(params_node.loc, f"{what} takes a mapping of parameters")
                return None
            params_node = Node({ctype.shorthand: params_node}, params_node.loc, {ctype.shorthand: params_node.loc})
        params = read_mapping(params_node, fields, what, self.problems)
        if params is None:
            return None
        own = {k: params.pop(k) for k in METADATA_FIELDS}
        before = len(self.problems.problems)
        ctype.validate(params, params_node.loc, self.problems)
        if len(self.problems.problems) > before:
            return None
        col = params.pop("column", None) or column
        declared = self.types.get(col) if col is not None else None
        if not check_values_fit_column(type_name, col, declared, params_node, what, self.dialect, self.problems):
            return None
        if not failed_rows_ok(params, params_node, what, self.problems) \
                or not segment_params_ok(params, params_node, what, self.known, self.problems):
            return None
        name, severity, where_sql = params.pop("name"), params.pop("severity"), params.pop("where")
        where_expr = None
        if where_sql is not None:
            where_expr = parse_user_sql(where_sql, self.dialect, ROW, self.known, params_node.value["where"].loc,
                                        f"'where' of {what}", self.problems)
            if where_expr is None:
                return None
        for key in ctype.sql_fields:
            if type_name == "assert" and looks_like_query(params[key]):
                query = parse_assert_query(params[key], where_sql, self.dialect, params_node, what, self.problems)
                if query is None:
                    return None
                params.update(sql_text=params[key], sql=query, query=query)
                continue
            mode = AGGREGATE if type_name == "assert" else ROW
            parsed = parse_user_sql(params[key], self.dialect, mode, self.known,
                                    params_node.value[key].loc, f"'{key}' of {what}", self.problems)
            if parsed is None:
                return None
            params[f"{key}_text"] = params[key]
            params[key] = parsed
        if type_name == "compare" and not read_compare(params, params_node, self.dialect, self.known, what,
                                                       self.problems):
            return None
        if definition is not None:
            if definition.kind == macros.ROWS and where_sql is not None:
                self.problems.add(params_node.value["where"].loc, f"{what}: 'where' does not apply to a check type "
                                  "returning rows: filter inside its SELECT")
                return None
            params = macros.instantiate(definition, params, col, self.dialect, self.known, type_loc, what,
                                        self.problems)
            if params is None:
                return None
        labels = read_labels(params_node, own, what, self.problems, self.labels.get(col) or self.labels.get(None))
        check = CheckSpec(type=type_name, name=name or "", table=self.table, column=col, severity=severity,
                          where=where_expr, params=params, loc=type_loc, owner=labels.owner, tags=labels.tags,
                          meta=labels.meta)
        for ref in ctype.referenced_columns(check):
            if typo_of(ref, self.known):
                self.problems.add(type_loc, f"{what}: unknown column '{ref}'{typo_of(ref, self.known)}")
                return None
        return check if segmentable(ctype, check, params_node, what, self.problems) else None

    def implicit_key_check(self, key: tuple[str, ...], loc: Location):
        from slocompile.spec.model import CheckSpec

        return CheckSpec(type="unique", name="key", table=self.table, column=None, severity="error", where=None,
                         params={"columns": tuple(key)}, loc=loc)


_UNSAFE = re.compile(r"[^0-9a-zA-Z_]+")


def default_name(check) -> str:
    ctype = get(check.type)
    suffix = ctype.name_suffix(check.params, check.column)
    base = _UNSAFE.sub("_", f"{check.type}_{suffix}" if suffix else check.type).strip("_").lower()
    return base or check.type


def _digest(check) -> str:
    text = repr(sorted((k, repr(v) if not hasattr(v, "sql") else sql_text(v, None)) for k, v in check.params.items()))
    text += repr((check.column, sql_text(check.where, None) if check.where is not None else None, check.severity))
    return hashlib.sha1(text.encode()).hexdigest()[:6]


def _bounded(name: str, check) -> str:
    if len(name) <= MAX_NAME:
        return name
    return name[: MAX_NAME - 7] + "_" + _digest(check)


def _name_checks(checks: list, where: str, problems: ProblemCollector) -> list:
    """Give every check a stable, readable, length-bounded name unique within its table."""
    from dataclasses import replace

    explicit: dict[str, Location] = {}
    for c in checks:
        if c.name:
            if c.name in explicit:
                problems.add(c.loc, f"{where}: duplicate check name '{c.name}' (first at line {explicit[c.name].line})")
            explicit[c.name] = c.loc
    bases: dict[str, int] = {}
    for c in checks:
        if not c.name:
            b = default_name(c)
            bases[b] = bases.get(b, 0) + 1
    out, used = [], set(explicit)
    for c in checks:
        if c.name:
            out.append(c)
            continue
        base = default_name(c)
        name = _bounded(base, c) if bases[base] == 1 and base not in used else _bounded(f"{base}_{_digest(c)}", c)
        if name in used:
            problems.add(c.loc, f"{where}: two identical '{c.type}' checks; give one a 'name'")
            continue
        used.add(name)
        out.append(replace(c, name=name))
    return out
