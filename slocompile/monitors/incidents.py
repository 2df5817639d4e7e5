"""Alert messages and incidents: alerts on one partition that share one cause become one incident.

Grouping, per partition:

1. Table-level alerts (row count, key duplicates) form one incident. Column alerts that a change of
   row count explains (distinct counts moving the same way) join it: "half the rows missing moves
   every column" is one incident, still listing each column.
2. Remaining alerts of the same metric moving the same way on two or more columns form one
   incident ("missing fraction rose on 12 columns": one upstream job, many columns).
3. What is left is grouped per column (one column, several metrics moving together).

Each incident is named after its strongest alert; every alert keeps its own column and message.
"""
from __future__ import annotations

import math

COUNT_METRICS = {"distinct_count"}
# Which alert names an incident's cause: the most direct evidence first (a job that wrote NULLs
# also zeroes the distinct count; a unit change also moves the range, the spread and the drift).
CAUSE_ORDER = ("row_count", "duplicate_fraction", "missing_fraction", "empty_fraction", "unchanged_fraction",
               "lag_mean", "future_fraction", "new_category_fraction", "vanished_category_fraction",
               "share_shift", "negative_fraction", "zero_fraction", "true_fraction", "mean", "spread", "lag_spread",
               "out_of_range_fraction", "distinct_count", "mean_length", "js")


def _priority(a: dict) -> tuple:
    m = a["metric"]
    return (CAUSE_ORDER.index(m) if m in CAUSE_ORDER else len(CAUSE_ORDER), -a["score"])


