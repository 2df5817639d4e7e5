"""`slocompile report` (issue 6): one self-contained HTML page from the meta schema.

A small partitioned table with `monitor: all` gets 22 days in one build; day 18 has a feature-job
outage (a column NULL on every row), so a not_null SLO fails and the monitors alert. Names are
hostile on purpose (a table and a check called `<script>...`, a column with markup in its name):
the page must show them as text. The page is checked as text, then rendered by a real headless
Chromium (`--dump-dom` for the rendered DOM, `--screenshot` for a PNG kept as a test artifact in
$SLOCOMPILE_TEST_ARTIFACTS, default the test's tmp dir). Without /usr/bin/chromium that test is
skipped, unless SLOCOMPILE_REQUIRE_BROWSER=1 (CI), where it fails.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from proj import cli, sql, write

from slocompile.api import Project
from slocompile.reports import svg

DAY0 = dt.date(2026, 3, 1)
DAYS, FAULT = 22, 18
COLUMN = "age <b>x</b>"
TABLE = "feat <script>alert(1)</script>"
CHECK = "<script>alert('x')</script>"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def day(i: int) -> str:
    return (DAY0 + dt.timedelta(days=i)).isoformat()


ROWS = f"""
    SELECT DATE '{DAY0}' + CAST(d AS INTEGER) AS ds, CAST(u AS INTEGER) AS user_id,
           CASE WHEN d = {FAULT} THEN NULL ELSE 18 + (u * 7919 + d * 104729) % 60 END AS "{COLUMN}",
           ((u * 2654435761 + d * 40503) % 1000) / 1000.0 AS score,
           ['US', 'DE', 'FR', 'IN', 'BR'][1 + (u * 31 + d * 17) % 5] AS country
    FROM range(0, {DAYS}) t(d), range(0, 300) s(u)
    WHERE u < 260 + (d * 37) % 40"""

TABLES = [
    {"name": TABLE, "relation": "raw.feat", "partition": "ds", "key": ["user_id"], "gate": "filter",
     "monitor": "all",
     "checks": [{"row_count": {"min": 100}}, {"row_count": {"max": 290, "severity": "warn", "name": "not_too_many"}}],
     "columns": [{"name": COLUMN, "checks": [{"not_null": {"max_fraction": 0.5, "name": CHECK}}]}]},
    {"name": "dims", "relation": "raw.dims", "checks": [{"row_count": {"min": 10}}]},
]


def digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(project root, report path, report text) after one build and one `slocompile report`."""
    root = write(tmp_path_factory.mktemp("report") / "p", TABLES)
    sql(root, [f"CREATE TABLE raw.feat AS {ROWS} ORDER BY ds, user_id",
               "CREATE TABLE raw.dims AS SELECT range AS id FROM range(3)"])
    run = Project.load(root).build(write=False)
    assert run.exit_code == 1  # the outage fails not_null; dims is too small
    db = os.path.join(root, "warehouse.duckdb")
    before = digest(db)
    proc = cli(root, "report")
    assert proc.returncode == 0, proc.stderr
    path = os.path.join(root, "target", "report.html")
    assert proc.stdout.strip() == path
    assert digest(db) == before and not os.path.exists(db + ".wal")  # read-only: the file is untouched
    with open(path, encoding="utf-8") as fh:
        return root, path, fh.read()


# ------------------------------------------------------------------ the page as text

def test_page_is_self_contained(built):
    _, _, text = built
    assert text.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "<script" not in text and "<link" not in text and "@import" not in text and "url(" not in text
    assert not re.search(r"\bsrc\s*=", text)  # no image, frame or script source of any kind
    hrefs = re.findall(r"\bhref\s*=\s*\"([^\"]*)\"", text)
    assert hrefs and all(h.startswith("#") for h in hrefs), [h for h in hrefs if not h.startswith("#")]
    assert "http://" not in text and "https://" not in text  # nothing on this page is a URL


def test_page_escapes_user_names(built):
    _, _, text = built
    assert "feat &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "age &lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text


