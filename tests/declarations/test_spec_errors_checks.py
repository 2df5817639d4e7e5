"""Pinned error messages for bad declarations: keys and types, check parameters, duplicates, unknown columns
and user SQL, with the `file:line:col` of the source file and did-you-mean suggestions for near misses."""
from __future__ import annotations

from specproblems import problems, write_project

from slocompile.declarations.loader import load_project

# ------------------------------------------------------------------------------------------------ keys and types


def test_unknown_key_did_you_mean(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            gaet: block
            columns:
              - name: a
                checks:
                  - not_null: {max_fracton: 0.1}
        """) == [
        "slos/t.yml:4:5: unknown key 'gaet' in a table (did you mean 'gate'?)",
        "slos/t.yml:8:24: unknown key 'max_fracton' in 'not_null' of table 't', column 'a' "
        "(did you mean 'max_fraction'?)",
    ]


def test_unknown_top_level_keys(tmp_path):
    assert problems(tmp_path, "tabels: []\ntrigers: []\n") == [
        "slos/t.yml:1:1: unknown key 'tabels' at the top of a declaration file (did you mean 'tables'?)",
        "slos/t.yml:2:1: unknown key 'trigers' at the top of a declaration file (did you mean 'triggers'?)",
    ]


def test_wrong_types_all_reported(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: 5
            key: {a: 1}
            partition: [ds]
            description: ""
            columns:
              - name: a
                type: 3
                checks:
                  - not_null: {max_fraction: "x", max_count: -1, severity: fatal, rows: dropp}
                  - between: {min: 1, inclusive: "yes"}
                  - between: {min: 1, max_count: 1.5}
                  - accepted_values: []
                  - accepted_values: {values: [[1]]}
                  - freshness: {max_age: 36}
                  - quantile: {q: 2, max: 1}
                  - not_null: 5
                  - {not_null: {}, between: {}}
              - 7
              - {type: integer}
            checks: {row_count: {min: 1}}
        """) == [
        "slos/t.yml:3:15: 'relation' in a table must be a non-empty string, not 5",
        "slos/t.yml:4:10: 'key' in a table must be a column name or a list of column names, not a mapping",
        "slos/t.yml:5:16: 'partition' in a table must be a column name or a mapping {column: ..., granularity: "
        "hour | day | week | month}, not a list",
        "slos/t.yml:6:18: 'description' in a table must be a non-empty string, not ''",
        "slos/t.yml:9:15: 'type' in a column of table 't' must be a non-empty string, not 3",
        "slos/t.yml:11:38: 'max_fraction' in 'not_null' of table 't', column 'a' must be a number between 0 and 1, "
        "not 'x'",
        "slos/t.yml:11:54: 'max_count' in 'not_null' of table 't', column 'a' must be a non-negative integer, not -1",
        "slos/t.yml:11:68: 'severity' in 'not_null' of table 't', column 'a' must be one of error, warn, not 'fatal'",
        "slos/t.yml:11:81: 'rows' in 'not_null' of table 't', column 'a' must be one of keep, drop, not 'dropp' "
        "(did you mean 'drop'?)",
        "slos/t.yml:12:42: 'inclusive' in 'between' of table 't', column 'a' must be true or false, not 'yes'",
        "slos/t.yml:13:42: 'max_count' in 'between' of table 't', column 'a' must be a non-negative integer, not 1.5",
        "slos/t.yml:14:30: 'values' in 'accepted_values' of table 't', column 'a' must be a non-empty list, "
        "not an empty list",
        "slos/t.yml:15:40: each item of 'values' in 'accepted_values' of table 't', column 'a' must be a string, "
        "number or date",
        "slos/t.yml:16:34: 'max_age' in 'freshness' of table 't', column 'a' must be a duration such as 36h, 90m, "
        "2d or 1w, not 36",
        "slos/t.yml:17:27: 'q' in 'quantile' of table 't', column 'a' must be a number between 0 and 1, not 2",
        "slos/t.yml:18:23: 'not_null' of table 't', column 'a' takes a mapping of parameters",
        "slos/t.yml:19:13: table 't', column 'a': a check is a check type, or a mapping with one check type as key",
        "slos/t.yml:20:9: a column of table 't' must be a mapping, not 7",
        "slos/t.yml:21:9: a column of table 't' is missing required key 'name'",
        "slos/t.yml:22:13: table 't': 'checks' must be a list",
    ]


