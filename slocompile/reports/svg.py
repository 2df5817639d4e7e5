"""Inline SVG for the HTML report: metric history plots and the status heatmap.

Plain strings, no plotting library: the report must open from disk with nothing else. Every piece
of text that reaches the markup (table, column and partition names, messages) goes through
``esc``; numbers are formatted here, so callers pass raw values.
"""
from __future__ import annotations

import datetime as dt
import html
import math
from typing import cast

STATUS_LABEL = {"pass": "pass", "warn": "warn", "fail": "fail", "error": "error", "none": "not checked"}


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _n(x: float) -> str:
    """A coordinate with at most one decimal (keeps long series small)."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


# ------------------------------------------------------------------ numbers and dates

def fmt_value(x, kind: str = "", digits: int = 3) -> str:
    """A metric value for axes and tooltips with `digits` significant digits; ``kind`` as in
    monitors.detect.METRICS (prop: a percentage, count: 12.3k)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if kind == "prop":
        return _plain(100 * x, digits) + "%"
    ax = abs(x)
    if kind == "count" or (ax >= 1000 and float(x).is_integer()):
        for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if ax >= div:
                return _plain(x / div, digits) + suffix
    return _plain(x, digits)


def _plain(x: float, digits: int) -> str:
    """Fixed-point with `digits` significant digits (no exponent between 1e-3 and 1e6), trailing
    zeros dropped; scientific but narrow (1.5e-5) outside that range."""
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax < 1e-3 or ax >= 1e6:
        mant, _, power = f"{x:.{max(digits - 1, 0)}e}".partition("e")
        mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
        return f"{mant}e{int(power)}"
    decimals = max(0, digits - 1 - math.floor(math.log10(ax)))
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def tick_labels(ticks: list[float], kind: str = "") -> list[str]:
    """Axis labels sharing one unit and the decimals the tick step needs (99.25%, not 99.2%)."""
    if len(ticks) < 2:
        return [fmt_value(t, kind) for t in ticks]
    scale, suffix = (100.0, "%") if kind == "prop" else (1.0, "")
    top = max(abs(t) for t in ticks)
    if kind != "prop" and (kind == "count" or all(float(t).is_integer() for t in ticks)):
        scale, suffix = next(((1 / d, s) for d, s in ((1e9, "G"), (1e6, "M"), (1e3, "k")) if top >= d), (1.0, ""))
    vals = [t * scale for t in ticks]
    step = abs(vals[1] - vals[0])
    if step < 1e-3 or top * scale >= 1e6:
        return [_plain(v, 3) + suffix for v in vals]
    decimals = next((d for d in range(9) if abs(round(step, d) - step) <= step * 1e-6), 8)
    return [("0" + (suffix if kind == "prop" else "")) if abs(v) < step * 1e-9 else f"{v:,.{decimals}f}{suffix}"
            for v in vals]


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5, 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks, t = [], first
    while t < hi + step * 0.999:
        ticks.append(round(t, 12))
        t += step
    return ticks


def partition_date(p: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(p)[:10])
    except ValueError:
        return None


def x_positions(partitions: list[str]) -> tuple[list[float], bool]:
    """x of each partition: its day number when every partition is a distinct date (gaps in the
    data then show as gaps on the axis), else its index."""
    dates = [d for d in (partition_date(p) for p in partitions) if d is not None]
    if partitions and len(dates) == len(partitions) and len(set(dates)) == len(dates):
        return [float(d.toordinal()) for d in dates], True
    return [float(i) for i in range(len(partitions))], False


def date_ticks(first: dt.date, last: dt.date, max_ticks: int = 7) -> list[dt.date]:
    """Calendar-aligned ticks: days, Mondays, or firsts of months, at most ``max_ticks``."""
    span = (last - first).days
    for step in (1, 2, 7, 14):
        if span // step + 1 <= max_ticks:
            start = first if step < 7 else first + dt.timedelta(days=(7 - first.weekday()) % 7)
            return [start + dt.timedelta(days=k) for k in range(0, span + 1, step)
                    if start + dt.timedelta(days=k) <= last]
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    for step in (1, 2, 3, 6, 12, 24, 60):
        if months // step + 1 > max_ticks:
            continue
        out, y, m = [], first.year, first.month
        while (y, m) <= (last.year, last.month):
            d = dt.date(y, m, 1)
            if d >= first and (y * 12 + m - 1) % step == 0:  # Jan, Mar, ... for 2; Januaries for 12
                out.append(d)
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        if out:
            return out
    return [first, last]


