#!/usr/bin/env python3
"""Hourly partitions benchmark (issue 16, item 4): an events table partitioned by the hour.

A DuckDB table of `--rows` events (default 10,000,000) spread evenly over `--days` days (default
90: 2,160 hourly partitions), with an id, a timestamp, a user, an amount, a kind and a country, is
declared with `partition: {column: event_ts, granularity: hour}`, `key: [event_id]`, gate filter
and a few checks (row count, not_null, between, accepted_values). Printed:

  first build      the whole `slocompile build --quiet` process on a fresh copy of the warehouse
                   (list the partitions, run the scans, which also fingerprint each partition's
                   content, judge 2,160 partitions, write results and statuses, publish the views,
                   write the artifacts), --runs rounds interleaved with the baseline
                   (publish_bench.bench: medians of whole processes, wall and CPU)
  queries alone    a python process running the same build's check queries (the SQL it ran,
                   recorded by one untimed build) on a fresh copy: the baseline
  ratio            first build / queries alone (target <= 1.3)
  imports + queries  the same queries after importing sqlglot, click and PyYAML: the floor of a
                   build written on them (publish_bench)
  new hour build   seconds of the build after one new hour arrives (median of --hours builds)
  hour scan        seconds of a plain aggregate over that hour alone (count, and count/min/max of
                   every column: every column read once): the baseline
  target           2 x hour scan + 1 s; ratio = new hour build / target (<= 1 meets it)

    python benchmarks/partition_grain_bench.py
    python benchmarks/partition_grain_bench.py --rows 1000000 --days 30

A script that prints figures, not a test; the baselines are measured in the same run.
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

sys.path.insert(0, str(ROOT / "benchmarks"))
import publish_bench  # noqa: E402  (whole-process rounds against the queries alone)

START = dt.datetime(2025, 1, 1)
COLUMNS = ["event_id", "event_ts", "user_id", "amount", "kind", "country"]

SLOS = """
tables:
  - name: events
    relation: raw.events
    key: [event_id]
    partition: {column: event_ts, granularity: hour}
    gate: filter
    cadence: hour
    checks:
      - row_count: {min: 1}
    columns:
      - name: user_id
        checks: [not_null]
      - name: amount
        checks:
          - not_null: {max_fraction: 0.01}
          - between: {min: 0, max: 10000}
      - name: kind
        checks:
          - accepted_values: {values: [click, view, buy]}
"""


def events_sql(first_id: int, n: int, start: dt.datetime, seconds: float) -> str:
    """`n` events from id `first_id`, evenly over `seconds` from `start`; values hash the id."""
    step = seconds / n
    return f"""
        SELECT (i + {first_id})::BIGINT AS event_id,
               TIMESTAMP '{start.isoformat(sep=' ')}' + to_microseconds(CAST(i * {step * 1e6} AS BIGINT)) AS event_ts,
               (hash(i, 1) % 100000)::BIGINT AS user_id,
               ((hash(i, 2) % 1000000) / 100.0)::DOUBLE AS amount,
               (['click', 'view', 'buy'])[1 + (hash(i, 3) % 3)::INTEGER] AS kind,
               (['US', 'DE', 'FR', 'IN', 'JP'])[1 + (hash(i, 4) % 5)::INTEGER] AS country
        FROM range({n}) t(i)"""


def write_project(root: Path) -> None:
    (root / "slos").mkdir(parents=True)
    (root / "slocompile.yml").write_text(
        "name: hourly_bench\ntarget: local\ntargets: {local: {type: duckdb, path: warehouse.duckdb}}\n")
    (root / "slos" / "events.yml").write_text(SLOS)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def hour_scan(db: Path, hour: dt.datetime) -> float:
    aggs = ["count(*)"] + [f"count({c}), min({c}), max({c})" for c in COLUMNS]
    q = (f"SELECT {', '.join(aggs)} FROM raw.events WHERE event_ts >= TIMESTAMP '{hour.isoformat(sep=' ')}' "
         f"AND event_ts < TIMESTAMP '{(hour + dt.timedelta(hours=1)).isoformat(sep=' ')}'")
    con = duckdb.connect(str(db))
    try:
        t0 = time.perf_counter()
        con.execute(q).fetchall()
        return time.perf_counter() - t0
    finally:
        con.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--hours", type=int, default=3, help="new hours, one build each (median reported)")
    ap.add_argument("--runs", type=int, default=5, help="first builds, each paired with the queries alone")
    args = ap.parse_args(argv)
    hours = args.days * 24
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        write_project(root)
        db = root / "warehouse.duckdb"
        con = duckdb.connect(str(root / "fresh.duckdb"))
        t_gen, _ = timed(lambda: (con.execute("CREATE SCHEMA raw"),
                                  con.execute("CREATE TABLE raw.events AS "
                                              + events_sql(0, args.rows, START, hours * 3600.0)
                                              + " ORDER BY event_ts"),
                                  con.execute("CHECKPOINT")))
        con.close()
        print(f"{args.rows:,} events over {args.days} days ({hours:,} hourly partitions), generated in {t_gen:.1f} s")
        publish_bench.bench(f"hourly events, first build ({hours:,} partitions)", str(root), args.runs)

        publish_bench.fresh(str(root))
        run = Project.load(str(root)).build()  # the first build the new hours follow (untimed)
        assert len(run.tables[0].partitions or ()) == hours, run.tables[0].partitions
        builds, scans = [], []
        per_hour = args.rows // hours
        for k in range(args.hours):
            hour = START + dt.timedelta(hours=hours + k)
            con = duckdb.connect(str(db))
            con.execute("INSERT INTO raw.events " + events_sql(args.rows + k * per_hour, per_hour, hour, 3600.0))
            con.close()
            t_build, run = timed(lambda: Project.load(str(root)).build())
            parts = run.tables[0].partitions
            assert parts == (hour.isoformat(sep=" "),), parts  # the new hour, and only it
            builds.append(t_build)
            scans.append(hour_scan(db, hour))
        build, scan = statistics.median(builds), statistics.median(scans)
        target = 2 * scan + 1.0
        print(f"new hour build: {build:.2f} s (median of {len(builds)}; each checked 1 partition); "
              f"hour scan: {scan:.4f} s; target 2 x scan + 1 s = {target:.2f} s; ratio {build / target:.2f} "
              "(<= 1 meets it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
