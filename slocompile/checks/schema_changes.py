"""schema_changes: the relation's columns and types against those the previous build recorded."""
from __future__ import annotations

from slocompile.checks import metrics as m
from slocompile.checks.base import CheckType, EvalContext, Outcome
from slocompile.spec.fields import Field
from slocompile.spec.model import CheckSpec

CHANGES = ("removed", "retyped", "added")


def changes(before: list[tuple[str, str]], now: list[tuple[str, str]]) -> dict[str, list]:
    """added, removed (names, in their relation's order) and retyped ({column, was, now}) columns."""
    was, is_ = dict(before), dict(now)
    return {"removed": [n for n, _ in before if n not in is_],
            "retyped": [{"column": n, "was": was[n], "now": t} for n, t in now
                        if n in was and was[n].strip().lower() != t.strip().lower()],
            "added": [n for n, _ in now if n not in was]}


def describe(found: dict[str, list]) -> list[str]:
    out = []
    if found["removed"]:
        out.append("removed: " + ", ".join(found["removed"]))
    if found["retyped"]:
        out.append("retyped: " + ", ".join(f"{r['column']} ({r['was']} -> {r['now']})" for r in found["retyped"]))
    if found["added"]:
        out.append("added: " + ", ".join(found["added"]))
    return out


class SchemaChanges(CheckType):
    name = "schema_changes"
    doc = ("The relation's columns and types, recorded in the meta schema at every build, are those the previous "
           "build recorded: reports added, removed and retyped columns by name, declared or not; `on` chooses "
           "which changes fail (the others are reported in the message). Part of `monitor: all`.")
    fields = {"on": Field("str_list", default=CHANGES, doc="The changes that fail the check: removed, retyped, "
                          "added (default all three).")}
    shorthand = "on"
    column_level = False

    def validate(self, params, loc, problems):
        bad = [v for v in params.get("on") or () if v not in CHANGES]
        if bad:
            problems.add(loc, f"schema_changes: 'on' takes {', '.join(CHANGES)}, not {bad[0]!r}")

    def referenced_columns(self, check: CheckSpec) -> list[str]:
        return []

    def metrics(self, check):
        return [m.catalog()]

    def evaluate(self, check: CheckSpec, values: list, ctx: EvalContext) -> Outcome:
        now = [(str(n), str(t)) for n, t in (values[0] or [])]
        before = (ctx.columns_before or {}).get(check.table)
        on = tuple(check.params.get("on") or CHANGES)
        expected = "no " + ", ".join(c for c in CHANGES if c in on) + " columns"
        if before is None:
            return Outcome(True, {"removed": [], "retyped": [], "added": []}, expected,
                           f"first build: {len(now)} columns recorded")
        found = changes(before, now)
        failing = [c for c in CHANGES if c in on and found[c]]
        parts = describe(found)
        msg = "; ".join(parts) if parts else f"the {len(now)} columns are unchanged since the previous build"
        return Outcome(not failing, found, expected, msg)

    def name_suffix(self, check_params: dict, column: str | None) -> str:
        return ""
