"""The dbt project: dbt_project.yml, the profile's target schema, the YAML files, the relations."""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field

from slocompile.errors import SlocompileError
from slocompile.tools.dbt.model import Unconvertible

_REF = re.compile(r"""^\s*(?:\{\{\s*)?ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?"""
                  r"""(?:,\s*v(?:ersion)?\s*=\s*[^)]*)?\)\s*(?:\}\})?\s*$""")
_SOURCE = re.compile(r"""^\s*(?:\{\{\s*)?source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*(?:\}\})?\s*$""")


@dataclass
class DbtProject:
    root: str
    name: str
    model_paths: list[str]
    seed_paths: list[str]
    test_paths: list[str]
    macro_paths: list[str]
    config: dict                    # dbt_project.yml
    target_schema: str | None
    dialect: str
    notes: list[str] = field(default_factory=list)
    generic_tests: dict[str, str] = field(default_factory=dict)  # custom generic test name -> file

    def custom_schema(self, kind: str, rel_path: str) -> str | None:
        """The `+schema` config dbt_project.yml gives a file's folder (the deepest one wins)."""
        tree = self.config.get(kind) or {}
        found = _config_value(tree, "schema")
        node = tree.get(self.name) if isinstance(tree.get(self.name), dict) else None
        if node is not None:
            found = _config_value(node, "schema") or found
            for part in os.path.dirname(rel_path).split(os.sep):
                if not part or not isinstance(node.get(part), dict):
                    break
                node = node[part]
                found = _config_value(node, "schema") or found
        return found

    def relation(self, identifier: str, custom_schema: str | None) -> str:
        if self.target_schema is None:
            return f"{custom_schema}.{identifier}" if custom_schema else identifier
        schema = f"{self.target_schema}_{custom_schema}" if custom_schema else self.target_schema
        return f"{schema}.{identifier}"


def _config_value(node: dict, key: str):
    v = node.get("+" + key, node.get(key))
    return v if isinstance(v, str) and "{{" not in v else None


def _read_yaml(path: str):
    import yaml

    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_project(root: str, schema: str | None = None, profiles_dir: str | None = None,
                 dialect: str | None = None) -> DbtProject:
    from slocompile.spec.model import DIALECTS

    root = os.path.abspath(root)
    path = os.path.join(root, "dbt_project.yml")
    if not os.path.isfile(path):
        raise SlocompileError(f"{root}: no dbt_project.yml here (give the folder of a dbt project)")
    try:
        cfg = _read_yaml(path) or {}
    except Exception as e:  # a YAML error: say where
        raise SlocompileError(f"{path}: not readable YAML: {e}") from None
    if not isinstance(cfg, dict):
        raise SlocompileError(f"{path}: expected a mapping")
    notes: list[str] = []
    profile_schema, profile_type = _profile(root, cfg.get("profile"), profiles_dir, notes)
    target_schema = schema or profile_schema
    if target_schema is None:
        notes.append("no target schema (give --schema, or a profile with a plain `schema`): relations are "
                     "written without one")
    d = dialect or {"databricks": "databricks", "postgres": "postgres", "redshift": "redshift",
                    "snowflake": "snowflake", "bigquery": "bigquery", "spark": "spark", "trino": "trino",
                    "duckdb": "duckdb"}.get(profile_type or "", "duckdb")
    if d not in DIALECTS:
        raise SlocompileError(f"--dialect must be one of {', '.join(DIALECTS)}, not {d!r}")

    def paths(key, default):
        v = cfg.get(key, default)
        return [v] if isinstance(v, str) else [p for p in (v or []) if isinstance(p, str)]

    project = DbtProject(root, str(cfg.get("name") or "dbt_project"), paths("model-paths", ["models"]),
                         paths("seed-paths", ["seeds"]), paths("test-paths", ["tests"]),
                         paths("macro-paths", ["macros"]), cfg, target_schema, d, notes)
    for folder in project.macro_paths + project.test_paths:
        for f in sorted(glob.glob(os.path.join(root, folder, "**", "*.sql"), recursive=True)):
            text = read_text(f)
            for m in re.finditer(r"\{%-?\s*test\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(", text):
                project.generic_tests[m.group(1)] = os.path.relpath(f, root)
            if re.search(r"\{%-?\s*macro\s+generate_schema_name\s*\(", text):
                notes.append(f"{os.path.relpath(f, root)} overrides generate_schema_name: the relations assume "
                             "dbt's default (<target schema>_<custom schema>); check them")
    return project


