"""slocompile.yml: the project's name, targets, schemas, vars and where its declarations are."""
from __future__ import annotations

from slocompile.errors import Location, ProblemCollector, did_you_mean
from slocompile.spec.fields import Field, lenient_values, read_mapping
from slocompile.spec.model import (
    DEFAULT_FAILED_ROWS,
    DEFAULT_MAX_PARTITIONS,
    DEFAULT_MAX_SEGMENTS,
    DEFAULT_TIME_ZONE,
    DIALECTS,
    ENGINE_TYPES,
    MAX_FAILED_ROWS,
    MAX_SEGMENTS_LIMIT,
    TARGET_OPTIONS,
    Schemas,
    TableSpec,
    TargetSpec,
)
from slocompile.spec.yamlload import Node, unset_env_names

PROJECT_FILE = "slocompile.yml"

PROJECT_FIELDS = {
    "name": Field("str", required=True, doc="The project's name."),
    "target": Field("str", doc="The default target (a key of `targets`)."),
    "targets": Field("mapping", doc="Named connections: {NAME: {type: duckdb|postgres|spark|..., ...}}."),
    "schemas": Field("mapping", doc="Schema names: {validated, quarantine, meta}."),
    "vars": Field("mapping", doc="Values for {{ var('name') }} in declarations."),
    "sql_dialect": Field("enum", default="duckdb", choices=DIALECTS,
                         doc="The dialect user SQL (expression, assert, where) is written in."),
    "slo_paths": Field("str_list", default=("slos",), doc="Folders holding table declarations (one or a list), "
                       "inside the project folder."),
    "allow_outside_paths": Field("bool", default=False, doc="Let `slo_paths` (and symbolic links under them) "
                                 "lead outside the project folder."),
    "time_zone": Field("str", default=DEFAULT_TIME_ZONE, doc="The time zone (an IANA name such as "
                       "Europe/Paris) whose hours, days, weeks and months cut time partitions; the build sets its "
                       "session's time zone to it (default UTC)."),
    "max_partitions": Field("int", default=DEFAULT_MAX_PARTITIONS, doc="A build that would check more partitions "
                            "of one table stops with exit 2, naming the table and a coarser granularity."),
    "failed_rows": Field("int", default=DEFAULT_FAILED_ROWS, doc="Failed-row samples kept per failing check and "
                         "build (the default of each check's `failed_rows`; 0: none)."),
    "max_segments": Field("int", default=DEFAULT_MAX_SEGMENTS, doc="group_by: segments judged apart per partition "
                          "(the default of each check's `max_segments`); the rest are pooled into one."),
}
_NESTED = {"targets", "schemas", "vars"}
SCHEMA_FIELDS = {k: Field("str", default=v, doc=f"Schema of the {k} views/tables.")
                 for k, v in (("validated", "validated"), ("quarantine", "quarantine"), ("meta", "slo"),
                              ("versions", "slo_versions"))}


def read_project(node: Node, problems: ProblemCollector, cli_vars: dict) -> dict:
    """The settings of slocompile.yml (its parsed `node`), every problem recorded in `problems`."""
    plain = {k: v for k, v in node.value.items() if k not in _NESTED} if node.is_map else {}
    raw = read_mapping(Node(plain, node.loc, node.key_locs), PROJECT_FIELDS, PROJECT_FILE, problems)
    if raw is None:  # problems are recorded; go on with the keys that are fine to find the others too
        raw = lenient_values(plain, PROJECT_FIELDS)
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
    declared_vars = set(variables)
    variables.update(cli_vars)
    return {"name": raw.get("name"), "target": default, "targets": targets, "schemas": schemas,
            "schemas_loc": children["schemas"].loc if "schemas" in children else Location(PROJECT_FILE),
            "vars": variables, "declared_vars": declared_vars, "sql_dialect": raw.get("sql_dialect") or "duckdb",
            "slo_paths": raw.get("slo_paths") or ("slos",),
            "slo_paths_loc": node.key_locs.get("slo_paths", Location(PROJECT_FILE)),
            "allow_outside_paths": bool(raw.get("allow_outside_paths")),
            "time_zone": _time_zone(raw.get("time_zone"), node, problems),
            "max_partitions": _max_partitions(raw.get("max_partitions"), node, problems),
            "failed_rows": _failed_rows(raw.get("failed_rows"), node, problems),
            "max_segments": _max_segments(raw.get("max_segments"), node, problems)}


