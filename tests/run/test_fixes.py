"""Row fixes in validated views (SPEC §4): clip, fill_null, replace in order; failing('<table>') at
query time; per-row status columns; fixes change values, never membership (validated + quarantine =
raw). Compiled SQL for all dialects is pinned by tests/compiling/golden/fixes/ (test_golden.py)."""
from __future__ import annotations

from collections import Counter

import pytest
from proj import build, cli, columns, query, rel, sql, write

from slocompile.api import Project
from slocompile.errors import SpecError

PREDICTIONS = "CREATE OR REPLACE TABLE raw.predictions AS SELECT * FROM (VALUES " \
    "(1, 0.3, 0.2, 'a', 'v1'), (2, 1.5, 0.25, NULL, 'v1'), (3, NULL, 0.2, 'x', 'v1'), " \
    "(4, -0.5, -1.0, 'b', 'v0'), (5, 0.9, 0.4, 'a', NULL), (NULL, 0.5, 0.5, 'a', 'v1'), " \
    "(7, 'nan'::DOUBLE, 0.1, 'a', 'v1')" \
    ") t(uid, score, baseline_score, label, model_version)"


def features(n: int) -> str:
    return f"CREATE OR REPLACE TABLE raw.user_features AS SELECT range AS uid FROM range({n})"


def tables(row_status=True, score_fix=None, extra_columns=()):
    return [
        {"name": "user_features", "relation": "raw.user_features", "checks": [{"row_count": {"min": 3}}]},
        {"name": "predictions", "relation": "raw.predictions", "row_status": row_status, "columns": [
            {"name": "uid", "checks": [{"not_null": {"rows": "drop", "max_fraction": 0.5}}]},
            {"name": "score", "checks": [{"between": {"min": 0, "max": 1, "max_fraction": 1.0}}],
             "fix": score_fix if score_fix is not None else [
                 {"replace": {"when": "failing('user_features') and model_version <> 'v0'",
                              "value": "baseline_score"}},
                 {"clip": [0, 1]},
                 {"fill_null": 0.5}]},
            {"name": "baseline_score", "fix": [{"clip": {"min": 0}}]},
            {"name": "label", "checks": [{"accepted_values": {"values": ["a", "b"], "severity": "warn"}}],
             "fix": [{"fill_null": "unknown"}, {"replace": {"when": "label = 'unknown' and uid > 2",
                                                            "value": "'late'"}}]},
            {"name": "model_version"},
            *extra_columns]},
    ]


@pytest.fixture
def project(tmp_path):
    write(tmp_path, tables())
    sql(tmp_path, [PREDICTIONS, features(5)])
    return tmp_path


def view(root, name="predictions") -> dict:
    cols = columns(root, rel("validated", name))
    return {r[0]: dict(zip(cols, r)) for r in query(root, f"SELECT * FROM {rel('validated', name)}")}


def test_fixes_apply_in_order_and_keep_nulls_for_fill_null(project):
    build(project)
    v = view(project)
    assert set(v) == {1, 2, 3, 4, 5, 7}  # uid NULL was dropped by a row rule (quarantine), not by a fix
    assert float(v[1]["score"]) == 0.3 and v[1]["_slo_ok"] is True and v[1]["_slo_fixed"] is None
    assert float(v[2]["score"]) == 1.0 and v[2]["_slo_fixed"] == "score, label"       # clipped
    assert float(v[3]["score"]) == 0.5                                              # NULL -> fill_null
    assert float(v[4]["score"]) == 0.0 and float(v[4]["baseline_score"]) == 0.0      # clipped low
    # NaN is larger than every number on DuckDB: clip makes it the upper bound
    assert float(v[7]["score"]) == 1.0
    # label: fill_null then a replace that sees the filled value ('unknown') under its own name
    assert v[2]["label"] == "unknown" and v[3]["label"] == "x" and v[1]["label"] == "a"


