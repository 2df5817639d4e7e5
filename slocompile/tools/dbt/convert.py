"""A dbt project's YAML files as slocompile tables: models, seeds, sources and their tests."""
from __future__ import annotations

import glob
import os
import re

from slocompile.errors import SpecError
from slocompile.tools.dbt.model import ImportResult, Issue, OutputFile, Table, Unconvertible
from slocompile.tools.dbt.output import output_path, render_file, write
from slocompile.tools.dbt.project import DbtProject, kind_root, read_project, read_text, yaml_files
from slocompile.tools.dbt.tests import PERIODS, Converter, has_jinja, parse_test

TEST_KEYS = ("data_tests", "tests")


def _table_name(name: str, taken: set[str]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}_{i}", i + 1
    taken.add(out)
    return out


def convert_project(path: str, schema: str | None = None, profiles_dir: str | None = None,
                    dialect: str | None = None, prefix: str = "") -> ImportResult:
    """Convert a dbt project's YAML tests; nothing is written (see `write`). Table names are the
    dbt model and seed names (`<source>_<table>` for source tables), after `prefix`."""
    from slocompile.spec.yamlload import parse_yaml

    project = read_project(path, schema, profiles_dir, dialect)
    conv = Converter(project)
    docs, issues_all, notes_all, nodes = [], [], [], {}
    for rel, kind in yaml_files(project):
        text = read_text(os.path.join(project.root, rel))
        try:
            node = parse_yaml(text, rel)
        except SpecError as e:
            issues_all.append(Issue(rel, None, "(file)", "-", f"not readable YAML: {e.problems[0].message}"))
            continue
        if node.is_map and any(k in node.value for k in ("models", "seeds", "sources", "snapshots")):
            nodes[rel] = (kind, node)
            docs.append((os.path.relpath(rel, kind_root(project, rel)), kind, node.plain()))
    conv.index(docs)
    files: list[OutputFile] = []
    taken: set[str] = set()
    conv.prefix = prefix
    for rel, (_kind, node) in nodes.items():
        out = OutputFile(rel, output_path(project, rel))
        _convert_file(conv, project, rel, node, out, taken)
        out.not_converted.sort(key=lambda i: i.line or 0)
        out.notes.sort(key=lambda i: i.line or 0)
        files.append(out)
        issues_all += out.not_converted
        notes_all += out.notes
    for folder in project.test_paths:
        for f in sorted(glob.glob(os.path.join(project.root, folder, "**", "*.sql"), recursive=True)):
            text = read_text(f)
            if re.search(r"\{%-?\s*test\s", text):
                continue  # a generic test's definition; its uses are reported where they are
            issues_all.append(Issue(os.path.relpath(f, project.root), None, "(singular test)",
                                    os.path.splitext(os.path.basename(f))[0],
                                    "a SQL query returning failing rows; write it as an `assert` or "
                                    "`expression` check"))
    notes_all = [Issue("dbt_project.yml", None, "(project)", "-", n) for n in project.notes] + notes_all
    result = ImportResult(files, issues_all, notes_all, conv.converted, project.dialect)
    for out in files:
        if out.tables:
            result.texts[out.path] = render_file(out, project, result)
    return result


def _convert_file(conv: Converter, project: DbtProject, rel: str, node, out: OutputFile,
                  taken: set[str]) -> None:
    in_root = os.path.relpath(rel, kind_root(project, rel))
    doc = node.value
    for kind in ("models", "seeds", "snapshots"):
        entries = doc.get(kind)
        if entries is None or not entries.is_list:
            continue
        for m in entries.value:
            if not m.is_map or "name" not in m.value or not isinstance(m.value["name"].value, str):
                continue
            name = m.value["name"].value
            if kind == "snapshots":
                if _has_tests(m):
                    out.not_converted.append(Issue(rel, m.loc.line, name, "-", "snapshots are not imported"))
                continue
            if "versions" in m.value:
                out.not_converted.append(Issue(rel, m.value["versions"].loc.line, name, "versions",
                                               "model versions are not imported (only the model's own tests)"))
            relation = conv.model_relation(kind, in_root, m.plain())
            _convert_entity(conv, project, rel, m, name, relation, out, taken)
    sources = doc.get("sources")
    if sources is not None and sources.is_list:
        for s in sources.value:
            if not s.is_map or not isinstance(s.value.get("name") and s.value["name"].value, str):
                continue
            sname = s.value["name"].value
            tables = s.value.get("tables")
            if tables is None or not tables.is_list:
                continue
            for t in tables.value:
                if not t.is_map or not isinstance(t.value.get("name") and t.value["name"].value, str):
                    continue
                tname = t.value["name"].value
                relation = conv.source_relation(s.plain(), t.plain())
                table = _convert_entity(conv, project, rel, t, f"{sname}_{tname}", relation, out, taken,
                                        subject=f"source {sname}.{tname}", build=False)
                _source_freshness(conv, rel, s, t, table, out)
                if table.n_checks:
                    out.tables.append(table)


def _has_tests(node) -> bool:
    if any(k in node.value for k in TEST_KEYS):
        return True
    cols = node.value.get("columns")
    return bool(cols and cols.is_list and any(c.is_map and any(k in c.value for k in TEST_KEYS)
                                              for c in cols.value))


