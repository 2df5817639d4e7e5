"""Small project helpers shared by the fixes, triggers, publish and crash-safety tests."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import duckdb
import yaml
from sqlglot import exp


def write(root, tables: list[dict] | str, triggers: list[dict] | None = None, extra_files: dict | None = None) -> str:
    """slocompile.yml + slos/tables.yml (a list of table dicts, or YAML text) in `root`."""
    root = str(root)
    os.makedirs(os.path.join(root, "slos"), exist_ok=True)
    with open(os.path.join(root, "slocompile.yml"), "w") as fh:
        fh.write(yaml.safe_dump({"name": "issue4", "target": "local",
                                 "targets": {"local": {"type": "duckdb", "path": "warehouse.duckdb"}}}))
    if isinstance(tables, str):
        text = textwrap.dedent(tables).lstrip()
    else:
        doc = {"tables": tables}
        if triggers is not None:
            doc["triggers"] = triggers
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    with open(os.path.join(root, "slos", "tables.yml"), "w") as fh:
        fh.write(text)
    for rel, content in (extra_files or {}).items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(textwrap.dedent(content))
    return root


def sql(root, statements: str | list[str]) -> None:
    """Run statements on the project's warehouse (read-write)."""
    con = duckdb.connect(os.path.join(str(root), "warehouse.duckdb"))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for s in [statements] if isinstance(statements, str) else statements:
            con.execute(s)
    finally:
        con.close()


def query(root, text: str, params=None) -> list[tuple]:
    con = duckdb.connect(os.path.join(str(root), "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(text, params or []).fetchall()
    finally:
        con.close()


def columns(root, relation: str) -> list[str]:
    return [r[0] for r in query(root, f"DESCRIBE {relation}")]


def build(root, select=None, partitions=None, full_refresh=False):
    from slocompile.api import Project

    return Project.load(str(root)).build(select=select, partitions=partitions, full_refresh=full_refresh,
                                         write=False)


def cli(root, *args, env=None, timeout=120) -> subprocess.CompletedProcess:
    """`slocompile ARGS` in a subprocess, in the project folder."""
    return subprocess.run([sys.executable, "-m", "slocompile", *args], cwd=str(root), capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=timeout)


def rel(schema: str, name: str) -> str:
    return exp.Table(this=exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True)).sql("duckdb")
