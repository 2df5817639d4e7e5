"""The package's import graph: acyclic, and no import goes up the layers.

LAYERS is the one declaration of the layer order (CONTRIBUTING.md draws it). A module may import
modules of its own layer or of a lower one, never of a higher one; imports inside functions count
like any other. No module imports a private (underscore) name of another module.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "slocompile"

# bottom to top; a name is a module or a package (all modules below it)
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("slocompile.errors", "slocompile.support")),
    ("dialects", ("slocompile.dialects",)),
    ("spec", ("slocompile.spec",)),
    ("checks", ("slocompile.checks",)),
    ("declarations", ("slocompile.declarations",)),
    ("planning", ("slocompile.planning",)),
    ("sqltrees", ("slocompile.sqltrees",)),
    ("compiling", ("slocompile.compiling",)),
    ("engines", ("slocompile.engines",)),
    ("monitors", ("slocompile.monitors",)),
    ("run", ("slocompile.run",)),
    ("reports", ("slocompile.reports",)),
    ("tools", ("slocompile.tools",)),
    ("interface", ("slocompile.api", "slocompile.cli", "slocompile.__main__", "slocompile",
                   "slocompile.integrations")),
]
# the orchestrator integrations stand on the public API alone (what docs/api.md documents)
PUBLIC = ("slocompile.api", "slocompile.errors")


def module_names(root: pathlib.Path = PACKAGE) -> dict[str, pathlib.Path]:
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: pathlib.Path, modules: dict[str, pathlib.Path]) -> list[tuple[str, int, str]]:
    """(imported module, line, imported name) for every import of a slocompile module in `path`."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, "") for a in node.names if a.name.split(".")[0] == "slocompile"]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else (node.module or "")
            if base.split(".")[0] != "slocompile":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    found.append((submodule, node.lineno, ""))
                else:
                    found.append((base, node.lineno, alias.name))
    return found


def layer_of(module: str) -> int:
    best, rank = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    return rank


def graph(root: pathlib.Path = PACKAGE) -> dict[str, list[tuple[str, int, str]]]:
    modules = module_names(root)
    return {name: imports_of(name, path, modules) for name, path in sorted(modules.items())}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph has ~100 nodes, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def problems(root: pathlib.Path = PACKAGE) -> list[str]:
    found = []
    g = graph(root)
    for module, imports in g.items():
        if layer_of(module) < 0:
            found.append(f"{module}: in no layer of LAYERS")
        for target, line, name in imports:
            if target == "slocompile" and name == "__version__" or target == module:
                pass
            elif layer_of(target) > layer_of(module):
                found.append(f"{module}:{line} imports {target} from the higher layer "
                             f"'{LAYERS[layer_of(target)][0]}'")
            if name.startswith("_") and not name.startswith("__"):
                found.append(f"{module}:{line} imports the private name {target}.{name}")
    edges = {m: {t for t, _, _ in imports if t in g and t != m} for m, imports in g.items()}
    # a package's __init__ re-exporting its own modules is not a cycle with them
    for component in cycles(edges):
        found.append("import cycle: " + " -> ".join(component))
    return found


def test_the_import_graph_follows_the_layers():
    assert problems() == []


def test_integrations_import_only_the_public_api():
    outside = [f"{module}:{line} imports {target}" for module, imports in graph().items()
               if module.startswith("slocompile.integrations") for target, line, _ in imports
               if target not in PUBLIC and not target.startswith("slocompile.integrations")]
    assert outside == []


@pytest.mark.parametrize("bad", ["cycle", "upward", "private"])
def test_the_layering_check_catches(tmp_path, bad):
    """The check itself: a copy of the package with one bad import added fails it."""
    import shutil

    copy = tmp_path / "slocompile"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert problems(copy) == []
    low = copy / "support" / "gcpause.py"
    line = {"cycle": "from slocompile.support import testhooks\n",
            "upward": "from slocompile.run import build\n",
            "private": "from slocompile.errors import _sort_key\n"}[bad]
    low.write_text(low.read_text() + "\n\ndef _late():\n    " + line)
    if bad == "cycle":
        hooks = copy / "support" / "testhooks.py"
        hooks.write_text(hooks.read_text() + "\nfrom slocompile.support import gcpause\n")
    assert problems(copy), f"a {bad} import went unnoticed"
