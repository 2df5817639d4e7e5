"""JSON Schemas (draft 2020-12) of slocompile's YAML, for editors: `slocompile schema`.

Generated at run time from the definitions the validator itself uses: the loader's PROJECT_FIELDS,
SCHEMA_FIELDS, TABLE_FIELDS, COLUMN_FIELDS and COMMON_CHECK_FIELDS, every check type in the check
REGISTRY (its fields, short form, levels and whether it needs `column:`), and the trigger and fix
definitions. A key added to any of them shows up here without a change to this module; a field
whose kind this module does not know is allowed with any value (never a false error in an editor).

Two schemas, because an editor maps one schema to one file:

- the declaration schema, for `slos/**/*.yml` (`tables:`, `triggers:`), and
- the project schema, for `slocompile.yml`.

`init` writes both into `.slocompile/` of the new project, and its YAML files name them in a
`# yaml-language-server: $schema=...` first line (the YAML extension of VS Code, and other editors
using yaml-language-server, then complete and check keys as you type).

Jinja: the schemas describe a file *after* Jinja rendering, which is what the validator sees. A
number written as `{{ var('min_rows') }}` is a number once rendered; unrendered, such a line is
not even YAML (`{min: {{ var('x') }}}` has a mapping as a key), so no schema can accept it, and an
editor may mark that one line. `validate_file` (and the test over every example of the repository)
renders each file with its project's vars first, exactly like the loader, then validates.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = ".slocompile"
DECLARATIONS_FILE = "declarations.schema.json"
PROJECT_SCHEMA_FILE = "slocompile.schema.json"
KINDS = ("declarations", "project")

# value shapes the validator accepts for kinds Field.json_schema() leaves to the loader
_SCALAR = {"type": ["string", "number", "boolean"]}


def _meta() -> dict:
    """`meta:` of tables, columns and checks: a mapping of plain values (declarations/metadata.py)."""
    from slocompile.declarations.metadata import META_VALUE_SCHEMA

    return {"type": "object", "additionalProperties": META_VALUE_SCHEMA}


# ------------------------------------------------------------------------------------------- fields

def field_schema(f, *, nested: dict | None = None) -> dict:
    """The schema of one Field; `nested` replaces the bare object/array of `mapping`/`list` kinds."""
    if nested is not None and f.kind in ("mapping", "list"):
        out = dict(nested)
    else:
        try:
            out = dict(f.json_schema())
        except (KeyError, AttributeError):  # a kind this version does not know: allow any value
            out = {}
        out.pop("description", None)
        if f.kind in ("str", "sql"):
            out["pattern"] = r"\S"  # the validator rejects blank strings
    if f.doc:
        out["description"] = f.doc
    default = _json_default(f.default)
    if default is not None:
        out["default"] = default
    return out


def _json_default(v):
    if v is None:
        return None
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, (str, int, float, bool, list, dict)):
        return v
    return None


def object_schema(fields: dict, nested: dict | None = None, *, extra: dict | None = None,
                  skip: tuple = ()) -> dict:
    """A closed object (additionalProperties: false) with one property per field."""
    nested = nested or {}
    props = {name: field_schema(f, nested=nested.get(name)) for name, f in fields.items() if name not in skip}
    for name, schema in (extra or {}).items():
        props[name] = schema
    required = [name for name, f in fields.items() if f.required and name not in skip]
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


# ------------------------------------------------------------------------------------------- checks

def _sample(f):
    """A valid converted value of a field, to probe a check type's cross-field rules."""
    from slocompile.spec.fields import Change

    return {"str": "x", "sql": "x", "int": 1, "number": 1, "fraction": 0.5, "bool": True, "scalar": 1,
            "change": Change(0.25, True),
            "duration": 3600.0, "str_list": ("x",), "columns": ("x",), "scalar_list": ("x",),
            "enum": f.choices[0] if f.choices else None, "mapping": {}, "list": []}.get(f.kind)


def _accepts(ctype, params: dict) -> bool | None:
    """Whether the check type's own cross-field rules accept `params` (None: could not tell)."""
    from slocompile.errors import ProblemCollector

    problems = ProblemCollector()
    try:
        ctype.validate(dict(params), None, problems)
    except Exception:
        return None
    return not problems.problems


def _needs_one_of(ctype) -> list[str] | None:
    """Optional fields of which at least one must be given (e.g. `min` or `max` of bounds), or None."""
    base = {k: _sample(f) if f.required else f.default for k, f in ctype.fields.items()}
    if _accepts(ctype, base) is not False:
        return None
    enough = [k for k, f in ctype.fields.items() if not f.required and _sample(f) is not None
              and _accepts(ctype, {**base, k: _sample(f)}) is True]
    return enough or None