def _date_label(d: dt.date, prev: dt.date | None) -> tuple[str, str]:
    """(day label, year line): the year is shown at the first tick and where it changes."""
    year = str(d.year) if prev is None or prev.year != d.year else ""
    return d.strftime("%b %d").replace(" 0", " "), year


# ------------------------------------------------------------------ metric plots

def _segments(xs, ys) -> list[list[tuple[float, float]]]:
    """Runs of consecutive points with a value (a missing value breaks the line)."""
    out: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for x, y in zip(xs, ys):
        if y is None or not math.isfinite(y):
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append((x, y))
    if cur:
        out.append(cur)
    return out


def band_path(xs: list[float], bands: list[tuple[float, float] | None]) -> str:
    """Path data of the shaded band: one closed polygon per run of partitions that have a band,
    along the upper edge left to right and back along the lower edge (pixel coordinates)."""
    parts, run = [], []
    for x, b in list(zip(xs, bands)) + [(None, None)]:
        if b is not None and x is not None and all(math.isfinite(v) for v in b):
            run.append((x, b[0], b[1]))
            continue
        if run:
            if len(run) == 1:  # a lone band: a narrow box, so it stays visible
                x0, lo, hi = run[0]
                run = [(x0 - 2, lo, hi), (x0 + 2, lo, hi)]
            upper = [f"{_n(x)},{_n(hi)}" for x, _lo, hi in run]
            lower = [f"{_n(x)},{_n(lo)}" for x, lo, _hi in reversed(run)]
            parts.append("M" + " L".join(upper + lower) + " Z")
            run = []
    return " ".join(parts)


def series_plot(partitions: list[str], values: list[float | None], bands: list[tuple[float, float] | None],
                alerts: dict[int, str], title: str = "", kind: str = "", width: int = 560,
                height: int = 170, expected: list[float | None] | None = None) -> str:
    """One metric's history: its values as a line, the learned normal band of each partition as a
    shaded area (and the predicted value as a dashed line), and a red marker on each partition
    that alerted (``alerts``: index -> message, shown as the marker's tooltip)."""
    n = len(partitions)
    if n == 0:
        return ""
    expected = expected or [None] * n
    ml, mr, mt, mb = 56, 14, 10, 34
    pw, ph = width - ml - mr, height - mt - mb
    xs, dated = x_positions(partitions)
    x0, x1 = xs[0], xs[-1]
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    ys = [v for v in values if v is not None and math.isfinite(v)]
    ys += [v for b in bands if b is not None for v in b if math.isfinite(v)]
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if kind == "prop":
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    ticks = nice_ticks(lo, hi, 4)
    if ticks:
        lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    if hi <= lo:
        hi = lo + 1.0

    def sx(x: float) -> float:
        return ml + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return mt + ph - (min(max(y, lo), hi) - lo) / (hi - lo) * ph

    px = [sx(x) for x in xs]
    out = [f'<svg class="plot" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">']
    if title:
        out.append(f"<title>{esc(title)}</title>")
    out.append(f'<rect class="frame" x="{ml}" y="{mt}" width="{pw}" height="{ph}"/>')
    for t, label in zip(ticks, tick_labels(ticks, kind)):  # horizontal grid lines with value labels
        y = sy(t)
        out.append(f'<line class="grid" x1="{ml}" x2="{ml + pw}" y1="{_n(y)}" y2="{_n(y)}"/>'
                   f'<text class="ytick" x="{ml - 6}" y="{_n(y + 3.5)}">{esc(label)}</text>')
    out += _x_axis(partitions, xs, dated, sx, mt + ph, ml, pw)
    band_d = band_path(px, [None if b is None else (sy(b[0]), sy(b[1])) for b in bands])
    if band_d:
        out.append(f'<path class="band" d="{band_d}"><title>learned normal band</title></path>')
    for seg in _segments(px, [None if e is None else sy(e) for e in expected]):
        if len(seg) > 1:
            out.append('<path class="expected" d="M' + " L".join(f"{_n(x)},{_n(y)}" for x, y in seg) + '"/>')
    for seg in _segments(px, [None if v is None or not math.isfinite(v) else sy(v) for v in values]):
        if len(seg) > 1:
            out.append('<path class="series" d="M' + " L".join(f"{_n(x)},{_n(y)}" for x, y in seg) + '"/>')
        else:
            out.append(f'<circle class="dot" cx="{_n(seg[0][0])}" cy="{_n(seg[0][1])}" r="2"/>')
    for i, message in sorted(alerts.items()):
        v = values[i] if i < n else None
        y = sy(v) if v is not None and math.isfinite(v) else mt + ph
        tip = f"{partitions[i]}: {message}" if message else f"{partitions[i]}: alert"
        out.append(f'<g class="alert-marker"><line class="alert-rule" x1="{_n(px[i])}" x2="{_n(px[i])}" '
                   f'y1="{mt}" y2="{mt + ph}"/><circle cx="{_n(px[i])}" cy="{_n(y)}" r="4.5"/>'
                   f"<title>{esc(tip)}</title></g>")
    out.append("</svg>")
    return "".join(out)


