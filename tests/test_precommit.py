"""`.pre-commit-hooks.yaml` with the real pre-commit: the manifest validates, and `pre-commit
try-repo` installs slocompile from a snapshot of this work tree into its own environment and runs
the hook in a user's repository: it passes on valid declarations and fails, naming the file and
line, on a broken one. (The first run installs the hook's environment: about half a minute.)"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]

pytest.importorskip("pre_commit", reason="pre-commit is not installed (it is in the test extra)")


def run(args, cwd, env=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def git(cwd, *args) -> None:
    out = run(["git", "-c", "user.email=test@example.com", "-c", "user.name=test", *args], cwd)
    assert out.returncode == 0, out.stderr


def test_hooks_manifest_validates():
    out = run([*PRE_COMMIT, "validate-manifest", ".pre-commit-hooks.yaml"], REPO)
    assert out.returncode == 0, out.stdout + out.stderr


def test_hook_validates_declarations_in_a_users_repository(tmp_path):
    # a snapshot of the work tree as a git repository (try-repo installs from git)
    src = tmp_path / "slocompile-src"
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO).stdout.split("\n")
    for rel in listed:
        if rel and not rel.startswith(("tests/", "benchmarks/", "docs/", "examples/")) \
                and os.path.isfile(os.path.join(REPO, rel)):
            os.makedirs(src / os.path.dirname(rel), exist_ok=True)
            shutil.copy2(os.path.join(REPO, rel), src / rel)
    git(src, "init", "-q")
    git(src, "add", "-A")
    git(src, "commit", "-qm", "snapshot")
    user = tmp_path / "analytics"
    (user / "slos").mkdir(parents=True)
    (user / "slocompile.yml").write_text("name: shop\n")
    (user / "slos" / "orders.yml").write_text("tables:\n  - name: orders\n    relation: raw.orders\n"
                                              "    checks:\n      - row_count: {min: 1}\n")
    git(user, "init", "-q")
    git(user, "add", "-A")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    command = [*PRE_COMMIT, "try-repo", str(src), "slocompile-compile", "--all-files"]
    out = run(command, user, env)
    assert out.returncode == 0 and "slocompile compile" in out.stdout and "Passed" in out.stdout, out.stdout
    (user / "slos" / "orders.yml").write_text("tables:\n  - name: orders\n    relation: raw.orders\n"
                                              "    checks:\n      - row_cont: {min: 1}\n")
    git(user, "add", "-A")
    out = run(command, user, env)
    assert out.returncode == 1 and "Failed" in out.stdout, out.stdout
    assert "slos/orders.yml:5:9: table 'orders': unknown check type 'row_cont'" in out.stdout, out.stdout