def test_own_column_is_the_value_so_far_other_columns_are_raw(tmp_path):
    write(tmp_path, [{"name": "t", "relation": "raw.t", "columns": [
        {"name": "a", "fix": [{"fill_null": 10}, {"replace": {"when": "a = 10 and b < 0", "value": "b"}}]},
        {"name": "b", "fix": [{"clip": [0, None]}]}]}])
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.t AS SELECT * FROM (VALUES (NULL, -5), (10, 3), (NULL, 2)) t(a, b)")
    build(tmp_path)
    rows = sorted(query(tmp_path, 'SELECT a, b FROM validated.t'))
    # row 1: a NULL -> 10, and `b` in the replace is the raw b (-5), not b after its own clip (0)
    assert rows == [(-5, 0), (10, 2), (10, 3)]


def test_row_status_columns_name_rules_and_fixes(project):
    build(project)
    v = view(project)
    assert list(v[1])[-3:] == ["_slo_ok", "_slo_violations", "_slo_fixed"]
    assert v[2]["_slo_violations"] == "between_score"           # the raw score 1.5 broke it (rows: keep)
    assert v[3]["_slo_violations"] == "accepted_values_label"   # a warn rule counts too
    assert v[4]["_slo_violations"] == "between_score" and v[4]["_slo_fixed"] == "score, baseline_score"
    assert v[5]["_slo_ok"] is True and v[5]["_slo_violations"] is None
    assert not any("not_null_uid" in (r["_slo_violations"] or "") for r in v.values())  # a drop rule: quarantine


def test_row_status_without_fixes_keeps_every_column(tmp_path):
    write(tmp_path, [{"name": "t", "relation": "raw.t", "row_status": True, "columns": [
        {"name": "a", "checks": [{"between": {"min": 0, "max_count": 5}}]}]}])
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.t AS SELECT * FROM (VALUES (1, 'x'), (-1, 'y')) t(a, undeclared)")
    build(tmp_path)
    assert columns(tmp_path, "validated.t") == ["a", "undeclared", "_slo_ok", "_slo_violations", "_slo_fixed"]
    assert sorted(query(tmp_path, "SELECT a, _slo_ok, _slo_violations, _slo_fixed FROM validated.t")) == [
        (-1, False, "between_a", None), (1, True, None, None)]


def test_view_lists_the_relations_real_columns_in_order(tmp_path):
    """Fixes need an explicit column list: at build time it is the relation's, undeclared columns included."""
    write(tmp_path, [{"name": "t", "relation": "raw.t", "columns": [{"name": "b", "fix": [{"fill_null": 0}]}]}])
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.t AS SELECT * FROM (VALUES (1, NULL, 'z')) t(a, b, c)")
    build(tmp_path)
    assert columns(tmp_path, "validated.t") == ["a", "b", "c"]
    assert query(tmp_path, "SELECT * FROM validated.t") == [(1, 0, "z")]


def test_fixes_change_values_not_membership(project):
    """validated + quarantine = raw by key, and only fixed columns differ from raw."""
    build(project)
    raw = {r[0]: r for r in query(project, "SELECT * FROM raw.predictions")}
    val = query(project, "SELECT uid, score, baseline_score, label, model_version FROM validated.predictions")
    quar = query(project, "SELECT uid, score, baseline_score, label, model_version FROM quarantine.predictions")
    assert Counter(r[0] for r in val) + Counter(r[0] for r in quar) == Counter(raw.keys())
    for r in val:
        assert r[4] == raw[r[0]][4]  # model_version has no fix: untouched
    # quarantine shows raw values (no fixes)
    assert [(r[1], r[2]) for r in quar] == [(raw[None][1], raw[None][2])]


def test_failing_switches_to_the_fallback_at_query_time(project):
    """predictions serves baseline_score while user_features fails, and the model score after it
    recovers, with no rebuild of predictions (only user_features is built)."""
    build(project)
    assert float(view(project)[1]["score"]) == 0.3
    sql(project, features(1))                       # the feature table breaks its row_count
    run = build(project, select=["user_features"])
    assert run.exit_code == 1
    v = view(project)
    assert float(v[1]["score"]) == 0.2 and float(v[2]["score"]) == 0.25   # baseline, clipped as before
    assert float(v[4]["score"]) == 0.0            # model_version v0 keeps its (clipped) score
    assert float(v[5]["score"]) == 0.9            # model_version NULL: the `when` is NULL, no replace
    assert v[1]["_slo_fixed"] == "score" and v[1]["_slo_ok"] is False
    sql(project, features(5))                       # fixed
    assert build(project, select=["user_features"]).exit_code == 0
    assert float(view(project)[1]["score"]) == 0.3


