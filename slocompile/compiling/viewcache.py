"""Rendered views across builds: a table whose declarations and columns did not change since the
last build reuses the SQL of its validated and quarantine views instead of rendering it again
(rendering them was most of a rebuild's compile: benchmarks/publish_bench.py --only unchanged).

A table's views are a function of its declaration (the project's YAML files, vars, the environment
when a file calls env_var(), and slocompile's own code: what compiling.cache.key fingerprints), of
what the build puts in place of the declared relation (gate last_good reads its audit view) and of
the relation's columns the build found, of the meta schemas and of the dialect. The key hashes all
of them; any doubt (a project the compile cache does not fingerprint, an unreadable file) means no
cache. Entries live in target/.view_cache.json, one per declared table (the latest views of
each), so the file never holds more than the project's views. Views a build replaced by fallback
views (schema_drift) are not cached: only what the compiler rendered is.
"""
from __future__ import annotations

import hashlib
import json
import os

from slocompile.compiling import cache
from slocompile.spec.model import Schemas, TableSpec

FILE = ".view_cache.json"
FORMAT = 1


class ViewCache:
    def __init__(self, root: str, variables: dict):
        self.path = os.path.join(os.path.abspath(root), "target", FILE)
        self.base = cache.key(root, {"views": FORMAT, "vars": variables})
        self.stored = self._read() if self.base is not None else {}
        self.changed = False

    def key(self, table: TableSpec, schemas: Schemas, dialect: str) -> str | None:
        """The fingerprint of `table`'s views as this build compiles them; None: not cacheable."""
        if self.base is None:
            return None
        parts = [self.base, dialect, table.name, table.relation.sql(), table.catalog_columns, table.hashed_as_text,
                 vars(schemas)]
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()

    def get(self, table: str, key: str | None) -> tuple[str, str] | None:
        """(validated view, quarantine view) of `table` when stored under `key`."""
        found = self.stored.get(table)
        if key is None or not (isinstance(found, list) and len(found) == 3 and found[0] == key
                               and all(isinstance(v, str) for v in found)):
            return None
        return found[1], found[2]

    def put(self, table: str, key: str | None, validated: str, quarantine: str) -> None:
        if key is not None and validated and quarantine and self.stored.get(table) != [key, validated, quarantine]:
            self.stored[table] = [key, validated, quarantine]
            self.changed = True

    def save(self, tables: list[str]) -> None:
        """Write the entries of the declared `tables` when this build changed one. A cache that
        cannot be written is no error: the next build renders the views again."""
        kept = {name: entry for name, entry in self.stored.items() if name in set(tables)}
        if self.base is None or not (self.changed or len(kept) < len(self.stored)):
            return
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path + ".tmp", "w", encoding="utf-8") as fh:
                json.dump(kept, fh)
            os.replace(self.path + ".tmp", self.path)
        except OSError:
            pass

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
