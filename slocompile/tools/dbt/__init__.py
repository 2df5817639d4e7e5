"""`slocompile import-dbt PATH`: a dbt project's YAML tests as slocompile declarations.

Reads dbt_project.yml (model-paths, seed-paths, test-paths, folder-level `+schema`), the profile's
target schema when it is plain text (profiles.yml beside the project, in $DBT_PROFILES_DIR or in
~/.dbt), and every `*.yml` / `*.yaml` under the model and seed paths. Tests under both `tests:`
and `data_tests:`, on columns and on models, seeds and source tables, become checks:

| dbt | slocompile |
|---|---|
| `not_null`, `unique` | `not_null`, `unique` |
| `accepted_values: {values}` | `accepted_values: {values}` |
| `relationships: {to: ref('m') / source('s', 't'), field}` | `relationship: {to: schema.table, field}` |
| `dbt_utils.unique_combination_of_columns` | table-level `unique: [columns]` |
| `dbt_utils.expression_is_true` (no Jinja) | `expression` |
| `dbt_utils.accepted_range` (numeric bounds) | `between` |
| `dbt_utils.not_null_proportion: {at_least: p}` | `not_null: {max_fraction: 1 - p}` |
| `dbt_utils.recency`, source `freshness` + `loaded_at_field` | `freshness` |
| `config: {severity: warn}` | `severity: warn` |
| `config: {where}` (no Jinja) | `where` |
| `config: {error_if: ">10"}` | `max_count: 10`; dbt's default `warn_if` adds a warn check, `max_count: 0` |
| `config: {warn_if: ">10"}` (severity warn) | `max_count: 10`, `severity: warn` |

A model's relation is `<schema>.<alias or name>`, with dbt's default schema naming: the target
schema (`--schema`, or the profile's), suffixed `_<custom>` for a custom `schema` config. A
project overriding `generate_schema_name` is noted. Everything else — custom generic tests,
other package tests, Jinja in `where`, values or expressions, singular tests (SQL files),
thresholds a check cannot express — is reported on stdout and in a comment block at the top of
each written file, with the dbt file and line.
"""
from __future__ import annotations

from slocompile.tools.dbt.convert import convert_project, import_dbt
from slocompile.tools.dbt.model import ImportResult, Issue
from slocompile.tools.dbt.output import check_loads, write

__all__ = ["ImportResult", "Issue", "convert_project", "import_dbt", "write", "check_loads"]
