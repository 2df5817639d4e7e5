"""Failed-row sample queries (sqltrees.failures): golden SQL per dialect for every check that has
rows, each re-parsing in its dialect; which checks have rows; the cap and the partitions they read.

Regenerate with `pytest tests/compiling/test_failure_samples.py --update-goldens` (then read the diff).
"""
from __future__ import annotations

import pathlib

import pytest
import sqlglot
from compiling.test_golden import DIALECTS, SCENARIOS, update_requested, write_project
from sqlglot import exp

from slocompile.api import Project
from slocompile.dialects.render import render
from slocompile.sqltrees.failures import keeps_rows, sample_sql
from slocompile.sqltrees.fragments import PLAIN, Fragments

GOLDEN = pathlib.Path(__file__).parent / "golden_samples"


def _project(tmp_path):
    return Project.load(str(write_project(tmp_path, SCENARIOS["failed_rows"]))).spec


def samples_text(spec, dialect: str, fragments: Fragments = PLAIN) -> str:
    out = []
    for table in spec.tables:
        for check in table.checks:
            if not keeps_rows(check):
                continue
            parts = ["2026-01-02", "(null)"] if table.partition else None
            sql = render(sample_sql(table, check, parts, 7, fragments=fragments), dialect)
            out.append(f"-- {table.name}.{check.name}\n{sql};\n")
    return "\n".join(out)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sample_queries_match_golden_and_reparse(tmp_path, request, dialect):
    text = samples_text(_project(tmp_path), dialect)
    path = GOLDEN / f"{dialect}.sql"
    if update_requested(request.config):
        path.write_text(text)
    assert path.exists(), f"missing golden {path}: run with --update-goldens"
    assert text == path.read_text()
    for stmt in sqlglot.parse(text, read=dialect):
        assert stmt is not None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_samples_with_the_partition_spliced_as_text_are_the_same_sql(tmp_path, dialect):
    """run.failures renders a table's partition label and filter once (sqltrees.fragments)."""
    spec = _project(tmp_path)
    spliced = Fragments(lambda tree: render(tree, dialect, copy=False))
    assert samples_text(spec, dialect, spliced) == samples_text(spec, dialect)
    assert any(text is not None for text in spliced._texts.values())  # something was spliced


def test_which_checks_have_rows(tmp_path):
    spec = _project(tmp_path)
    orders = spec.table("orders")
    kept = {c.name for c in orders.checks if keeps_rows(c)}
    assert kept == {"unique_customer_sku", "relationship_customer", "refunds_match", "assert", "not_null_order_id",
                    "between_amount", "accepted_values_customer", "matches_customer", "key"}  # key: implicit unique
    aggregate = next(c for c in Project.load(str(write_project(tmp_path / "agg", SCENARIOS["all_checks"]))).spec
                     .table("orders").checks if c.name == "few_returns")
    assert not keeps_rows(aggregate)  # an aggregate assert has no rows


def test_sample_reads_failing_partitions_only_and_is_capped(tmp_path):
    spec = _project(tmp_path)
    orders = spec.table("orders")
    between = next(c for c in orders.checks if c.type == "between")
    tree = sample_sql(orders, between, ["2026-01-02"], 3)
    assert tree.args["limit"].expression.name == "3"
    where = tree.args["where"].sql("duckdb")
    assert "'2026-01-02'" in where and "customer" in where  # the failing partition and the check's own filter
    every = sample_sql(orders, between, None, 3)
    assert "2026-01-02" not in every.sql("duckdb")
    # ordered on every output column, NULLs first on every dialect
    assert [o.args.get("nulls_first") for o in every.args["order"].expressions] == [True] * 3


def test_unique_sample_groups_the_key_and_counts_it(tmp_path):
    spec = _project(tmp_path)
    orders = spec.table("orders")
    unique = next(c for c in orders.checks if c.name == "unique_customer_sku")
    tree = sample_sql(orders, unique, None, 5)
    assert tree.args["having"] is not None
    assert [e.alias for e in tree.expressions] == ["_slo_partition", "customer", "sku", "_slo_rows"]
    assert isinstance(tree.args["from_"].this, exp.Table)
