#!/usr/bin/env python3
"""Incremental monitor benchmark: one daily `build` vs one scan of the new partition.

For each history length (30, 90 and 365 partitions by default) a DuckDB table of ~20,000 rows a
partition and 15 columns (ids, counts, amounts, scores, categories, a flag, a timestamp, free
text) is generated with DuckDB SQL; a project declares it with `partition: ds`, `key: [user_id]`,
`monitor: all` and a few checks; the first build learns the history of every partition. Then,
`--days` times: one new partition is appended and one `build` runs (Project.build in-process,
artifacts written). Printed per history length (medians over the days):

  build      seconds of the incremental build (checks, monitors, meta writes, views, artifacts)
  monitors   of which the monitors (profile the new partition, judge, from history in the meta schema)
  scan       seconds of a plain aggregate over the new partition alone (count, and count/min/max of
             every column: every column read once)
  ratio      build / scan
  fixed      seconds of a build with nothing new to check (compile, catalog, statuses, publish,
             artifacts): the part that does not depend on the partition, plus the scan that notices
             changed partitions
  fp scan    of which the content fingerprints: row count and summed row hash per partition over the
             whole table (what an unchanged table costs a build; it grows with the table)
  view 1p    seconds of reading one partition through the validated view (gate filter: the view
             hashes that partition to verify it is still what was checked), vs `scan`
  view all   seconds of reading the whole table through it (one hashed scan of every partition)
  target     build <= 2 x scan + 1 s, and fixed (an unchanged table) <= 2 x scan + 1 s; and
             independent of history length (but for the fingerprint scan)

    python benchmarks/monitor_incremental.py                    # 30, 90, 365 partitions
    python benchmarks/monitor_incremental.py --partitions 30 --rows 5000 --days 2

A script that prints figures, not a test.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from slocompile.api import Project  # noqa: E402
from slocompile.dialects.render import render  # noqa: E402
from slocompile.sqltrees.content import partition_contents  # noqa: E402

DAY0 = dt.date(2025, 1, 1)
COLUMNS = ["ds", "user_id", "age", "sessions_7d", "purchases_30d", "spend_30d", "avg_order_value", "score",
           "ctr", "country", "device", "plan", "is_active", "feature_ts", "note"]


def rows_sql(first: int, last: int, rows: int) -> str:
    """Days first..last (inclusive), `rows` users each, every value a hash of (day, user)."""
    h = "CAST(hash(d, u, {k}) % 1000003 AS BIGINT)"
    return f"""
        SELECT DATE '{DAY0}' + CAST(d AS INTEGER) AS ds,
               CAST(u AS BIGINT) AS user_id,
               CAST(18 + {h.format(k=1)} % 60 AS INTEGER) AS age,
               CAST({h.format(k=2)} % 40 AS INTEGER) AS sessions_7d,
               CAST(CASE WHEN {h.format(k=3)} % 3 = 0 THEN {h.format(k=4)} % 12 ELSE 0 END AS INTEGER) AS purchases_30d,
               CASE WHEN {h.format(k=5)} % 200 = 0 THEN NULL
                    ELSE round(exp(3 + ({h.format(k=6)} % 1000) / 250.0), 2) END AS spend_30d,
               round(20 + ({h.format(k=7)} % 10000) / 100.0, 2) AS avg_order_value,
               ({h.format(k=8)} % 100000) / 100000.0 AS score,
               ({h.format(k=9)} % 1000) / 10000.0 AS ctr,
               ['US', 'DE', 'FR', 'IN', 'BR', 'JP', 'GB', 'MX'][1 + {h.format(k=10)} % 8] AS country,
               ['ios', 'android', 'web'][1 + {h.format(k=11)} % 3] AS device,
               ['free', 'basic', 'pro'][1 + {h.format(k=12)} % 3] AS plan,
               {h.format(k=13)} % 4 = 0 AS is_active,
               TIMESTAMP '{DAY0} 20:00:00' + to_days(CAST(d AS INTEGER))
                   + to_seconds(CAST({h.format(k=14)} % 14400 AS BIGINT)) AS feature_ts,
               'user ' || CAST({h.format(k=15)} % 100000 AS VARCHAR) AS note
        FROM range({first}, {last + 1}) t(d), range(0, {rows}) s(u)"""


PROJECT = """name: monitor_incremental
targets: {local: {type: duckdb, path: warehouse.duckdb}}
"""
TABLES = """tables:
  - name: features
    relation: raw.features
    partition: ds
    key: [user_id]
    gate: filter
    monitor: all
    checks:
      - row_count: {min: 1000}
    columns:
      - name: spend_30d
        checks:
          - not_null: {max_fraction: 0.05}
      - name: age
        checks:
          - between: {min: 0, max: 120}
