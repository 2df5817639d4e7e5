"""Failed-row samples on DuckDB (issue 12, item 1) and `assert` with a whole SELECT (item 2): the
settings and their errors, one query per failing check and none for passing ones, the newest build's
samples in `show --failures`, the report and the meta table."""
from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from proj import query, sql, write
from specproblems import problems

from slocompile.api import Project
from slocompile.checks.evaluate import FAIL, PASS, Result
from slocompile.cli import main
from slocompile.engines.connect import connect
from slocompile.run import failures

TABLE = """
tables:
  - name: t
    relation: raw.t
    key: [id]
    checks:
      - assert: "select id, v from {{ this }} where v > 100"
    columns:
      - name: v
        checks:
          - between: {min: 0, max: 10}
          - not_null: {failed_rows: 1}
"""


def project(tmp_path, tables: str = TABLE, settings: str = "") -> str:
    root = write(tmp_path, tables)
    if settings:
        with open(os.path.join(root, "slocompile.yml"), "a") as fh:
            fh.write(settings)
    sql(root, ["CREATE SCHEMA IF NOT EXISTS raw", "CREATE OR REPLACE TABLE raw.t (id INT, v INT)",
               "INSERT INTO raw.t VALUES (1, 5), (2, 50), (3, 500), (4, NULL), (5, NULL), (6, -1)"])
    return root


class Counting:
    """The real DuckDB engine, counting the queries it is asked."""

    def __init__(self, engine):
        self.engine, self.queries = engine, 0

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def query(self, text):
        self.queries += 1
        return self.engine.query(text)


def test_one_query_per_failing_check_and_none_for_passing_ones(tmp_path):
    root = project(tmp_path)
    spec = Project.load(root).spec
    t = spec.table("t")
    engine = Counting(connect(spec.targets["local"], root))
    try:
        def result(check, status):
            return Result("t", check, "x", None, None, status, "error", None, "", "")
        passing = [result(c.name, PASS) for c in t.checks]
        assert failures.collect(engine, spec, t, list(t.checks), passing) == {} and engine.queries == 0
        failing = [result("between_v", FAIL), result("assert", FAIL)]
        found = failures.collect(engine, spec, t, list(t.checks), failing)
        assert engine.queries == 2
        assert [v for _, v in found["between_v"].rows] == [{"id": 2, "v": 50}, {"id": 3, "v": 500},
                                                            {"id": 6, "v": -1}]
        assert [v for _, v in found["assert"].rows] == [{"id": 3, "v": 500}]
    finally:
        engine.close()


def test_failing_checks_with_the_same_columns_share_one_query_and_keep_their_own_samples(tmp_path):
    root = project(tmp_path)
    spec = Project.load(root).spec
    t = spec.table("t")
    engine = Counting(connect(spec.targets["local"], root))
    try:
        def failing(*names):
            return [Result("t", name, "x", None, None, FAIL, "error", None, "", "") for name in names]
        alone = {name: failures.collect(engine, spec, t, list(t.checks), failing(name))[name]
                 for name in ("between_v", "not_null_v")}
        engine.queries = 0
        found = failures.collect(engine, spec, t, list(t.checks), failing("between_v", "not_null_v"))
        assert engine.queries == 1 and list(found) == ["between_v", "not_null_v"]
        assert found == alone
        assert [v for _, v in found["not_null_v"].rows] == [{"id": 4, "v": None}]  # its own cap: 1
    finally:
        engine.close()


def test_build_stores_samples_and_show_prints_the_newest(tmp_path):
    root = project(tmp_path)
    run = Project.load(root).build()
    stored = query(root, "SELECT check_name, row_number, row_values FROM slo.failed_rows ORDER BY 1, 2")
    assert [(c, n, json.loads(v)) for c, n, v in stored] == [
        ("assert", 1, {"id": 3, "v": 500}),
        ("between_v", 1, {"id": 2, "v": 50}), ("between_v", 2, {"id": 3, "v": 500}),
        ("between_v", 3, {"id": 6, "v": -1}),
        ("not_null_v", 1, {"id": 4, "v": None})]  # failed_rows: 1 of its 2 rows
    out = CliRunner().invoke(main, ["show", "t", "--failures", "-p", root])
    assert out.exit_code == 0, out.output
    assert f"-- t.not_null_v: 1 failed row (run {run.run_id})\n  id=4, v=null" in out.output
    one = CliRunner().invoke(main, ["show", "t", "--failures", "assert", "-p", root])
    assert one.exit_code == 0 and "between_v" not in one.output and "id=3, v=500" in one.output
    # fixed data: the next build fails nothing and shows no rows (older runs' rows stay in the table)
    sql(root, ["DELETE FROM raw.t WHERE v IS NULL OR v > 10 OR v < 0"])
    again = Project.load(root).build()
    assert again.exit_code == 0
    out = CliRunner().invoke(main, ["show", "t", "--failures", "-p", root])
    assert out.output.strip() == f"table t: no failed rows in run {again.run_id}"


