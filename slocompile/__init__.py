"""slocompile: YAML SLOs compiled to planned SQL checks and validated views."""
__version__ = "0.1.0"

from .project import Project  # noqa: E402

__all__ = ["Project", "__version__"]
