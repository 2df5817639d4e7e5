"""Pinned error messages for invalid YAML and Jinja, and the mapping of rendered lines back to the source
file's `file:line:col` through Jinja loops, macros, comments and blocks."""
from __future__ import annotations

import re
import textwrap

import pytest
from specproblems import problems, write_project

from slocompile.declarations.loader import load_project
from slocompile.spec.yamlload import render_with_lines

# ---------------------------------------------------------------------------------------------------------- YAML


@pytest.mark.parametrize("text, expected", [
    ("tables:\n\t- name: t\n", "slos/t.yml:2:1: invalid YAML: found character '\\t' that cannot start any token"),
    ("tables:\n  - name: t\n     relation: raw.t\n",
     "slos/t.yml:3:14: invalid YAML: mapping values are not allowed here"),
    ("tables:\n  - name: t\n    relation: raw.t\n    checks: [{row_count: {min: 1}}\n  - name: u\n",
     "slos/t.yml:5:3: invalid YAML: expected ',' or ']', but got '-'"),
    ("tables:\n  - name: !!python/object:os.system t\n    relation: raw.t\n",
     "slos/t.yml:2:11: unsupported YAML tag tag:yaml.org,2002:python/object:os.system"),
    ("tables:\n  - &a {name: t, relation: raw.t}\n  - *b\n", "slos/t.yml:3:5: invalid YAML: found undefined alias 'b'"),
    ("tables:\n  - name: 'unterminated\n", "slos/t.yml:3:1: invalid YAML: found unexpected end of stream"),
])
def test_invalid_yaml(tmp_path, text, expected):
    assert problems(tmp_path, text) == [expected]


def test_empty_file_is_no_tables(tmp_path):
    root = write_project(tmp_path, {"empty.yml": "", "t.yml": "tables:\n  - name: t\n    relation: raw.t\n"})
    assert [t.name for t in load_project(root, env={}).tables] == ["t"]


# --------------------------------------------------------------------------------------------------------- Jinja


def test_jinja_undefined_var(tmp_path):
    assert problems(tmp_path, """\
        # orders
        tables:
          - name: t
            relation: raw.t
            checks:
              - row_count: {min: {{ var('min_rows') }}}
        """) == ["slos/t.yml:6: Jinja error: var('min_rows') is not defined in slocompile.yml vars"]


def test_jinja_undefined_name_and_env_var(tmp_path):
    assert problems(tmp_path, {
        "a.yml": "tables:\n  - name: t\n    relation: {{ schema }}.t\n",
        "b.yml": "tables:\n  - name: u\n\n    relation: \"{{ env_var('SLOCOMPILE_TEST_UNSET') }}.u\"\n",
        "c.yml": "tables:\n  - name: v\n    relation: \"{{ env_var('SLOCOMPILE_TEST_UNSET', 'raw') }}.v\"\n",
    }) == [
        "slos/a.yml:3: Jinja error: 'schema' is undefined",
        "slos/b.yml:4: Jinja error: environment variable 'SLOCOMPILE_TEST_UNSET' is not set and has no default",
    ]


def test_jinja_syntax_errors(tmp_path):
    assert problems(tmp_path, {
        "a.yml": "tables:\n  - name: t\n    relation: raw.t\n    checks:\n      - row_count: {min: {{ var('n' }}}\n",
        "b.yml": "tables:\n{% for t in ['a'] %}\n  - name: {{ t }}\n    relation: raw.{{ t }}\n",
        "c.yml": "tables:\n  - name: z\n    relation: {{ 'a' | nofilter }}\n",
    }) == [
        "slos/a.yml:5: Jinja syntax error: unexpected '}', expected ')'",
        "slos/b.yml:4: Jinja syntax error: Unexpected end of template. Jinja was looking for the following tags: "
        "'endfor' or 'else'. The innermost block that needs to be closed is 'for'.",
        "slos/c.yml:3: Jinja syntax error: No filter named 'nofilter'.",
    ]


