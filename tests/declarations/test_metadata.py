"""owner, tags and meta on tables, columns and checks (issue 12, item 7): inheritance, and every
wrong value reported with its file and line (exit 2)."""
from __future__ import annotations

from specproblems import problems, write_project

from slocompile.declarations.loader import load_project

TABLES = """\
tables:
  - name: orders
    relation: raw.orders
    owner: ml-platform
    tags: [core, pii]
    meta: {tier: 1, since: 2026-01-01, teams: [a, b]}
    checks:
      - row_count: {min: 1, tags: volume}
    columns:
      - name: email
        tags: [contact]
        checks:
          - not_null: {owner: data-eng, meta: {tier: 2}}
          - unique
      - name: amount
        owner: finance
        checks: [not_null]
  - name: plain
    relation: raw.plain
    key: [id]
"""


def test_columns_and_checks_inherit_owner_and_union_tags(tmp_path):
    spec = load_project(write_project(tmp_path, {"t.yml": TABLES}), env={})
    orders, plain = spec.tables
    assert (orders.owner, orders.tags, orders.meta) == ("ml-platform", ("core", "pii"),
                                                       {"tier": 1, "since": "2026-01-01", "teams": ["a", "b"]})
    email, amount = orders.columns
    assert (email.owner, email.tags) == ("ml-platform", ("core", "pii", "contact"))
    assert (amount.owner, amount.tags) == ("finance", ("core", "pii"))
    checks = {c.name: c for c in orders.checks}
    assert (checks["row_count"].owner, checks["row_count"].tags) == ("ml-platform", ("core", "pii", "volume"))
    assert (checks["not_null_email"].owner, checks["not_null_email"].tags) == ("data-eng", ("core", "pii", "contact"))
    assert checks["not_null_email"].meta["tier"] == 2 and checks["unique_email"].meta["tier"] == 1
    assert (checks["unique_email"].owner, checks["not_null_amount"].owner) == ("ml-platform", "finance")
    # a check no one declared (the key's unique) carries the table's labels; none declared: none
    assert (plain.owner, plain.tags, plain.meta) == (None, (), {})
    assert [(c.owner, c.tags) for c in plain.checks] == [(None, ())]
    assert orders.labels("not_null_email") == ("data-eng", ("core", "pii", "contact"))
    assert orders.labels("monitor", "amount") == ("finance", ("core", "pii"))
    assert orders.labels("monitor") == ("ml-platform", ("core", "pii"))


def test_metadata_never_changes_the_checks_parameters(tmp_path):
    spec = load_project(write_project(tmp_path, {"t.yml": TABLES}), env={})
    row_count = spec.tables[0].checks[0]
    assert row_count.params["min"] == 1 and row_count.tags[-1] == "volume"
    assert not {"owner", "tags", "meta"} & set(row_count.params)


def test_wrong_owner_tags_and_meta_are_located(tmp_path):
    got = problems(tmp_path, """\
        tables:
          - name: t
            relation: raw.t
            owner: "ml platform"
            tags: [pii, "a,b"]
            meta: {tier: {level: 1}, ok: 1}
            columns:
              - name: a
                owner: 3
                tags: [x:y]
                checks:
                  - not_null: {tags: [[1]], meta: [1]}
        """)
    assert got == [
        "slos/t.yml:4:12: table 't': owner 'ml platform' must be one word of letters, digits and _ . @ / + - "
        "(no spaces, commas or colons)",
        "slos/t.yml:5:17: table 't': tag 'a,b' must be one word of letters, digits and _ . @ / + - "
        "(no spaces, commas or colons)",
        "slos/t.yml:6:18: table 't': meta 'tier' must be a plain value (a string, number, boolean, date or null) "
        "or a list of them, not a mapping or nested list",
        "slos/t.yml:9:16: 'owner' in a column of table 't' must be a non-empty string, not 3",
        "slos/t.yml:10:16: table 't', column 'a': tag 'x:y' must be one word of letters, digits and _ . @ / + - "
        "(no spaces, commas or colons)",
        "slos/t.yml:12:31: each item of 'tags' in 'not_null' of table 't', column 'a' must be a non-empty string",
        "slos/t.yml:12:43: 'meta' in 'not_null' of table 't', column 'a' must be a mapping, not a list",
    ]


def test_misspelt_key_suggests_the_metadata_key(tmp_path):
    got = problems(tmp_path, "tables:\n  - name: t\n    relation: raw.t\n    owners: me\n")
    assert got == ["slos/t.yml:4:5: unknown key 'owners' in a table (did you mean 'owner'?)"]
