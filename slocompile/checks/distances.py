"""Distribution drift from small per-partition summaries: pure Python, no I/O.

Summaries are what ``profile`` keeps per column and partition: fixed-bin counts for numeric
values (edges frozen from the first history partitions) and top-k value counts plus the non-null
count for categorical columns. A reference is the pooled summary of trailing clean partitions,
so comparing never rescans old partitions.
"""
from __future__ import annotations

import math

OTHER = "\x00other"
EPS = 1e-4  # share added to every cell so that a category new to one side gives a large, finite PSI


def category_shares(summary: dict) -> dict[str, float]:
    """Top-k counts -> shares of the non-null values, the rest pooled as OTHER."""
    top = summary.get("top") or {}
    n = summary.get("nonnull") or 0
    if n <= 0:
        return {}
    shares = {k: v / n for k, v in top.items()}
    rest = max(n - sum(top.values()), 0)
    if rest:
        shares[OTHER] = rest / n
    return shares


def bin_shares(summary: dict) -> dict[str, float]:
    bins = summary.get("bins") or []
    n = sum(bins)
    return {str(i): b / n for i, b in enumerate(bins)} if n else {}


def pooled(shares: list[dict[str, float]]) -> dict[str, float]:
    """Reference distribution: the mean of the partitions' shares."""
    out: dict[str, float] = {}
    for s in shares:
        for k, v in s.items():
            out[k] = out.get(k, 0.0) + v / len(shares)
    return out


def _aligned(p: dict[str, float], q: dict[str, float]):
    keys = sorted(set(p) | set(q))
    a = [p.get(k, 0.0) + EPS for k in keys]
    b = [q.get(k, 0.0) + EPS for k in keys]
    sa, sb = sum(a), sum(b)
    return [x / sa for x in a], [x / sb for x in b]


def psi(p: dict[str, float], q: dict[str, float]) -> float:
    """Population stability index: sum (p - q) ln(p / q)."""
    if not p or not q:
        return math.nan
    a, b = _aligned(p, q)
    return float(sum((x - y) * math.log(x / y) for x, y in zip(a, b)))


def linf(p: dict[str, float], q: dict[str, float]) -> float:
    """Largest absolute difference of one category's (or bin's) share."""
    if not p or not q:
        return math.nan
    return float(max(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q)))


def unlisted_bound(summary: dict) -> float:
    """The largest share a value absent from a truncated top-k list can have (0: list complete)."""
    top = summary.get("top") or {}
    n = summary.get("nonnull") or 0
    rest = n - sum(top.values())
    if n <= 0 or rest <= 0:
        return 0.0
    return min(min(top.values()) if top else rest, rest) / n


def novelty(summary: dict, refs: list[dict]) -> tuple[float, float]:
    """(new, vanished): the share of today's values in categories no reference partition listed,
    and the mean reference share of categories absent today. Engineering faults on categories
    (renames, case changes, placeholders, broken mappings) create or remove values; natural change
    (campaigns, mix drift) mostly moves shares among known ones. Shares hidden by top-k truncation
    are intervals [0, bound]: only what no such interval explains counts."""
    n = summary.get("nonnull") or 0
    refs = [r for r in refs if r.get("nonnull")]
    if n <= 0 or not refs:
        return math.nan, math.nan
    cur = {k: v / n for k, v in (summary.get("top") or {}).items()}
    b_cur = unlisted_bound(summary)
    ref_sh = [{k: v / r["nonnull"] for k, v in (r.get("top") or {}).items()} for r in refs]
    b_ref = max(unlisted_bound(r) for r in refs)
    known = set().union(*ref_sh)
    new = sum(max(0.0, v - b_ref) for k, v in cur.items() if k not in known)
    vanished = sum(max(0.0, sum(s.get(k, 0.0) for s in ref_sh) / len(ref_sh) - b_cur)
                   for k in known if k not in cur)
    return float(new), float(vanished)


def js(p: dict[str, float], q: dict[str, float]) -> float:
    """Jensen-Shannon divergence in bits (0 identical, 1 disjoint)."""
    if not p or not q:
        return math.nan
    keys = set(p) | set(q)
    out = 0.0
    for k in keys:
        x, y = p.get(k, 0.0), q.get(k, 0.0)
        m = (x + y) / 2
        if x > 0:
            out += 0.5 * x * math.log2(x / m)
        if y > 0:
            out += 0.5 * y * math.log2(y / m)
    return float(out)


def shares_of(summary: dict | None) -> dict[str, float]:
    if not summary:
        return {}
    if "bins" in summary:
        return bin_shares(summary)
    if "top" in summary:
        return category_shares(summary)
    return {}


def top_changes(p: dict[str, float], q: dict[str, float], n: int = 2) -> list[tuple[str, float, float]]:
    """The categories whose share moved most: (value, reference share, new share)."""
    keys = sorted(set(p) | set(q), key=lambda k: (-abs(p.get(k, 0.0) - q.get(k, 0.0)), k))
    return [(("other" if k == OTHER else k), q.get(k, 0.0), p.get(k, 0.0)) for k in keys[:n]]