def test_jinja_python_errors_are_spec_errors(tmp_path):
    assert problems(tmp_path, {
        "a.yml": "tables:\n  - name: t\n    relation: {{ 1 / 0 }}\n",
        "b.yml": "\ntables:\n  - name: t\n    relation: {{ range(10**9) | list }}\n",
        "c.yml": "tables:\n  - name: {{ ''.__class__.__mro__ }}\n",
        "d.yml": "{% macro f() %}\n{{ f() }}\n{% endmacro %}\ntables:\n  - name: {{ f() }}\n",
    }) == [
        "slos/a.yml:3: Jinja error: ZeroDivisionError: division by zero",
        "slos/b.yml:4: Jinja error: OverflowError: Range too big. The sandbox blocks ranges larger than "
        "MAX_RANGE (100000).",
        "slos/c.yml:2: Jinja error: access to attribute '__class__' of 'str' object is unsafe.",
        "slos/d.yml:2: Jinja error: recursion too deep",
    ]


def test_jinja_runtime_error_after_a_loop(tmp_path):
    assert problems(tmp_path, """\
        tables:
        {% for t in ['a', 'b'] %}
          - name: {{ t }}
            relation: raw.{{ t }}
        {% endfor %}
          - name: c
            relation: raw.c
            gate: {{ var('gate') }}
        """) == ["slos/t.yml:8: Jinja error: var('gate') is not defined in slocompile.yml vars"]


def test_line_after_jinja_loop_and_multiline_blocks(tmp_path):
    assert problems(tmp_path, """\
        {#
          Tables generated from a list: one per source.
        #}
        {% set sources = [
             'a',
             'b',
           ] %}
        tables:
        {% for s in sources %}
          - name: {{ s }}
            relation: raw.{{ s }}
            columns:
              - name: id
                checks:
                  - not_null
        {% endfor %}
          - name: c
            relation: raw.c
            gate: blok
        """) == ["slos/t.yml:19:11: 'gate' in a table must be one of block, filter, last_good, warn, not 'blok' "
                 "(did you mean 'block'?)"]


def test_error_inside_a_loop_points_at_the_loop_body_with_source_column(tmp_path):
    assert problems(tmp_path, """\
        tables:
        {% for s in var('sources') %}
          - name: {{ s }}
            relation: raw.{{ s }}
            checks:
              - row_count: {min: {{ loop.index }}, max_fracton: 1}
              - not_nul
        {% endfor %}
        """) == [
        "slos/t.yml:6:44: unknown key 'max_fracton' in 'row_count' of table 'a' (did you mean 'max_drop'?)",
        "slos/t.yml:6:44: unknown key 'max_fracton' in 'row_count' of table 'b' (did you mean 'max_drop'?)",
        "slos/t.yml:7:9: table 'a': unknown check type 'not_nul' (did you mean 'not_null'?)",
        "slos/t.yml:7:9: table 'b': unknown check type 'not_nul' (did you mean 'not_null'?)",
    ]


def test_yaml_syntax_error_after_a_loop(tmp_path):
    assert problems(tmp_path, """\
        tables:
        {% for s in ['a', 'b', 'c'] %}
          - name: {{ s }}
            relation: raw.{{ s }}
        {% endfor %}
          - name: c
             relation: raw.c
        """) == ["slos/t.yml:7:14: invalid YAML: mapping values are not allowed here"]


def test_value_rendered_by_jinja_points_at_the_expression(tmp_path):
    assert problems(tmp_path, "tables:\n  - name: t\n    relation: raw.t\n    gate: {{ 'bl' ~ 'ok' }} # g\n") == [
        "slos/t.yml:4:11: 'gate' in a table must be one of block, filter, last_good, warn, not 'blok' "
        "(did you mean 'block'?)"]


