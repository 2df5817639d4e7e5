"""`owner`, `tags` and `meta` of tables, columns and checks: their fields, validation and inheritance.

A column inherits its table's owner and tags, a check those of its column (or of its table): the
owner unless it names its own, the tags as the union of both; `meta` keys are merged (the nearer
declaration wins). None of it reaches SQL: it labels results, artifacts and alerts, and selects
tables (`--select tag:pii`, `--select owner:ml-platform`) and trigger routes (`owner:`, `tags:`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from slocompile.errors import ProblemCollector
from slocompile.spec.fields import Field
from slocompile.spec.yamlload import Node

# an owner or a tag is one word of the selector grammar: no spaces, commas or colons
LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@/+-]*")
LABEL_FORM = "letters, digits and _ . @ / + - (no spaces, commas or colons)"

METADATA_FIELDS = {
    "owner": Field("str", doc="Who owns it (a team or a person, e.g. ml-platform): in results, artifacts and "
                   "alerts, `--select owner:NAME`, trigger routing by `owner:`. Columns and checks inherit "
                   "their table's (and a check its column's) unless they name their own."),
    "tags": Field("str_list", doc="Labels (a string or a list): `--select tag:NAME`, trigger routing by `tags:`. "
                  "Columns and checks add their own to those they inherit from the table (and column)."),
    "meta": Field("mapping", doc="Free metadata: a mapping of plain values (strings, numbers, booleans, dates, "
                  "null, or lists of them); merged with the table's (and column's), the nearer key winning."),
}
META_VALUE_SCHEMA = {"anyOf": [{"type": ["string", "number", "boolean", "null"]},
                               {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]}}]}


@dataclass(frozen=True)
class Labels:
    owner: str | None = None
    tags: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, hash=False, compare=False)

    def under(self, parent: Labels | None) -> Labels:
        """These labels inheriting from `parent`'s: owner unless set, tags united, meta merged."""
        if parent is None:
            return self
        return Labels(self.owner or parent.owner, tuple(dict.fromkeys(parent.tags + self.tags)),
                      {**parent.meta, **self.meta})


def read_labels(node: Node, raw: dict, where: str, problems: ProblemCollector,
                parent: Labels | None = None) -> Labels:
    """The labels of a declaration from its validated mapping `raw` (and its `node`, for the
    lines of problems), inheriting `parent`'s. Bad values are reported and left out."""
    values = node.value if node.is_map else {}
    owner = raw.get("owner")
    if owner is not None and not LABEL.fullmatch(owner):
        problems.add(values["owner"].loc, f"{where}: owner {owner!r} must be one word of {LABEL_FORM}")
        owner = None
    tags = []
    for tag in raw.get("tags") or ():
        if LABEL.fullmatch(tag):
            tags.append(tag)
        else:
            tnode = values["tags"]
            loc = next((i.loc for i in tnode.value if i.value == tag), tnode.loc) if tnode.is_list else tnode.loc
            problems.add(loc, f"{where}: tag {tag!r} must be one word of {LABEL_FORM}")
    meta = {}
    for key, child in (raw.get("meta") or {}).items():
        value = _plain(child)
        if value is _BAD:
            problems.add(child.loc, f"{where}: meta '{key}' must be a plain value (a string, number, boolean, date "
                         "or null) or a list of them, not a mapping or nested list")
            continue
        meta[key] = value
    return Labels(owner, tuple(dict.fromkeys(tags)), meta).under(parent)


_BAD = object()


def _plain(node: Node, nested: bool = False):
    v = node.value
    if isinstance(v, list) and not nested:
        items = [_plain(i, True) for i in v]
        return _BAD if any(i is _BAD for i in items) else items
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return _BAD


def labelled(spec, labels: Labels):
    """`spec` (a TableSpec, ColumnSpec or CheckSpec) carrying `labels`."""
    return replace(spec, owner=labels.owner, tags=labels.tags, meta=labels.meta)


def labels_of(spec) -> Labels:
    return Labels(spec.owner, spec.tags, spec.meta)