def test_missing_required_keys_and_not_a_mapping(tmp_path):
    assert problems(tmp_path, {"a.yml": "tables:\n  - relation: raw.t\n  - name: u\n  - just a string\n",
                               "b.yml": "- a\n- b\n", "c.yml": "tables: {name: t}\n"}) == [
        "slos/a.yml:2:5: a table is missing required key 'name'",
        "slos/a.yml:3:5: a table is missing required key 'relation'",
        "slos/a.yml:4:5: a table must be a mapping, not 'just a string'",
        "slos/b.yml:1:1: a declaration file must be a mapping with a 'tables' list",
        "slos/c.yml:1:9: 'tables' must be a list of table declarations",
    ]


def test_unknown_check_type_did_you_mean(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            checks:
              - rowcount: {min: 1}
              - not_null: {column: a}
            columns:
              - name: a
                checks:
                  - not_nul
                  - row_count: {min: 1}
                  - frobnicate: {}
        """) == [
        "slos/t.yml:5:9: table 't': unknown check type 'rowcount' (did you mean 'row_count'?)",
        "slos/t.yml:10:13: table 't', column 'a': unknown check type 'not_nul' (did you mean 'not_null'?)",
        "slos/t.yml:11:13: table 't', column 'a': 'row_count' is a table-level check "
        "(declare it under the table's checks)",
        "slos/t.yml:12:13: table 't', column 'a': unknown check type 'frobnicate'",
    ]


def test_bad_gate(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            gate: blok
          - name: u
            relation: raw.u
            gate: [block]
        """) == [
        "slos/t.yml:4:11: 'gate' in a table must be one of block, filter, last_good, warn, not 'blok' "
        "(did you mean 'block'?)",
        "slos/t.yml:7:11: 'gate' in a table must be one of block, filter, last_good, warn, not a list",
    ]


def test_between_and_bounds(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            checks:
              - row_count: {}
            columns:
              - name: a
                checks:
                  - between
                  - between: {rows: drop}
                  - between: {min: 5, max: 1}
                  - mean: {min: 2, max: 1}
                  - stddev: {}
        """) == [
        "slos/t.yml:5:20: row_count needs 'min', 'max', 'max_increase' or 'max_drop'",
        "slos/t.yml:9:13: between needs 'min', 'max' or both",
        "slos/t.yml:10:22: between needs 'min', 'max' or both",
        "slos/t.yml:11:22: between: min (5) is greater than max (1)",
        "slos/t.yml:12:19: mean: min (2) is greater than max (1)",
        "slos/t.yml:13:21: stddev needs 'min', 'max', 'max_increase' or 'max_drop'",
    ]


def test_nan_and_infinity_rejected(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            checks:
              - row_count: {min: .inf}
              - row_count: {max: .nan}
            columns:
              - name: a
                checks:
                  - between: {min: .nan}
                  - between: {max: -.inf}
                  - accepted_values: [1, .nan]
                  - not_null: {max_fraction: .nan}
                  - mean: {min: .NaN, max: .Inf}
                  - quantile: {q: .nan, max: 1}
        """) == [
        "slos/t.yml:5:26: 'min' in 'row_count' of table 't' must be a finite number, not inf",
        "slos/t.yml:6:26: 'max' in 'row_count' of table 't' must be a finite number, not nan",
        "slos/t.yml:10:28: 'min' in 'between' of table 't', column 'a' must be a string, number, boolean or date, "
        "not nan",
        "slos/t.yml:11:28: 'max' in 'between' of table 't', column 'a' must be a string, number, boolean or date, "
        "not -inf",
        "slos/t.yml:12:34: each item of 'values' in 'accepted_values' of table 't', column 'a' must be a string, "
        "number or date",
        "slos/t.yml:13:38: 'max_fraction' in 'not_null' of table 't', column 'a' must be a number between 0 and 1, "
        "not nan",
        "slos/t.yml:14:25: 'min' in 'mean' of table 't', column 'a' must be a finite number, not nan",
        "slos/t.yml:14:36: 'max' in 'mean' of table 't', column 'a' must be a finite number, not inf",
        "slos/t.yml:15:27: 'q' in 'quantile' of table 't', column 'a' must be a number between 0 and 1, not nan",
    ]


def test_bad_regex(tmp_path):
    assert problems(tmp_path, "tables:\n  - name: t\n    relation: raw.t\n    columns:\n"
                              "      - {name: a, checks: [{matches: '('}]}\n") == [
        "slos/t.yml:5:38: matches: invalid regular expression: missing ), unterminated subpattern at position 0"]