def _fmt(metric: str, kind: str, x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if kind in ("prop", "linf"):
        pct = 100 * x
        return f"{pct:.2g}%" if abs(pct) < 10 else f"{pct:.0f}%"
    if kind == "count":
        return f"{x:,.0f}"
    if kind in ("js", "shares"):
        return f"{x:.3f}"
    ax = abs(x)
    if ax != 0 and (ax >= 1e6 or ax < 1e-3):
        return f"{x:.3g}"
    return f"{x:,.3g}" if ax < 1000 else f"{x:,.0f}"


def what(a: dict) -> str:
    """The metric in words: "missing fraction of age", "row count", and of a segment (its
    pseudo-column, ``profile.segment_key``) "missing fraction of age in country=BR", "row count
    in country=BR"."""
    label, col = a["label"], a["column"]
    segment = None
    if col is not None and col.endswith("]") and " [" in col:
        col, segment = col[:-1].split(" [", 1)
    elif col is not None and a.get("metric") == "row_count":  # a table's row count has no column: a segment's
        col, segment = None, col
    if "{col}" in label:
        text = label.format(col=col if col is not None else "the table")
    else:
        text = label if col is None else f"{label} of {col}"
    return text if segment is None else f"{text} in {segment}"


def message(a: dict) -> str:
    kind, m = a["kind"], a["metric"]
    lo, hi = a["band"]
    obs = _fmt(m, kind, a["observed"])
    exp_ = _fmt(m, kind, a["expected_value"])
    text = (f"{what(a)} {a['direction']} from {exp_} to {obs} on {a['partition']} "
            f"(normal {_fmt(m, kind, lo)}–{_fmt(m, kind, hi)})")
    return f"{text}; {a['detail']}" if a.get("detail") else text


def expected_text(a: dict) -> str:
    lo, hi = a["band"]
    return f"{_fmt(a['metric'], a['kind'], lo)}–{_fmt(a['metric'], a['kind'], hi)}"


def assign(alerts: list[dict], table: str = "") -> list[dict]:
    """Add ``message``, ``expected`` (band text), ``incident`` and ``cause`` to each alert.

    Alerts may span partitions; incidents never do. Returns the alerts (mutated in place)."""
    by_part: dict[str, list[dict]] = {}
    for a in alerts:
        a["message"] = message(a)
        a["expected"] = expected_text(a)
        by_part.setdefault(a["partition"], []).append(a)
    for p, group in by_part.items():
        incidents: list[list[dict]] = []
        rest = list(group)
        table_alerts = [a for a in rest if a["column"] is None]
        if table_alerts:
            rows = next((a for a in table_alerts if a["metric"] == "row_count"), None)
            members = list(table_alerts)
            if rows is not None:
                members += [a for a in rest if a["column"] is not None and a["metric"] in COUNT_METRICS
                            and a["direction"] == rows["direction"]]
            incidents.append(members)
            rest = [a for a in rest if a not in members]
        by_metric: dict[tuple[str, str], list[dict]] = {}
        for a in rest:
            by_metric.setdefault((a["metric"], a["direction"]), []).append(a)
        for members in by_metric.values():
            if len({a["column"] for a in members}) >= 2:
                incidents.append(members)
                rest = [a for a in rest if a not in members]
        by_col: dict[str, list[dict]] = {}
        for a in rest:
            by_col.setdefault(a["column"], []).append(a)
        incidents += list(by_col.values())
        incidents.sort(key=lambda ms: -max(a["score"] for a in ms))
        for n, members in enumerate(incidents, 1):
            lead = min(members, key=_priority)
            cols = sorted({a["column"] for a in members if a["column"] is not None})
            if len(cols) > 1 and lead["column"] is not None and all(a["metric"] == lead["metric"] for a in members):
                cause = f"{what(dict(lead, column='each'))} {lead['direction']} on {len(cols)} columns"
            else:
                cause = f"{what(lead)} {lead['direction']}"
            iid = f"{table or members[0].get('table') or 'table'}/{p}/{n}"
            for a in members:
                a["incident"] = iid
                a["cause"] = cause
                a["incident_columns"] = cols
    return alerts


# ----------------------------------------------------------------------------- lifecycle

def _keys(a: dict) -> set[str]:
    return {"*" if c is None else c for c in (a.get("incident_columns") or [a["column"]])} | \
        {"*" if a["column"] is None else a["column"]}


def track(open_: dict[str, dict], partition: str, alerts: list[dict], table: str = "") -> tuple[dict, list[dict]]:
    """Incidents across partitions: (the incidents open after ``partition``, its events).

    The alerts of one partition come grouped by ``assign`` (one group per cause). A group whose
    columns ("*": the table) overlap an open incident's continues it: its alerts take that
    incident's id, and nothing is announced. Any other group opens an incident (event ``open``),
    named after its first partition. An open incident none of whose columns alerts on this
    partition recovered (event ``recover``): the metric is back in its band, or the change was
    accepted. So a fault that holds for a week marks every partition, with one ``open`` and one
    ``recover`` for whoever is notified. ``open_`` is not modified."""
    now = {i: dict(inc, columns=list(inc["columns"])) for i, inc in open_.items()}
    groups: dict[str, list[dict]] = {}
    for a in alerts:
        groups.setdefault(a["incident"], []).append(a)
    events, seen = [], set()
    for members in groups.values():
        keys = set().union(*(_keys(a) for a in members))
        match = next((i for i in sorted(now, key=lambda i: (now[i]["opened"], i)) if keys & set(now[i]["columns"])),
                     None)
        lead = members[0]
        if match is None:
            match = lead["incident"]
            now[match] = {"opened": partition, "columns": sorted(keys), "cause": lead["cause"], "partitions": 1,
                          "last": partition}
            events.append(_event("open", table, match, partition, now[match]))
        elif match not in seen:
            now[match]["partitions"] += 1
        inc = now[match]
        inc["last"] = partition
        inc["columns"] = sorted(set(inc["columns"]) | keys)
        seen.add(match)
        for a in members:
            a["incident"], a["incident_opened"] = match, inc["opened"]
            if match in open_:
                a["cause"] = inc["cause"]
    for i in [i for i in now if i not in seen]:
        events.append(_event("recover", table, i, partition, now.pop(i)))
    return now, events


def _event(kind: str, table: str, incident: str, partition: str, inc: dict) -> dict:
    return {"event": kind, "table": table, "incident": incident, "partition": partition, "opened": inc["opened"],
            "columns": [c for c in inc["columns"] if c != "*"], "cause": inc["cause"],
            "partitions": inc["partitions"], "last": inc["last"]}
