"""`slocompile import-dbt PATH`: a dbt project's YAML tests as slocompile declarations.

Reads dbt_project.yml (model-paths, seed-paths, test-paths, folder-level `+schema`), the profile's
target schema when it is plain text (profiles.yml beside the project, in $DBT_PROFILES_DIR or in
~/.dbt), and every `*.yml` / `*.yaml` under the model and seed paths. Tests under both `tests:`
and `data_tests:`, on columns and on models, seeds and source tables, become checks:

| dbt | slocompile |
|---|---|
| `not_null`, `unique` | `not_null`, `unique` |
| `accepted_values: {values}` | `accepted_values: {values}` |
| `relationships: {to: ref('m') / source('s', 't'), field}` | `relationship: {to: schema.table, field}` |
| `dbt_utils.unique_combination_of_columns` | table-level `unique: [columns]` |
| `dbt_utils.expression_is_true` (no Jinja) | `expression` |
| `dbt_utils.accepted_range` (numeric bounds) | `between` |
| `dbt_utils.not_null_proportion: {at_least: p}` | `not_null: {max_fraction: 1 - p}` |
| `dbt_utils.recency`, source `freshness` + `loaded_at_field` | `freshness` |
| `config: {severity: warn}` | `severity: warn` |
| `config: {where}` (no Jinja) | `where` |
| `config: {error_if: ">10"}` | `max_count: 10`; dbt's default `warn_if` adds a warn check, `max_count: 0` |
| `config: {warn_if: ">10"}` (severity warn) | `max_count: 10`, `severity: warn` |

A model's relation is `<schema>.<alias or name>`, with dbt's default schema naming: the target
schema (`--schema`, or the profile's), suffixed `_<custom>` for a custom `schema` config. A
project overriding `generate_schema_name` is noted. Everything else — custom generic tests,
other package tests, Jinja in `where`, values or expressions, singular tests (SQL files),
thresholds a check cannot express — is reported on stdout and in a comment block at the top of
each written file, with the dbt file and line.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field

from .errors import SlocompileError, SpecError

TEST_KEYS = ("data_tests", "tests")
CONFIG_KEYS = {"severity", "where", "warn_if", "error_if", "fail_calc", "limit", "store_failures",
               "store_failures_as", "enabled", "tags", "meta", "alias", "schema", "database", "sql_header"}
IGNORED_CONFIG = {"limit", "store_failures", "store_failures_as", "tags", "meta", "alias", "schema", "database",
                  "sql_header"}
_PERIODS = {"minute": "m", "hour": "h", "day": "d", "week": "w"}
_REF = re.compile(r"""^\s*(?:\{\{\s*)?ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?"""
                  r"""(?:,\s*v(?:ersion)?\s*=\s*[^)]*)?\)\s*(?:\}\})?\s*$""")
_SOURCE = re.compile(r"""^\s*(?:\{\{\s*)?source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*(?:\}\})?\s*$""")
_THRESHOLD = re.compile(r"^\s*(!=|<>|>=|>)\s*(\d+)\s*$")
_SAFE = re.compile(r"[^0-9a-zA-Z_]+")


class Unconvertible(Exception):
    """This test cannot be expressed; the message says why."""


@dataclass
class Issue:
    file: str
    line: int | None
    subject: str     # model.column
    test: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.subject}: {self.test}: {self.reason}"


@dataclass
class Column:
    name: str
    type: str | None = None
    description: str | None = None
    checks: list = field(default_factory=list)   # (type, params dict or None)


@dataclass
class Table:
    name: str
    relation: str
    description: str | None = None
    checks: list = field(default_factory=list)
    columns: dict[str, Column] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        if name not in self.columns:
            self.columns[name] = Column(name)
        return self.columns[name]

    @property
    def n_checks(self) -> int:
        return len(self.checks) + sum(len(c.checks) for c in self.columns.values())


@dataclass
class OutputFile:
    source: str                     # the dbt file, relative to the dbt project
    path: str                       # relative to the output folder
    tables: list[Table] = field(default_factory=list)
    not_converted: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)


@dataclass
class ImportResult:
    files: list[OutputFile]
    not_converted: list[Issue]       # all, including those of files that produced no table
    notes: list[Issue]
    converted: int                   # dbt tests converted
    dialect: str
    texts: dict[str, str] = field(default_factory=dict)  # output path -> YAML

    def report(self) -> str:
        lines = [f"converted {self.converted} dbt tests into {sum(len(f.tables) for f in self.files)} tables "
                 f"in {len(self.texts)} files"]
        if self.not_converted:
            lines.append(f"not converted ({len(self.not_converted)}):")
            lines += [f"  {i}" for i in self.not_converted]
        if self.notes:
            lines.append(f"notes ({len(self.notes)}):")
            lines += [f"  {i}" for i in self.notes]
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ the project

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
    from .spec.model import DIALECTS

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
    notes = []
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
            text = _read_text(f)
            for m in re.finditer(r"\{%-?\s*test\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(", text):
                project.generic_tests[m.group(1)] = os.path.relpath(f, root)
            if re.search(r"\{%-?\s*macro\s+generate_schema_name\s*\(", text):
                notes.append(f"{os.path.relpath(f, root)} overrides generate_schema_name: the relations assume "
                             "dbt's default (<target schema>_<custom schema>); check them")
    return project


def _read_text(path: str) -> str:
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


# ------------------------------------------------------------------------------------ converting

def _has_jinja(v) -> bool:
    if isinstance(v, str):
        return "{{" in v or "{%" in v or "{#" in v
    if isinstance(v, dict):
        return any(_has_jinja(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_jinja(x) for x in v)
    return False


def _max_failures(condition) -> int:
    """dbt's warn_if / error_if ('!=0', '>10', '>=5') as the number of failures still allowed."""
    m = _THRESHOLD.match(str(condition))
    if not m:
        raise Unconvertible(f"threshold {condition!r} is not of the form >N, >=N or !=0")
    op, n = m.group(1), int(m.group(2))
    if op in ("!=", "<>"):
        if n != 0:
            raise Unconvertible(f"threshold {condition!r}: only !=0 can be expressed")
        return 0
    return n if op == ">" else max(n - 1, 0)


