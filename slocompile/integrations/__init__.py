"""Orchestrator integrations over the public API (slocompile.api.Project, slocompile.errors):

- slocompile.integrations.dagster: a project's checks as Dagster asset checks, all results from
  one build (`pip install 'slocompile[dagster]'`);
- slocompile.integrations.airflow: SlocompileBuildOperator, a build as an Airflow task
  (`pip install 'slocompile[airflow]'`).

Importing slocompile (or this package) imports neither orchestrator: only the module named after
one does.
"""
