"""Fragments (sqlbuild/fragments.py): pieces rendered once and spliced as text give exactly the SQL
that rendering every piece in place gives, also where goldens do not look (limited partitions)."""
from __future__ import annotations

import pytest
from sqlglot import exp
from test_golden import DIALECTS, SCENARIOS, write_project

from slocompile.api import Project
from slocompile.compiling import compiler
from slocompile.dialects.nodes import col, lit
from slocompile.errors import SlocompileError
from slocompile.sqltrees import fragments

EXTRA = {  # strings with line breaks and comments in user SQL: pieces that must stay trees
    "line_breaks": """
tables:
  - name: t
    relation: raw.t
    partition: ds
    columns:
      - name: ds
      - name: s
        checks:
          - accepted_values: {values: ["a\\nb", c], rows: drop}
          - expression: {sql: "s <> 'x\\ny' -- a comment\\n"}
          - expression: {sql: "/* why */ s <> 'z'", where: "s like 'a%'"}
""",
}


def _compile(spec, dialect: str, partitions) -> list:
    try:
        compiled = compiler.compile_project(spec, dialect, partitions=partitions)
    except SlocompileError as e:
        return [str(e)]
    return [compiled.setup] + [[sql for _, sql in t.scans] + [t.validated_view, t.quarantine_view]
                               for t in compiled.tables]


@pytest.mark.parametrize("scenario", sorted({**SCENARIOS, **EXTRA}))
def test_spliced_sql_equals_sql_rendered_in_place(tmp_path, monkeypatch, scenario):
    spec = Project.load(str(write_project(tmp_path, {**SCENARIOS, **EXTRA}[scenario]))).spec
    limited = {t.name: ("2024-01-01", "it's") for t in spec.tables if t.partition}
    spliced = [_compile(spec, d, p) for d in DIALECTS for p in (None, limited)]
    monkeypatch.setattr(compiler, "Fragments", lambda render: fragments.PLAIN)  # every piece a tree
    assert spliced == [_compile(spec, d, p) for d in DIALECTS for p in (None, limited)]


def test_only_context_free_pieces_are_spliced():
    assert fragments.spliceable(exp.Count(this=exp.Star()))
    assert fragments.spliceable(exp.GT(this=col("a b"), expression=lit(1)))
    assert not fragments.spliceable(exp.EQ(this=col("a"), expression=lit("x\ny")))  # indented when spliced
    assert not fragments.spliceable(exp.Anonymous(this="f", expressions=[col("a")]))  # not known context-free
    commented = col("a")
    commented.add_comments(["why"])
    assert not fragments.spliceable(commented)