def _severities(config: dict) -> list[tuple[str, int]]:
    """[(severity, max failures)] equivalent to dbt's severity / warn_if / error_if."""
    severity = str(config.get("severity", "error")).lower()
    if severity not in ("error", "warn"):
        raise Unconvertible(f"severity {config.get('severity')!r} is neither error nor warn")
    warn = _max_failures(config.get("warn_if", "!=0"))
    if severity == "warn":
        return [("warn", warn)]
    err = _max_failures(config.get("error_if", "!=0"))
    return [("error", err)] + ([("warn", warn)] if warn < err else [])


@dataclass
class _Test:
    kind: str               # the dbt test name, e.g. not_null, dbt_utils.accepted_range
    args: dict
    config: dict
    name: str | None
    line: int | None


def _parse_test(node) -> _Test:
    """A test list item (a Node) as written: `- not_null`, `- unique: {config: ...}`, or the
    `- {test_name: accepted_values, name: ..., values: [...]}` form."""
    value = node.plain()
    line = node.loc.line if node.loc else None
    if isinstance(value, str):
        return _Test(value, {}, {}, None, line)
    if not isinstance(value, dict) or not value:
        raise Unconvertible("a test is a name or a mapping")
    if "test_name" in value:
        kind, params = value["test_name"], {k: v for k, v in value.items() if k != "test_name"}
    elif len(value) == 1:
        kind, params = next(iter(value.items()))
        params = params if params is not None else {}
    else:
        raise Unconvertible("a test mapping has one test name as its key")
    if not isinstance(kind, str) or not isinstance(params, dict):
        raise Unconvertible("a test's parameters are a mapping")
    config = dict(params.get("config") or {})
    args = dict(params.get("arguments") or {})
    name = params.get("name")
    for k, v in params.items():
        if k in ("config", "arguments", "name"):
            continue
        if k in CONFIG_KEYS:
            config.setdefault(k, v)
        else:
            args.setdefault(k, v)
    return _Test(kind, args, config, name if isinstance(name, str) else None, line)


