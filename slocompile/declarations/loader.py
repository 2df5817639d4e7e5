"""Project loading: slocompile.yml and slos/**/*.yml -> a validated ProjectSpec.

Every problem in every file is collected and reported at once, each with its
file, line and column.
"""
from __future__ import annotations

import glob
import hashlib
import os
import re
from dataclasses import replace

from slocompile.checks import REGISTRY
from slocompile.checks.partitions import with_partitions_complete
from slocompile.errors import Location, ProblemCollector, SpecError, did_you_mean
from slocompile.dialects.nodes import sql_text
from slocompile.spec.fields import Field, read_mapping
from slocompile.spec.model import (DIALECTS, ENGINE_TYPES, GATES, SEVERITIES, TARGET_OPTIONS, ColumnSpec, MonitorSpec, ProjectSpec,
                    Schemas, TableSpec, TargetSpec)
from slocompile.spec.usersql import AGGREGATE, ROW, parse_relation, parse_user_sql, typo_of
from slocompile.spec.yamlload import Node, load_yaml, unset_env_names

PROJECT_FILE = "slocompile.yml"
MAX_NAME = 64
MAX_TABLE_NAME_BYTES = 200

PROJECT_FIELDS = {
    "name": Field("str", required=True, doc="The project's name."),
    "target": Field("str", doc="The default target (a key of `targets`)."),
    "targets": Field("mapping", doc="Named connections: {NAME: {type: duckdb|postgres|spark|..., ...}}."),
    "schemas": Field("mapping", doc="Schema names: {validated, quarantine, meta}."),
    "vars": Field("mapping", doc="Values for {{ var('name') }} in declarations."),
    "sql_dialect": Field("enum", default="duckdb", choices=DIALECTS,
                         doc="The dialect user SQL (expression, assert, where) is written in."),
    "slo_paths": Field("str_list", default=("slos",), doc="Folders holding table declarations."),
}
_NESTED = {"targets", "schemas", "vars"}
SCHEMA_FIELDS = {k: Field("str", default=v, doc=f"Schema of the {k} views/tables.")
                 for k, v in (("validated", "validated"), ("quarantine", "quarantine"), ("meta", "slo"),
                              ("versions", "slo_versions"))}
TABLE_FIELDS = {
    "name": Field("str", required=True, doc="The table's name; the validated view is <validated>.<name>."),
    "relation": Field("str", required=True, doc="The raw relation, schema.table."),
    "description": Field("str", doc="Free text."),
    "key": Field("columns", doc="Columns unique per partition (per table when unpartitioned)."),
    "partition": Field("str", doc="A date or timestamp column: checks and statuses are per partition."),
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
}
COMMON_CHECK_FIELDS = {
    "name": Field("str", doc="Stable name of the check; the key of its history (default: derived)."),
    "severity": Field("enum", default="error", choices=SEVERITIES, doc="error fails the build; warn reports."),
    "where": Field("sql", doc="A row filter: the check only sees rows where this is true."),
}
MONITOR_FIELDS = {
    "columns": Field("columns", default="all", doc="all (every column but the partition and the key) or a list."),
    "severity": Field("enum", default="warn", choices=SEVERITIES, doc="warn reports; error also fails the partition."),
}
NOT_YET: dict[str, str] = {}  # declaration keys reserved for features not in this version: key -> feature


def load_project(root: str, cli_vars: dict | None = None, env: dict | None = None) -> ProjectSpec:
    root = os.path.abspath(root)
    path = os.path.join(root, PROJECT_FILE)
    if not os.path.isfile(path):
        raise SpecError(f"{path}: no {PROJECT_FILE} here; run `slocompile init` to create a project")
    from slocompile.declarations import fixes
    from slocompile.declarations import triggers as trig

    problems = ProblemCollector()
    # unset env_var() in a target is reported only when that target is used (engines.connect)
    node = load_yaml(path, PROJECT_FILE, dict(cli_vars or {}), env, problems.problems, defer_env=True)
    _reject_unset_env_outside_targets(node, problems)
    project = _project(root, node, problems, cli_vars or {})
    problems.raise_if_any()
    tables, seen, triggers = [], {}, []
    files = _slo_files(root, project["slo_paths"])
    if not files:
        problems.add(Location(PROJECT_FILE), f"no table declarations found under {', '.join(project['slo_paths'])}/")
    for f in files:
        display = os.path.relpath(f, root)
        try:
            fnode = load_yaml(f, display, project["vars"], env, problems.problems)
        except SpecError as e:
            problems.problems.extend(e.problems)
            continue
        for table in _file_tables(fnode, display, project["sql_dialect"], problems):
            if table.name in seen:
                problems.add(table.loc, f"duplicate table '{table.name}' (also declared at {seen[table.name]})")
                continue
            seen[table.name] = table.loc
            tables.append(table)
        if fnode.is_map and "triggers" in fnode.value:
            triggers += trig.parse_triggers(fnode.value["triggers"], display, project["sql_dialect"], problems)
    fixes.check_references(tables, problems)
    trig.check_triggers(triggers, tables, problems)
    problems.raise_if_any()
    return ProjectSpec(root=root, name=project["name"], default_target=project["target"],
                       targets=project["targets"], schemas=project["schemas"], vars=project["vars"],
                       sql_dialect=project["sql_dialect"], tables=tuple(tables), triggers=tuple(triggers))


