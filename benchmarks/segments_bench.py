"""Segments benchmark: what `group_by` costs on core_bench's table and 30 checks.

Usage:
    python benchmarks/segments_bench.py [--rows 2000000] [--runs 5] [--cache DIR] [--bench-dir DIR]

Four variants of core_bench.py's project (same data, `gen_data.py`):
  plain       the 30 checks
  one         the 30 checks, `row_count` with `group_by: [country]`
  seven       the 30 checks, seven aggregate checks with `group_by: [country]` (row_count, the four
              missing fractions, the two means): the same grouping, so still one grouped scan
  two_groups  as seven, but the means grouped by [device]: two groupings, two grouped scans
For each it prints the plan (queries, and how many are segmented), the median time of running the
plan's scans on DuckDB (each scan RUNS times), and the median wall time of `slocompile build` on a
fresh copy of the file. Adding group_by to one check or to seven with one grouping should cost
about the same: one grouped pass, never one per check.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import core_bench  # noqa: E402  (benchmarks/ is not a package)

SEGMENTED = {  # check name (core_bench's) -> the grouping it gets
    "one": {"row_count_0": "[country]"},
    "seven": {"row_count_0": "[country]", "missing_fraction_age_0_05": "[country]",
              "missing_fraction_income_0_05": "[country]", "missing_fraction_plan_0_05": "[country]",
              "missing_fraction_ltv_0_05": "[country]", "mean_income_in_50000_150000": "[country]",
              "mean_score_in_0_4_0_6": "[country]"},
    "two_groups": {"row_count_0": "[country]", "missing_fraction_age_0_05": "[country]",
                   "missing_fraction_income_0_05": "[country]", "missing_fraction_plan_0_05": "[country]",
                   "missing_fraction_ltv_0_05": "[country]", "mean_income_in_50000_150000": "[device]",
                   "mean_score_in_0_4_0_6": "[device]"},
}


def write_variant(root: str, sc, variant: str) -> None:
    core_bench.write_project(root, sc)
    path = os.path.join(root, "slos", "user_features.yml")
    text = open(path).read()
    for name, group in SEGMENTED.get(variant, {}).items():
        marker = f"name: {name}}}"
        if marker not in text:
            raise SystemExit(f"no check {name} in core_bench's project")
        text = text.replace(marker, f"name: {name}, group_by: {group}}}")
    open(path, "w").write(text)


def scan_times(root: str, db: str, runs: int) -> tuple[int, int, float, float]:
    import duckdb

    from slocompile.api import Project

    compiled = Project.load(root).compile(write=False)
    scans = [(s, sql) for s, sql in compiled.tables[0].scans if sql]
    con = duckdb.connect(db, read_only=True)
    totals, grouped = [], []
    for _ in range(runs):
        t0, in_grouped = time.perf_counter(), 0.0
        for scan, sql in scans:
            t1 = time.perf_counter()
            con.execute(sql).fetchall()
            in_grouped += time.perf_counter() - t1 if scan.kind == "segmented" else 0.0
        totals.append(time.perf_counter() - t0)
        grouped.append(in_grouped)
    con.close()
    return (len(scans), sum(s.kind == "segmented" for s, _ in scans), statistics.median(totals),
            statistics.median(grouped))


def build_time(root: str, db: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        core_bench.fresh_copy(db, os.path.join(root, "warehouse.duckdb"))
        wall, _, code, _ = core_bench.run_child([sys.executable, "-m", "slocompile", "build", "--quiet"], cwd=root)
        if code not in (0, 1):
            raise SystemExit(f"build failed with exit {code} in {root}")
        times.append(wall)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "slocompile-bench"))
    ap.add_argument("--bench-dir", default=os.environ.get("SLOCOMPILE_BENCH_DIR", core_bench.DEFAULT_BENCH_DIR))
    args = ap.parse_args(argv)
    db = core_bench.ensure_data(args.bench_dir, args.cache, args.rows)
    sc = core_bench.load_sql_checks(args.bench_dir)
    work = tempfile.mkdtemp(prefix="segments-bench-")
    try:
        rows = []
        for variant in ("plain", "one", "seven", "two_groups"):
            root = os.path.join(work, variant)
            write_variant(root, sc, variant)
            queries, segmented, scans, grouped = scan_times(root, db, args.runs)
            build = build_time(root, db, args.runs)
            rows.append((variant, queries, segmented, scans, grouped, build))
        base_scans, base_build = rows[0][3], rows[0][5]
        print(f"{args.rows:,} rows, median of {args.runs} runs (grouped s: the grouped scans' share of scans s)")
        print(f"{'variant':<11} {'queries':>7} {'grouped':>7} {'scans s':>8} {'+scans s':>8} {'grouped s':>9} "
              f"{'build s':>8} {'+build s':>8}")
        for variant, queries, segmented, scans, grouped, build in rows:
            print(f"{variant:<11} {queries:>7} {segmented:>7} {scans:>8.3f} {scans - base_scans:>+8.3f} "
                  f"{grouped:>9.3f} {build:>8.3f} {build - base_build:>+8.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