class _Converter:
    def __init__(self, project: DbtProject):
        self.project = project
        self.models: dict[str, str] = {}       # model or seed name -> relation
        self.sources: dict[tuple[str, str], str] = {}
        self.converted = 0
        self.prefix = ""

    # ------------------------------------------------------------ relations

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
        cfg = model.get("config") if isinstance(model.get("config"), dict) else {}
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

    # ------------------------------------------------------------ SQL

    def sql(self, text, what: str):
        """User SQL exactly as slocompile will validate it (no Jinja, one expression over the row)."""
        from .errors import ProblemCollector
        from .spec.usersql import ROW, parse_user_sql

        if not isinstance(text, str) or not text.strip():
            raise Unconvertible(f"{what} is not SQL text")
        if _has_jinja(text):
            raise Unconvertible(f"{what} uses Jinja: {text.strip()}")
        problems = ProblemCollector()
        tree = parse_user_sql(text, self.project.dialect, ROW, None, None, what, problems)
        if tree is None:
            raise Unconvertible("; ".join(p.message for p in problems.problems))
        from sqlglot import exp

        return [c.name for c in tree.find_all(exp.Column)]

    def column_sql(self, name: str) -> str:
        from sqlglot import exp

        return exp.to_identifier(name).sql(self.project.dialect)

    # ------------------------------------------------------------ tests

    def convert(self, test: _Test, column: str | None, table: Table) -> tuple[list, list[str]]:
        """[(column or None, check type, params)], notes: the checks one dbt test becomes."""
        notes: list[str] = []
        if test.config.get("enabled") is False:
            raise Unconvertible("disabled (enabled: false)")
        if _has_jinja(test.config.get("enabled")):
            raise Unconvertible("'enabled' is Jinja")
        kind = test.kind
        args = test.args
        if column is None and isinstance(args.get("column_name"), str) and kind in (
                "not_null", "unique", "accepted_values", "relationships", "dbt_utils.accepted_range",
                "dbt_utils.not_null_proportion", "dbt_utils.expression_is_true"):
            column = args["column_name"]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", column):
                raise Unconvertible(f"column_name {column!r} is an expression, not a column")
        count_semantics = None
        refs: list[str] = []  # columns the SQL names: declared (bare) so that the loader knows them
        if kind == "not_null":
            if column is None:
                raise Unconvertible("not_null without a column")
            checks = [(column, "not_null", {})]
            count_semantics = "rows"
        elif kind == "unique":
            if column is None:
                raise Unconvertible("unique without a column")
            checks = [(column, "unique", {})]
        elif kind == "accepted_values":
            values = args.get("values")
            if _has_jinja(values):
                raise Unconvertible("the values are Jinja")
            if not isinstance(values, list) or not values or not all(
                    isinstance(v, (str, int, float, bool)) for v in values):
                raise Unconvertible("'values' is not a list of plain values")
            if args.get("quote") is False and any(isinstance(v, str) for v in values):
                raise Unconvertible("quote: false with text values (SQL expressions)")
            if column is None:
                raise Unconvertible("accepted_values without a column")
            checks = [(column, "accepted_values", {"values": values})]
            count_semantics = "values"
        elif kind == "relationships":
            if column is None:
                raise Unconvertible("relationships without a column")
            fld = args.get("field")
            if not isinstance(fld, str) or _has_jinja(fld):
                raise Unconvertible("'field' is missing or Jinja")
            checks = [(column, "relationship", {"to": self.resolve(args.get("to")), "field": fld})]
        elif kind == "dbt_utils.unique_combination_of_columns":
            cols = args.get("combination_of_columns")
            if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols) \
                    or _has_jinja(cols):
                raise Unconvertible("'combination_of_columns' is not a list of column names")
            checks = [(None, "unique", {"columns": cols})]
        elif kind == "dbt_utils.expression_is_true":
            expr = args.get("expression")
            if not isinstance(expr, str):
                raise Unconvertible("'expression' is missing")
            if _has_jinja(expr):
                raise Unconvertible(f"the expression uses Jinja: {expr.strip()}")
            sql = f"{self.column_sql(column)} {expr.strip()}" if column else expr.strip()
            refs += self.sql(sql, "the expression")
            checks = [(column, "expression", {"sql": sql})]
            count_semantics = "rows"
        elif kind == "dbt_utils.accepted_range":
            lo, hi = args.get("min_value"), args.get("max_value")
            for v in (lo, hi):
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise Unconvertible(f"bound {v!r} is a SQL expression, not a number")
            if lo is None and hi is None:
                raise Unconvertible("neither min_value nor max_value")
            if column is None:
                raise Unconvertible("accepted_range without a column")
            params = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
            if args.get("inclusive") is False:
                params["inclusive"] = False
            checks = [(column, "between", params)]
            count_semantics = "rows"
        elif kind == "dbt_utils.not_null_proportion":
            at_least = args.get("at_least")
            if args.get("at_most") not in (None, 1, 1.0):
                raise Unconvertible("at_most (a most-NULL bound) has no slocompile equivalent")
            if isinstance(at_least, bool) or not isinstance(at_least, (int, float)) or not 0 <= at_least <= 1:
                raise Unconvertible("'at_least' is not a number between 0 and 1")
            if column is None:
                raise Unconvertible("not_null_proportion without a column")
            checks = [(column, "not_null", {"max_fraction": round(1 - at_least, 10)})]
        elif kind == "dbt_utils.recency":
            period, fld, interval = args.get("datepart"), args.get("field"), args.get("interval")
            if args.get("ignore_time_component"):
                raise Unconvertible("ignore_time_component has no slocompile equivalent")
            if period not in _PERIODS or not isinstance(fld, str) or isinstance(interval, bool) \
                    or not isinstance(interval, int) or interval <= 0:
                raise Unconvertible("needs datepart minute/hour/day/week, a field and a positive interval")
            checks = [(fld, "freshness", {"max_age": f"{interval}{_PERIODS[period]}"})]
        else:
            raise Unconvertible(self._why_not(kind))
        # config: where, severity and thresholds
        where = test.config.get("where")
        where_cols: list[str] = []
        if where is not None:
            where_cols = self.sql(where, "where")
        if test.config.get("fail_calc") is not None:
            raise Unconvertible(f"fail_calc {test.config['fail_calc']!r} has no slocompile equivalent")
        levels = _severities(test.config)
        if count_semantics is None and any(allowed for _, allowed in levels):
            # no failure count to bound: one check, failing on any failure (stricter than dbt)
            notes.append(f"{checks[0][1]} takes no failure count: thresholds dropped ({levels[0][0]} on any "
                         "failure, stricter than dbt)")
            levels = levels[:1]
        ignored = sorted(k for k in test.config if k in IGNORED_CONFIG)
        if ignored:
            notes.append(f"ignored config: {', '.join(ignored)}")
        if count_semantics == "values" and any(allowed for _, allowed in levels):
            notes.append("max_count counts rows; dbt counted distinct unexpected values")
        out = []
        for col, ctype, params in checks:
            for i, (severity, allowed) in enumerate(levels):
                p = dict(params)
                if allowed and count_semantics is not None:
                    p["max_count"] = allowed
                if where is not None:
                    p["where"] = where.strip()
                if severity == "warn":
                    p["severity"] = "warn"
                name = test.name
                if i > 0:  # dbt's warn_if below its error_if: a second, warn-only check
                    name = f"{test.name or _default_name(ctype, col, p)}_warn"
                if name:
                    p["name"] = name
                out.append((col, ctype, p))
        for col in refs + where_cols:
            table.column(col)
        self.converted += 1
        return out, notes

    def _why_not(self, kind: str) -> str:
        if kind in self.project.generic_tests:
            return f"custom generic test (defined in {self.project.generic_tests[kind]})"
        if "." in kind:
            return f"{kind.split('.')[0]} package test, not converted"
        return "custom or unknown generic test"


