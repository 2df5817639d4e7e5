"""One dbt test (a `tests:` / `data_tests:` item) as slocompile checks."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slocompile.tools.dbt.model import Table, Unconvertible
from slocompile.tools.dbt.project import DbtProject, Relations

CONFIG_KEYS = {"severity", "where", "warn_if", "error_if", "fail_calc", "limit", "store_failures",
               "store_failures_as", "enabled", "tags", "meta", "alias", "schema", "database", "sql_header"}
IGNORED_CONFIG = {"limit", "store_failures", "store_failures_as", "tags", "meta", "alias", "schema", "database",
                  "sql_header"}
PERIODS = {"minute": "m", "hour": "h", "day": "d", "week": "w"}  # dbt freshness period -> duration unit
_THRESHOLD = re.compile(r"^\s*(!=|<>|>=|>)\s*(\d+)\s*$")
_SAFE = re.compile(r"[^0-9a-zA-Z_]+")


def has_jinja(v) -> bool:
    """Whether a YAML value (or anything nested in it) holds Jinja, which the import cannot evaluate."""
    if isinstance(v, str):
        return "{{" in v or "{%" in v or "{#" in v
    if isinstance(v, dict):
        return any(has_jinja(x) for x in v.values())
    if isinstance(v, list):
        return any(has_jinja(x) for x in v)
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
class DbtTest:
    kind: str               # the dbt test name, e.g. not_null, dbt_utils.accepted_range
    args: dict
    config: dict
    name: str | None
    line: int | None


def parse_test(node) -> DbtTest:
    """A test list item (a Node) as written: `- not_null`, `- unique: {config: ...}`, or the
    `- {test_name: accepted_values, name: ..., values: [...]}` form."""
    value = node.plain()
    line = node.loc.line if node.loc else None
    if isinstance(value, str):
        return DbtTest(value, {}, {}, None, line)
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
    return DbtTest(kind, args, config, name if isinstance(name, str) else None, line)


class Converter(Relations):
    """dbt tests as slocompile checks, resolving ref() and source() through the project's relations."""

    def __init__(self, project: DbtProject):
        super().__init__(project)
        self.converted = 0
        self.prefix = ""

    # ------------------------------------------------------------ SQL

    def sql(self, text, what: str):
        """User SQL exactly as slocompile will validate it (no Jinja, one expression over the row)."""
        from slocompile.errors import ProblemCollector
        from slocompile.spec.usersql import ROW, parse_user_sql

        if not isinstance(text, str) or not text.strip():
            raise Unconvertible(f"{what} is not SQL text")
        if has_jinja(text):
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

    def convert(self, test: DbtTest, column: str | None,
                table: Table) -> tuple[list[tuple[str | None, str, dict[str, Any]]], list[str]]:
        """[(column or None, check type, params)], notes: the checks one dbt test becomes."""
        notes: list[str] = []
        if test.config.get("enabled") is False:
            raise Unconvertible("disabled (enabled: false)")
        if has_jinja(test.config.get("enabled")):
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
        checks: list[tuple[str | None, str, dict[str, Any]]]  # (column or None, check type, params)
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
            if has_jinja(values):
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
            if not isinstance(fld, str) or has_jinja(fld):
                raise Unconvertible("'field' is missing or Jinja")
            checks = [(column, "relationship", {"to": self.resolve(args.get("to")), "field": fld})]
        elif kind == "dbt_utils.unique_combination_of_columns":
            cols = args.get("combination_of_columns")
            if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols) \
                    or has_jinja(cols):
                raise Unconvertible("'combination_of_columns' is not a list of column names")
            checks = [(None, "unique", {"columns": cols})]
        elif kind == "dbt_utils.expression_is_true":
            expr = args.get("expression")
            if not isinstance(expr, str):
                raise Unconvertible("'expression' is missing")
            if has_jinja(expr):
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
            if period not in PERIODS or not isinstance(fld, str) or isinstance(interval, bool) \
                    or not isinstance(interval, int) or interval <= 0:
                raise Unconvertible("needs datepart minute/hour/day/week, a field and a positive interval")
            checks = [(fld, "freshness", {"max_age": f"{interval}{PERIODS[period]}"})]
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
        out: list[tuple[str | None, str, dict[str, Any]]] = []
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