def test_failing_reads_any_failed_partition_and_ignores_warnings(tmp_path):
    write(tmp_path, [
        {"name": "f", "relation": "raw.f", "partition": "ds", "checks": [
            {"row_count": {"min": 2}}, {"row_count": {"min": 100, "severity": "warn", "name": "big"}}]},
        {"name": "p", "relation": "raw.p", "columns": [
            {"name": "s", "fix": [{"replace": {"when": "failing('f')", "value": -1}}]}]}])
    sql(tmp_path, ["CREATE OR REPLACE TABLE raw.p AS SELECT 0.5 AS s",
                   "CREATE OR REPLACE TABLE raw.f AS SELECT * FROM (VALUES (1, 'a'), (2, 'a'), (3, 'b'), (4, 'b')) "
                   "t(x, ds)"])
    build(tmp_path)
    assert query(tmp_path, "SELECT s FROM validated.p") == [(0.5,)]   # only a warn-severity SLO failed
    sql(tmp_path, "DELETE FROM raw.f WHERE x = 4")                     # partition b is reloaded, and fails
    build(tmp_path, select=["f"], partitions=["b"])
    assert [float(r[0]) for r in query(tmp_path, "SELECT s FROM validated.p")] == [-1.0]


def test_failing_of_a_table_never_built_is_false(tmp_path):
    write(tmp_path, [
        {"name": "f", "relation": "raw.f", "checks": [{"row_count": {"min": 2}}]},
        {"name": "p", "relation": "raw.p", "columns": [
            {"name": "s", "fix": [{"replace": {"when": "failing('f')", "value": -1}}]}]}])
    sql(tmp_path, ["CREATE OR REPLACE TABLE raw.p AS SELECT 0.5 AS s",
                   "CREATE OR REPLACE TABLE raw.f AS SELECT 1 AS x"])
    build(tmp_path, select=["p"])
    assert query(tmp_path, "SELECT s FROM validated.p") == [(0.5,)]


def test_compile_lists_declared_columns_and_every_dialect_renders(project):
    p = Project.load(str(project))
    for dialect in ("duckdb", "postgres", "snowflake", "bigquery", "spark", "databricks", "trino", "redshift"):
        text = p.compile(dialect=dialect, write=False).tables[1].validated_view
        assert "_slo_fix0_0" in text and "user_features" in text, dialect


# ---------------------------------------------------------------- declaration errors, located

def problems(root) -> list[str]:
    with pytest.raises(SpecError) as info:
        Project.load(str(root))
    return [str(p) for p in info.value.problems]


def test_unknown_table_in_failing_is_a_located_error(tmp_path):
    write(tmp_path, """
        tables:
          - name: user_features
            relation: raw.user_features
          - name: predictions
            relation: raw.predictions
            columns:
              - name: score
                fix:
                  - replace: {when: "failing('user_featres')", value: 0}
        """)
    assert problems(tmp_path) == [
        "slos/tables.yml:9:29: table 'predictions', column 'score': failing('user_featres') names no declared "
        "table (did you mean 'user_features'?)"]