def _reject_unset_env_outside_targets(node: Node, problems: ProblemCollector) -> None:
    def walk(n: Node):
        if n.is_map:
            for k, child in n.value.items():
                if not (n is node and k == "targets"):
                    walk(child)
        elif n.is_list:
            for child in n.value:
                walk(child)
        else:
            for name in unset_env_names(n.value):
                problems.add(n.loc, f"environment variable '{name}' is not set and has no default")

    walk(node)


def _slo_files(root: str, paths) -> list[str]:
    out = []
    for p in paths:
        base = os.path.join(root, p)
        out += glob.glob(os.path.join(glob.escape(base), "**", "*.yml"), recursive=True)
        out += glob.glob(os.path.join(glob.escape(base), "**", "*.yaml"), recursive=True)
    return sorted(set(out))


def _project(root: str, node: Node, problems: ProblemCollector, cli_vars: dict) -> dict:
    plain = {k: v for k, v in node.value.items() if k not in _NESTED} if node.is_map else {}
    raw = read_mapping(Node(plain, node.loc, node.key_locs), PROJECT_FIELDS, PROJECT_FILE, problems)
    if raw is None:  # problems are recorded; go on with the keys that are fine to find the others too
        raw = _lenient(plain, PROJECT_FIELDS)
    children = node.value if node.is_map else {}
    targets = _targets(children.get("targets"), problems)
    default = raw.get("target") or (next(iter(targets)) if targets else "local")
    if not targets:
        targets = {"local": TargetSpec("local", "duckdb", {"path": "warehouse.duckdb"}, node.loc)}
        default = raw.get("target") or "local"
    if default not in targets:
        problems.add(node.value["target"].loc if "target" in children else node.loc,
                     f"target '{default}' is not defined in targets{did_you_mean(default, targets)}")
    schemas = Schemas()
    if "schemas" in children:
        s = read_mapping(children["schemas"], SCHEMA_FIELDS, "schemas", problems)
        if s:
            schemas = Schemas(**s)
            if len({schemas.validated, schemas.quarantine, schemas.meta, schemas.versions}) < 4:
                problems.add(children["schemas"].loc, "schemas: validated, quarantine, meta and versions must differ")
    variables = {}
    if "vars" in children:
        v = children["vars"]
        if v.is_map:
            variables = v.plain()
        else:
            problems.add(v.loc, "vars must be a mapping of names to values")
    variables.update(cli_vars)
    return {"name": raw.get("name"), "target": default, "targets": targets, "schemas": schemas,
            "vars": variables, "sql_dialect": raw.get("sql_dialect") or "duckdb",
            "slo_paths": raw.get("slo_paths") or ("slos",)}


def _targets(node: Node | None, problems: ProblemCollector) -> dict[str, TargetSpec]:
    if node is None:
        return {}
    if not node.is_map:
        problems.add(node.loc, "targets must be a mapping of target names to settings")
        return {}
    out = {}
    for name, t in node.value.items():
        if not t.is_map:
            problems.add(t.loc, f"target '{name}' must be a mapping with a 'type'")
            continue
        kind = t.value.get("type")
        if kind is None:
            problems.add(t.loc, f"target '{name}' needs a 'type' ({', '.join(ENGINE_TYPES)})")
            continue
        if not isinstance(kind.value, str) or kind.value not in ENGINE_TYPES:
            problems.add(kind.loc, f"target '{name}': unknown type {kind.plain()!r}"
                         + did_you_mean(str(kind.value), ENGINE_TYPES))
            continue
        known = TARGET_OPTIONS.get(kind.value)
        unknown = [k for k in t.value if k != "type" and known is not None and k not in known]
        for k in unknown:
            problems.add(t.key_locs.get(k, t.loc), f"target '{name}': unknown setting '{k}' for {kind.value}"
                         f"{did_you_mean(k, known)}; {kind.value} reads: {', '.join(known)}")
        options = {k: v.plain() for k, v in t.value.items() if k != "type"}
        out[name] = TargetSpec(name, kind.value, options, t.loc)
    return out