def read_text(path: str) -> str:
    """A project file's text; "" when it cannot be read as UTF-8 (the import skips what it cannot read)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return ""


def _profile(root: str, name, profiles_dir: str | None, notes: list[str]) -> tuple[str | None, str | None]:
    """(schema, type) of the profile's default target, when plainly written."""
    if not isinstance(name, str):
        return None, None
    dirs = [profiles_dir] if profiles_dir else [os.environ.get("DBT_PROFILES_DIR"), root,
                                                 os.path.join(os.path.expanduser("~"), ".dbt")]
    for d in dirs:
        if not d or not os.path.isfile(os.path.join(d, "profiles.yml")):
            continue
        try:
            profiles = _read_yaml(os.path.join(d, "profiles.yml")) or {}
        except Exception:
            notes.append(f"{os.path.join(d, 'profiles.yml')}: not readable YAML; ignored")
            return None, None
        prof = profiles.get(name) if isinstance(profiles, dict) else None
        if not isinstance(prof, dict):
            return None, None
        outputs = prof.get("outputs") or {}
        target = prof.get("target") or (next(iter(outputs)) if outputs else None)
        out = outputs.get(target) if isinstance(outputs, dict) else None
        if not isinstance(out, dict):
            return None, None
        schema = out.get("schema", out.get("dataset"))
        kind = out.get("type") if isinstance(out.get("type"), str) else None
        if isinstance(schema, str) and "{{" in schema:
            notes.append(f"profile '{name}': the target schema is Jinja ({schema}); give --schema")
            schema = None
        if schema is None and kind == "duckdb":
            schema = "main"
        return (schema if isinstance(schema, str) else None), kind
    return None, None


def yaml_files(project: DbtProject) -> list[tuple[str, str]]:
    """(path relative to the project, kind root) of every YAML file under model and seed paths."""
    out = []
    for kind, folders in (("models", project.model_paths), ("seeds", project.seed_paths)):
        for folder in folders:
            base = os.path.join(project.root, folder)
            for ext in ("yml", "yaml"):
                for f in sorted(glob.glob(os.path.join(glob.escape(base), "**", f"*.{ext}"), recursive=True)):
                    out.append((os.path.relpath(f, project.root), kind))
    return sorted(set(out))


def kind_root(project: DbtProject, rel: str) -> str:
    """The model or seed folder (of dbt_project.yml) a project file is under; "." when none."""
    for folder in project.model_paths + project.seed_paths:
        if rel == folder or rel.startswith(folder.rstrip("/") + os.sep):
            return folder
    return "."


class Relations:
    """The relations ref() and source() name."""

    def __init__(self, project: DbtProject):
        self.project = project
        self.models: dict[str, str] = {}       # model or seed name -> relation
        self.sources: dict[tuple[str, str], str] = {}

    def index(self, documents):
        """Relations of every model, seed and source table, for ref() and source()."""
        for rel_path, _kind, doc in documents:
            if not isinstance(doc, dict):
                continue
            for kind in ("models", "seeds"):
                for m in doc.get(kind) or []:
                    if isinstance(m, dict) and isinstance(m.get("name"), str):
                        self.models[m["name"]] = self.model_relation(kind, rel_path, m)
            for s in doc.get("sources") or []:
                if not isinstance(s, dict) or not isinstance(s.get("name"), str):
                    continue
                for t in s.get("tables") or []:
                    if isinstance(t, dict) and isinstance(t.get("name"), str):
                        self.sources[(s["name"], t["name"])] = self.source_relation(s, t)

    def model_relation(self, kind: str, rel_path: str, model: dict) -> str:
        config = model.get("config")
        cfg = config if isinstance(config, dict) else {}
        custom = cfg.get("schema") if isinstance(cfg.get("schema"), str) and "{{" not in cfg["schema"] else None
        custom = custom or self.project.custom_schema(kind, rel_path)
        alias = cfg.get("alias") if isinstance(cfg.get("alias"), str) and "{{" not in cfg["alias"] else None
        return self.project.relation(alias or model["name"], custom)

    @staticmethod
    def source_relation(source: dict, table: dict) -> str:
        schema = source.get("schema") if isinstance(source.get("schema"), str) else source["name"]
        identifier = table.get("identifier") if isinstance(table.get("identifier"), str) else table["name"]
        return f"{schema}.{identifier}"

    def resolve(self, to) -> str:
        if not isinstance(to, str):
            raise Unconvertible("'to' is not ref('model') or source('name', 'table')")
        m = _REF.match(to)
        if m:
            model = m.group(2) or m.group(1)
            if model not in self.models:
                raise Unconvertible(f"{to}: model '{model}' is not declared in this project's YAML")
            return self.models[model]
        m = _SOURCE.match(to)
        if m:
            key = (m.group(1), m.group(2))
            if key not in self.sources:
                raise Unconvertible(f"{to}: source table is not declared in this project's YAML")
            return self.sources[key]
        raise Unconvertible(f"'to: {to}' is not ref('model') or source('name', 'table')")