def test_samples_read_while_the_results_are_written_commit_with_them_or_not_at_all(tmp_path, monkeypatch):
    """The samples are read while the run's other rows are made (run.build), before the publishing
    transaction: a sample query that fails leaves none of the run's rows committed."""
    root = project(tmp_path)
    real = failures.collect
    seen = []

    def failing(engine, **kw):
        seen.append(engine.query("SELECT count(*) FROM slo.results")[0][0])  # (the reader: what is committed)
        real(engine, **kw)
        raise RuntimeError("the sample query failed")

    monkeypatch.setattr(failures, "collect", failing)
    with pytest.raises(RuntimeError, match="the sample query failed"):
        Project.load(root).build()
    assert seen == [0]
    assert query(root, "SELECT count(*) FROM slo.results") == [(0,)]
    assert query(root, "SELECT count(*) FROM slo.status") == [(0,)]
    assert query(root, "SELECT status FROM slo.runs") == [("running",)]  # aborted by the next build
    monkeypatch.setattr(failures, "collect", real)
    Project.load(root).build()
    assert query(root, "SELECT count(*) FROM slo.failed_rows") == [(5,)]


def test_show_failures_of_an_unknown_check_or_before_any_build(tmp_path):
    root = project(tmp_path)
    out = CliRunner().invoke(main, ["show", "t", "--failures", "nope", "-p", root])
    assert out.exit_code == 2 and "table 't' has no check 'nope'" in out.output
    out = CliRunner().invoke(main, ["show", "t", "--failures", "-p", root])
    assert out.exit_code == 2 and "Traceback" not in out.output  # no meta schema yet: a clear error
    assert "no slocompile history in schema 'slo' (run `slocompile build` first)" in out.output


def test_project_setting_turns_samples_off_and_a_check_setting_wins(tmp_path):
    root = project(tmp_path, settings="failed_rows: 0\n")
    Project.load(root).build()
    stored = query(root, "SELECT check_name, COUNT(*) FROM slo.failed_rows GROUP BY 1 ORDER BY 1")
    assert stored == [("not_null_v", 1)]


def test_report_lists_samples_under_the_failed_check(tmp_path):
    root = project(tmp_path)
    Project.load(root).build()
    page = open(Project.load(root).report(), encoding="utf-8").read()
    assert page.count("Failed rows (") == 3
    assert "Failed rows (1 sampled)" in page and "<td >500</td>" in page


COLUMN_CHECK = """
tables:
  - name: t
    relation: raw.t
    columns:
      - name: v
        checks:
          - CHECK
"""


@pytest.mark.parametrize("check,message", [
    ("not_null: {failed_rows: 100000}",
     "slos/t.yml:8:37: 'not_null' of table 't', column 'v': failed_rows must be between 0 and 10000"),
    ("not_null: {failed_rows: -1}", "slos/t.yml:8:37: 'failed_rows' in 'not_null' of table 't', column 'v' must be a "
                                    "non-negative integer, not -1"),
    # a check with no rows to sample takes no failed_rows
    ("mean: {min: 1, failed_rows: 5}", "slos/t.yml:8:28: unknown key 'failed_rows' in 'mean' of table 't', column 'v'"),
])
def test_failed_rows_setting_errors(tmp_path, check, message):
    found = problems(tmp_path, COLUMN_CHECK.replace("CHECK", check))
    assert found == [message]


def test_project_failed_rows_must_be_a_count(tmp_path):
    found = problems(tmp_path, "tables: []\n", project="name: x\nfailed_rows: -3\n")
    assert found == ["slocompile.yml:2:14: 'failed_rows' in slocompile.yml must be a non-negative integer, not -3"]


def test_assert_query_samples_name_the_columns_of_a_star(tmp_path):
    root = project(tmp_path, TABLE.replace(
        '      - assert: "select id, v from {{ this }} where v > 100"\n',
        '      - assert: {name: star, sql: "select * from {{ this }} where v > 100"}\n'
        '      - assert: {name: cte_star, sql: "with x as (select id as k from t where v > 100) select * from x"}\n'))
    Project.load(root).build()
    found = {r["check"]: r["values"] for r in Project.load(root).failures("t")["rows"]}
    assert found["star"] == {"id": 3, "v": 500}
    assert found["cte_star"] == {"k": 3}


def test_accepted_values_samples_are_its_violating_rows_when_tested_once_per_value(tmp_path):
    """DuckDB reads accepted_values' samples through the values that violate it (dialects.nodes.ValueTest):
    the same rows as the condition on every row, NULLs and the check's filter included, in every partition."""
    root = write(tmp_path, """
        tables:
          - name: t
            relation: raw.t
            key: [id]
            partition: day
            columns:
              - name: c
                checks:
                  - accepted_values: {values: [a, b]}
                  - accepted_values: {values: [a], name: only_a_late, where: "id > 4"}
        """)
    sql(root, ["CREATE TABLE raw.t (id INT, day DATE, c TEXT)",
               "INSERT INTO raw.t VALUES (1, '2026-01-01', 'a'), (2, '2026-01-01', 'x'), (3, '2026-01-01', NULL), "
               "(4, '2026-01-02', 'y'), (5, '2026-01-02', 'b'), (6, '2026-01-02', 'x'), (7, NULL, 'z'), "
               "(8, '2026-01-02', 'a')"])
    spec = Project.load(root).spec
    t = spec.table("t")
    engine = connect(spec.targets["local"], root)
    try:
        def failing(partitions):
            return [Result("t", name, "x", "c", p, FAIL, "error", None, "", "") for name, p in partitions]
        found = failures.collect(engine, spec, t, list(t.checks), failing([("accepted_values_c", None),
                                                                            ("only_a_late", "2026-01-02")]))
    finally:
        engine.close()
    # NULL is no violation; only_a_late failed in one partition: its rows there only
    expected = {"accepted_values_c": [2, 4, 6, 7], "only_a_late": [5, 6]}
    assert {name: sorted(v["id"] for _, v in found[name].rows) for name in expected} == expected
