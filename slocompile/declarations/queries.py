"""The YAML halves of failed-row samples (`failed_rows:` of a check), of `assert` with a query, and
the `schema_changes` check `monitor: all` implies."""
from __future__ import annotations

from sqlglot import exp

from slocompile.errors import ProblemCollector
from slocompile.spec.fields import Field
from slocompile.spec.model import MAX_FAILED_ROWS
from slocompile.spec.userquery import parse_user_query, resolve
from slocompile.spec.yamlload import Node

FAILED_ROWS_FIELD = Field("int", doc="Offending rows kept per build when the check fails (default: the project's "
                          "`failed_rows`, 20; 0: none). `slocompile show TABLE --failures` prints them.")


def failed_rows_ok(params: dict, node: Node, what: str, problems: ProblemCollector) -> bool:
    """`failed_rows` is a count in [0, MAX_FAILED_ROWS]; unset, it leaves the params (and the check's
    default name and fingerprint) as they were."""
    if "failed_rows" not in params:
        return True
    n = params["failed_rows"]
    if n is None:
        del params["failed_rows"]
        return True
    if not 0 <= n <= MAX_FAILED_ROWS:
        problems.add(node.value["failed_rows"].loc, f"{what}: failed_rows must be between 0 and {MAX_FAILED_ROWS}")
        return False
    return True


def parse_assert_query(text: str, where_sql: str | None, dialect: str, node: Node, what: str,
                       problems: ProblemCollector) -> exp.Query | None:
    """The SELECT of an `assert` written as a whole query (problems recorded at its line)."""
    loc = node.value["sql"].loc if node.is_map and "sql" in node.value else node.loc
    if where_sql is not None:
        problems.add(node.value["where"].loc, f"{what}: 'where' does not apply to a query: filter inside it")
        return None
    return parse_user_query(text, dialect, loc, f"'sql' of {what}", problems)


def with_schema_changes(checks: list, monitor, table: str) -> list:
    """`monitor: all` also tracks the relation's columns: a schema_changes check at the monitor's
    severity, unless the table declares one."""
    from slocompile.checks.schema_changes import CHANGES
    from slocompile.spec.model import CheckSpec

    if monitor is None or monitor.columns is not None or any(c.type == "schema_changes" for c in checks):
        return checks
    return [*checks, CheckSpec(type="schema_changes", name="schema_changes", table=table, column=None,
                               severity=monitor.severity, where=None, params={"on": CHANGES}, loc=monitor.loc)]


def resolve_queries(tables: list) -> None:
    """Point each assert query's `{{ this }}` at its own table's relation and the bare names of
    declared tables at theirs (done once every table is known)."""
    declared = {t.name: t.relation for t in tables}
    for t in tables:
        for c in t.checks:
            query = c.params.get("query")  # assert with a query, a custom check type returning rows
            if query is not None:
                resolved = resolve(query, t.relation, declared)  # in place: the params' other keys hold it too
                c.params["query"] = resolved
                if c.type == "assert":
                    c.params["sql"] = resolved
