"""Custom check types (issue 12, item 6): bad definitions and bad uses are reported with file:line
(a use's problems name the definition too), exit 2, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from specproblems import write_project

from slocompile.declarations.loader import load_project
from slocompile.errors import SpecError

SHARE = """\
/*
kind: metric
doc: The share of rows whose column is positive.
params:
  strict: {type: bool, default: true}
  floor: {type: number, default: 0}
*/
avg(case when {{ column }} > {{ floor }} or (not {{ strict }} and {{ column }} = {{ floor }}) then 1.0 else 0.0 end)
"""
FLIPS = """\
/*
kind: rows
params:
  key: column
  status: {type: column, default: status}
*/
select {{ key }} from {{ this }} group by {{ key }} having count(distinct {{ status }}) > 1
"""
USES = """
tables:
  - name: t
    relation: raw.t
    checks:
      - flips: {key: id}
    columns:
      - name: id
      - name: status
      - name: amount
        checks:
          - share: {min: 0.5}
"""


def project(tmp_path, uses: str = USES, macros: dict | None = None) -> str:
    root = write_project(tmp_path, {"t.yml": uses})
    for name, text in (macros if macros is not None else {"share.sql": SHARE, "flips.sql": FLIPS}).items():
        path = os.path.join(root, "macros", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(textwrap.dedent(text))
    return root


def problems_of(root) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    return [str(p) for p in info.value.problems]


def test_good_definitions_load_as_check_types(tmp_path):
    spec = load_project(project(tmp_path), env={})
    flips, share = spec.table("t").checks[:2]
    assert (flips.type, flips.params["kind"], flips.params["key"], flips.params["status"]) == (
        "flips", "rows", "id", "status")
    assert (share.type, share.column, share.params["strict"], share.params["min"]) == ("share", "amount", True, 0.5)
    assert share.params["rendered_text"] == ('AVG(CASE WHEN "amount" > 0 OR (NOT TRUE AND "amount" = 0) '
                                             'THEN 1.0 ELSE 0.0 END)')
    assert 'FROM "raw"."t"' in flips.params["query"].sql("duckdb")  # {{ this }}


@pytest.mark.parametrize("use,message", [
    ("- share: {min: 0.5, strikt: false}", "unknown key 'strikt' in 'share' of table 't', column 'amount' (check type "
     "defined at macros/share.sql:1) (did you mean 'strict'?)"),
    ("- share: {min: 0.5, strict: 3}", "'strict' in 'share' of table 't', column 'amount' (check type defined at "
     "macros/share.sql:1) must be true or false, not 3"),
    ("- share: {min: 0.5, floor: x}", "'floor' in 'share' of table 't', column 'amount' (check type defined at "
     "macros/share.sql:1) must be a finite number, not 'x'"),
    ("- share: {strict: false}", "share needs 'min', 'max', 'max_increase' or 'max_drop' (check type defined at "
     "macros/share.sql:1)"),
    ("- shar: {min: 1}", "table 't', column 'amount': unknown check type 'shar' (did you mean 'share'?)"),
])
def test_a_bad_use_names_its_line_and_the_definition(tmp_path, use, message):
    found = problems_of(project(tmp_path, USES.replace("- share: {min: 0.5}", use)))
    assert len(found) == 1 and found[0].startswith("slos/t.yml:12:") and found[0].endswith(message), found


@pytest.mark.parametrize("use,message", [
    ("- flips: {}", "'flips' of table 't' (check type defined at macros/flips.sql:1) is missing required key 'key'"),
    ("- flips: {key: idd}", "'flips' of table 't' (check type defined at macros/flips.sql:1): 'key': unknown column "
     "'idd' (did you mean 'id'?)"),
    ('- flips: {key: id, where: "id > 1"}', "'flips' of table 't' (check type defined at macros/flips.sql:1): "
     "'where' does not apply to a check type returning rows: filter inside its SELECT"),
])
def test_a_bad_use_of_a_rows_type(tmp_path, use, message):
    found = problems_of(project(tmp_path, USES.replace("- flips: {key: id}", use)))
    assert len(found) == 1 and found[0].startswith("slos/t.yml:6:") and found[0].endswith(message), found


@pytest.mark.parametrize("text,message", [
    ("count(*) > 1\n", "macros/bad.sql:1: a custom check type starts with a /* ... */ header in YAML naming its "
     "kind and params (see docs/checks.md, Custom check types)"),
    ("/*\nkind: sum\n*/\ncount(*) > 1\n", "macros/bad.sql:2:7: 'kind' in the header of custom check type "
     "macros/bad.sql must be one of aggregate, metric, rows, not 'sum'"),
    ("/*\nkind: aggregate\nparams:\n  n: integer\n*/\ncount(*) > {{ n }}\n", "macros/bad.sql:4:6: 'type' in parameter "
     "'n' of the header of custom check type macros/bad.sql must be one of int, number, fraction, bool, string, value, "
     "values, column, columns, relation, sql, not 'integer' (did you mean 'int'?)"),
    ("/*\nkind: aggregate\nparams:\n  where: string\n*/\ncount(*) > 1\n", "macros/bad.sql:4:3: the header of custom "
     "check type macros/bad.sql: 'where' cannot name a parameter (a key every check or the kind already takes)"),
    ("/*\nkind: aggregate\nparams:\n  n: {type: int, default: -1}\n*/\ncount(*) > {{ n }}\n",
     "macros/bad.sql:4:27: the default of parameter 'n' must be a non-negative integer, not -1"),
    ("/*\nkind: aggregate\nparams:\n  limit: int\n*/\n\ncount(*) > {{ limt }}\n", "macros/bad.sql:7: 'limt' is "
     "not a parameter of this check type (did you mean 'limit'?) (declare it under params in the header)"),
    ("/*\nkind: aggregate\n*/\ncount(*) > {% if %}\n", "macros/bad.sql:4: invalid Jinja: Expected an expression, "
     "got 'end of statement block'"),
    ("/*\nkind: metric\n*/\nx + 1\n", "macros/bad.sql:4: custom check type 'bad': must use an aggregate function"),
    ("/*\nkind: aggregate\n*/\nmax(x) > (select 1)\n", "macros/bad.sql:4: custom check type 'bad': subqueries are "
     "not allowed"),
    ("/*\nkind: aggregate\nparams:\n  n: int\n*/\ncount(*) as {{ n }}\n", "macros/bad.sql:6: custom check type "
     "'bad': parameter 'n' is used where a value cannot go (as a name: parameters are values, columns or relations)"),
    ("/*\nkind: aggregate\nparams:\n  s: string\n*/\ncount_if(x = '{{ s }}') = 0\n", "macros/bad.sql:6: custom "
     "check type 'bad': a parameter inside quotes stays text: write {{ s }} without quotes (a string parameter "
     "becomes a SQL string)"),
    ("/*\nkind: rows\n*/\nselect * from read_csv('x.csv')\n", "macros/bad.sql:4: custom check type 'bad': table "
     "functions are not allowed in the query (READ_CSV('x.csv'))"),
    ("/*\nkind: rows\n*/\nselect 1; drop table raw.t\n", "macros/bad.sql:4: custom check type 'bad': ';' is not "
     "allowed: write one SELECT statement"),
    ("/*\nkind: rows\nparams:\n  r: relation\n*/\nselect pg_read_file('x') from {{ r }}\n", "macros/bad.sql:6: "
     "custom check type 'bad': pg_read_file() reads files or the network, or runs code: not allowed"),
    ("/*\nkind: aggregate\nparams:\n  r: relation\n*/\ncount({{ r }}) > 1\n", "macros/bad.sql:6: custom check "
     "type 'bad': parameter 'r' is used where its value cannot go"),
    ("/*\nkind: aggregate\nname: unique\n*/\ncount(*) > 1\n", "macros/bad.sql:1: custom check type 'unique' has "
     "the name of a built-in check type; rename it"),
])
def test_a_bad_definition_names_its_file_and_line(tmp_path, text, message):
    found = problems_of(project(tmp_path, "tables: []\n", {"bad.sql": text}))
    assert any(p.startswith(message) or (message in p) for p in found), found


def test_two_types_of_one_name_and_the_checks_folder(tmp_path):
    root = project(tmp_path, "tables: []\n", {"a.sql": "/*\nkind: aggregate\nname: x\n*/\ncount(*) > 1\n"})
    os.makedirs(os.path.join(root, "checks"))
    with open(os.path.join(root, "checks", "x.sql"), "w") as fh:
        fh.write("/*\nkind: aggregate\n*/\ncount(*) > 2\n")
    assert problems_of(root) == ["macros/a.sql:1: duplicate custom check type 'x' (also defined at checks/x.sql:1)"]


def test_the_cli_exits_2_without_a_traceback(tmp_path):
    root = project(tmp_path, USES.replace("- flips: {key: id}", "- flips: {key: idd}"))
    p = subprocess.run([sys.executable, "-m", "slocompile", "compile"], cwd=root, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2
    assert "slos/t.yml:6:" in p.stderr and "macros/flips.sql:1" in p.stderr and "Traceback" not in p.stderr


def test_a_dbt_projects_macros_are_not_check_types(tmp_path):
    """slocompile.yml beside dbt_project.yml: dbt's macros/ holds Jinja macros, generic tests and
    materializations without our header; they are not custom check types and load nothing."""
    dbt = {"cents.sql": "{% macro cents_to_dollars(column_name) %}\n  ({{ column_name }} / 100)\n{% endmacro %}\n",
           "tests/positive.sql": "{%- test positive(model, column_name) -%}\nselect * from {{ model }}\n"
                                 "{%- endtest %}\n",
           "mat.sql": "{% materialization lazy, default %}{% endmaterialization %}\n"}
    spec = load_project(project(tmp_path, macros={**dbt, "share.sql": SHARE, "flips.sql": FLIPS}), env={})
    assert [c.type for c in spec.table("t").checks[:2]] == ["flips", "share"]
    # a file with neither our header nor a Jinja macro is still a mistake worth naming
    (tmp_path / "x").mkdir()
    found = problems_of(project(tmp_path / "x", macros={**dbt, "bad.sql": "count(*) > 1\n"}))
    assert found == ["macros/bad.sql:1: a custom check type starts with a /* ... */ header in YAML naming its "
                     "kind and params (see docs/checks.md, Custom check types)"], found
