"""Hard limits on what one declaration file may cost to load (see 'Limits' in docs/reference.md).

A declaration is data that a reviewer may read quickly: one line such as `{{ 'x' * 2000000000 }}`
or a few nested YAML aliases must fail at once, with its line, instead of taking minutes and
gigabytes. The limits are far above what a real declaration needs.
"""
from __future__ import annotations

MAX_TEXT = 8 * 1024 * 1024  # characters: a file as written, as rendered, and any string a template makes
MAX_ITEMS = 1_000_000       # elements of a list, tuple or mapping a template makes
MAX_STEPS = 2_000_000       # per render: calls, filters and loop iterations, plus the elements they walk
MAX_INT_BITS = 100_000      # size of an integer `*` and `**` may make in a template
MAX_DEPTH = 64              # nesting of YAML mappings and lists
MAX_ALIAS_NODES = 100_000   # values that YAML aliases (*name) may repeat in one file


def over(what: str, size: int, limit: int, unit: str) -> str:
    return (f"{what} would be {size:,} {unit}, over the limit of {limit:,} {unit} "
            "(declarations are data; see 'Limits' in docs/reference.md)")
