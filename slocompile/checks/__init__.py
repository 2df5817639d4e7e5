"""The registry of check types: one explicit list, looked up by YAML key."""
from __future__ import annotations

from slocompile.checks.base import CheckType, EvalContext, Outcome
from slocompile.checks.compare import COMPARE
from slocompile.checks.drift import DISTRIBUTION
from slocompile.checks.partitions import PARTITION_SLOS
from slocompile.checks.row_rules import ROW_RULES
from slocompile.checks.schema_changes import SchemaChanges
from slocompile.checks.statistics import STATISTICS
from slocompile.checks.table_slos import TABLE_SLOS

REGISTRY: dict[str, CheckType] = {cls.name: cls()
                                  for cls in ROW_RULES + TABLE_SLOS + [SchemaChanges] + PARTITION_SLOS + STATISTICS
                                  + DISTRIBUTION + COMPARE}


# the custom check types (checks.custom) of the projects loaded in this process, by name: the loader
# registers them; a later definition of a name replaces an earlier one, and a check's params hold
# what judging it needs (checks.custom), so a project loaded earlier still builds
CUSTOM: dict[str, CheckType] = {}


def get(name: str) -> CheckType:
    found = REGISTRY.get(name)
    return found if found is not None else CUSTOM[name]


def use_custom(types: dict[str, CheckType]) -> None:
    """Make a project's custom check types known by name."""
    CUSTOM.update(types)


__all__ = ["REGISTRY", "CUSTOM", "get", "use_custom", "CheckType", "EvalContext", "Outcome"]