def check_params_schema(ctype, level: str) -> dict:
    """What may follow `- <type>:` at `level` ('table' or 'column'): a mapping of parameters, the
    short form (a value for the `shorthand` field), or nothing when no parameter is needed."""
    from slocompile.declarations.loader import COMMON_CHECK_FIELDS
    from slocompile.declarations.queries import FAILED_ROWS_FIELD
    from slocompile.spec.fields import Field

    fields = {**ctype.fields, **COMMON_CHECK_FIELDS}
    if ctype.has_rows:
        fields["failed_rows"] = FAILED_ROWS_FIELD
    if ctype.needs_column and level == "table":
        fields["column"] = Field("str", required=True, doc="The column the check is about.")
    mapping = object_schema(fields, {"meta": _meta()})
    one_of = _needs_one_of(ctype)
    if one_of:
        mapping["anyOf"] = [{"required": [k]} for k in one_of]
    options = [mapping]
    if ctype.shorthand:
        short = field_schema(ctype.fields[ctype.shorthand])
        short.pop("default", None)
        options.append(short)
    if bare_allowed(ctype, level):
        options.append({"type": "null"})
    out = {"anyOf": options} if len(options) > 1 else mapping
    out["description"] = ctype.doc
    return out


def bare_allowed(ctype, level: str) -> bool:
    """`- <type>` alone (no parameters) is valid at `level`."""
    if ctype.needs_column and level == "table":
        return False
    if any(f.required for f in ctype.fields.values()):
        return False
    return _accepts(ctype, {k: f.default for k, f in ctype.fields.items()}) is not False


def check_item_schema(level: str, custom: dict | None = None) -> dict:
    """One item of a `checks:` list at `level`: a check type's name, or a mapping with exactly one
    check type as its key (the validator's two forms).

    Written as oneOf [string, object] where the object lists every check type as a property with
    exactly one allowed: the same language as a oneOf of one single-key object per type, but an
    editor then completes check types at the key position and names a misspelt one precisely."""
    from slocompile.checks import REGISTRY

    types = {name: c for name, c in {**REGISTRY, **(custom or {})}.items()
             if (c.column_level if level == "column" else c.table_level)}
    return {
        "oneOf": [
            {"enum": [n for n, c in types.items() if bare_allowed(c, level)],
             "description": "A check without parameters."},
            {"type": "object",
             "properties": {n: {"$ref": f"#/$defs/check_{n}_{level}"} for n in types},
             "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
             "description": "A check: its type as the only key, its parameters as the value."},
        ],
    }


def _check_defs(custom: dict | None = None) -> dict:
    from slocompile.checks import REGISTRY

    out = {}
    for name, c in {**REGISTRY, **(custom or {})}.items():
        for level, ok in (("table", c.table_level), ("column", c.column_level)):
            if ok:
                out[f"check_{name}_{level}"] = check_params_schema(c, level)
    return out


# --------------------------------------------------------------------------- fixes and triggers

def _fix_item_schema() -> dict:
    """One item of a column's `fix:` list: one fix kind as the only key (kinds from fixes.KINDS)."""
    try:
        from slocompile.declarations.fixes import KINDS as fix_kinds
    except ImportError:
        return {}
    bound = {"type": ["number", "string", "null"]}
    known = {
        "clip": {"description": "Clip values into [low, high] (null: no bound on that side).",
                 "anyOf": [{"type": "array", "items": bound, "minItems": 2, "maxItems": 2},
                           {"type": "object", "properties": {"min": bound, "max": bound},
                            "additionalProperties": False, "minProperties": 1}]},
        "fill_null": {**_SCALAR, "description": "The value that replaces NULL."},
        "replace": {"description": "Where `when` (SQL over the row; may call failing('<table>')) is true, "
                                   "serve `value` (SQL, or a literal).",
                    "type": "object", "required": ["when", "value"], "additionalProperties": False,
                    "properties": {"when": {"type": "string", "pattern": r"\S"},
                                   "value": {"type": ["string", "number", "boolean", "null"]}}},
    }
    return {"type": "object", "properties": {k: known.get(k, {}) for k in fix_kinds},
            "additionalProperties": False, "minProperties": 1, "maxProperties": 1}


