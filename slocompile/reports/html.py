"""`slocompile report`: one self-contained HTML page of what the meta schema knows.

reportdata.py reads the data (read-only); this module lays out the page: the status grid, failed
checks with the SQL that measured them, incidents, and the metric history drawn by svg.py with
the learned bands. The page has no script, no external reference, and a Content-Security-Policy
forbidding both.
"""
from __future__ import annotations

import datetime as dt
import json
import os

from slocompile.errors import SlocompileError
from slocompile.reports.reportdata import LAST, ReportData, TableData, check_sql, load, open_target
from slocompile.reports.svg import STYLE, esc, fmt_value, heatmap, series_plot

MAX_OPEN_PLOTS = 12   # alerted metrics drawn open; everything else sits in collapsed lists
MAX_CLOSED_PLOTS = 400
MAX_INCIDENTS = 50
FIRST_LISTED = 5      # partitions listed under a failing check; more behind a click, up to
MAX_LISTED = 200


def write_report(spec, target_name: str | None = None, select: list[str] | None = None,
                 output: str | None = None, last: int = LAST) -> str:
    """Read the meta schema of a target (read-only) and write the report; returns its path."""
    from slocompile.run import selection

    tables = selection.selected(spec, select)
    target = selection.target(spec, target_name)
    engine, where = open_target(spec, target)
    try:
        rep = load(engine, spec, target, tables, last)
        rep.where = where
    finally:
        engine.close()
    rep.sql = check_sql(spec, target.dialect, rep.tables)
    path = output or os.path.join(spec.root, "target", "report.html")
    text = page(rep)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise SlocompileError(f"cannot write the report to {path}: {e.strerror or e}") from None
    return path


# ------------------------------------------------------------------ the page

RANK = {"fail": 3, "error": 2, "warn": 1, "pass": 0, "none": -1}


def _slug(i: int) -> str:
    return f"t{i}"  # ids never carry user text


def _cell(td: TableData, row: dict) -> tuple[str, list[dict]]:
    """A partition's status for the grid: fail (an error SLO failed), warn (only warnings), pass."""
    bad = td.bad_by_partition.get(row["partition"], [])
    if row["status"] == "fail":
        return "fail", bad
    return ("warn" if bad else "pass"), bad


def _tip(table: str, row: dict, status: str, bad: list[dict]) -> str:
    where = row["partition"] if row["partition"] is not None else "whole table"
    names = sorted({b["check_name"] + (f" ({b['column_name']})" if b["check_type"] == "monitor" and b["column_name"]
                                       else "") for b in bad})
    more = f" — {', '.join(names[:8])}{' …' if len(names) > 8 else ''}" if names else ""
    return f"{table} · {where}: {status}{more}"


def _when(v) -> str:
    return v.strftime("%Y-%m-%d %H:%M") if isinstance(v, dt.datetime) else esc(v or "")


def _badge(status: str, text: str | None = None) -> str:
    return f'<span class="badge s-{esc(status)}">{esc(text or status)}</span>'


def _table(head: str, rows, cls: str = "data") -> str:
    """A table from "|"-separated header names (a trailing "#" right-aligns the column) and rows of
    cells that are markup already (escaped by the caller)."""
    names = head.split("|")
    num = ['class="num"' if n.endswith("#") else "" for n in names]
    return (f'<table class="{cls}"><tr>' + "".join(f"<th {a}>{n.rstrip('#')}</th>" for n, a in zip(names, num))
            + "</tr>" + "".join("<tr>" + "".join(f"<td {a}>{c}</td>" for c, a in zip(r, num)) + "</tr>" for r in rows)
            + "</table>")