"""


def scan_seconds(path: str, day: str, repeat: int = 5) -> float:
    """Median seconds of a plain aggregate over one partition (every column read once)."""
    aggs = ["count(*)"] + [f"count({c}), min({c}), max({c})" for c in COLUMNS if c != "ds"]
    return best_seconds(path, f"SELECT {', '.join(aggs)} FROM raw.features WHERE ds = DATE '{day}'", repeat)


def best_seconds(path: str, q: str, repeat: int = 5) -> float:
    """Median seconds of query `q` (warmed once)."""
    con = duckdb.connect(path, read_only=True)
    try:
        con.execute(q).fetchall()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            con.execute(q).fetchall()
            times.append(time.perf_counter() - t)
        return statistics.median(times)
    finally:
        con.close()


def fingerprint_seconds(path: str, project: Project) -> float:
    """The content-fingerprint query a build runs over the whole table."""
    table = project.spec.tables[0]
    return best_seconds(path, render(partition_contents(table, COLUMNS), "duckdb"), repeat=3)


def view_seconds(path: str, day: str) -> tuple[float, float]:
    """One partition, and the whole table, read through the validated view (count and a sum)."""
    q = "SELECT count(*), sum(spend_30d) FROM validated.features"
    return best_seconds(path, f"{q} WHERE ds = DATE '{day}'"), best_seconds(path, q, repeat=3)


def run(n: int, rows: int, days: int, work: Path) -> dict:
    root = work / f"p{n}"
    (root / "slos").mkdir(parents=True)
    (root / "slocompile.yml").write_text(PROJECT)
    (root / "slos" / "features.yml").write_text(TABLES)
    path = str(root / "warehouse.duckdb")
    t = time.perf_counter()
    con = duckdb.connect(path)
    con.execute("CREATE SCHEMA raw")
    con.execute(f"CREATE TABLE raw.features AS {rows_sql(0, n - 1, rows)} ORDER BY ds, user_id")
    con.close()
    generate = time.perf_counter() - t
    project = Project.load(str(root))
    t = time.perf_counter()
    first = project.build()
    history = time.perf_counter() - t
    assert len(first.monitors["features"].judged) == n
    builds, monitors, scans, fixed, fps, views1, views_all = [], [], [], [], [], [], []
    for i in range(days):
        d = n + i
        con = duckdb.connect(path)
        con.execute(f"INSERT INTO raw.features {rows_sql(d, d, rows)}")
        con.close()
        day = (DAY0 + dt.timedelta(days=d)).isoformat()
        t = time.perf_counter()
        r = project.build()
        builds.append(time.perf_counter() - t)
        tm = r.monitors["features"]
        assert tm.judged == [day], tm.judged
        monitors.append(tm.seconds)
        scans.append(scan_seconds(path, day))
        t = time.perf_counter()
        r = project.build()  # nothing new (an unchanged table): the fixed part
        fixed.append(time.perf_counter() - t)
        assert r.tables[0].partitions == (), r.tables[0].partitions
        fps.append(fingerprint_seconds(path, project))
        one, whole = view_seconds(path, day)
        views1.append(one)
        views_all.append(whole)
    med = statistics.median
    return {"partitions": n, "rows": rows, "generate": generate, "history": history, "build": med(builds),
            "monitors": med(monitors), "scan": med(scans), "fixed": med(fixed), "builds": builds,
            "fp": med(fps), "view1": med(views1), "view_all": med(views_all)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--partitions", type=int, nargs="+", default=[30, 90, 365])
    ap.add_argument("--rows", type=int, default=20000, help="rows per partition")
    ap.add_argument("--days", type=int, default=3, help="incremental builds per history length (median)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated projects under this directory")
    a = ap.parse_args()
    print(f"{a.rows} rows a partition, {len(COLUMNS)} columns; `monitor: all` + 3 checks + the key; "
          f"median of {a.days} incremental builds\n")
    print(f"{'history':>8} {'build s':>8} {'monitors':>9} {'scan s':>8} {'ratio':>7} {'fixed s':>8} "
          f"{'fp scan':>8} {'2xscan+1':>9}  target   {'view 1p':>8} {'view all':>9}  (first build: learn history)")
    with tempfile.TemporaryDirectory() as tmp:
        work = a.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = []
        for n in a.partitions:
            r = run(n, a.rows, a.days, work)
            results.append(r)
            bound = 2 * r["scan"] + 1.0
            ok = r["build"] <= bound and r["fixed"] <= bound
            print(f"{n:>8} {r['build']:>8.3f} {r['monitors']:>9.3f} {r['scan']:>8.4f} "
                  f"{r['build'] / r['scan']:>7.1f} {r['fixed']:>8.3f} {r['fp']:>8.3f} {bound:>9.3f}  "
                  f"{'met' if ok else 'MISSED':<8} {r['view1']:>8.4f} {r['view_all']:>9.3f}  "
                  f"({r['history']:.1f}s for {n} partitions; data generated in {r['generate']:.1f}s)")
            sys.stdout.flush()
        if len(results) > 1:
            lo, hi = results[0], results[-1]
            print(f"\nbuild at {hi['partitions']} vs {lo['partitions']} partitions: x{hi['build'] / lo['build']:.2f} "
                  f"(monitors x{hi['monitors'] / lo['monitors']:.2f}, fixed x{hi['fixed'] / lo['fixed']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