def test_page_content(built):
    _, _, text = built
    # the status grid: both tables, the failed partition, the whole-table failure of dims
    assert 'class="heatmap"' in text and "cell s-fail" in text and "cell s-warn" in text
    assert f"{day(FAULT)}: fail" in text and "dims · whole table: fail" in text
    # the failed check with its result and the SQL that measured it
    assert "286 of 286 rows (100.00%) violate not_null; expected &lt;= 50.00%" in text
    assert 'IS NULL' in text and "FROM &quot;raw&quot;.&quot;feat&quot;" in text
    # the warned check, and the incident with its alert messages
    assert "not_too_many" in text and "row count is 297; expected &lt;= 290" in text
    assert f"missing fraction of age &lt;b&gt;x&lt;/b&gt; rose from 0% to 100% on {day(FAULT)}" in text
    # plots: a band and an alert marker on the outage
    assert text.count('<svg class="plot"') >= 10
    assert 'class="band"' in text and 'class="alert-marker"' in text and 'class="expected"' in text


def test_bands_are_the_ones_the_build_judged_with(built):
    """The band replayed for an alerted partition is the band its alert reported."""
    from slocompile.monitors import METRICS
    from slocompile.monitors.incidents import expected_text
    from slocompile.reports import reportdata

    root, _, _ = built
    project = Project.load(root)
    target = project.spec.targets["local"]
    engine, _ = reportdata.open_target(project.spec, target)
    try:
        rep = reportdata.load(engine, project.spec, target, list(project.spec.tables))
    finally:
        engine.close()
    td = rep.tables[0]
    assert td.window == [day(i) for i in range(DAYS)] and len(td.alerts) >= 2
    for a in td.alerts:
        lo, hi, _ = td.bands[(a["column_name"], a["metric"])][a["partition"]]
        band = expected_text({"band": [lo, hi], "metric": a["metric"], "kind": METRICS[a["metric"]].kind})
        assert band == a["expected"], a["message"]
    learned = td.bands[(None, "row_count")]
    assert day(13) not in learned and day(14) in learned  # 14 partitions of history before a band


def test_api_select_and_output(built, tmp_path):
    root, _, _ = built
    out = str(tmp_path / "sub" / "dims.html")
    assert Project.load(root).report(select=["dims"], output=out) == out
    with open(out, encoding="utf-8") as fh:
        text = fh.read()
    assert "dims" in text and "feat &lt;script" not in text and "row count is 3; expected &gt;= 10" in text
    proc = cli(root, "report", "--select", "nope")
    assert proc.returncode == 2 and "unknown table 'nope'" in proc.stderr


# ------------------------------------------------------------------ errors: exit 2, no traceback

def test_never_built_project_exits_2(tmp_path):
    root = write(tmp_path / "p", TABLES)
    proc = cli(root, "report")
    assert proc.returncode == 2 and "does not exist; run `slocompile build` first" in proc.stderr, proc.stderr
    sql(root, [f"CREATE TABLE raw.feat AS {ROWS}", "CREATE TABLE raw.dims AS SELECT 1 AS id"])
    proc = cli(root, "report")  # data, but no meta schema
    assert proc.returncode == 2, proc.stderr
    assert "no slocompile history in schema 'slo'" in proc.stderr and "slocompile build" in proc.stderr
    assert "Traceback" not in proc.stderr and not os.path.exists(os.path.join(root, "target", "report.html"))
    proc = cli(root, "report", "--target", "prod")
    assert proc.returncode == 2 and "unknown target 'prod'" in proc.stderr


