"""Importing slocompile (its API, its command line, the integrations package and what the two
integrations share) never imports an orchestrator: only slocompile.integrations.dagster and
slocompile.integrations.airflow do. Runs with or without the orchestrators installed."""
from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import slocompile, slocompile.api, slocompile.cli, slocompile.integrations, slocompile.integrations.runs
from slocompile import Project
print(sorted({m.split('.')[0] for m in sys.modules} & {'dagster', 'airflow'}))
"""


def test_importing_slocompile_imports_no_orchestrator():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
