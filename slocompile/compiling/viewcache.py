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

An entry also keeps how the engine showed the two views after a build created them from exactly
that SQL (DuckDB's duckdb_views().sql): a later build whose views are that SQL, and finds the
engine showing that text, need not create them again (run.viewstate).

The few other statements every build renders the same way (the meta schema's DDL, the listing of
partition contents) are kept too (`rendered`), keyed by the same fingerprint and their other
inputs; the file keeps those the latest build used, and the probes that bind each declared
table's views (`probes`: only builds that find new columns run them).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable

from slocompile.compiling import cache
from slocompile.spec.model import Schemas, TableSpec

FILE = ".view_cache.json"
FORMAT = 1
STATEMENTS = ""  # the file's entry of the other statements (`rendered`; no table has an empty name)
PROBES = "view probes "  # a table's entry there of its views' probes (`probes`)


class ViewCache:
    def __init__(self, root: str, variables: dict):
        self.path = os.path.join(os.path.abspath(root), "target", FILE)
        self.base = cache.key(root, {"views": FORMAT, "vars": variables})
        self.stored = self._read() if self.base is not None else {}
        found = self.stored.pop(STATEMENTS, None)
        self.statements: dict = found if isinstance(found, dict) else {}
        self.used: dict = {}  # the statements this build rendered or reused: what the file keeps
        self.changed = False

    def rendered(self, what: str, parts: object, make: Callable[[], list[str] | None]) -> list[str] | None:
        """The statements `what` (a name) as an earlier build rendered them from the same
        declarations and `parts` (their other inputs: JSON-able), else `make()` (kept unless None)."""
        if self.base is None:
            return make()
        key = hashlib.sha256(json.dumps([self.base, what, parts], default=str).encode()).hexdigest()
        found = self.statements.get(what)
        if isinstance(found, list) and len(found) == 2 and found[0] == key and isinstance(found[1], list) \
                and all(isinstance(v, str) for v in found[1]):
            self.used[what] = found
            return list(found[1])
        made = make()
        if made is not None:
            self.statements[what] = self.used[what] = [key, made]
            self.changed = True
        return made

    def key(self, table: TableSpec, schemas: Schemas, dialect: str) -> str | None:
        """The fingerprint of `table`'s views as this build compiles them; None: not cacheable."""
        if self.base is None:
            return None
        parts = [self.base, dialect, table.name, table.relation.sql(), table.catalog_columns, table.hashed_as_text,
                 vars(schemas)]
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()

    def get(self, table: str, key: str | None) -> tuple[str, str] | None:
        """(validated view, quarantine view) of `table` when stored under `key`."""
        found = self._entry(table)
        if key is None or found is None or found[0] != key:
            return None
        return found[1], found[2]

    def put(self, table: str, key: str | None, validated: str, quarantine: str) -> None:
        found = self._entry(table)
        if key is None or not (validated and quarantine) or (found is not None and found[:3] == [key, validated,
                                                                                                  quarantine]):
            return
        # the engine's text of the views (shown) belongs to their SQL: kept while it is the same
        shown = found[3:] if found is not None and found[1:3] == [validated, quarantine] else []
        self.stored[table] = [key, validated, quarantine, *shown]
        self.changed = True

    def shown(self, table: str, validated: str, quarantine: str) -> tuple[str, str] | None:
        """How the engine showed the views (validated, quarantine) after a build created them from
        exactly this SQL (run.viewstate), when recorded."""
        found = self._entry(table)
        if found is None or len(found) != 5 or found[1:3] != [validated, quarantine]:
            return None
        return found[3], found[4]

    def record_shown(self, table: str, validated: str, quarantine: str, shown: tuple[str, str]) -> None:
        """Record how the engine shows the views a build created from this SQL (the stored SQL only)."""
        found = self._entry(table)
        if found is not None and found[1:3] == [validated, quarantine] and found[3:] != list(shown):
            self.stored[table] = [*found[:3], *shown]
            self.changed = True

    def _entry(self, table: str) -> list[str] | None:
        """[key, validated, quarantine] or [key, validated, quarantine, shown validated, shown
        quarantine]; None: none, or not that."""
        found = self.stored.get(table)
        if isinstance(found, list) and len(found) in (3, 5) and all(isinstance(v, str) for v in found):
            return found
        return None

    def probes(self, table: TableSpec, schemas: Schemas, dialect: str, make: Callable[[], list[str]]) -> list[str]:
        """The probes binding `table`'s views (run.schema_drift), rendered for the same inputs as the
        views (their key), else `make()`. Kept while the table is declared, also through builds
        that do not probe (the columns the views bound to did not change)."""
        return self.rendered(PROBES + table.name, self.key(table, schemas, dialect), make) or make()

    def save(self, tables: list[str]) -> None:
        """Write the entries of the declared `tables` when this build changed one. A cache that
        cannot be written is no error: the next build renders the views again."""
        declared = set(tables)
        kept = {name: entry for name, entry in self.stored.items() if name in declared}
        statements = {**{what: v for what, v in self.statements.items()
                         if what.startswith(PROBES) and what[len(PROBES):] in declared}, **self.used}
        if self.base is None or not (self.changed or len(kept) < len(self.stored)
                                     or len(statements) < len(self.statements)):
            return
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path + ".tmp", "w", encoding="utf-8") as fh:
                json.dump({**kept, STATEMENTS: statements} if statements else kept, fh)
            os.replace(self.path + ".tmp", self.path)
        except OSError:
            return
        self.stored, self.statements, self.changed = kept, statements, False

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