def test_report_on_postgres(tmp_path):
    """The same queries rendered for Postgres (CI starts a server and sets SLOCOMPILE_PG_DSN)."""
    dsn = os.environ.get("SLOCOMPILE_PG_DSN")
    if not dsn:
        if "postgres" in os.environ.get("SLOCOMPILE_REQUIRE_ENGINES", ""):
            pytest.fail("SLOCOMPILE_PG_DSN is not set but postgres is required (SLOCOMPILE_REQUIRE_ENGINES)")
        pytest.skip("SLOCOMPILE_PG_DSN is not set: no Postgres server to report on")
    psycopg = pytest.importorskip("psycopg")
    import uuid

    import yaml

    tag = uuid.uuid4().hex[:8]
    schemas = {"validated": f"validated_{tag}", "quarantine": f"quarantine_{tag}", "meta": f"slo_{tag}"}
    raw = f"raw_{tag}"
    root = write(tmp_path / "p", [{"name": "orders", "relation": f"{raw}.orders", "partition": "ds", "checks": [
        {"row_count": {"min": 3}}], "columns": [{"name": "amount", "checks": [{"between": {"min": 0, "max": 100}}]}]}])
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as fh:
        fh.write(yaml.safe_dump({"name": "pg_report", "target": "pg", "schemas": schemas})
                 + "targets:\n  pg: {type: postgres, dsn: \"{{ env_var('SLOCOMPILE_PG_DSN') }}\"}\n")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{raw}"')
        con.execute(f'CREATE TABLE "{raw}".orders AS SELECT DATE \'2026-01-01\' + (g % 3) AS ds, g AS id, '
                    f"(g * 7) % 120 AS amount FROM generate_series(1, 30) g")
    try:
        proc = cli(root, "report")
        assert proc.returncode == 2 and f"no slocompile history in schema 'slo_{tag}'" in proc.stderr, proc.stderr
        assert cli(root, "build").returncode == 1
        proc = cli(root, "report")
        assert proc.returncode == 0, proc.stderr
        with open(proc.stdout.strip(), encoding="utf-8") as fh:
            text = fh.read()
        assert "target <b>pg</b> (postgres)" in text and "between_amount" in text and "cell s-fail" in text
        assert f"FROM &quot;{raw}&quot;.&quot;orders&quot;" in text and "violate between" in text
    finally:
        with psycopg.connect(dsn, autocommit=True) as con:
            for schema in [raw, *schemas.values()]:
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ------------------------------------------------------------------ the page in a real browser

def _artifacts(tmp_path) -> str:
    path = os.environ.get("SLOCOMPILE_TEST_ARTIFACTS") or str(tmp_path)
    os.makedirs(path, exist_ok=True)
    return path


