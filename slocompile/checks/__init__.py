"""The registry of check types: one explicit list, looked up by YAML key."""
from __future__ import annotations

from .base import CheckType, EvalContext, Outcome
from .distribution import DISTRIBUTION
from .row_rules import ROW_RULES
from .statistics import STATISTICS
from .table_slos import TABLE_SLOS

REGISTRY: dict[str, CheckType] = {cls.name: cls() for cls in ROW_RULES + TABLE_SLOS + STATISTICS + DISTRIBUTION}


def get(name: str) -> CheckType:
    return REGISTRY[name]


__all__ = ["REGISTRY", "get", "CheckType", "EvalContext", "Outcome"]