def _file_tables(node: Node, display: str, dialect: str, problems: ProblemCollector) -> list[TableSpec]:
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
        spec = _table(t, display, dialect, problems)
        if spec is not None:
            out.append(spec)
    return out


def _table(node: Node, display: str, dialect: str, problems: ProblemCollector) -> TableSpec | None:
    flat = {k: v for k, v in node.value.items() if k not in ("checks", "columns")} if node.is_map else node.value
    raw = read_mapping(Node(flat, node.loc, node.key_locs), TABLE_FIELDS, "a table", problems)
    ok = raw is not None
    if not node.is_map:
        return None
    if raw is None:  # go on with the keys that are fine, so the columns' and checks' problems are reported too
        raw = _lenient(flat, TABLE_FIELDS)
    for key, feature in NOT_YET.items():
        if key in node.value:
            problems.add(node.key_locs[key], f"'{key}': {feature} are not available in this version yet")
    name = raw["name"] or "?"
    where = f"table '{name}'"
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
    columns, column_nodes = _columns(node.value.get("columns"), where, problems)
    known = None
    if columns:
        known = {c.name for c in columns} | set(raw["key"] or ()) | ({raw["partition"]} if raw["partition"] else set())
    ctx = _TableContext(name, dialect, known, problems)
    for field_name in ("partition",):
        if raw[field_name] and known is not None and raw[field_name] not in known:
            problems.add(node.value[field_name].loc, f"{where}: unknown column '{raw[field_name]}'")
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
                                      node.key_locs.get("cadence", node.loc), problems)
    checks = _name_checks(checks, where, problems)
    monitor = _with_drift_columns(monitor, checks, raw["partition"], where, problems)
    if not ok:
        return None
    return TableSpec(name=name, relation=relation, relation_text=raw["relation"], key=tuple(raw["key"] or ()),
                     partition=raw["partition"], gate=raw["gate"], monitor=monitor, columns=tuple(columns),
                     checks=tuple(checks), loc=node.loc, file=display, row_status=bool(raw["row_status"]),
                     keep=raw["keep"])


def _monitor(node: Node, raw: dict, where: str, known: set[str] | None,
             problems: ProblemCollector) -> MonitorSpec | None:
    """`monitor: all`, `monitor: [col, ...]` or `monitor: {columns: all | [...], severity: warn | error}`."""
    if raw.get("monitor") is None or "monitor" not in node.value:
        return None
    mnode = node.value["monitor"]
    loc = node.key_locs.get("monitor", mnode.loc)
    shape = "all, a list of columns or a mapping {columns: ..., severity: ...}"
    severity, cols = "warn", mnode
    if mnode.is_map:
        m = read_mapping(mnode, MONITOR_FIELDS, f"'monitor' of {where}", problems)
        if m is None:
            return None
        severity, cols = m["severity"], mnode.value.get("columns")
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
    if not raw["partition"]:
        problems.add(loc, f"{where}: 'monitor' needs a 'partition' column: monitors learn each metric's normal "
                     "band from earlier partitions")
        return None
    return MonitorSpec(columns, severity, loc)


def _with_drift_columns(monitor: MonitorSpec | None, checks: list, partition: str | None, where: str,
                        problems: ProblemCollector) -> MonitorSpec | None:
    """Checks judged from monitor history (drift) need their column profiled by the monitors: add
    the columns the monitors do not cover yet, quietly (no monitor alerts the table did not ask for)."""
    needing = [c for c in checks if REGISTRY[c.type].needs_partition]
    if needing and not partition:
        for c in needing:
            problems.add(c.loc, f"{where}: '{c.type}' compares partitions and needs the table's 'partition' column")
        return monitor
    extra = [c.column for c in needing if REGISTRY[c.type].from_monitor_history]
    if not extra:
        return monitor
    if monitor is None:
        return MonitorSpec(tuple(dict.fromkeys(extra)), "warn", needing[0].loc, quiet=(None, *dict.fromkeys(extra)))
    if monitor.columns is None:  # every column is monitored already
        return monitor
    new = tuple(c for c in dict.fromkeys(extra) if c not in monitor.columns)
    return replace(monitor, columns=monitor.columns + new, quiet=new) if new else monitor


