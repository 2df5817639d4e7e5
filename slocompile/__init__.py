"""slocompile: YAML SLOs compiled to planned SQL checks and validated views."""
from slocompile.support.version import __version__

__all__ = ["Project", "__version__"]


def __getattr__(name):
    # lazy, so `slocompile --help` does not pay for importing sqlglot
    if name == "Project":
        from slocompile.api import Project

        return Project
    raise AttributeError(f"module 'slocompile' has no attribute {name!r}")
