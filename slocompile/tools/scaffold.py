"""`slocompile init`: copy the shipped template and load its sample data."""
from __future__ import annotations

import glob
import json
import os
import re
import shutil

from slocompile.errors import SlocompileError


def template_dir() -> str:
    # installed: slocompile/project_template; an editable checkout: project_template beside slocompile/
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (os.path.join(package, "project_template"),
                      os.path.join(os.path.dirname(package), "project_template")):
        if os.path.isfile(os.path.join(candidate, "slocompile.yml")):
            return candidate
    raise SlocompileError("the project template is missing from this installation")


def init_project(directory: str) -> str:
    path = os.path.abspath(directory)
    if os.path.exists(path) and os.listdir(path):
        raise SlocompileError(f"{path} exists and is not empty; choose a new folder")
    shutil.copytree(template_dir(), path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "target", "*.duckdb", "__init__.py"))
    name_project(path, project_name(path))
    load_seeds(path)
    from slocompile.tools.jsonschema import SCHEMA_DIR, project_types, write_schemas

    # the editor schemas the template's YAML files name, with its custom check types
    write_schemas(os.path.join(path, SCHEMA_DIR), project_types(path))
    return path


TEMPLATE_NAME = "my_slo_project"
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}  # plain, these are not strings


def project_name(path: str) -> str:
    """The folder's name as a project name: letters, digits and _ (others become _)."""
    name = re.sub(r"[^0-9A-Za-z_]+", "_", os.path.basename(os.path.normpath(path))).strip("_")
    return name or TEMPLATE_NAME


def name_project(path: str, name: str) -> None:
    """Write `name` into the new project's slocompile.yml (the template's is my_slo_project)."""
    file = os.path.join(path, "slocompile.yml")
    with open(file, encoding="utf-8") as fh:
        text = fh.read()
    plain = _PLAIN.fullmatch(name) and name.lower() not in _YAML_WORDS
    text = text.replace(f"name: {TEMPLATE_NAME}\n", f"name: {name if plain else json.dumps(name)}\n", 1)
    with open(file, "w", encoding="utf-8") as fh:
        fh.write(text)


def load_seeds(path: str, database: str = "warehouse.duckdb", schema: str = "raw") -> None:
    """Each seeds/NAME.csv becomes the table raw.NAME in the project's DuckDB file."""
    import duckdb
    from sqlglot import exp

    con = duckdb.connect(os.path.join(path, database))
    try:
        con.execute(exp.Create(kind="SCHEMA", exists=True,
                               this=exp.Table(db=exp.to_identifier(schema, quoted=True))).sql("duckdb"))
        for csv in sorted(glob.glob(os.path.join(path, "seeds", "*.csv"))):
            name = os.path.splitext(os.path.basename(csv))[0]
            target = exp.Table(this=exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True))
            source = exp.select("*").from_(exp.Anonymous(this="read_csv_auto", expressions=[exp.Literal.string(csv)]))
            con.execute(exp.Create(kind="TABLE", replace=True, this=target, expression=source).sql("duckdb"))
    finally:
        con.close()
