"""group_by / max_segments in declarations: what is accepted, and the located errors for the rest."""
from __future__ import annotations

from specproblems import problems, write_project

from slocompile.declarations.loader import load_project

TABLE = """\
tables:
  - name: t
    relation: raw.t
    partition: ds
    columns:
      - name: ds
      - name: country
      - name: device
      - name: amount
        checks:
{checks}
"""


def _table(*checks: str) -> str:
    return TABLE.format(checks="\n".join(f"          - {c}" for c in checks))


def test_aggregate_checks_take_group_by(tmp_path):
    root = write_project(tmp_path, {"t.yml": _table(
        "mean: {max: 5, group_by: [country]}", "not_null: {max_fraction: 0.1, group_by: country}",
        "quantile: {q: 0.5, max: 5, group_by: [country, device], max_segments: 7}",
        "freshness: {max_age: 1d, group_by: [device]}", "missing_fraction: {max_increase: 0.1, group_by: [device]}")})
    spec = load_project(root, env={})
    checks = {c.name: c for c in spec.tables[0].checks}
    assert checks["mean_amount"].params["group_by"] == ("country",)
    assert checks["mean_amount"].params["max_segments"] == 100  # the project's default
    assert checks["not_null_amount"].params["group_by"] == ("country",)
    assert checks["quantile_amount_q50"].params["max_segments"] == 7
    assert "group_by" not in checks["partitions_complete"].params  # unset: the params stay as they were


def test_project_max_segments_is_the_default(tmp_path):
    root = write_project(tmp_path, {"t.yml": _table("mean: {max: 5, group_by: [country]}")},
                         project="name: p\nmax_segments: 12\n")
    spec = load_project(root, env={})
    assert spec.max_segments == 12
    assert next(c for c in spec.tables[0].checks if c.type == "mean").params["max_segments"] == 12


def test_row_rule_without_a_fraction_or_count_is_refused(tmp_path):
    found = problems(tmp_path, _table("not_null: {group_by: [country]}"))
    assert found == ["slos/t.yml:11:34: 'not_null' of table 't', column 'amount': group_by: 'not_null' without "
                     "max_fraction or max_count is a rule on each row, the same in every segment; give max_fraction "
                     "or max_count to bound violations per segment"]


def test_non_aggregate_checks_are_refused_at_their_line(tmp_path):
    text = """\
    tables:
      - name: t
        relation: raw.t
        partition: ds
        checks:
          - unique: {columns: [id], group_by: [country]}
          - relationship: {column: country, to: dims.c, field: code, group_by: [device]}
          - schema: {group_by: [country]}
          - assert: {sql: "select * from {{ this }} where id < 0", group_by: [country]}
    """
    found = problems(tmp_path, text)
    assert len(found) == 4
    for line, kind in zip((6, 7, 8, 9), ("unique", "relationship", "schema", "assert")):
        assert any(p.startswith(f"slos/t.yml:{line}:") and f"'{kind}' is not an aggregate over rows" in p
                   for p in found), (kind, found)


def test_duplicate_and_unknown_columns_name_their_line(tmp_path):
    found = problems(tmp_path, _table("mean: {max: 5, group_by: [country, device, country]}",
                                      "mean: {max: 6, group_by: [contry]}"))
    assert found == ["slos/t.yml:11:56: 'mean' of table 't', column 'amount': group_by lists column 'country' twice",
                     "slos/t.yml:12:39: 'mean' of table 't', column 'amount': group_by: unknown column 'contry' "
                     "(did you mean 'country'?)"]


def test_max_segments_needs_group_by_and_a_sane_count(tmp_path):
    found = problems(tmp_path, _table("mean: {max: 5, max_segments: 3}", "mean: {max: 6, group_by: [country], "
                                      "max_segments: 0}"))
    assert found[0].startswith("slos/t.yml:11:") and "max_segments caps the segments of group_by; give group_by" \
        in found[0]
    assert found[1].startswith("slos/t.yml:12:") and "max_segments must be between 1 and 10000" in found[1]
    found = problems(tmp_path, _table("mean: {max: 5}"), project="name: p\nmax_segments: 0\n")
    assert found == ["slocompile.yml:2:15: max_segments must be between 1 and 10000"]
