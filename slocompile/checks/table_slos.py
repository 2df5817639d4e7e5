"""Table SLOs: row_count, unique, freshness, relationship, schema, assert."""
from __future__ import annotations

import datetime as dt

from slocompile.checks import metrics as m
from slocompile.checks.base import BoundedMetric, CheckType, EvalContext, Outcome, column_of, fmt_num, to_number
from slocompile.spec.fields import Field, format_duration
from slocompile.spec.usersql import parse_relation


class RowCount(BoundedMetric):
    name, what = "row_count", "row count"
    doc = "The number of rows (per partition when the table has one) lies within the bounds."
    fields = {**BoundedMetric.bound_fields}
    column_level = False

    def metrics(self, check):
        return [m.rows(check.where)]

    def measured(self, check, values):
        return to_number(values[0] or 0)


class Unique(CheckType):
    name = "unique"
    doc = ("No two rows share the same values of `columns` (per partition when the table has one); "
           "rows with a NULL in any of them are not compared.")
    fields = {"columns": Field("columns", doc="The column or columns that must be unique together.")}
    shorthand = "columns"
    has_rows = True

    def validate(self, params, loc, problems):
        pass

    def key_columns(self, check) -> tuple[str, ...]:
        return tuple(check.params.get("columns") or (check.column,))

    def referenced_columns(self, check):
        return list(self.key_columns(check))

    def metrics(self, check):
        return [m.duplicates(self.key_columns(check), check.where)]

    def evaluate(self, check, values, ctx):
        dups = int(values[0] or 0)
        cols = ", ".join(self.key_columns(check))
        msg = f"{dups} duplicate rows on ({cols})"
        return Outcome(dups == 0, dups, "0 duplicate rows", msg)

    def name_suffix(self, params, column):
        return "_".join(params.get("columns") or ()) or column or ""


class Freshness(CheckType):
    name = "freshness"
    doc = ("The newest value of a date or timestamp column is at most `max_age` old when the build runs; "
           "at table level without `column`, the table's last load time as the engine records it (Postgres "
           "with track_commit_timestamp, Spark file-based tables; DuckDB records none).")
    fields = {"max_age": Field("duration", required=True, doc="Largest allowed age, e.g. 36h, 2d."),
              "column": Field("str", doc="At table level: the date or timestamp column (none: the table's last "
                                         "load time, where the engine records one).")}

    def metrics(self, check):
        from sqlglot import exp

        if check.column is None:
            return [m.load_time()]
        return [m.aggregate(exp.Max(this=column_of(check)), check.where, scope=m.WHOLE_TABLE)]

    def name_suffix(self, check_params, column):
        return column or "last_load"

    def evaluate(self, check, values, ctx: EvalContext):
        latest, limit = values[0], check.params["max_age"]
        expected = f"<= {format_duration(limit)} old"
        subject = check.column or "the table's last load"
        if latest is None:
            return Outcome(False, None, expected, f"{subject} has no values; expected {expected}")
        age = (ctx.now - _as_utc_naive(latest)).total_seconds()
        msg = f"newest {check.column} is {latest} ({format_duration(max(age, 0))} old)" if check.column else \
            f"the table was last loaded at {latest} ({format_duration(max(age, 0))} ago)"
        passed = age <= limit
        return Outcome(passed, round(age, 3), expected, msg + ("" if passed else f"; expected {expected}"))


def _as_utc_naive(v) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    return dt.datetime.fromisoformat(str(v))


class Relationship(CheckType):
    name = "relationship"
    doc = "Every non-NULL value of `column` exists in `field` of the relation `to` (a foreign key)."
    fields = {"to": Field("str", required=True, doc="The referenced relation, schema.table."),
              "field": Field("str", required=True, doc="The referenced column.")}
    needs_column = True
    has_rows = True
    reads_elsewhere = True

    def validate(self, params, loc, problems):
        if params.get("to"):
            try:
                parse_relation(params["to"])
            except ValueError as e:
                problems.add(loc, f"relationship: 'to' {e}")

    def metrics(self, check):
        target = parse_relation(check.params["to"])
        return [m.orphans(check.column, target, check.params["field"], check.where)]

    def evaluate(self, check, values, ctx):
        n = int(values[0] or 0)
        to = f"{check.params['to']}.{check.params['field']}"
        return Outcome(n == 0, n, "0 rows", f"{n} rows of {check.column} have no match in {to}")


