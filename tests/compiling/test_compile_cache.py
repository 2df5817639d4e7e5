"""The compile cache: `slocompile compile` of unchanged declarations answers from
target/.compile_cache.json without parsing YAML or importing sqlglot, and compiles again when
anything it depends on changed (a declaration, a --var, an env_var() value, a file it wrote)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

# `slocompile compile` in a fresh interpreter; then whether sqlglot was imported, and the summary
DRIVER = textwrap.dedent("""
    import io, sys, contextlib
    from slocompile.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(["compile"] + sys.argv[1:])
        except SystemExit as e:
            assert not e.code, e.code
    print("sqlglot" in sys.modules, out.getvalue().strip())
""")


def compile_(root, *args, env=None) -> tuple[bool, str]:
    p = subprocess.run([sys.executable, "-c", DRIVER, *args], cwd=root, capture_output=True, text=True,
                       env={**os.environ, **(env or {})}, timeout=120)
    assert p.returncode == 0, p.stderr
    imported, summary = p.stdout.strip().split(" ", 1)
    return imported == "True", summary


def project(root, checks: tuple[str, ...] = ("not_null",)) -> None:
    os.makedirs(root / "slos", exist_ok=True)
    (root / "slocompile.yml").write_text(
        "name: cache\ntarget: local\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb}\n"
        "vars: {low: 0}\n")
    lines = ["tables:", "  - name: orders", "    relation: raw.orders", "    columns:", "      - name: amount",
             "        checks:"] + [f"          - {c}" for c in checks]
    lines.append("          - between: {min: {{ var('low') }}, max: 100}")
    (root / "slos" / "t.yml").write_text("\n".join(lines) + "\n")


def test_unchanged_declarations_compile_from_the_cache(tmp_path):
    project(tmp_path)
    imported, first = compile_(tmp_path)
    assert imported and first.startswith("compiled 1 tables, 2 checks")
    sql = tmp_path / "target" / "compiled" / "duckdb" / "orders" / "checks.sql"
    before = (sql.stat().st_mtime_ns, sql.read_text())
    imported, again = compile_(tmp_path)
    assert not imported and again == first  # the stored summary; no YAML parsed, no SQL built
    assert (sql.stat().st_mtime_ns, sql.read_text()) == before


def test_a_changed_declaration_var_or_output_compiles_again(tmp_path):
    project(tmp_path)
    compile_(tmp_path)
    project(tmp_path, checks=("not_null", "unique"))  # a third check
    imported, summary = compile_(tmp_path)
    assert imported and "3 checks" in summary
    assert not compile_(tmp_path)[0]

    imported, _ = compile_(tmp_path, "--var", "low=5")  # another --var: another compile
    assert imported and "5" in (tmp_path / "target" / "compiled" / "duckdb" / "orders" / "checks.sql").read_text()
    assert compile_(tmp_path)[0]  # and back without it: the cache holds the last compile only

    os.remove(tmp_path / "target" / "manifest.json")  # a file the compile wrote is gone
    assert compile_(tmp_path)[0] and (tmp_path / "target" / "manifest.json").exists()
    assert compile_(tmp_path, "--dialect", "duckdb")[0]  # other options: another key
    assert compile_(tmp_path, "--dialect", "postgres")[0]


def test_env_var_values_are_part_of_the_key(tmp_path):
    project(tmp_path)
    (tmp_path / "slocompile.yml").write_text(
        "name: cache\ntarget: local\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb}\n"
        "vars: {low: \"{{ env_var('CACHE_TEST_LOW', '0') }}\"}\n")
    assert compile_(tmp_path, env={"CACHE_TEST_LOW": "1"})[0]
    assert not compile_(tmp_path, env={"CACHE_TEST_LOW": "1"})[0]
    assert compile_(tmp_path, env={"CACHE_TEST_LOW": "7"})[0]
    assert "7" in (tmp_path / "target" / "compiled" / "duckdb" / "orders" / "checks.sql").read_text()


def test_a_failed_compile_is_not_cached(tmp_path):
    project(tmp_path)
    compile_(tmp_path)
    (tmp_path / "slos" / "t.yml").write_text("tables:\n  - name: orders\n    relation: raw.orders\n"
                                             "    checks: [nope]\n")
    p = subprocess.run([sys.executable, "-m", "slocompile", "compile"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 2 and not (tmp_path / "target" / ".compile_cache.json").exists()
