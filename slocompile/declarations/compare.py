"""The YAML half of `compare` (checks.compare): its metrics parsed as user SQL, its `with` resolved."""
from __future__ import annotations

from sqlglot import exp

from slocompile.checks.compare import OTHER, ROW_COUNT, TREES
from slocompile.errors import ProblemCollector
from slocompile.spec.usersql import AGGREGATE, parse_relation, parse_user_sql
from slocompile.spec.yamlload import Node


def read_compare(params: dict, node: Node, dialect: str, known: set[str] | None, what: str,
                 problems: ProblemCollector) -> bool:
    """Parse each metric (row_count, or aggregate SQL over the table's columns) into params[TREES]."""
    loc = node.value["metrics"].loc if node.is_map and "metrics" in node.value else node.loc
    metrics = tuple(dict.fromkeys(params["metrics"]))
    if len(metrics) != len(params["metrics"]):
        problems.add(loc, f"{what}: 'metrics' lists a metric twice")
        return False
    trees: list[exp.Expression | None] = []
    for text in metrics:
        if text.strip() == ROW_COUNT:
            trees.append(None)
            continue
        tree = parse_user_sql(text, dialect, AGGREGATE, known, loc, f"metric '{text}' of {what}", problems)
        if tree is None:
            return False
        trees.append(tree)
    params["metrics"] = tuple(t.strip() for t in metrics)
    params[TREES] = tuple(trees)
    text = params["with"]
    if "." in text or '"' in text or "`" in text:
        try:
            parse_relation(text, dialect)
        except ValueError as e:
            problems.add(node.value["with"].loc, f"{what}: 'with' {e}")
            return False
    return True


def resolve_compares(tables: list, dialect: str) -> None:
    """Each compare's other relation: a declared table's (by name), else `with` as a relation name
    (done once every table is known)."""
    declared = {t.name: t.relation for t in tables}
    for t in tables:
        for c in t.checks:
            if c.type == "compare":
                name = c.params["with"]
                c.params[OTHER] = declared[name].copy() if name in declared else parse_relation(name, dialect)
