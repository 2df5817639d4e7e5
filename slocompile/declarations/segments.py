"""The YAML half of segments: `group_by:` and `max_segments:` of a check (checks/segments.py)."""
from __future__ import annotations

from slocompile.checks import CheckType, segments
from slocompile.errors import ProblemCollector
from slocompile.spec.fields import Field
from slocompile.spec.model import MAX_SEGMENTS_LIMIT, CheckSpec
from slocompile.spec.usersql import typo_of
from slocompile.spec.yamlload import Node

SEGMENT_FIELDS = {
    "group_by": Field("columns", doc="Judge the check per segment: per value of these columns (an aggregate "
                      "check only: row_count, mean, not_null with max_fraction, ...). Results carry the segment."),
    "max_segments": Field("int", doc="group_by: segments judged apart per partition, the largest by rows (default: "
                          f"the project's `max_segments`, {segments.DEFAULT_MAX_SEGMENTS}); the rest are pooled into "
                          f"one segment, {segments.OTHER}."),
}


def segment_params_ok(params: dict, node: Node, what: str, known: set[str] | None,
                      problems: ProblemCollector) -> bool:
    """`group_by` names distinct columns, `max_segments` is a count in [1, MAX_SEGMENTS_LIMIT] and
    needs `group_by`; unset, both leave the params (and default names, fingerprints) as they were."""
    for key in SEGMENT_FIELDS:
        if params.get(key) is None:
            params.pop(key, None)
    group_by = params.get("group_by")
    if group_by is None:
        if "max_segments" in params:
            problems.add(node.value["max_segments"].loc, f"{what}: max_segments caps the segments of group_by; "
                         "give group_by")
            return False
        return True
    gnode = node.value["group_by"]
    items = gnode.value if gnode.is_list else [gnode]
    ok = True
    seen: set[str] = set()
    for name, item in zip(group_by, items):
        if name in seen:
            problems.add(item.loc, f"{what}: group_by lists column '{name}' twice")
            ok = False
        seen.add(name)
        if typo_of(name, known):
            problems.add(item.loc, f"{what}: group_by: unknown column '{name}'{typo_of(name, known)}")
            ok = False
    cap = params.get("max_segments")
    if cap is not None and not 1 <= cap <= MAX_SEGMENTS_LIMIT:
        problems.add(node.value["max_segments"].loc, f"{what}: max_segments must be between 1 and "
                     f"{MAX_SEGMENTS_LIMIT}")
        ok = False
    params["group_by"] = tuple(group_by)
    return ok


def segmentable(ctype: CheckType, check: CheckSpec, node: Node, what: str, problems: ProblemCollector) -> bool:
    """A check with `group_by` must be an aggregate over rows (checks.segments.refusal)."""
    if not check.params.get("group_by"):
        return True
    why = segments.refusal(check, ctype.metrics(check), ctype.from_monitor_history or ctype.needs_partition_list)
    if why:
        problems.add(node.value["group_by"].loc if node.is_map and "group_by" in node.value else node.loc,
                     f"{what}: group_by: {why}")
        return False
    return True


def with_project_cap(tables: list, cap: int) -> None:
    """Checks with group_by and no `max_segments` take the project's (done once it is known)."""
    for t in tables:
        for c in t.checks:
            if c.params.get("group_by") and c.params.get("max_segments") is None:
                c.params["max_segments"] = cap