def page(rep: ReportData) -> str:
    cells, whole, rows, worst = {}, {}, [], {}
    parts = sorted({r["partition"] for td in rep.tables for r in td.status if r["partition"] is not None})
    shown = parts[-rep.last:]
    index = {p: j for j, p in enumerate(shown)}
    counts = {"fail": 0, "warn": 0}
    for i, td in enumerate(rep.tables):
        rows.append((td.spec.name, "#" + _slug(i)))
        worst[i] = "none"
        for r in td.status:
            status, bad = _cell(td, r)
            worst[i] = max(worst[i], status, key=RANK.__getitem__)
            counts[status] = counts.get(status, 0) + 1
            tip = _tip(td.spec.name, r, status, bad)
            if r["partition"] is None:
                whole[i] = (status, tip)
            elif r["partition"] in index:
                cells[(i, index[r["partition"]])] = (status, tip)
    n_inc = sum(len(td.incidents) for td in rep.tables)
    last_run = rep.runs[0] if rep.runs else None
    body = [_header(rep, last_run)]
    body.append('<nav>' + "".join(f'<a href="#{_slug(i)}"><i class="dot s-{worst[i]}"></i>{esc(td.spec.name)}</a>'
                                  for i, td in enumerate(rep.tables)) + "</nav>")
    cards = [("tables", str(len(rep.tables)), ""), ("failing partitions or tables", str(counts["fail"]),
                                                     "fail" if counts["fail"] else "pass"),
             ("with warnings", str(counts["warn"]), "warn" if counts["warn"] else "pass"),
             ("monitor incidents", str(n_inc), "warn" if n_inc else "pass"),
             ("last run", last_run["status"] if last_run else "none", last_run["status"] if last_run else "none")]
    body.append('<section id="overview"><div class="cards">' + "".join(
        f'<div class="card {("s-" + s) if s else ""}"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
        for k, v, s in cards) + "</div>")
    body.append("<h2>Status by table and partition</h2>")
    if rows and (cells or whole):
        note = f" (newest {len(shown)} of {len(parts)} partitions)" if len(parts) > len(shown) else ""
        flat = {i for i, td in enumerate(rep.tables) if not td.spec.partition}
        body.append(f'<div class="scroll">{heatmap(rows, shown, cells, whole, flat)}</div><p class="legend">'
                    + " ".join(_badge(s, t) for s, t in (("pass", "pass"), ("warn", "warn"), ("fail", "fail"),
                                                          ("none", "not checked")))
                    + f" latest status of each partition{esc(note)}; hover a cell for its failed checks.</p>")
    else:
        body.append('<p class="empty">No statuses recorded for these tables yet.</p>')
    body.append(_runs(rep.runs) + "</section>")
    for i, td in enumerate(rep.tables):
        body.append(_table_section(i, td, worst[i], rep.sql.get(td.spec.name)))
    title = f"slocompile report · {rep.project}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _header(rep: ReportData, run) -> str:
    run_text = ""
    if run:
        run_text = (f" · last run <code>{esc(run['run_id'])}</code> {_badge(run['status'] or 'none')} "
                    f"{_when(run['started_at'])} UTC")
    return (f'<header><h1>{esc(rep.project)} <span>data quality report</span></h1><p>target '
            f"<b>{esc(rep.target)}</b> ({esc(rep.dialect)}) · {esc(rep.where)}{run_text} · generated "
            f"{rep.generated.strftime('%Y-%m-%d %H:%M')} UTC</p></header>")


def _runs(runs: list[dict]) -> str:
    if not runs:
        return '<p class="empty">No runs recorded.</p>'

    def seconds(r) -> str:
        a, b = r["started_at"], r["finished_at"]
        return f"{(b - a).total_seconds():.1f}" if isinstance(a, dt.datetime) and isinstance(b, dt.datetime) else ""

    return "<h2>Recent runs</h2>" + _table(
        "run|target|started (UTC)|seconds#|status|passed#|failed#|warned#|errored#",
        [[f"<code>{esc(r['run_id'])}</code>", esc(r["target"]), _when(r["started_at"]), seconds(r),
          _badge(r["status"] or "none")] + [esc(r[k] if r[k] is not None else "")
                                           for k in ("passed", "failed", "warned", "errored")] for r in runs[:10]])


