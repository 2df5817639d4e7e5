"""dialects/rules.py: every dialect has its entry, and render.py asks the entries, never names."""
from __future__ import annotations

import inspect

from slocompile.dialects import render
from slocompile.dialects.rules import RULES, rules
from slocompile.spec.model import DIALECTS, EXECUTABLE


def test_every_dialect_has_its_rules():
    assert set(DIALECTS) <= set(RULES)
    assert all(rules(d).name == d for d in DIALECTS)
    assert rules("nonesuch").name == ""  # sqlglot's defaults


def test_render_branches_on_rules_not_names():
    source = inspect.getsource(render)
    for test in ("dialect ==", "dialect !=", "dialect in", "dialect not in"):
        assert test not in source, test


def test_engines_differ_by_data():
    assert [d for d in EXECUTABLE if not rules(d).transactional_ddl] == ["spark"]
    assert rules("spark").catalog_readable.format(n=3) == "the Spark catalog is readable (3 databases)"
    assert rules("postgres").probe_hint("relation raw.t", "permission denied for table t", {"user": "bob"}) == \
        'GRANT SELECT ON raw.t TO "bob"'
