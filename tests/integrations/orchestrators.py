"""The orchestrator integrations run against the real packages, each where it is installed.

A test module of this folder calls `require("dagster")` first: absent, the
module is skipped with the reason (`pytest -rs` shows it), unless SLOCOMPILE_REQUIRE_ORCHESTRATORS
names it (CI sets dagster,airflow), where the absence fails the run instead, as
SLOCOMPILE_REQUIRE_ENGINES does for the engines.
"""
from __future__ import annotations

import importlib.util
import os
import re

import pytest

REQUIRED = {n.strip() for n in os.environ.get("SLOCOMPILE_REQUIRE_ORCHESTRATORS", "").split(",") if n.strip()}


def require(package: str) -> None:
    """Skip the calling module when `package` is not installed (fail it where it is required).
    Looked up, not imported: importing Airflow configures itself (files under ~/airflow, logging)."""
    if importlib.util.find_spec(package) is not None:
        return
    reason = f"{package} is not installed (pip install 'slocompile[{package}]')"
    if package in REQUIRED:
        pytest.fail(f"{package} is required here (SLOCOMPILE_REQUIRE_ORCHESTRATORS) but unavailable: {reason}",
                    pytrace=False)
    pytest.skip(reason, allow_module_level=True)


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(REPO, "docs", "orchestrators.md")


def docs_block(path: str) -> str:
    """The python block of docs/orchestrators.md saved as `path` (its `docs-test: file PATH` marker):
    tests/docs compiles it, the orchestrator's test runs it."""
    with open(PAGE, encoding="utf-8") as fh:
        found = re.search(r"<!-- docs-test: file " + re.escape(path) + r" -->\n```python\n(.*?)```", fh.read(), re.S)
    assert found, f"docs/orchestrators.md has no python block saved as {path}"
    return found.group(1)