def _table_section(i: int, td: TableData, worst: str, sql) -> str:
    t = td.spec
    facts = [f"relation <code>{esc(t.relation_text)}</code>", f"gate <b>{esc(t.gate)}</b>"]
    if t.partition:
        facts.append(f"partition <code>{esc(t.partition)}</code>")
    if t.monitor is not None:
        facts.append(f"monitors ({esc(t.monitor.severity)})")
    n = {s: sum(_cell(td, r)[0] == s for r in td.status) for s in ("pass", "warn", "fail")}
    out = [f'<section class="table" id="{_slug(i)}"><h2><i class="dot s-{worst}"></i>{esc(t.name)}</h2>'
           f'<p class="facts">{" · ".join(facts)} · {n["pass"]} passing, {n["warn"]} warning, {n["fail"]} failing '
           "(latest status per partition)</p>"]
    out.append(_checks(td, sql))
    if td.window:
        out.append(_incidents(td))
        out.append(_plots(td))
    return "".join(out) + "</section>"


def _observed(text) -> str:
    """The stored observation (JSON text) in words: a number, or rows/fraction of a row rule."""
    if text is None:
        return ""
    try:
        v = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if isinstance(v, dict) and "rows" in v:
        frac = v.get("fraction")
        share = f" ({fmt_value(frac, 'prop')})" if isinstance(frac, (int, float)) else ""
        return f"{v['rows']} row{'' if v['rows'] == 1 else 's'}{share}"
    if isinstance(v, float):
        return fmt_value(v)
    return str(v) if not isinstance(v, (dict, list)) else json.dumps(v)


def _checks(td: TableData, sql) -> str:
    bad = [b for b in td.bad if b["check_type"] != "monitor" or b["check_name"] == "monitor"]
    if not bad:
        return '<h3>Checks</h3><p class="empty ok">Every check passes in the latest status of every partition.</p>'
    groups: dict = {}
    for b in bad:
        groups.setdefault(b["check_name"], []).append(b)
    order = sorted(groups.items(), key=lambda kv: (-max(RANK.get(b["status"], 0) for b in kv[1]), -len(kv[1]), kv[0]))
    out = [f"<h3>Failed and warned checks <small>{len(order)}</small></h3>"]
    for name, rs in order:
        rs.sort(key=lambda b: (b["partition"] is not None, b["partition"] or ""), reverse=True)
        status = max((b["status"] for b in rs), key=lambda s: RANK.get(s, 0))
        head = rs[0]
        column = f" on <code>{esc(head['column_name'])}</code>" if head["column_name"] else ""
        where = (f"{len(rs)} partitions" if len(rs) > 1 else
                 f"partition {esc(head['partition'])}" if head["partition"] is not None else "whole table")
        out.append(f'<details class="check" open><summary>{_badge(status)} <b class="name">{esc(name)}</b> '
                   f'<span class="muted">{esc(head["check_type"])}{column} · {esc(head["severity"])} severity · '
                   f"{where}</span></summary>")
        first = len(rs) if len(rs) <= FIRST_LISTED + 2 else FIRST_LISTED
        out.append(_results(rs[:first]))
        if len(rs) > first:  # the newest few in sight, the others one click away
            more = rs[first:MAX_LISTED]
            out.append(f'<details class="rest"><summary>{len(rs) - first} more partitions</summary>'
                       f"{_results(more)}{_more(len(rs) - first - len(more), 'partitions')}</details>")
        out.append(_failed_rows(td.failed_rows.get(name)))
        out.append(_sql_block(name, head, sql) + "</details>")
    return "".join(out)


def _failed_rows(rows: list[dict] | None) -> str:
    """The check's failed-row samples (run.failures): one column per sampled value."""
    if not rows:
        return ""
    names = list(dict.fromkeys(k for r in rows for k in r["values"]))
    partitioned = any(r["partition"] is not None for r in rows)
    shown = [esc(n.replace("|", "/")) + (" " if n.endswith("#") else "") for n in names]  # no "#": right-aligned
    head = "|".join((["partition"] if partitioned else []) + shown)
    body = [([esc(r["partition"] or "")] if partitioned else [])
            + [esc(json.dumps(r["values"].get(n))) for n in names] for r in rows]
    return (f'<details class="rows" open><summary>Failed rows ({len(rows)} sampled)</summary>'
            f"{_table(head, body)}</details>")