def _lenient(flat: dict, fields: dict[str, Field]) -> dict:
    """The values of `flat` that convert (problems were already reported), defaults for the rest."""
    quiet = ProblemCollector()
    out = {k: f.default for k, f in fields.items()}
    for key, child in flat.items():
        if key in fields:
            value = fields[key].convert(child, key, quiet)
            if value is not None:
                out[key] = value
    return out


def _unusable_table_name(name: str) -> str | None:
    """Why a table name cannot also name a folder under target/compiled/<dialect>/, else None."""
    if len(name.encode("utf-8")) > MAX_TABLE_NAME_BYTES:
        return f"is too long (at most {MAX_TABLE_NAME_BYTES} bytes)"
    return None


def _with_param(check, key, value):
    from dataclasses import replace

    return replace(check, params={**check.params, key: value})


def _columns(node: Node | None, where: str, problems: ProblemCollector):
    if node is None:
        return [], []
    if not node.is_list:
        problems.add(node.loc, f"{where}: 'columns' must be a list")
        return [], []
    out, nodes, seen = [], [], {}
    for c in node.value:
        flat = {k: v for k, v in c.value.items() if k != "checks"} if c.is_map else c.value
        raw = read_mapping(Node(flat, c.loc, c.key_locs), COLUMN_FIELDS, f"a column of {where}", problems)
        if raw is None and c.is_map:  # problems are recorded; go on so that its checks are validated too
            raw = _lenient(flat, COLUMN_FIELDS)
        if raw is None or not raw["name"]:
            continue
        if raw["name"] in seen:
            problems.add(c.loc, f"{where}: duplicate column '{raw['name']}' (first at line {seen[raw['name']].line})")
            continue
        seen[raw["name"]] = c.loc
        out.append(ColumnSpec(raw["name"], raw["type"], c.loc))
        nodes.append(c)
    return out, nodes


class _TableContext:
    """Validates the checks of one table: types, parameters, SQL and referenced columns."""

    def __init__(self, table: str, dialect: str, known: set[str] | None, problems: ProblemCollector):
        self.table, self.dialect, self.known, self.problems = table, dialect, known, problems

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
        ctype = REGISTRY.get(type_name)
        if ctype is None:
            self.problems.add(type_loc, f"{where}: unknown check type '{type_name}'{did_you_mean(type_name, REGISTRY)}")
            return None
        level_ok = ctype.column_level if column else ctype.table_level
        if not level_ok:
            self.problems.add(type_loc, f"{where}: '{type_name}' is a {'table' if column else 'column'}-level check"
                              + (" (declare it under the table's checks)" if column else " (declare it under a column)"))
            return None
        fields = {**ctype.fields, **COMMON_CHECK_FIELDS}
        if ctype.needs_column and column is None:
            fields["column"] = Field("str", required=True, doc="The column the check is about.")
        what = f"'{type_name}' of {where}"
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
        before = len(self.problems.problems)
        ctype.validate(params, params_node.loc, self.problems)
        if len(self.problems.problems) > before:
            return None
        col = params.pop("column", None) or column
        name, severity, where_sql = params.pop("name"), params.pop("severity"), params.pop("where")
        where_expr = None
        if where_sql is not None:
            where_expr = parse_user_sql(where_sql, self.dialect, ROW, self.known, params_node.value["where"].loc,
                                        f"'where' of {what}", self.problems)
            if where_expr is None:
                return None
        for key in ctype.sql_fields:
            mode = AGGREGATE if type_name == "assert" else ROW
            parsed = parse_user_sql(params[key], self.dialect, mode, self.known,
                                    params_node.value[key].loc, f"'{key}' of {what}", self.problems)
            if parsed is None:
                return None
            params[f"{key}_text"] = params[key]
            params[key] = parsed
        check = CheckSpec(type=type_name, name=name or "", table=self.table, column=col, severity=severity,
                          where=where_expr, params=params, loc=type_loc)
        for ref in ctype.referenced_columns(check):
            if typo_of(ref, self.known):
                self.problems.add(type_loc, f"{what}: unknown column '{ref}'{typo_of(ref, self.known)}")
                return None
        return check

    def implicit_key_check(self, key: tuple[str, ...], loc: Location):
        from slocompile.spec.model import CheckSpec

        return CheckSpec(type="unique", name="key", table=self.table, column=None, severity="error", where=None,
                         params={"columns": tuple(key)}, loc=loc)


_UNSAFE = re.compile(r"[^0-9a-zA-Z_]+")


def default_name(check) -> str:
    ctype = REGISTRY[check.type]
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

    explicit = {}
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
