"""Failed-row sample queries of `compare` (the keys on one side only) and of a custom check type of
kind rows (its own SELECT's rows): golden SQL per dialect, re-parsing in its dialect; which of their
checks keep rows. Regenerate with `pytest tests/compiling/test_custom_and_compare_samples.py --update-goldens`.
"""
from __future__ import annotations

import pathlib

import pytest
import sqlglot
from compiling.test_golden import DIALECTS, SCENARIOS, update_requested, write_project

from slocompile.api import Project
from slocompile.dialects.render import render
from slocompile.sqltrees.failures import keeps_rows, sample_sql

GOLDEN = pathlib.Path(__file__).parent / "golden_samples_compare"


def _specs(tmp_path):
    return [Project.load(str(write_project(tmp_path / s, SCENARIOS[s]))).spec for s in ("compare", "custom_checks")]


def samples_text(specs, dialect: str) -> str:
    out = []
    for spec in specs:
        for table in spec.tables:
            for check in table.checks:
                if check.type in ("compare", "no_orphan_refunds") and keeps_rows(check):
                    parts = ["2026-01-02", "(null)"] if table.partition else None
                    sql = render(sample_sql(table, check, parts, 7), dialect)
                    out.append(f"-- {table.name}.{check.name}\n{sql};\n")
    return "\n".join(out)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sample_queries_match_golden_and_reparse(tmp_path, request, dialect):
    text = samples_text(_specs(tmp_path), dialect)
    path = GOLDEN / f"{dialect}.sql"
    if update_requested(request.config):
        path.write_text(text)
    assert path.exists(), f"missing golden {path}: run with --update-goldens"
    assert text == path.read_text()
    for stmt in sqlglot.parse(text, read=dialect):
        assert stmt is not None


def test_which_compare_and_custom_checks_keep_rows(tmp_path):
    compare, custom = _specs(tmp_path)
    kept = {(t.name, c.name) for spec in (compare, custom) for t in spec.tables for c in t.checks
            if c.type not in ("unique", "not_null") and keeps_rows(c)}
    # a compare keeps rows only with keys (`on`); of the custom types only the rows kind has any
    assert kept == {("orders", "compare_legacy_orders"), ("events", "compare_events_v2"),
                    ("dims", "compare_raw_dims_old"), ("orders", "no_orphan_refunds")}