def _results(rs: list[dict]) -> str:
    segmented = any(b.get("segment") is not None for b in rs)  # group_by: a column for the segment
    return _table("partition|" + ("segment|" if segmented else "") + "status|observed|expected|message", [
        [esc(b["partition"] if b["partition"] is not None else "whole table")]
        + ([esc(b.get("segment") or "")] if segmented else [])
        + [_badge(b["status"]), esc(_observed(b["observed"])), esc(b["expected"]), esc(b["message"])] for b in rs])


def _more(n: int, what: str) -> str:
    return f'<p class="muted">… and {n} more {what} not listed.</p>' if n > 0 else ""


def _sql_block(name: str, head: dict, sql) -> str:
    if head["check_type"] == "monitor":
        return ""
    if isinstance(sql, str):
        return f'<p class="muted">SQL not available: {esc(sql)}</p>'
    scans = (sql or {}).get(name)
    if scans is None:
        return '<p class="muted">SQL not available: the check is not declared any more.</p>'
    gist = "; ".join(f"<code>{esc(text)}</code>" for _, _, mine in scans for text in mine.values())
    blocks = [f'<div class="muted">-- {esc(title)}</div><pre class="sql">'
              + (_highlight(text + ";", mine) if text else "-- read from the engine catalog") + "</pre>"
              for title, text, mine in scans]
    return (f'<details class="sql"><summary>SQL that measured it ({len(scans)} quer'
            f'{"y" if len(scans) == 1 else "ies"}){": " + gist if gist else ""}</summary>{"".join(blocks)}</details>')


def _incidents(td: TableData) -> str:
    if not td.incidents:
        return (f'<h3>Monitor incidents</h3><p class="empty ok">No monitor alert in the newest {len(td.window)} '
                "partitions.</p>" + _lifecycle(td))
    members: dict = {}
    for a in td.alerts:  # an incident spans the partitions its fault lasts: its alerts of each partition
        members.setdefault((a["partition"], a["incident"]), []).append(a)
    inc = sorted(td.incidents, key=lambda x: (x["partition"] or "", x["incident"] or ""), reverse=True)
    rows = []
    for x in inc[:MAX_INCIDENTS]:
        alerts = "".join(
            f"<li><code>{esc(a['column_name'] or '(table)')}</code> <span class=\"muted\">{esc(a['check_name'])}"
            f"</span> {esc(a['message'])}</li>" for a in members.get((x["partition"], x["incident"]), []))
        rows.append([esc(x["partition"]), f'<b>{esc(x["cause"])}</b><ul class="alerts">{alerts}</ul>',
                     esc(x["columns"]), _badge("fail" if x["severity"] == "error" else "warn", x["severity"])])
    return (f"<h3>Monitor incidents <small>{len(inc)}</small></h3>"
            + _table("partition|incident and its alerts|columns|severity", rows, "data incidents")
            + _more(len(inc) - MAX_INCIDENTS, "older incidents") + _lifecycle(td))


def _lifecycle(td: TableData) -> str:
    """When each incident opened and recovered (one notification each), and the accepted changes."""
    out = ""
    if td.events:
        rows = [[esc(e["incident"]), _badge("warn" if e["event"] == "open" else "pass", e["event"]),
                 esc(e["partition"]), esc(e["cause"]), esc(e["columns"]),
                 esc(f"{e['partitions']} partition{'s' if e['partitions'] != 1 else ''}")]
                for e in sorted(td.events, key=lambda e: (e["partition"] or "", e["incident"] or ""), reverse=True)]
        out += ("<h3>Incident lifecycle</h3>"
                + _table("incident|event|partition|cause|columns|affected", rows[:MAX_INCIDENTS], "data events"))
    if td.acceptances:
        rows = [[esc(a["column_name"] or "(every column)"), esc(a["metric"] or "every metric"),
                 esc(a["from_partition"]), esc(a["reason"]), esc(a["accepted_by"]), esc(str(a["accepted_at"])[:16])]
                for a in td.acceptances]
        out += ("<h3>Accepted changes</h3>"
                + _table("column|metric|from|why|who|when", rows, "data acceptances"))
    return out