def test_relation_must_be_a_name(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t; DROP TABLE raw.t
          - name: u
            relation: "a.b.c.d"
        """) == [
        "slos/t.yml:3:15: table 't': relation 'raw.t; DROP TABLE raw.t' is not a relation name (write schema.table)",
        "slos/t.yml:5:15: table 'u': relation 'a.b.c.d' is not a relation name (write schema.table)",
    ]


def test_table_names_that_cannot_name_files(tmp_path):
    long = "x" * 201
    assert problems(tmp_path, f"tables:\n  - name: {long}\n    relation: raw.t\n") == [
        f"slos/t.yml:2:11: table name '{'x' * 40}...' is too long (at most 200 bytes) "
        "(it names the table's views and its files under target/)"]


# ---------------------------------------------------------------------------------------------------- duplicates


def test_duplicate_check_names(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            checks:
              - row_count: {min: 1, name: volume}
              - assert: {sql: "count(*) > 0", name: volume}
            columns:
              - name: a
                checks:
                  - not_null
                  - not_null
        """) == [
        "slos/t.yml:6:9: table 't': duplicate check name 'volume' (first at line 5)",
        "slos/t.yml:11:13: table 't': two identical 'not_null' checks; give one a 'name'",
    ]


def test_duplicate_yaml_keys_and_more_in_the_same_file(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            relation: raw.u
            checks:
              - row_count: {min: 1, min: 2}
              - not_a_check
        """) == [
        "slos/t.yml:4:5: duplicate key 'relation' (first at line 3)",
        "slos/t.yml:6:29: duplicate key 'min' (first at line 6)",
        "slos/t.yml:7:9: table 't': unknown check type 'not_a_check'",
    ]


def test_duplicate_tables_across_files(tmp_path):
    assert problems(tmp_path, {
        "a.yml": "tables:\n  - name: t\n    relation: raw.t\n  - name: t\n    relation: raw.u\n",
        "nested/deeper/b.yml": "tables:\n  - name: t\n    relation: raw.v\n",
    }) == [
        "slos/a.yml:4:5: duplicate table 't' (also declared at slos/a.yml:2:5)",
        "slos/nested/deeper/b.yml:2:5: duplicate table 't' (also declared at slos/a.yml:2:5)",
    ]


def test_empty_column_names(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            key: ""
            checks:
              - unique: ["a", ""]
            columns:
              - name: ""
        """) == [
        "slos/t.yml:4:10: 'key' in a table must be a column name or a list of column names, not ''",
        "slos/t.yml:6:23: each item of 'columns' in 'unique' of table 't' must be a non-empty string",
        "slos/t.yml:8:15: 'name' in a column of table 't' must be a non-empty string, not ''",
    ]


def test_duplicate_columns(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            columns:
              - name: a
              - name: b
              - name: a
        """) == ["slos/t.yml:7:9: table 't': duplicate column 'a' (first at line 5)"]


# ------------------------------------------------------------------------------------ columns known at compile time


def test_unknown_columns_against_declared_columns(tmp_path):
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            key: [id]
            partition: ds
            checks:
              - unique: [idd, amount]
              - freshness: {column: tss, max_age: 1d}
              - assert: "avg(amout) > 0"
              - row_count: {min: 1, where: "amout > 0"}
              - relationship: {column: countr, to: dims.c, field: code}
              - mean: {column: amont, min: 0}
              - expression: "Amount > 0 and ds is not null and id > 0"
            columns:
              - name: amount
              - name: ts
              - name: country
        """) == [
        "slos/t.yml:7:9: 'unique' of table 't': unknown column 'idd' (did you mean 'id'?)",
        "slos/t.yml:8:9: 'freshness' of table 't': unknown column 'tss' (did you mean 'ts'?)",
        "slos/t.yml:9:17: 'sql' of 'assert' of table 't': unknown column 'amout' (did you mean 'amount'?)",
        "slos/t.yml:10:36: 'where' of 'row_count' of table 't': unknown column 'amout' (did you mean 'amount'?)",
        "slos/t.yml:11:9: 'relationship' of table 't': unknown column 'countr' (did you mean 'country'?)",
        "slos/t.yml:12:9: 'mean' of table 't': unknown column 'amont' (did you mean 'amount'?)",
        "slos/t.yml:13:21: 'sql' of 'expression' of table 't': unknown column 'Amount' (did you mean 'amount'?)",
    ]