def _chromium(*args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="slocompile-chromium-")
    try:
        return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_report_renders_in_chromium(built, tmp_path):
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is not installed (Debian package 'chromium'): the report is not rendered"
        if os.environ.get("SLOCOMPILE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and SLOCOMPILE_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    _, path, _ = built
    url = "file://" + os.path.abspath(path)
    proc = _chromium("--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "data quality report" in dom
    assert "<script" not in dom and "<b>x</b>" not in dom  # user names stayed text
    assert "feat &lt;script&gt;alert(1)&lt;/script&gt;" in dom and "dims" in dom
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in dom                     # the failed check ...
    assert '"age &lt;b&gt;x&lt;/b&gt;" IS NULL' in dom and 'FROM "raw"."feat"' in dom  # ... and its SQL
    assert f"missing fraction of age &lt;b&gt;x&lt;/b&gt; rose from 0% to 100% on {day(FAULT)}" in dom
    assert dom.count('<svg class="plot"') >= 10 and '<path class="band"' in dom
    marker = re.search(r'<g class="alert-marker">.*?<title>([^<]*)</title>', dom)
    assert marker and marker.group(1).startswith(day(FAULT))

    out = _artifacts(tmp_path)
    png = os.path.join(out, "report.png")
    proc = _chromium(f"--screenshot={png}", "--window-size=1280,2000", url)
    assert proc.returncode == 0 and os.path.exists(png), proc.stderr[-2000:]
    with open(png, "rb") as fh:
        head = fh.read(24)
    assert head.startswith(b"\x89PNG") and int.from_bytes(head[16:20], "big") == 1280
    assert os.path.getsize(png) > 20_000  # a rendered page, not a blank one
    shutil.copy(path, os.path.join(out, "report.html"))
    print(f"report screenshot: {png}")


# ------------------------------------------------------------------ svg.py

def test_band_path_polygons():
    d = svg.band_path([0.0, 10.0, 20.0, 30.0, 40.0], [(50.0, 20.0), (60.0, 25.0), None, (70.0, 30.0), None])
    # upper edge (hi) left to right, then lower edge (lo) back; a lone band becomes a narrow box
    assert d == "M0,20 L10,25 L10,60 L0,50 Z M28,30 L32,30 L32,70 L28,70 Z"
    assert svg.band_path([0.0, 1.0], [None, None]) == ""


def _numbers(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path)]


def test_series_plot_maps_band_and_marks_alerts():
    parts = [day(i) for i in range(5)]
    out = svg.series_plot(parts, [1.0, 2.0, 3.0, None, 10.0], [None, (1.0, 3.0), (2.0, 4.0), (2.0, 4.0), (2.5, 4.5)],
                          {4: "row count rose"}, title="row count", width=400, height=200)
    ml, mt, pw, ph = 56, 10, 400 - 56 - 14, 200 - 10 - 34   # the plot's margins
    band = re.search(r'<path class="band" d="([^"]*)"', out).group(1)
    pts = _numbers(band)
    xs = sorted({x for x, _ in pts})
    assert xs[0] == pytest.approx(ml + pw / 4, abs=0.1) and xs[-1] == pytest.approx(ml + pw, abs=0.1)
    # y: 0 at the bottom of the plot, 10 (the largest value, a tick) at the top
    y_of = {round(y, 1) for _, y in pts}
    assert round(mt + ph - 4.5 / 10 * ph, 1) in y_of and round(mt + ph - 1.0 / 10 * ph, 1) in y_of
    marker = re.search(r'<g class="alert-marker">.*?<circle cx="([\d.]+)" cy="([\d.]+)"', out)
    assert float(marker.group(1)) == pytest.approx(ml + pw) and float(marker.group(2)) == pytest.approx(mt, abs=0.1)
    assert f"<title>{day(4)}: row count rose</title>" in out
    assert out.count('<path class="series"') == 1 and '<circle class="dot"' in out  # the gap splits the line
    assert "Mar 1" in out and ">2026<" in out  # dated axis, the year under the first tick


def test_svg_escapes_hostile_text():
    hostile = '<script>alert("x")</script>&'
    out = svg.series_plot([hostile, "b"], [1.0, 2.0], [None, None], {1: hostile}, title=hostile)
    grid = svg.heatmap([(hostile, "#t0")], ["2026-01-01", hostile], {(0, 1): ("fail", hostile)},
                       {0: ("warn", hostile)})
    for text in (out, grid):
        assert "<script" not in text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in text
    assert 'class="cell s-fail"' in grid and 'class="cell s-warn"' in grid and 'class="cell s-none"' in grid
    assert 'class="cell s-<' not in svg.heatmap([("t", "#t0")], ["p"], {(0, 0): ("<x>", "tip")})


def test_number_and_date_formats():
    assert svg.tick_labels([0.99, 0.9925, 0.995, 0.9975, 1.0], "prop") == ["99.00%", "99.25%", "99.50%", "99.75%",
                                                                          "100.00%"]
    assert svg.tick_labels([0, 10000, 20000], "count") == ["0", "10k", "20k"]
    assert svg.tick_labels([0, 2e-5, 4e-5]) == ["0", "2e-5", "4e-5"]
    assert svg.fmt_value(0.005, "prop") == "0.5%" and svg.fmt_value(2068.7, "count") == "2.07k"
    assert svg.fmt_value(float("nan")) == "n/a" and svg.fmt_value(12.345) == "12.3"
    assert svg.nice_ticks(0, 1, 4) == [0, 0.25, 0.5, 0.75, 1.0]
    mondays = svg.date_ticks(dt.date(2026, 3, 1), dt.date(2026, 4, 14), 7)
    assert mondays[0] == dt.date(2026, 3, 2) and all(d.weekday() == 0 for d in mondays)
    months = svg.date_ticks(dt.date(2025, 1, 15), dt.date(2026, 1, 15), 7)
    assert all(d.day == 1 for d in months) and len(months) <= 7
    first = float(dt.date(2026, 3, 1).toordinal())
    assert svg.x_positions(["2026-03-01", "2026-03-03"]) == ([first, first + 2], True)  # gaps stay gaps
    assert svg.x_positions(["a", "b"]) == ([0.0, 1.0], False)