TYPE_FAMILIES = {
    "integer": ("tinyint", "smallint", "integer", "int", "bigint", "hugeint", "int2", "int4", "int8",
                "ubigint", "uinteger", "usmallint", "utinyint", "long", "short", "byte"),
    "number": ("double", "float", "real", "decimal", "numeric", "float4", "float8", "double precision", "number"),
    "string": ("varchar", "text", "string", "char", "character varying", "character", "bpchar"),
    "boolean": ("boolean", "bool"),
    "date": ("date",),
    "timestamp": ("timestamp", "timestamp with time zone", "timestamp without time zone", "timestamptz",
                  "datetime", "timestamp_ntz", "timestamp_ltz"),
}
TYPE_FAMILIES["float"] = TYPE_FAMILIES["number"]
TYPE_FAMILIES["double"] = TYPE_FAMILIES["number"]
TYPE_FAMILIES["bigint"] = TYPE_FAMILIES["integer"]
TYPE_FAMILIES["int"] = TYPE_FAMILIES["integer"]
TYPE_FAMILIES["varchar"] = TYPE_FAMILIES["string"]
TYPE_FAMILIES["text"] = TYPE_FAMILIES["string"]
TYPE_FAMILIES["bool"] = TYPE_FAMILIES["boolean"]
TYPE_FAMILIES["decimal"] = TYPE_FAMILIES["number"]
TYPE_FAMILIES["numeric"] = TYPE_FAMILIES["number"]
TYPE_FAMILIES["datetime"] = TYPE_FAMILIES["timestamp"]


def type_compatible(declared: str, actual: str) -> bool:
    """A declared family (integer, number, string, ...) accepts the engine's concrete type names."""
    base = actual.lower().split("(")[0].strip()
    family = TYPE_FAMILIES.get(declared.lower())
    if family is None:
        return base == declared.lower().split("(")[0].strip()
    # integers are numbers too
    if declared.lower() in ("number", "float", "double", "decimal", "numeric"):
        family = family + TYPE_FAMILIES["integer"]
    return base in family


class Schema(CheckType):
    name = "schema"
    doc = ("Every declared column exists in the relation with a compatible `type` "
           f"(families: {', '.join(sorted(set(TYPE_FAMILIES) - {'int', 'bool', 'text', 'varchar'}))}); "
           "with `allow_extra: false`, no undeclared columns either.")
    fields = {"allow_extra": Field("bool", default=True, doc="Whether undeclared columns are allowed.")}
    column_level = False

    def metrics(self, check):
        return [m.catalog()]

    def evaluate(self, check, values, ctx):
        actual = {name: typ for name, typ in (values[0] or [])}
        declared = check.params["declared"]
        problems = []
        for name, typ in declared:
            if name not in actual:
                problems.append(f"{name} is missing")
            elif typ and not type_compatible(typ, actual[name]):
                problems.append(f"{name} is {actual[name]}, declared {typ}")
        if not check.params["allow_extra"]:
            extra = sorted(set(actual) - {n for n, _ in declared})
            problems += [f"{name} is not declared" for name in extra]
        expected = "declared columns and types"
        msg = "; ".join(problems) if problems else f"{len(declared)} declared columns match"
        return Outcome(not problems, len(problems), expected, msg)


class Assert(CheckType):
    name = "assert"
    doc = ("A boolean aggregate SQL expression over the table (per partition) is TRUE; or, written as a "
           "whole read-only SELECT (dbt's singular test: joins, subqueries, CTEs and window functions; "
           "`{{ this }}` is the table, other declared tables by name), that it returns no rows.")
    fields = {"sql": Field("sql", required=True, doc="Boolean aggregate SQL, e.g. count(*) > 0; or a SELECT "
                           "returning the failing rows (one statement, reads only; no `where`).")}
    shorthand = "sql"
    column_level = False
    sql_fields = ("sql",)
    has_rows = True  # with a query: the rows it returns

    def referenced_columns(self, check):
        return [] if check.params.get("query") is not None else super().referenced_columns(check)

    def metrics(self, check):
        if check.params.get("query") is not None:
            return [m.query_rows(check.params["query"].copy())]
        return [m.aggregate(check.params["sql"].copy(), check.where)]

    def evaluate(self, check, values, ctx):
        v = values[0]
        sql = check.params["sql_text"]
        if check.params.get("query") is not None:
            n = int(v or 0)
            return Outcome(n == 0, n, "0 rows", f"the query returned {n} row{'s' * (n != 1)}"
                           + ("" if n == 0 else "; expected none"))
        passed = v is True or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 1)
        shown = "NULL" if v is None else fmt_num(v) if not isinstance(v, bool) else str(v).lower()
        return Outcome(passed, v, "true", f"{sql} is {shown}" + ("" if passed else "; expected true"))


TABLE_SLOS = [RowCount, Unique, Freshness, Relationship, Schema, Assert]