def _plots(td: TableData) -> str:
    from slocompile.monitors import METRICS
    from slocompile.monitors.incidents import CAUSE_ORDER, what

    messages = {(a["column_name"], a["metric"], a["partition"]): a["message"] for a in td.alerts}

    def plot(key, width, height) -> str:
        c, m = key
        s, b = td.series[key], td.bands.get(key, {})
        parts = td.window  # the same axis for every plot of the table
        alerts = {i: messages.get((c, m, p), "") for i, p in enumerate(parts) if p in s and s[p][1]}
        label = what({"label": METRICS[m].label, "column": c, "metric": m})
        svg = series_plot(parts, [s[p][0] if p in s else None for p in parts],
                          [b[p][:2] if p in b else None for p in parts], alerts, title=label, kind=METRICS[m].kind,
                          width=width, height=height, expected=[b[p][2] if p in b else None for p in parts])
        flag = _badge("warn", f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}") if alerts else ""
        size = "big" if width > 400 else "small"
        return f'<figure class="plot {size}"><figcaption>{esc(label)} {flag}</figcaption>{svg}</figure>'

    def last_alert(key):
        return max(p for p, (_, a) in td.series[key].items() if a)

    def cause_rank(key):
        return CAUSE_ORDER.index(key[1]) if key[1] in CAUSE_ORDER else len(CAUSE_ORDER)

    # newest alert first; on one partition, the most direct evidence first (missing before distinct)
    alerted = sorted(sorted((k for k, s in td.series.items() if any(a for _, a in s.values())), key=cause_rank),
                     key=last_alert, reverse=True)
    out = [f"<h3>Metric history <small>newest {len(td.window)} partitions</small></h3>"
           '<p class="legend"><i class="key line"></i>value <i class="key band"></i>learned normal band (fitted on '
           'the partitions before each one) <i class="key exp"></i>expected <i class="key alert"></i>alert</p>']
    if alerted:
        out.append('<div class="plots">' + "".join(plot(k, 550, 170) for k in alerted[:MAX_OPEN_PLOTS]) + "</div>")
    else:
        out.append('<p class="empty ok">No metric alerted in these partitions.</p>')
    rest = [k for k in sorted(td.series, key=lambda k: (k[0] is not None, str(k[0]), k[1]))
            if k not in alerted[:MAX_OPEN_PLOTS]]
    by_col: dict = {}
    for k in rest[:MAX_CLOSED_PLOTS]:
        by_col.setdefault(k[0], []).append(k)
    if by_col:
        out.append(f'<details class="more"><summary>All other monitored metrics ({len(rest)} in '
                   f"{len(by_col)} groups)</summary>")
        for c, keys in by_col.items():
            out.append(f'<details class="col"><summary><code>{esc(c if c is not None else "(table)")}</code> '
                       f'<span class="muted">{len(keys)} metrics</span></summary><div class="plots small">'
                       + "".join(plot(k, 350, 140) for k in keys) + "</div></details>")
        out.append(_more(len(rest) - MAX_CLOSED_PLOTS, "metrics") + "</details>")
    return "".join(out)


def _highlight(sql: str, aliases) -> str:
    """Escaped SQL with the select items producing `aliases` marked (pretty SQL: one item starts
    on a line indented by two spaces and ends with its alias)."""
    import re

    lines, start = sql.split("\n"), None
    marked: set[int] = set()
    ends = re.compile(r"\bAS [`\"]?(\w+)[`\"]?,?$")
    for i, line in enumerate(lines):
        if start is None and re.match(r"  \S", line):
            start = i
        m = ends.search(line)
        if m:
            if m.group(1) in aliases and start is not None:
                marked.update(range(start, i + 1))
            start = None
    return "\n".join(f"<mark>{esc(x)}</mark>" if i in marked else esc(x) for i, x in enumerate(lines))