def _x_axis(partitions, xs, dated, sx, y_axis, ml, pw) -> list[str]:
    out = []
    if dated:
        # dated: every partition is a date (x_positions)
        first, last = cast(dt.date, partition_date(partitions[0])), cast(dt.date, partition_date(partitions[-1]))
        prev = None
        for d in date_ticks(first, last, max(2, int(pw // 65))):
            x = sx(float(d.toordinal()))
            day, year = _date_label(d, prev)
            prev = d
            out.append(f'<line class="tick" x1="{_n(x)}" x2="{_n(x)}" y1="{y_axis}" y2="{y_axis + 4}"/>'
                       f'<text class="xtick" x="{_n(x)}" y="{y_axis + 15}">{esc(day)}</text>')
            if year:
                out.append(f'<text class="xyear" x="{_n(x)}" y="{y_axis + 27}">{esc(year)}</text>')
        return out
    k = max(1, math.ceil(len(partitions) / max(2, int(pw // 90))))
    for i in range(len(partitions) - 1, -1, -k):  # label the newest partition, then every k-th back
        x = sx(xs[i])
        label = str(partitions[i])
        label = label if len(label) <= 14 else label[:13] + "…"
        out.append(f'<line class="tick" x1="{_n(x)}" x2="{_n(x)}" y1="{y_axis}" y2="{y_axis + 4}"/>'
                   f'<text class="xtick" x="{_n(x)}" y="{y_axis + 15}">{esc(label)}</text>')
    return out


# ------------------------------------------------------------------ status heatmap

def heatmap(rows: list[tuple[str, str]], columns: list[str], cells: dict[tuple[int, int], tuple[str, str]],
            whole_table: dict[int, tuple[str, str]] | None = None, unpartitioned: set[int] | frozenset = frozenset(),
            width: int = 1160) -> str:
    """Tables (rows: (label, link)) x partitions (columns), one coloured cell per status.

    ``cells[(row, column)]`` and ``whole_table[row]`` are (status, tooltip); a missing partition
    cell is drawn as "not checked", except on the rows of ``unpartitioned`` tables. The whole-table
    column (checks without a partition, and unpartitioned tables) comes first when given."""
    whole_table = whole_table or {}
    label_w = min(240, 16 + 7 * max((len(label) for label, _ in rows), default=8))
    lead = 54 if whole_table else 0
    n = len(columns)
    cw = max(5.0, min(20.0, (width - label_w - lead - 8) / max(n, 1)))
    ch, top = 22, 44
    w = int(label_w + lead + cw * n + 30)  # room for the newest partition's label
    h = top + ch * len(rows) + 4
    out = [f'<svg class="heatmap" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
           'aria-label="status per table and partition">']
    if whole_table:
        out.append(f'<text class="colhead" x="{label_w + lead / 2 - 3}" y="{top - 8}">table</text>')
    k = max(1, math.ceil(52 / cw))
    labelled = list(range(n - 1, -1, -k))[::-1]  # the newest partition and every k-th one before it
    for pos, j in enumerate(labelled):
        x = label_w + lead + cw * j + cw / 2
        d = partition_date(columns[j])
        text = _date_label(d, None)[0] if d else str(columns[j])[:10]
        out.append(f'<line class="tick" x1="{_n(x)}" x2="{_n(x)}" y1="{top - 5}" y2="{top - 1}"/>'
                   f'<text class="colhead" x="{_n(x)}" y="{top - 8}">{esc(text)}</text>')
        before = partition_date(columns[labelled[pos - 1]]) if pos else None
        if d and (pos == 0 or before is None or before.year != d.year):
            out.append(f'<text class="colyear" x="{_n(x)}" y="{top - 22}">{d.year}</text>')
    for i, (label, link) in enumerate(rows):
        y = top + ch * i
        shown = label if len(label) <= 32 else label[:31] + "…"
        out.append(f'<a href="{esc(link)}"><text class="rowhead" x="{label_w - 10}" y="{y + ch / 2 + 4}">'
                   f"<title>{esc(label)}</title>{esc(shown)}</text></a>")
        if i in whole_table:
            status, tip = whole_table[i]
            out.append(_cell(label_w + 4, y + 2, lead - 12, ch - 4, status, tip, link))
        if i in unpartitioned:
            continue
        for j in range(n):
            status, tip = cells.get((i, j), ("none", f"{label} · {columns[j]}: not checked"))
            out.append(_cell(label_w + lead + cw * j + 0.5, y + 2, max(cw - 1.5, 2), ch - 4, status, tip, link))
    out.append("</svg>")
    return "".join(out)


def _cell(x, y, w, h, status, tip, link) -> str:
    status = status if status in STATUS_LABEL else "none"
    return (f'<a href="{esc(link)}"><rect class="cell s-{status}" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" '
            f'height="{_n(h)}" rx="2"><title>{esc(tip)}</title></rect></a>')


# ------------------------------------------------------------------ the stylesheet

# The report page's one stylesheet (inline: the page loads nothing). The SVG above draws only
# classes (band, series, alert-marker, cell s-<status>, ...); their colours live here.
STYLE = """
:root{--pass:#2f9e5b;--warn:#e09b13;--fail:#d33f36;--error:#8a4fbf;--none:#e3e6ea;--ink:#1d2430;--muted:#667085;
--line:#e4e7ec;--bg:#f6f7f9;--accent:#2563eb}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#101828;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px;font-weight:650}
header h1 span{font-weight:400;color:#98a2b3;font-size:17px;margin-left:6px}header p{margin:6px 0 0;color:#d0d5dd}
header code{color:#fff}
nav{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);padding:8px 32px;
display:flex;flex-wrap:wrap;gap:6px 18px}nav a{color:var(--ink);text-decoration:none;font-weight:550}
nav a:hover{color:var(--accent)}
section{background:#fff;margin:18px 32px;padding:18px 24px;border:1px solid var(--line);border-radius:10px}
h2{font-size:18px;margin:18px 0 10px}section>h2:first-child{margin-top:4px}
h3{font-size:15px;margin:20px 0 8px}h3 small{color:var(--muted);font-weight:500}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:7px;vertical-align:0;
background:var(--none)}.dot.s-pass{background:var(--pass)}.dot.s-warn{background:var(--warn)}
.dot.s-fail{background:var(--fail)}.dot.s-error{background:var(--error)}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:6px}.card{flex:1;min-width:150px;border:1px solid var(--line);
border-left:5px solid var(--none);border-radius:8px;padding:10px 14px}.card .v{font-size:24px;font-weight:650}
.card .k{color:var(--muted)}.card.s-pass{border-left-color:var(--pass)}.card.s-warn{border-left-color:var(--warn)}
.card.s-fail{border-left-color:var(--fail)}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;
background:#98a2b3;line-height:18px;vertical-align:1px}.badge.s-pass{background:var(--pass)}
.badge.s-warn{background:var(--warn)}.badge.s-fail{background:var(--fail)}.badge.s-error{background:var(--error)}
.badge.s-none{background:var(--none);color:var(--ink)}
.muted,.legend,.facts{color:var(--muted)}.legend{font-size:13px}.empty{color:var(--muted);font-style:italic}
.ok{color:var(--pass)}
.scroll{overflow-x:auto}
table.data{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
table.data th{text-align:left;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:5px 8px}
table.data td{border-bottom:1px solid #f0f1f3;padding:5px 8px;vertical-align:top}.num{text-align:right}
td.msg{max-width:520px}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f2f4f7;padding:0 4px;
border-radius:4px}header code{background:#1d2939}
details.check{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:8px 0}
details>summary{cursor:pointer}details.check>summary .name{font-size:14.5px}
details.sql summary{color:var(--accent);font-size:13px;margin-top:4px}details.sql summary code{color:var(--ink)}
pre.sql mark{background:#334155;color:#fde68a;border-radius:2px}
pre.sql{background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:6px;overflow:auto;max-height:340px;
font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:4px 0 8px}
ul.alerts{margin:4px 0 0;padding-left:18px}ul.alerts li{margin:2px 0}
.plots{display:flex;flex-wrap:wrap;gap:10px}
figure.plot{margin:0;box-sizing:content-box;border:1px solid var(--line);border-radius:8px;padding:8px 8px 2px}
figure.plot.big{width:550px}figure.plot.small{width:350px}
figure.plot figcaption{font-weight:600;font-size:13px;margin:0 0 2px 4px}
details.more{margin-top:12px}details.more>summary{font-weight:600;color:var(--accent)}
details.col{margin:6px 0 6px 14px}details.rest>summary{color:var(--accent);font-size:13px}
table.data td:first-child{white-space:nowrap}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#475467}
svg .ytick{text-anchor:end}svg .xtick,svg .xyear,svg .colhead,svg .colyear{text-anchor:middle}
svg .xyear,svg .colyear{fill:#98a2b3;font-size:10px}svg .rowhead{text-anchor:end;font-weight:600;fill:var(--ink)}
svg .frame{fill:#fff;stroke:var(--line)}svg .grid{stroke:#eef0f3}svg .tick{stroke:#98a2b3}
svg .band{fill:#2563eb;fill-opacity:.14;stroke:#2563eb;stroke-opacity:.25;stroke-width:.6}
svg .expected{fill:none;stroke:#2563eb;stroke-opacity:.55;stroke-dasharray:3 3;stroke-width:1}
svg .series{fill:none;stroke:#1d2430;stroke-width:1.6;stroke-linejoin:round}svg .dot{fill:#1d2430}
svg .alert-marker circle{fill:var(--fail);stroke:#fff;stroke-width:1.5}
svg .alert-rule{stroke:var(--fail);stroke-opacity:.35;stroke-dasharray:2 2}
svg .cell{fill:var(--none)}svg .cell.s-pass{fill:var(--pass)}svg .cell.s-warn{fill:var(--warn)}
svg .cell.s-fail{fill:var(--fail)}svg .cell.s-error{fill:var(--error)}svg a:hover .cell{stroke:#101828;stroke-width:1.5}
.key{display:inline-block;width:18px;height:10px;margin:0 4px 0 12px;vertical-align:0}
.key.line{border-top:2px solid #1d2430;height:0;vertical-align:3px}.key.band{background:rgba(37,99,235,.18)}
.key.exp{border-top:1px dashed #2563eb;height:0;vertical-align:3px}
.key.alert{width:10px;height:10px;border-radius:50%;background:var(--fail)}
"""