def _tests_of(node, rel: str, subject: str, out: OutputFile):
    for key in TEST_KEYS:
        lst = node.value.get(key)
        if lst is None:
            continue
        if not lst.is_list:
            out.not_converted.append(Issue(rel, lst.loc.line, subject, key, f"'{key}' is not a list"))
            continue
        yield from lst.value


def _convert_entity(conv, project, rel, node, name, relation, out, taken, subject=None, build=True) -> Table:
    subject = subject or name
    desc = node.value.get("description")
    table = Table(_table_name(conv.prefix + name, taken), relation,
                  desc.value.strip() if desc is not None and isinstance(desc.value, str) and desc.value.strip()
                  and not has_jinja(desc.value) else None)
    cfg = node.value.get("config")
    contract = cfg.plain().get("contract") if cfg is not None and cfg.is_map else None
    cols = node.value.get("columns")
    col_nodes = cols.value if cols is not None and cols.is_list else []
    for c in col_nodes:
        if not c.is_map or "name" not in c.value or not isinstance(c.value["name"].value, str):
            continue
        cname = c.value["name"].value
        column = table.column(cname)
        dtype = c.value.get("data_type")
        if dtype is not None and isinstance(dtype.value, str):
            column.type = _type_family(dtype.value)
        cdesc = c.value.get("description")
        if cdesc is not None and isinstance(cdesc.value, str) and cdesc.value.strip() and not has_jinja(cdesc.value):
            column.description = cdesc.value.strip()
        for t in _tests_of(c, rel, f"{subject}.{cname}", out):
            _add_test(conv, rel, t, cname, table, out, f"{subject}.{cname}")
    for t in _tests_of(node, rel, subject, out):
        _add_test(conv, rel, t, None, table, out, subject)
    if isinstance(contract, dict) and contract.get("enforced") is True and table.columns:
        table.checks.append(("schema", None))
    if build and table.n_checks:
        out.tables.append(table)
    return table


def _add_test(conv, rel, node, column, table: Table, out: OutputFile, subject: str) -> None:
    label = "?"
    try:
        test = parse_test(node)
        label = test.kind
        checks, notes = conv.convert(test, column, table)
    except Unconvertible as e:
        line = node.loc.line if node.loc else None
        out.not_converted.append(Issue(rel, line, subject, label, str(e)))
        return
    for n in notes:
        out.notes.append(Issue(rel, test.line, subject, test.kind, n))
    for col, ctype, params in checks:
        item = (ctype, params or None)
        target = table.column(col).checks if col is not None else table.checks
        if item not in target:
            target.append(item)
        for ref in _referenced(ctype, params):
            table.column(ref)


def _referenced(ctype: str, params: dict) -> list[str]:
    if ctype == "unique" and params.get("columns"):
        return list(params["columns"])
    return []


def _source_freshness(conv, rel, source, table_node, table: Table, out: OutputFile) -> None:
    """dbt source freshness (warn_after / error_after on loaded_at_field) as freshness checks."""
    s, t = source.plain(), table_node.plain()
    fresh = t["freshness"] if "freshness" in t else s.get("freshness")
    field_name = t.get("loaded_at_field") or s.get("loaded_at_field")
    if not fresh:
        return
    subject = f"source {s['name']}.{t['name']}"
    line = (table_node.value.get("freshness") or source.value.get("freshness")).loc.line
    if not isinstance(field_name, str) or has_jinja(field_name) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*",
                                                                                      field_name):
        out.not_converted.append(Issue(rel, line, subject, "freshness", "needs a plain loaded_at_field column"))
        return
    where = fresh.get("filter") if isinstance(fresh, dict) else None
    try:
        if where is not None:
            for c in conv.sql(where, "freshness filter"):
                table.column(c)
    except Unconvertible as e:
        out.not_converted.append(Issue(rel, line, subject, "freshness", str(e)))
        return
    for key, severity in (("error_after", "error"), ("warn_after", "warn")):
        spec = fresh.get(key) if isinstance(fresh, dict) else None
        if not spec:
            continue
        count, period = spec.get("count"), spec.get("period")
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0 or period not in PERIODS:
            out.not_converted.append(Issue(rel, line, subject, f"freshness.{key}",
                                           "needs a positive count and a period minute/hour/day"))
            continue
        params = {"max_age": f"{count}{PERIODS[period]}"}
        if where is not None:
            params["where"] = where.strip()
        if severity == "warn":
            params.update(severity="warn", name=f"freshness_{field_name.lower()}_warn")
        item = ("freshness", params)
        col = table.column(field_name)
        if item not in col.checks:
            col.checks.append(item)
        conv.converted += 1


def _type_family(data_type: str) -> str | None:
    from slocompile.checks.table_slos import type_compatible

    for fam in ("integer", "number", "string", "boolean", "date", "timestamp"):
        if type_compatible(fam, data_type):
            return fam
    return None


def import_dbt(path: str, out_dir: str, schema: str | None = None, profiles_dir: str | None = None,
               dialect: str | None = None, force: bool = False, prefix: str = "") -> tuple[ImportResult, list[str]]:
    """Convert and write; returns the result (with its report) and the written paths."""
    result = convert_project(path, schema, profiles_dir, dialect, prefix)
    return result, write(result, out_dir, force)