def test_no_column_is_guessed_where_jinja_changed_the_text_around_it(tmp_path):
    assert problems(tmp_path, "tables:\n  - name: t\n    relation: raw.t\n    {{ 'gate' }}: {{ 'blok' }} # g\n") == [
        "slos/t.yml:4: 'gate' in a table must be one of block, filter, last_good, warn, not 'blok' "
        "(did you mean 'block'?)"]


def test_error_in_macro_points_at_the_macro_body(tmp_path):
    assert problems(tmp_path, """\
        {% macro column(name) %}
              - name: {{ name }}
                checks:
                  - not_nul
        {% endmacro %}
        tables:
          - name: t
            relation: raw.t
            columns:
        {{ column('a') }}
              - name: z
                checks:
                  - not_nul
        """) == [
        "slos/t.yml:4:13: table 't', column 'a': unknown check type 'not_nul' (did you mean 'not_null'?)",
        "slos/t.yml:13:13: table 't', column 'z': unknown check type 'not_nul' (did you mean 'not_null'?)",
    ]


# Each template line that outputs text carries the tag "@@"; it is replaced by L<its line number>, so every
# rendered line says where it must map to.
JINJA_SHAPES = {
    "for loop": """\
        tables: @@
        {% for c in ['a', 'b', 'c'] %}
          - name: {{ c }} @@
            relation: raw.t @@
        {% endfor %}
          - name: z @@
        """,
    "inline loop": """\
        cols: {% for c in ['a','b','c'] %}
          - {{ c }} @@{% endfor %}
        after: @@
        """,
    "whitespace control": """\
        x: @@
            {%- for c in [1, 2] %}
          - {{ c }} @@
            {%- endfor %}
        y: @@
        {%- if true -%}
        {{ '' }}
        {%- endif %}
        z: @@
        """,
    "if false and multi-line comment": """\
        a: @@
        {% if false %}
        b: @@
        c: @@
        {% endif %}
        {#
        comment
        #}
        d: @@
        """,
    "multi-line set and expression": """\
        {% set block = "k1: x\\nk2: y\\n" %}
        {% set items = [
          1,
          2,
        ] %}
        head: @@
        {{ block }}
        tail: @@ {{ items | length }}
        """,
    "macro": """\
        {% macro m(v) %}
        - {{ v }} @@
        - again @@
        {% endmacro %}
        list: @@
        {{ m(1) }}
        {{ m(2) }}
        end: @@
        """,
    "raw block": """\
        a: @@
        {% raw %}
        b: "{{ not jinja }}" @@
        {% endraw %}
        c: @@
        """,
    "nested loops": """\
        {% for i in range(2) %}
        {% for j in range(2) %}
        - "{{ i }}{{ j }}" @@
        {% endfor %}
        - sep @@
        {% endfor %}
        last: @@
        """,
    "dict literal in expression": """\
        a: {{ {'k': {'v': 1}}['k']['v'] }} @@
        b: @@
        """,
}


@pytest.mark.parametrize("name", sorted(JINJA_SHAPES))
def test_line_map_through_jinja_shapes(name):
    lines = textwrap.dedent(JINJA_SHAPES[name]).split("\n")
    source = "\n".join(line.replace("@@", f"<L{i}>") for i, line in enumerate(lines, 1))
    rendered, mapping = render_with_lines(source, "t.yml", {})
    checked = 0
    for index, line in enumerate(rendered.split("\n")):
        tag = re.search(r"<L(\d+)>", line)
        if tag:
            assert mapping[index] == int(tag.group(1)), (name, index, line, mapping)
            checked += 1
    assert checked >= 2, rendered


def test_line_map_falls_back_when_a_filter_sees_the_text():
    """A block whose text goes through a filter is still mapped (by a diff), never a failure."""
    source = "{% set s %}abc\ndef{% endset %}\nlen: {{ s | length }}\na: L4\nb: L5\n"
    rendered, mapping = render_with_lines(source, "t.yml", {})
    assert rendered == "\nlen: 7\na: L4\nb: L5\n"
    assert mapping[2:4] == [4, 5]