def _default_name(ctype: str, column: str | None, params: dict) -> str:
    suffix = "_".join(params.get("columns") or ()) if ctype == "unique" and params.get("columns") else column or ""
    return _SAFE.sub("_", f"{ctype}_{suffix}" if suffix else ctype).strip("_").lower()


# ------------------------------------------------------------------------------------ files

def _yaml_files(project: DbtProject) -> list[tuple[str, str]]:
    """(path relative to the project, kind root) of every YAML file under model and seed paths."""
    out = []
    for kind, folders in (("models", project.model_paths), ("seeds", project.seed_paths)):
        for folder in folders:
            base = os.path.join(project.root, folder)
            for ext in ("yml", "yaml"):
                for f in sorted(glob.glob(os.path.join(glob.escape(base), "**", f"*.{ext}"), recursive=True)):
                    out.append((os.path.relpath(f, project.root), kind))
    return sorted(set(out))


def _table_name(name: str, taken: set[str]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}_{i}", i + 1
    taken.add(out)
    return out


def convert_project(path: str, schema: str | None = None, profiles_dir: str | None = None,
                    dialect: str | None = None, prefix: str = "") -> ImportResult:
    """Convert a dbt project's YAML tests; nothing is written (see `write`). Table names are the
    dbt model and seed names (`<source>_<table>` for source tables), after `prefix`."""
    from .spec.yamlload import parse_yaml

    project = read_project(path, schema, profiles_dir, dialect)
    conv = _Converter(project)
    docs, issues_all, notes_all, nodes = [], [], [], {}
    for rel, kind in _yaml_files(project):
        text = _read_text(os.path.join(project.root, rel))
        try:
            node = parse_yaml(text, rel)
        except SpecError as e:
            issues_all.append(Issue(rel, None, "(file)", "-", f"not readable YAML: {e.problems[0].message}"))
            continue
        if node.is_map and any(k in node.value for k in ("models", "seeds", "sources", "snapshots")):
            nodes[rel] = (kind, node)
            docs.append((os.path.relpath(rel, _kind_root(project, rel)), kind, node.plain()))
    conv.index(docs)
    files = []
    taken: set[str] = set()
    conv.prefix = prefix
    for rel, (_kind, node) in nodes.items():
        out = OutputFile(rel, _output_path(project, rel))
        _convert_file(conv, project, rel, node, out, taken)
        out.not_converted.sort(key=lambda i: i.line or 0)
        out.notes.sort(key=lambda i: i.line or 0)
        files.append(out)
        issues_all += out.not_converted
        notes_all += out.notes
    for folder in project.test_paths:
        for f in sorted(glob.glob(os.path.join(project.root, folder, "**", "*.sql"), recursive=True)):
            text = _read_text(f)
            if re.search(r"\{%-?\s*test\s", text):
                continue  # a generic test's definition; its uses are reported where they are
            issues_all.append(Issue(os.path.relpath(f, project.root), None, "(singular test)",
                                    os.path.splitext(os.path.basename(f))[0],
                                    "a SQL query returning failing rows; write it as an `assert` or "
                                    "`expression` check"))
    notes_all = [Issue("dbt_project.yml", None, "(project)", "-", n) for n in project.notes] + notes_all
    result = ImportResult(files, issues_all, notes_all, conv.converted, project.dialect)
    for f in files:
        if f.tables:
            result.texts[f.path] = render_file(f, project, result)
    return result