def _trigger_schema() -> dict | None:
    try:
        from slocompile.declarations import triggers as t
    except ImportError:
        return None
    fields = getattr(t, "TRIGGER_FIELDS", None)
    if not fields:
        return None
    actions: dict[str, dict[str, Any]] = {}  # action name -> its schema
    for name in getattr(t, "ACTIONS", ()):
        if name == "webhook" and hasattr(t, "WEBHOOK_FIELDS"):
            actions[name] = {"anyOf": [object_schema(t.WEBHOOK_FIELDS), {"type": "string", "pattern": r"\S"}]}
        elif name == "command" and hasattr(t, "COMMAND_FIELDS"):
            actions[name] = {"anyOf": [object_schema(t.COMMAND_FIELDS), {"type": "string", "pattern": r"\S"}]}
        elif name in getattr(t, "ACTION_FIELDS", {}):  # slack, teams, pagerduty: a mapping or the URL / key
            actions[name] = {"anyOf": [object_schema(t.ACTION_FIELDS[name]), {"type": "string", "pattern": r"\S"}]}
        elif name == "sql":
            actions[name] = {"type": "string", "pattern": r"\S", "description": "One SQL statement."}
        else:
            actions[name] = {}
    action = {"type": "object", "properties": actions, "additionalProperties": False,
              "minProperties": 1, "maxProperties": 1}
    nested = {"do": {"type": "array", "items": action}}
    events = getattr(t, "EVENTS", None)
    one_or_list = {}
    for key, item in (("on", {"enum": list(events)} if events else {"type": "string"}),
                      ("select", {"type": "string", "minLength": 1})):
        if key in fields:  # `on: fail` is `on: [fail]`
            one_or_list[key] = {"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]}
    schema = object_schema(fields, nested)
    for key, s in one_or_list.items():
        schema["properties"][key] = {**s, **{k: v for k, v in field_schema(fields[key]).items()
                                               if k in ("description", "default")}}
    return schema


# ------------------------------------------------------------------------------------ documents

def project_types(root: str | None) -> dict:
    """The custom check types (declarations.macros) of the project in `root` or above it, by name;
    {} when there is none (a definition with problems is left out: the loader reports it)."""
    from slocompile.declarations.macros import load_definitions
    from slocompile.errors import ProblemCollector, SlocompileError

    folder = os.path.abspath(root) if root else None
    while folder and not os.path.isfile(os.path.join(folder, "slocompile.yml")):
        parent = os.path.dirname(folder)
        folder = parent if parent != folder else None
    if folder is None:
        return {}
    try:
        with open(os.path.join(folder, "slocompile.yml"), encoding="utf-8") as fh:
            found = re.search(r"^sql_dialect:\s*(\w+)", fh.read(), re.M)
        dialect = found.group(1) if found else "duckdb"
        return {n: d.ctype for n, d in load_definitions(folder, dialect, False, ProblemCollector()).items()}
    except (OSError, ValueError, SlocompileError):
        return {}


def declaration_schema(custom: dict | None = None) -> dict:
    """The schema of a table declaration file (slos/**/*.yml); `custom`: a project's own check types."""
    from slocompile.declarations.loader import COLUMN_FIELDS, NOT_YET, TABLE_FIELDS

    column_extra = {}
    try:
        from slocompile.checks.table_slos import TYPE_FAMILIES

        column_extra["type"] = sorted(TYPE_FAMILIES)
    except ImportError:
        pass
    columns = object_schema(COLUMN_FIELDS, {
        "checks": {"type": "array", "items": {"$ref": "#/$defs/column_check"}},
        "fix": {"type": "array", "items": {"$ref": "#/$defs/fix"}}, "meta": _meta(),
    }, skip=tuple(NOT_YET))
    if "type" in columns["properties"] and column_extra.get("type"):
        columns["properties"]["type"]["examples"] = column_extra["type"]
    table = object_schema(TABLE_FIELDS, {
        "checks": {"type": "array", "items": {"$ref": "#/$defs/table_check"}},
        "columns": {"type": "array", "items": {"$ref": "#/$defs/column"}}, "meta": _meta(),
    }, skip=tuple(NOT_YET))
    defs = {"table": table, "column": columns, "table_check": check_item_schema("table", custom),
            "column_check": check_item_schema("column", custom), "fix": _fix_item_schema(), **_check_defs(custom)}
    props = {"tables": {"type": "array", "items": {"$ref": "#/$defs/table"},
                        "description": "Table declarations."}}
    trigger = _trigger_schema()
    if trigger is not None:
        defs["trigger"] = trigger
        props["triggers"] = {"type": "array", "items": {"$ref": "#/$defs/trigger"},
                             "description": "Event triggers: actions run when an SLO's status changes."}
    return {
        "$schema": DRAFT,
        "title": "slocompile table declarations",
        "description": "A file under slos/: tables, their columns and checks (after Jinja rendering). "
                       "Generated by `slocompile schema`.",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "$defs": defs,
    }


def project_schema() -> dict:
    """The schema of slocompile.yml."""
    from slocompile.declarations.project import PROJECT_FIELDS, SCHEMA_FIELDS
    from slocompile.spec.model import ENGINE_TYPES

    target = {"type": "object", "required": ["type"], "additionalProperties": True,
              "properties": {"type": {"enum": list(ENGINE_TYPES), "description": "The engine or dialect."}},
              "description": "A connection: its type and the engine's options (see docs/engines.md)."}
    nested = {
        "targets": {"type": "object", "additionalProperties": target},
        "schemas": object_schema(SCHEMA_FIELDS),
        "vars": {"type": "object"},
    }
    return {
        "$schema": DRAFT,
        "title": "slocompile project file",
        "description": "slocompile.yml: name, targets, schemas, vars (after Jinja rendering). "
                       "Generated by `slocompile schema --kind project`.",
        **object_schema(PROJECT_FIELDS, nested),
    }


def schema(kind: str = "declarations", custom: dict | None = None) -> dict:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return declaration_schema(custom) if kind == "declarations" else project_schema()


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: str, custom: dict | None = None) -> dict[str, str]:
    """Write both schemas into `directory` (with a project's `custom` check types); returns {kind: path}."""
    os.makedirs(directory, exist_ok=True)
    out = {}
    for kind, name in (("declarations", DECLARATIONS_FILE), ("project", PROJECT_SCHEMA_FILE)):
        path = os.path.join(directory, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(dumps(schema(kind, custom)))
        os.replace(tmp, path)
        out[kind] = path
    return out


def modeline(yaml_path: str, project_root: str) -> str:
    """The `# yaml-language-server: $schema=...` line for a YAML file of a project (a relative path)."""
    name = PROJECT_SCHEMA_FILE if os.path.basename(yaml_path) == "slocompile.yml" else DECLARATIONS_FILE
    target = os.path.join(project_root, SCHEMA_DIR, name)
    rel = os.path.relpath(target, os.path.dirname(os.path.abspath(yaml_path)))
    return f"# yaml-language-server: $schema={rel.replace(os.sep, '/')}"


# ------------------------------------------------------------------------------------- validation

def to_json_value(v):
    """A parsed YAML value as JSON sees it: dates become ISO strings (YAML 1.2 editors read them so)."""
    if isinstance(v, dict):
        return {str(k): to_json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json_value(x) for x in v]
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def load_rendered(path: str, variables: dict | None = None, env: dict | None = None):
    """A YAML file rendered with Jinja as the loader renders it (unset env_var() left as markers)."""
    from slocompile.spec.yamlload import load_yaml

    return to_json_value(load_yaml(path, os.path.basename(path), dict(variables or {}), env,
                                   defer_env=True).plain())


def validate(document, kind: str = "declarations", custom: dict | None = None) -> list[str]:
    """Messages for every schema violation of an already parsed, rendered document ([] when valid).

    Needs the `jsonschema` package (pip install jsonschema; it is in the `test` extra)."""
    try:
        import jsonschema as js
    except ImportError:
        from slocompile.errors import SlocompileError

        raise SlocompileError("validating against the JSON Schema needs the jsonschema package: "
                              "pip install jsonschema") from None
    validator = js.Draft202012Validator(schema(kind, custom))
    out = []
    for err in sorted(validator.iter_errors(to_json_value(document)), key=lambda e: list(map(str, e.absolute_path))):
        err = js.exceptions.best_match([err])  # into anyOf/oneOf: the branch that came closest
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        out.append(f"{where}: {err.message}")
    return out


def validate_file(path: str, variables: dict | None = None, kind: str | None = None,
                  env: dict | None = None) -> list[str]:
    """Render `path` with Jinja (vars as the project gives them) and validate it against its schema."""
    if kind is None:
        kind = "project" if os.path.basename(path) == "slocompile.yml" else "declarations"
    custom = project_types(os.path.dirname(os.path.abspath(path))) if kind == "declarations" else None
    return validate(load_rendered(path, variables, env), kind, custom)
