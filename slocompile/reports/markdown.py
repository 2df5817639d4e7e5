"""`slocompile report --format markdown`: a summary for a CI job summary or a pull-request comment.

The latest run, then per table the checks that do not pass now (observed against expected, the
partition) and its monitor incidents, and a link to the HTML report when one is given. Read from
the meta schema like the HTML report (reports.reportdata), read-only. GitHub's job summary takes
it as it is: `slocompile report --format markdown >> "$GITHUB_STEP_SUMMARY"`.
"""
from __future__ import annotations

import json

from slocompile.reports.reportdata import ReportData, load, open_target
from slocompile.run.destinations import short_value
from slocompile.support.secrets import redact

MAX_ROWS = 50  # per table; GitHub takes a job summary of up to 1 MiB
MAX_CELL = 120
MAX_SAMPLES = 5  # failed-row samples shown per check (the report shows them all)


def _cell(value) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    try:  # observed is stored as JSON text
        parsed = json.loads(text)
        if isinstance(parsed, float):
            text = f"{parsed:g}"
        elif isinstance(parsed, dict):  # a row rule's {rows, fraction, total}
            text = short_value(parsed)
    except ValueError:
        pass
    text = " ".join(str(text).split())
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL - 3] + "..."
    return text.replace("|", "\\|").replace("<", "&lt;")


def render(rep: ReportData, report_url: str | None = None) -> str:
    lines = [f"## slocompile: {rep.project} ({rep.target})", ""]
    if rep.runs:
        r = rep.runs[0]
        verdict = {"pass": "✅ passed", "fail": "❌ failed"}.get(r["status"], r["status"])
        lines += [f"Latest run `{r['run_id']}` {verdict}: {r['passed']} passed, {r['failed']} failed, "
                  f"{r['warned']} warned, {r['errored']} errored.", ""]
    else:
        lines += ["No run recorded yet.", ""]
    bad_tables = [td for td in rep.tables if td.bad]
    if not bad_tables:
        lines += ["Every check of the latest builds passes.", ""]
    for td in bad_tables:
        fails = sum(r["status"] in ("fail", "error") for r in td.bad)
        warns = len(td.bad) - fails
        lines += [f"### `{td.spec.name}`: {fails} failing, {warns} warning{'s' if warns != 1 else ''}", "",
                  "| status | check | column | partition | observed | expected |", "|---|---|---|---|---|---|"]
        order = {"fail": 0, "error": 1, "warn": 2}
        rows = sorted(td.bad, key=lambda r: (order.get(r["status"], 3), r["check_name"], r["partition"] or ""))
        for r in rows[:MAX_ROWS]:
            lines.append(f"| {r['status']} | `{_cell(r['check_name'])}` | {_cell(r['column_name'])} | "
                         f"{_cell(r['partition'])} | {_cell(r['observed'])} | {_cell(r['expected'])} |")
        if len(rows) > MAX_ROWS:
            lines.append(f"| | ... and {len(rows) - MAX_ROWS} more | | | | |")
        lines.append("")
        lines += _samples(td.failed_rows)
    incidents = [(td.spec.name, i) for td in rep.tables for i in td.incidents]
    if incidents:
        lines += ["### Monitor incidents", "", "| table | partition | incident | cause | columns | alerts |",
                  "|---|---|---|---|---|---|"]
        for table, i in incidents[:MAX_ROWS]:
            lines.append(f"| `{table}` | {_cell(i['partition'])} | {_cell(i['incident'])} | {_cell(i['cause'])} | "
                         f"{_cell(i['columns'])} | {_cell(i['alerts'])} |")
        lines.append("")
    if report_url:
        lines += [f"[Open the full report]({report_url})", ""]
    return redact("\n".join(lines))


def _samples(failed_rows: dict) -> list[str]:
    """The failed-row samples of a table's failing checks (run.failures), a few per check, folded
    (<details>: a pull-request comment stays short)."""
    out = []
    for check, rows in sorted(failed_rows.items()):
        if not rows:
            continue
        names = list(dict.fromkeys(n for r in rows for n in r["values"]))
        out += [f"<details><summary>Failed rows of <code>{_cell(check)}</code> ({len(rows)} sampled)</summary>",
                "", "| partition | " + " | ".join(_cell(n) for n in names) + " |",
                "|---|" + "---|" * len(names)]
        for r in rows[:MAX_SAMPLES]:
            out.append(f"| {_cell(r['partition'])} | "
                       + " | ".join(_cell(json.dumps(r["values"].get(n), default=str)) for n in names) + " |")
        if len(rows) > MAX_SAMPLES:
            out.append(f"| ... and {len(rows) - MAX_SAMPLES} more |" + " |" * len(names))
        out += ["", "</details>", ""]
    return out


def write_markdown(spec, target_name: str | None = None, select: list[str] | None = None,
                   report_url: str | None = None) -> str:
    """The markdown summary of a target's meta schema (read-only)."""
    from slocompile.run import selection

    tables = selection.selected(spec, select)
    target = selection.target(spec, target_name)
    engine, where = open_target(spec, target)
    try:
        rep = load(engine, spec, target, tables)
        rep.where = where
    finally:
        engine.close()
    return render(rep, report_url)
