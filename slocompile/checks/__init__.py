"""The registry of check types: one explicit list, looked up by YAML key."""
from __future__ import annotations

from slocompile.checks.base import CheckType, EvalContext, Outcome
from slocompile.checks.drift import DISTRIBUTION
from slocompile.checks.partitions import PARTITION_SLOS
from slocompile.checks.row_rules import ROW_RULES
from slocompile.checks.schema_changes import SchemaChanges
from slocompile.checks.statistics import STATISTICS
from slocompile.checks.table_slos import TABLE_SLOS

REGISTRY: dict[str, CheckType] = {cls.name: cls()
                                  for cls in ROW_RULES + TABLE_SLOS + [SchemaChanges] + PARTITION_SLOS + STATISTICS
                                  + DISTRIBUTION}


def get(name: str) -> CheckType:
    return REGISTRY[name]


__all__ = ["REGISTRY", "get", "CheckType", "EvalContext", "Outcome"]
