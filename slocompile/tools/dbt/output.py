"""The converted declarations as YAML files, with the not-converted report in a comment block."""
from __future__ import annotations

import os

from slocompile.errors import SlocompileError
from slocompile.tools.dbt.model import ImportResult, OutputFile
from slocompile.tools.dbt.project import DbtProject


def output_path(project: DbtProject, rel: str) -> str:
    """Where the declarations converted from the dbt YAML file `rel` go: its path, as .yml."""
    base, _ = os.path.splitext(rel)
    return base + ".yml"


def _check_line(ctype: str, params: dict | None) -> str:
    from slocompile.tools.suggest import yaml_value

    if not params:
        return ctype
    return f"{ctype}: {yaml_value(params)}"


def render_file(f: OutputFile, project: DbtProject, result: ImportResult) -> str:
    from slocompile.tools.suggest import jinja_escape, yaml_value

    lines = [f"# Imported from the dbt project {project.name}: {f.source} (slocompile import-dbt).",
             "# Relations assume dbt's default schema naming"
             + (f" with target schema {project.target_schema}." if project.target_schema else
                " (no target schema was known: add one).")]
    if project.dialect != "duckdb":
        lines.append(f"# SQL (where, expression) is {project.dialect}: set `sql_dialect: {project.dialect}` "
                     "in slocompile.yml.")
    if f.not_converted:
        lines.append("# Not converted:")
        lines += [f"#   line {i.line}: {i.subject}: {i.test}: {i.reason}" if i.line else
                  f"#   {i.subject}: {i.test}: {i.reason}" for i in f.not_converted]
    if f.notes:
        lines.append("# Notes:")
        lines += [f"#   line {i.line}: {i.subject}: {i.test}: {i.reason}" if i.line else
                  f"#   {i.subject}: {i.test}: {i.reason}" for i in f.notes]
    lines.append("tables:")
    for t in f.tables:
        lines += [f"  - name: {yaml_value(t.name)}", f"    relation: {yaml_value(t.relation)}"]
        if t.description:
            lines.append(f"    description: {yaml_value(t.description)}")
        if t.checks:
            lines.append("    checks:")
            lines += [f"      - {_check_line(ct, p)}" for ct, p in t.checks]
        if t.columns:
            lines.append("    columns:")
            for c in t.columns.values():
                lines.append(f"      - name: {yaml_value(c.name)}")
                if c.type:
                    lines.append(f"        type: {c.type}")
                if c.description:
                    lines.append(f"        description: {yaml_value(c.description)}")
                if c.checks:
                    lines.append("        checks:")
                    lines += [f"          - {_check_line(ct, p)}" for ct, p in c.checks]
    return jinja_escape("\n".join(lines) + "\n")


def check_loads(texts: dict[str, str], dialect: str) -> list[str]:
    """Problems slocompile's loader finds in the converted files ([] when they load)."""
    import tempfile

    from slocompile.declarations.loader import load_project

    if not texts:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "slocompile.yml"), "w", encoding="utf-8") as fh:
            fh.write(f"name: dbt_import_check\nsql_dialect: {dialect}\n")
        for rel, text in texts.items():
            path = os.path.join(tmp, "slos", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        try:
            load_project(tmp, env={})
        except SlocompileError as e:
            return [str(p) for p in e.problems]
    return []


def write(result: ImportResult, out_dir: str, force: bool = False) -> list[str]:
    """Write the converted files under `out_dir` (after checking they load); returns their paths."""
    problems = check_loads(result.texts, result.dialect)
    if problems:
        raise SlocompileError("the converted declarations do not load (please report it): " + "; ".join(problems))
    paths = [os.path.join(out_dir, rel) for rel in result.texts]
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not force:
        raise SlocompileError(f"{existing[0]} exists; choose another --out or pass --force")
    for text, path in zip(result.texts.values(), paths):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return paths
