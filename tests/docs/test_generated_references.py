"""The generated references (docs/checks.md, docs/cli.md) are what slocompile.tools.reference prints."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("doc,which", [("docs/checks.md", "checks"), ("docs/cli.md", "cli")])
def test_generated_reference_is_current(doc, which):
    from slocompile import cli
    from slocompile.tools import reference

    text = reference.markdown() if which == "checks" else reference.cli_markdown(cli.main)
    with open(os.path.join(REPO, doc), encoding="utf-8") as fh:
        current = fh.read()
    command = "python -m slocompile.tools.reference" if which == "checks" else "python -m slocompile.cli"
    assert current == text, f"{doc} is out of date: run `{command} > {doc}`"


def test_reference_imports_the_cli_lazily():
    """The generator is handed the click tree: importing it does not import the CLI (a higher layer)."""
    code = "import sys, slocompile.tools.reference; print('slocompile.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stdout + out.stderr
