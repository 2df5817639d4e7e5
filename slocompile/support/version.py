"""The package version (pyproject.toml keeps its own copy for packaging)."""
__version__ = "0.1.0"