def _kind_root(project: DbtProject, rel: str) -> str:
    for folder in project.model_paths + project.seed_paths:
        if rel == folder or rel.startswith(folder.rstrip("/") + os.sep):
            return folder
    return "."


def _output_path(project: DbtProject, rel: str) -> str:
    base, _ = os.path.splitext(rel)
    return base + ".yml"


def _convert_file(conv: _Converter, project: DbtProject, rel: str, node, out: OutputFile,
                  taken: set[str]) -> None:
    in_root = os.path.relpath(rel, _kind_root(project, rel))
    doc = node.value
    for kind in ("models", "seeds", "snapshots"):
        entries = doc.get(kind)
        if entries is None or not entries.is_list:
            continue
        for m in entries.value:
            if not m.is_map or "name" not in m.value or not isinstance(m.value["name"].value, str):
                continue
            name = m.value["name"].value
            if kind == "snapshots":
                if _has_tests(m):
                    out.not_converted.append(Issue(rel, m.loc.line, name, "-", "snapshots are not imported"))
                continue
            if "versions" in m.value:
                out.not_converted.append(Issue(rel, m.value["versions"].loc.line, name, "versions",
                                               "model versions are not imported (only the model's own tests)"))
            relation = conv.model_relation(kind, in_root, m.plain())
            _convert_entity(conv, project, rel, m, name, relation, out, taken)
    sources = doc.get("sources")
    if sources is not None and sources.is_list:
        for s in sources.value:
            if not s.is_map or not isinstance(s.value.get("name") and s.value["name"].value, str):
                continue
            sname = s.value["name"].value
            tables = s.value.get("tables")
            if tables is None or not tables.is_list:
                continue
            for t in tables.value:
                if not t.is_map or not isinstance(t.value.get("name") and t.value["name"].value, str):
                    continue
                tname = t.value["name"].value
                relation = conv.source_relation(s.plain(), t.plain())
                table = _convert_entity(conv, project, rel, t, f"{sname}_{tname}", relation, out, taken,
                                        subject=f"source {sname}.{tname}", build=False)
                _source_freshness(conv, rel, s, t, table, out)
                if table.n_checks:
                    out.tables.append(table)


def _has_tests(node) -> bool:
    if any(k in node.value for k in TEST_KEYS):
        return True
    cols = node.value.get("columns")
    return bool(cols and cols.is_list and any(c.is_map and any(k in c.value for k in TEST_KEYS)
                                              for c in cols.value))