def test_no_declared_columns_means_no_compile_time_column_check(tmp_path):
    root = write_project(tmp_path, {"t.yml": "tables:\n  - name: t\n    relation: raw.t\n"
                                             "    checks: [{expression: 'anything > 0'}, {unique: [x]}]\n"})
    spec = load_project(root, env={})
    assert [c.name for c in spec.table("t").checks] == ["expression", "unique_x"]


# ---------------------------------------------------------------------------------------------------------- SQL


def test_bad_sql_in_expression_assert_and_where(tmp_path):
    w = "'where' of 'not_null' of table 't', column 'a'"
    e = "'sql' of 'expression' of table 't', column 'a'"
    a = "'sql' of 'assert' of table 't'"
    assert problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            columns:
              - name: a
                checks:
                  - expression: "a >"
                  - expression: "a > 1;"
                  - expression: "DROP TABLE raw.t"
                  - expression: "DELETE FROM raw.t"
                  - expression: "SELECT a FROM raw.t"
                  - expression: "a IN (SELECT 1)"
                  - expression: "frobnicate(a)"
                  - expression: "sum(a) > 0"
                  - expression: "row_number() over () = 1"
                  - expression: "t.a > 1"
                  - expression: "a = ?"
                  - not_null: {where: "max(a) > 1"}
                  - not_null: {where: "1 = 1 OR (SELECT 1) = 1"}
                  - not_null: {where: "a > 1; DELETE FROM raw.t"}
                  - not_null: {where: "a >>> 1"}
            checks:
              - assert: "a > 0"
              - assert: "count(*) > 0 AND"
              - assert: {sql: "UPDATE raw.t SET a = 1"}
              - assert: {sql: "count(*) > (SELECT count(*) FROM raw.u)"}
        """) == [
        f"slos/t.yml:7:25: {e}: invalid SQL: incomplete expression (at line 1, column 3 of the SQL)",
        f"slos/t.yml:8:25: {e}: ';' is not allowed: write one SQL expression, not statements",
        f"slos/t.yml:9:25: {e}: a DROP statement is not allowed: write one SQL expression",
        f"slos/t.yml:10:25: {e}: a DELETE statement is not allowed: write one SQL expression",
        f"slos/t.yml:11:25: {e}: a SELECT statement is not allowed: write one SQL expression",
        f"slos/t.yml:12:25: {e}: subqueries are not allowed",
        f"slos/t.yml:13:25: {e}: unknown function frobnicate() (did you mean 'concat'?)",
        f"slos/t.yml:14:25: {e}: aggregate functions are not allowed in a row expression",
        f"slos/t.yml:15:25: {e}: window functions are not allowed",
        f"slos/t.yml:16:25: {e}: write column names without a table qualifier (t.a)",
        f"slos/t.yml:17:25: {e}: placeholder is not allowed in an expression",
        f"slos/t.yml:18:31: {w}: aggregate functions are not allowed in a row expression",
        f"slos/t.yml:19:31: {w}: subqueries are not allowed",
        f"slos/t.yml:20:31: {w}: ';' is not allowed: write one SQL expression, not statements",
        f"slos/t.yml:21:31: {w}: invalid SQL: incomplete expression (at line 1, column 5 of the SQL)",
        f"slos/t.yml:23:17: {a}: must use an aggregate function such as count(*), avg(x) or min(x)",
        f"slos/t.yml:24:17: {a}: invalid SQL: incomplete expression (at line 1, column 16 of the SQL)",
        f"slos/t.yml:25:23: {a}: an UPDATE statement is not allowed: write one SQL expression",
        f"slos/t.yml:26:23: {a}: subqueries are not allowed",
    ]


def test_good_sql_is_accepted(tmp_path):
    root = write_project(tmp_path, {"t.yml": """\
        tables:
          - name: t
            relation: raw.t
            columns:
              - name: a
                checks:
                  - expression: {sql: "a between 0 and 10 or a is null", name: in_range}
                  - not_null: {where: "coalesce(a, 0) > 1 and cast(a as varchar) like '%1'"}
            checks:
              - assert: "count(*) filter (where a > 0) >= 1 and avg(a) < 100"
        """})
    spec = load_project(root, env={})
    assert [c.type for c in spec.table("t").checks] == ["assert", "expression", "not_null"]
