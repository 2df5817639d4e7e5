"""Helpers shared by the test_spec_errors_* files: a project on disk and the problems the loader reports."""
from __future__ import annotations

import os
import textwrap

import pytest

from slocompile.declarations.loader import load_project
from slocompile.errors import SpecError

PROJECT = "name: errors\nvars: {n: 5, sources: [a, b]}\n"


def write_project(root, files: dict[str, str], project: str = PROJECT) -> str:
    root = str(root)
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as fh:
        fh.write(project)
    for rel, text in files.items():
        path = os.path.join(root, "slos", *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(textwrap.dedent(text))
    return root


def problems(tmp_path, files: dict[str, str] | str, project: str = PROJECT) -> list[str]:
    """Every problem the loader reports, as the CLI prints them (without the 'error: ' prefix)."""
    if isinstance(files, str):
        files = {"t.yml": files}
    root = write_project(tmp_path, files, project)
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    return [str(p) for p in info.value.problems]