def _tests_of(node, rel: str, subject: str, out: OutputFile):
    for key in TEST_KEYS:
        lst = node.value.get(key)
        if lst is None:
            continue
        if not lst.is_list:
            out.not_converted.append(Issue(rel, lst.loc.line, subject, key, f"'{key}' is not a list"))
            continue
        yield from lst.value


def _convert_entity(conv, project, rel, node, name, relation, out, taken, subject=None, build=True) -> Table:
    subject = subject or name
    desc = node.value.get("description")
    table = Table(_table_name(conv.prefix + name, taken), relation,
                  desc.value.strip() if desc is not None and isinstance(desc.value, str) and desc.value.strip()
                  and not _has_jinja(desc.value) else None)
    cfg = node.value.get("config")
    contract = cfg.plain().get("contract") if cfg is not None and cfg.is_map else None
    cols = node.value.get("columns")
    col_nodes = cols.value if cols is not None and cols.is_list else []
    for c in col_nodes:
        if not c.is_map or "name" not in c.value or not isinstance(c.value["name"].value, str):
            continue
        cname = c.value["name"].value
        column = table.column(cname)
        dtype = c.value.get("data_type")
        if dtype is not None and isinstance(dtype.value, str):
            column.type = _type_family(dtype.value)
        cdesc = c.value.get("description")
        if cdesc is not None and isinstance(cdesc.value, str) and cdesc.value.strip() and not _has_jinja(cdesc.value):
            column.description = cdesc.value.strip()
        for t in _tests_of(c, rel, f"{subject}.{cname}", out):
            _add_test(conv, rel, t, cname, table, out, f"{subject}.{cname}")
    for t in _tests_of(node, rel, subject, out):
        _add_test(conv, rel, t, None, table, out, subject)
    if isinstance(contract, dict) and contract.get("enforced") is True and table.columns:
        table.checks.append(("schema", None))
    if build and table.n_checks:
        out.tables.append(table)
    return table


def _add_test(conv, rel, node, column, table: Table, out: OutputFile, subject: str) -> None:
    label = "?"
    try:
        test = _parse_test(node)
        label = test.kind
        checks, notes = conv.convert(test, column, table)
    except Unconvertible as e:
        line = node.loc.line if node.loc else None
        out.not_converted.append(Issue(rel, line, subject, label, str(e)))
        return
    for n in notes:
        out.notes.append(Issue(rel, test.line, subject, test.kind, n))
    for col, ctype, params in checks:
        item = (ctype, params or None)
        target = table.column(col).checks if col is not None else table.checks
        if item not in target:
            target.append(item)
        for ref in _referenced(ctype, params):
            table.column(ref)


def _referenced(ctype: str, params: dict) -> list[str]:
    if ctype == "unique" and params.get("columns"):
        return list(params["columns"])
    return []


def _source_freshness(conv, rel, source, table_node, table: Table, out: OutputFile) -> None:
    """dbt source freshness (warn_after / error_after on loaded_at_field) as freshness checks."""
    s, t = source.plain(), table_node.plain()
    fresh = t["freshness"] if "freshness" in t else s.get("freshness")
    field_name = t.get("loaded_at_field") or s.get("loaded_at_field")
    if not fresh:
        return
    subject = f"source {s['name']}.{t['name']}"
    line = (table_node.value.get("freshness") or source.value.get("freshness")).loc.line
    if not isinstance(field_name, str) or _has_jinja(field_name) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*",
                                                                                      field_name):
        out.not_converted.append(Issue(rel, line, subject, "freshness", "needs a plain loaded_at_field column"))
        return
    where = fresh.get("filter") if isinstance(fresh, dict) else None
    try:
        if where is not None:
            for c in conv.sql(where, "freshness filter"):
                table.column(c)
    except Unconvertible as e:
        out.not_converted.append(Issue(rel, line, subject, "freshness", str(e)))
        return
    for key, severity in (("error_after", "error"), ("warn_after", "warn")):
        spec = fresh.get(key) if isinstance(fresh, dict) else None
        if not spec:
            continue
        count, period = spec.get("count"), spec.get("period")
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0 or period not in _PERIODS:
            out.not_converted.append(Issue(rel, line, subject, f"freshness.{key}",
                                           "needs a positive count and a period minute/hour/day"))
            continue
        params = {"max_age": f"{count}{_PERIODS[period]}"}
        if where is not None:
            params["where"] = where.strip()
        if severity == "warn":
            params.update(severity="warn", name=f"freshness_{field_name.lower()}_warn")
        item = ("freshness", params)
        col = table.column(field_name)
        if item not in col.checks:
            col.checks.append(item)
        conv.converted += 1