def test_fix_declaration_errors_are_all_reported(tmp_path):
    write(tmp_path, """
        tables:
          - name: t
            relation: raw.t
            checks:
              - expression: {sql: "not failing('t')"}
            columns:
              - name: a
                fix:
                  - clip: [1, 0]
                  - clip: [a, 1]
                  - clip: [null, null]
                  - clip: 5
                  - fill_null: [1, 2]
                  - fill_null: null
                  - replce: {when: "a > 1", value: 1}
                  - replace: {when: "a > 1"}
                  - replace: {when: "nope > 1", value: 1, else: 2}
                  - replace: {when: "failing(a)", value: 1}
                  - replace: {when: "a > 0", value: "failing('t')"}
                  - replace: {when: "count(*) > 0", value: 1}
                  - replace: {when: "a > 0", value: "b; drop table x"}
                  - {clip: [0, 1], fill_null: 0}
                  - 7
              - name: b
        """)
    assert problems(tmp_path) == [
        "slos/tables.yml:5:27: 'sql' of 'expression' of table 't': failing() is only allowed in the 'when' of a fix",
        "slos/tables.yml:9:19: table 't', column 'a', fix: clip's low bound (1) is greater than its high bound (0)",
        "slos/tables.yml:10:20: table 't', column 'a', fix: a clip bound must be a number or a date, not 'a'",
        "slos/tables.yml:11:19: table 't', column 'a', fix: clip needs at least one bound",
        "slos/tables.yml:12:19: table 't', column 'a', fix: clip takes [low, high] (or {min: low, max: high}); "
        "use null for no bound on one side",
        "slos/tables.yml:13:24: table 't', column 'a', fix: fill_null takes a value (a number, string, boolean or "
        "date), not a list",
        "slos/tables.yml:14:24: table 't', column 'a', fix: fill_null takes a value (a number, string, boolean or "
        "date), not nothing (null)",
        "slos/tables.yml:15:13: table 't', column 'a', fix: unknown fix 'replce' (did you mean 'replace'?) "
        "(fixes: clip, fill_null, replace)",
        "slos/tables.yml:16:22: replace of table 't', column 'a' is missing required key 'value'",
        "slos/tables.yml:17:51: unknown key 'else' in replace of table 't', column 'a'",
        "slos/tables.yml:18:29: table 't', column 'a', fix: failing() takes one table name as a string, "
        "e.g. failing('user_features')",
        "slos/tables.yml:19:45: 'value' of replace of table 't', column 'a': failing() is only allowed in the "
        "'when' of a fix",
        "slos/tables.yml:20:29: 'when' of replace of table 't', column 'a': aggregate functions are not allowed "
        "in a row expression",
        "slos/tables.yml:21:45: 'value' of replace of table 't', column 'a': ';' is not allowed: write one SQL "
        "expression, not statements",
        "slos/tables.yml:22:13: table 't', column 'a', fix: a fix is a mapping with one of clip, fill_null, "
        "replace as its key, e.g. `- clip: [0, 1]`",
        "slos/tables.yml:23:13: table 't', column 'a', fix: a fix is a mapping with one of clip, fill_null, "
        "replace as its key, e.g. `- clip: [0, 1]`",
    ]


def test_fix_column_missing_from_the_relation_exits_2(tmp_path):
    write(tmp_path, [{"name": "t", "relation": "raw.t", "columns": [
        {"name": "a", "fix": [{"replace": {"when": "c > 0", "value": "b"}}]}, {"name": "b"}, {"name": "c"}]}])
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.t AS SELECT 1 AS a, 2 AS bb, 3 AS c")
    done = cli(tmp_path, "build")
    assert done.returncode == 2
    assert ("slos/tables.yml:7:7: table 't', column 'a': the fix needs column 'b', which is not in raw.t "
            "(did you mean 'bb'?)") in done.stderr, done.stderr



def test_hostile_names_in_fixes(tmp_path):
    """Quoted, reserved and unicode names; a table name with quotes in failing(); values are data."""
    weird_table = 'it\'s "raw" ✓'
    write(tmp_path, [
        {"name": weird_table, "relation": "raw.f", "checks": [{"row_count": {"min": 2}}]},
        {"name": "p", "relation": "raw.p", "row_status": True, "columns": [
            {"name": "select", "fix": [{"replace": {"when": "failing('it''s \"raw\" ✓')", "value": '"naïve"'}},
                                       {"fill_null": "x'); DROP TABLE raw.p; --"}]},
            {"name": "naïve"}]}])
    sql(tmp_path, ["CREATE OR REPLACE TABLE raw.p AS SELECT * FROM (VALUES (NULL, 'n'), ('s', 'n')) "
                   't("select", "naïve")', "CREATE OR REPLACE TABLE raw.f AS SELECT 1 AS x"])
    build(tmp_path)
    assert sorted(query(tmp_path, 'SELECT "select", _slo_fixed FROM validated.p')) == [
        ("n", "select"), ("n", "select")]
    sql(tmp_path, "INSERT INTO raw.f VALUES (2)")
    build(tmp_path, select=[weird_table])
    assert sorted(query(tmp_path, 'SELECT "select" FROM validated.p')) == [("s",), ("x'); DROP TABLE raw.p; --",)]
    assert query(tmp_path, "SELECT count(*) FROM raw.p") == [(2,)]
