"""`--select state:modified --state PATH`: the tables whose declarations changed since an earlier
`target/` folder (its `manifest.json`), as dbt's slim CI selects modified models.

A table is modified when its entry in the manifest differs: relation, partition, key, gate,
monitor, columns, or any check (type, column, severity, `where`, every parameter after Jinja, so
a changed var that a check uses counts too), or when the earlier manifest does not list it. Where
a declaration sits (its file and line) and the compiled plan do not count: moving a table to
another file, or adding a comment above it, changes nothing that runs. Tables are compared as the
earlier manifest's dialect compiles them.
"""
from __future__ import annotations

import json
import os

from slocompile.errors import SlocompileError
from slocompile.support.secrets import redact_data

PREFIX = "state:"
METHODS = ("modified",)
_PLACE = ("file", "line", "plan")


def split_select(select: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(table names, state methods) of --select values."""
    names, methods = [], []
    for s in select:
        if s.startswith(PREFIX):
            method = s[len(PREFIX):]
            if method not in METHODS:
                raise SlocompileError(f"--select {s}: unknown state selector (known: "
                                      f"{', '.join(PREFIX + m for m in METHODS)})")
            methods.append(method)
        else:
            names.append(s)
    return names, methods


def read_manifest(state: str | None) -> dict:
    if not state:
        raise SlocompileError("--select state:modified needs --state PATH (an earlier target/ folder with its "
                              "manifest.json)")
    path = state if state.endswith(".json") else os.path.join(state, "manifest.json")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as e:
        raise SlocompileError(f"--state: cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise SlocompileError(f"--state: {path} is not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise SlocompileError(f"--state: {path} is not a slocompile manifest (no `tables` list)")
    return data


def _comparable(entry: dict) -> dict:
    out = {k: v for k, v in entry.items() if k not in _PLACE}
    out["checks"] = sorted(json.dumps({k: v for k, v in c.items() if k not in _PLACE}, sort_keys=True, default=str)
                            for c in entry.get("checks") or [])
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def modified(spec, state: str | None) -> list[str]:
    """The names of the project's tables that differ from the manifest in `state`, in project order."""
    from slocompile.compiling.compiler import compile_project
    from slocompile.reports.artifacts import manifest
    from slocompile.spec.model import DIALECTS

    old = read_manifest(state)
    dialect = (old.get("metadata") or {}).get("dialect")
    if dialect not in DIALECTS:
        dialect = "duckdb"
    before = {t.get("name"): _comparable(t) for t in old["tables"] if isinstance(t, dict)}
    now = redact_data(manifest(compile_project(spec, dialect), []))  # as written to manifest.json
    return [t["name"] for t in now["tables"] if before.get(t["name"]) != _comparable(t)]