def _type_family(data_type: str) -> str | None:
    from .checks.table_slos import type_compatible

    for fam in ("integer", "number", "string", "boolean", "date", "timestamp"):
        if type_compatible(fam, data_type):
            return fam
    return None


# ------------------------------------------------------------------------------------ output

def _check_line(ctype: str, params: dict | None) -> str:
    from .suggest import _dump

    if not params:
        return ctype
    return f"{ctype}: {_dump(params)}"


def render_file(f: OutputFile, project: DbtProject, result: ImportResult) -> str:
    from .suggest import _dump, jinja_escape

    lines = [f"# Imported from the dbt project {project.name}: {f.source} (slocompile import-dbt).",
             "# Relations assume dbt's default schema naming"
             + (f" with target schema {project.target_schema}." if project.target_schema else
                " (no target schema was known: add one).")]
    if project.dialect != "duckdb":
        lines.append(f"# SQL (where, expression) is {project.dialect}: set `sql_dialect: {project.dialect}` "
                     "in slocompile.yml.")
    if f.not_converted:
        lines.append("# Not converted:")
        lines += [f"#   line {i.line}: {i.subject}: {i.test}: {i.reason}" if i.line else
                  f"#   {i.subject}: {i.test}: {i.reason}" for i in f.not_converted]
    if f.notes:
        lines.append("# Notes:")
        lines += [f"#   line {i.line}: {i.subject}: {i.test}: {i.reason}" if i.line else
                  f"#   {i.subject}: {i.test}: {i.reason}" for i in f.notes]
    lines.append("tables:")
    for t in f.tables:
        lines += [f"  - name: {_dump(t.name)}", f"    relation: {_dump(t.relation)}"]
        if t.description:
            lines.append(f"    description: {_dump(t.description)}")
        if t.checks:
            lines.append("    checks:")
            lines += [f"      - {_check_line(ct, p)}" for ct, p in t.checks]
        if t.columns:
            lines.append("    columns:")
            for c in t.columns.values():
                lines.append(f"      - name: {_dump(c.name)}")
                if c.type:
                    lines.append(f"        type: {c.type}")
                if c.description:
                    lines.append(f"        description: {_dump(c.description)}")
                if c.checks:
                    lines.append("        checks:")
                    lines += [f"          - {_check_line(ct, p)}" for ct, p in c.checks]
    return jinja_escape("\n".join(lines) + "\n")


def check_loads(texts: dict[str, str], dialect: str) -> list[str]:
    """Problems slocompile's loader finds in the converted files ([] when they load)."""
    import tempfile

    from .spec.loader import load_project

    if not texts:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "slocompile.yml"), "w", encoding="utf-8") as fh:
            fh.write(f"name: dbt_import_check\nsql_dialect: {dialect}\n")
        for rel, text in texts.items():
            path = os.path.join(tmp, "slos", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        try:
            load_project(tmp, env={})
        except SlocompileError as e:
            return [str(p) for p in e.problems]
    return []


def write(result: ImportResult, out_dir: str, force: bool = False) -> list[str]:
    """Write the converted files under `out_dir` (after checking they load); returns their paths."""
    problems = check_loads(result.texts, result.dialect)
    if problems:
        raise SlocompileError("the converted declarations do not load (please report it): " + "; ".join(problems))
    paths = [os.path.join(out_dir, rel) for rel in result.texts]
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not force:
        raise SlocompileError(f"{existing[0]} exists; choose another --out or pass --force")
    for text, path in zip(result.texts.values(), paths):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return paths


def import_dbt(path: str, out_dir: str, schema: str | None = None, profiles_dir: str | None = None,
               dialect: str | None = None, force: bool = False, prefix: str = "") -> tuple[ImportResult, list[str]]:
    """Convert and write; returns the result (with its report) and the written paths."""
    result = convert_project(path, schema, profiles_dir, dialect, prefix)
    return result, write(result, out_dir, force)


__all__ = ["ImportResult", "Issue", "convert_project", "import_dbt", "write", "check_loads"]
