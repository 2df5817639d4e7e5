"""`assert` with a whole read-only SELECT (issue 12, item 2): one statement that only reads, no table
functions, files or network; `{{ this }}` and declared tables resolve to their relations."""
from __future__ import annotations

import pytest
from specproblems import problems, write_project

from slocompile.declarations.loader import load_project
from slocompile.dialects.render import render

TABLE = 'tables:\n  - name: t\n    relation: raw.t\n    checks:\n      - assert: "{sql}"\n'
WHAT = "slos/t.yml:5:17: 'sql' of 'assert' of table 't': "


@pytest.mark.parametrize("sql,message", [
    ("select 1; drop table raw.t", "';' is not allowed: write one SELECT statement"),
    ("select * into y from raw.t", "SELECT ... INTO is not allowed: the query must only read"),
    ("select * from read_csv('x.csv')", "table functions are not allowed in the query (READ_CSV('x.csv'))"),
    ("select * from generate_series(1, 3)", "table functions are not allowed in the query (GENERATE_SERIES(1, 3))"),
    ("select * from 'data.csv'", "relation 'data.csv' is not a plain name: reading files or paths is not allowed"),
    ("select pg_read_file('/etc/passwd') as x",
     "pg_read_file() reads files or the network, or runs code: not allowed in a declaration"),
    ("select * from (select 1 as a) s, lateral (select 2) y", "lateral is not allowed in the query"),
    ("select * from t where", "invalid SQL: incomplete expression (at line 1, column 21 of the SQL)"),
])
def test_refused_queries_name_the_line_and_the_reason(tmp_path, sql, message):
    assert problems(tmp_path, TABLE.format(sql=sql)) == [WHAT + message]


def test_where_does_not_apply_to_a_query(tmp_path):
    text = ('tables:\n  - name: t\n    relation: raw.t\n    checks:\n'
            '      - assert: {sql: "select 1 as a", where: "a > 1"}\n')
    assert problems(tmp_path, text) == ["slos/t.yml:5:47: 'assert' of table 't': 'where' does not apply to a query: "
                                        "filter inside it"]


def test_this_and_declared_tables_resolve_ctes_do_not(tmp_path):
    root = write_project(tmp_path, {"t.yml": """
        tables:
          - name: t
            relation: raw.t
            checks:
              - assert:
                  name: q
                  sql: >
                    with u as (select 1 as id)
                    select x.id from {{ this }} x join u on u.id = x.id join other o on o.id = x.id
                    union all select id from dims.fixed
          - name: other
            relation: raw.other_table
          - name: u
            relation: raw.not_the_cte
        """})
    check = load_project(root, env={}).table("t").checks[0]
    text = render(check.params["query"], "duckdb")
    assert 'FROM "raw"."t" AS "x"' in text
    assert 'JOIN "raw"."other_table" AS "o"' in text
    assert 'JOIN "u"' in text and "not_the_cte" not in text
    assert '"dims"."fixed"' in text
    assert check.params["sql_text"].startswith("with u as")