def _time_zone(name: str | None, node: Node, problems: ProblemCollector) -> str:
    """`time_zone:` an IANA zone the engines know too (Python's zoneinfo checks the name)."""
    import zoneinfo

    if not name:
        return DEFAULT_TIME_ZONE
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        problems.add(node.value["time_zone"].loc, f"time_zone: unknown time zone {name!r} (an IANA name such as "
                     "UTC, Europe/Paris or America/New_York)")
        return DEFAULT_TIME_ZONE
    return name


def _max_partitions(value: int | None, node: Node, problems: ProblemCollector) -> int:
    if value is None:
        return DEFAULT_MAX_PARTITIONS
    if value < 1:
        problems.add(node.value["max_partitions"].loc, "max_partitions must be at least 1")
        return DEFAULT_MAX_PARTITIONS
    return value


def _failed_rows(value: int | None, node: Node, problems: ProblemCollector) -> int:
    return _bounded_count("failed_rows", value, node, problems, DEFAULT_FAILED_ROWS, 0, MAX_FAILED_ROWS)


def _bounded_count(key: str, value: int | None, node: Node, problems: ProblemCollector, default: int, lo: int,
                   hi: int) -> int:
    """A count setting of slocompile.yml in [lo, hi] (unset or out of range: the default)."""
    if value is None:
        return default
    if not lo <= value <= hi:
        problems.add(node.value[key].loc, f"{key} must be between {lo} and {hi}")
        return default
    return value


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
            assert known is not None  # (None: a compile-only target, which accepts any setting)
            problems.add(t.key_locs.get(k, t.loc), f"target '{name}': unknown setting '{k}' for {kind.value}"
                         f"{did_you_mean(k, known)}; {kind.value} reads: {', '.join(known)}")
        threads = t.value.get("threads") if kind.value == "duckdb" else None
        if threads is not None and not _positive_int(threads.value):
            problems.add(threads.loc, f"target '{name}': 'threads' must be a whole number of at least 1, "
                         f"not {threads.plain()!r}")
        options = {k: v.plain() for k, v in t.value.items() if k != "type"}
        out[name] = TargetSpec(name, kind.value, options, t.loc)
    return out


def _positive_int(v) -> bool:
    if isinstance(v, str) and v.strip().isdigit():  # `threads: "4"` (a quoted Jinja value, say) reads as 4
        v = int(v)
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def reject_unset_env_outside_targets(node: Node, problems: ProblemCollector) -> None:
    """A deferred env_var() is only allowed in a target's settings (reported when that target is used)."""
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


def check_unknown_vars(cli_vars: dict, declared: set[str], asked: set[str], problems: ProblemCollector) -> None:
    """`--var NAME=...` must name a var of slocompile.yml or one a declaration asks for with var():
    a misspelt name would otherwise be ignored without a word."""
    known = declared | asked
    for name in cli_vars:
        if name not in known:
            hint = did_you_mean(name, sorted(known))
            problems.add(None, f"--var {name}: no var '{name}' in slocompile.yml vars or in a var() of the "
                         f"declarations{hint}")


def check_schema_clashes(schemas: Schemas, tables: list[TableSpec], loc: Location,
                         problems: ProblemCollector) -> None:
    """slocompile writes views and tables into its schemas: none may be the schema of a declared
    relation (`meta: raw` would mix its tables with the raw data, and a view could replace a table)."""
    ours = {"validated": schemas.validated, "quarantine": schemas.quarantine, "meta": schemas.meta,
            "versions": schemas.versions}
    by_schema: dict[str, TableSpec] = {}
    for t in tables:
        db = t.relation.args.get("db") if t.relation is not None else None
        if db is not None:
            by_schema.setdefault(db.name.lower(), t)
    for role, schema in ours.items():
        clash = by_schema.get(schema.lower())
        if clash is not None:
            problems.add(loc, f"schemas: {role} schema '{schema}' is also the schema of relation "
                         f"{clash.relation_text} (table '{clash.name}' at {clash.loc}); slocompile writes into its "
                         "own schemas, so choose another name")


def _max_segments(value: int | None, node: Node, problems: ProblemCollector) -> int:
    return _bounded_count("max_segments", value, node, problems, DEFAULT_MAX_SEGMENTS, 1, MAX_SEGMENTS_LIMIT)
