"""The compile cache: `slocompile compile` of unchanged declarations does nothing but say so.

A compile's outcome depends on the declarations (slocompile.yml and the YAML files under the
project), the command's options and --var values, the environment when a file calls env_var(),
and slocompile's own code. Their fingerprint (``key``) is stored with the files the compile wrote
(target/compiled/<dialect>/..., target/manifest.json: size and modification time) and its one-line
summary in target/.compile_cache.json. When the fingerprint matches and every file it wrote is
still as it left it, the compile is skipped: no YAML is parsed and neither sqlglot nor the
compiler is imported (this module imports only the standard library).

The fingerprint is deliberately broad: every .yml/.yaml file under the project folder (hidden
folders, target/ and virtual environments skipped) and every .sql file under its macros/ and
checks/ folders (custom check types) counts, whether the loader reads it or not,
and a project that declares files outside its folder (allow_outside_paths) is never cached.
Only compiles that succeeded are stored.
"""
from __future__ import annotations

import hashlib
import json
import os

CACHE_FILE = ".compile_cache.json"
FORMAT = 1
_SKIP_DIRS = {"target", "node_modules", "venv", "__pycache__", "site-packages"}
_SUFFIXES = (".yml", ".yaml")
_PROJECT_FILE = "slocompile.yml"
_MACRO_DIRS = ("macros", "checks")  # declarations.macros.MACRO_PATHS (not imported: it imports sqlglot)


def key(root: str, options: dict) -> str | None:
    """The fingerprint of a compile of the project in `root` with `options` (target, dialect,
    select, vars: JSON-able), or None when it cannot be cached."""
    root = os.path.abspath(root)
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, options], sort_keys=True, default=str).encode())
    uses_env = False
    files = _declaration_files(root)
    if not files:
        return None
    for rel in files:
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        if rel == _PROJECT_FILE and b"allow_outside_paths" in data:
            return None
        uses_env = uses_env or b"env_var" in data
        h.update(f"\0{rel}\0{len(data)}\0".encode())
        h.update(data)
    if uses_env:
        h.update(json.dumps(sorted(os.environ.items())).encode())
    h.update(_code_stamp().encode())
    return h.hexdigest()


def hit(root: str, fingerprint: str | None) -> str | None:
    """The stored summary of a compile with this fingerprint whose files are unchanged, else None."""
    if fingerprint is None:
        return None
    root = os.path.abspath(root)
    try:
        with open(os.path.join(root, "target", CACHE_FILE), encoding="utf-8") as fh:
            entry = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != fingerprint:
        return None
    files = entry.get("files")
    if not isinstance(files, dict) or not files:
        return None
    for rel, stamp in files.items():
        if _stamp(os.path.join(root, rel)) != stamp:
            return None
    summary = entry.get("summary")
    return summary if isinstance(summary, str) else None


def store(root: str, fingerprint: str | None, written: list[str], summary: str) -> None:
    """Record a successful compile: its fingerprint, the files it wrote (relative to `root`) and
    its summary. A cache that cannot be written is no error: the next compile does the work."""
    if fingerprint is None:
        return
    root = os.path.abspath(root)
    target = os.path.join(root, "target")
    stamps = {}
    for rel in written:
        stamp = _stamp(os.path.join(root, rel))
        if stamp is None:
            return
        stamps[rel] = stamp
    path = os.path.join(target, CACHE_FILE)
    try:
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump({"key": fingerprint, "files": stamps, "summary": summary}, fh)
        os.replace(path + ".tmp", path)
    except OSError:
        pass


def forget(root: str) -> None:
    """Drop the stored entry (a compile that failed, or that wrote files the cache does not know)."""
    try:
        os.remove(os.path.join(os.path.abspath(root), "target", CACHE_FILE))
    except OSError:
        pass


def _declaration_files(root: str) -> list[str]:
    """slocompile.yml, every .yml/.yaml file below `root` and the .sql files of its custom check types,
    as sorted relative paths."""
    if not os.path.isfile(os.path.join(root, _PROJECT_FILE)):
        return []
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                         and not os.path.isfile(os.path.join(folder, d, "pyvenv.cfg")))
        rel = os.path.relpath(folder, root)
        macros = rel.split(os.sep)[0] in _MACRO_DIRS
        out += [n if rel == "." else os.path.join(rel, n) for n in names
                if n.endswith(_SUFFIXES) or (macros and n.endswith(".sql"))]
    return sorted(out)


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _code_stamp() -> str:
    """slocompile's version and its modules' sizes and times: a changed installation recompiles."""
    from slocompile.support.version import __version__

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = [__version__]
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for n in sorted(names):
            if n.endswith(".py"):
                st = os.stat(os.path.join(folder, n))
                parts.append(f"{os.path.relpath(os.path.join(folder, n), package)}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def outputs(root: str, dialect: str) -> list[str]:
    """What a compile for `dialect` leaves (relative to `root`): target/manifest.json and the files
    under target/compiled/<dialect>/."""
    base = os.path.join("target", "compiled", dialect)
    out = [os.path.join("target", "manifest.json")]
    for folder, _, names in os.walk(os.path.join(os.path.abspath(root), base)):
        rel = os.path.relpath(folder, os.path.abspath(root))
        out += [os.path.join(rel, n) for n in names]
    return sorted(out)
