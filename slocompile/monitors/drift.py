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
    keys = sorted(set(p) | set(q), key=lambda k: -abs(p.get(k, 0.0) - q.get(k, 0.0)))
    return [(("other" if k == OTHER else k), q.get(k, 0.0), p.get(k, 0.0)) for k in keys[:n]]
