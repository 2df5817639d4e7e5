"""Segments benchmark: what `group_by` costs on core_bench's table and 30 checks.

Usage:
    python benchmarks/segments_bench.py [--rows 2000000] [--runs 5] [--cache DIR] [--bench-dir DIR]

Four variants of core_bench.py's project (same data, `gen_data.py`):
  plain       the 30 checks
  one         the 30 checks, `row_count` with `group_by: [country]`
  seven       the 30 checks, seven aggregate checks with `group_by: [country]` (row_count, the four
              missing fractions, the two means): the same grouping, so still one grouped scan
  two_groups  as seven, but the means grouped by [device]: two groupings, two grouped scans
For each it prints the plan (queries, and how many are grouped scans), the median wall and CPU
time of running the plan's scans on DuckDB (CPU of every DuckDB thread: steady on a busy machine),
the CPU of the grouped scans among them, and the median CPU of a whole `slocompile build` (on a
fresh copy of the file). Adding group_by to one
check or to seven with one grouping should cost about the same: one grouped pass, never one per check.
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


def compiled_scans(root: str) -> list:
    from slocompile.api import Project

    return [(s, sql) for s, sql in Project.load(root).compile(write=False).tables[0].scans if sql]


def time_scans(con, scans: list) -> tuple[float, float, float]:
    """(wall, CPU, CPU of the grouped scans) of running every scan once. CPU (this process, every
    DuckDB thread) stays meaningful on a busy machine; wall does not."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    grouped = 0.0
    for scan, sql in scans:
        c = time.process_time()
        con.execute(sql).fetchall()
        if scan.kind == "segmented":
            grouped += time.process_time() - c
    return time.perf_counter() - wall0, time.process_time() - cpu0, grouped


def build_cpu(root: str, db: str) -> float:
    core_bench.fresh_copy(db, os.path.join(root, "warehouse.duckdb"))
    _, _, code, cpu = core_bench.run_child([sys.executable, "-m", "slocompile", "build", "--quiet"], cwd=root)
    if code not in (0, 1):
        raise SystemExit(f"build failed with exit {code} in {root}")
    return cpu


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
        import duckdb

        variants = ("plain", "one", "seven", "two_groups")
        roots = {v: os.path.join(work, v) for v in variants}
        for v in variants:
            write_variant(roots[v], sc, v)
        scans = {v: compiled_scans(roots[v]) for v in variants}
        con = duckdb.connect(db, read_only=True)
        timed: dict = {v: [] for v in variants}
        builds: dict = {v: [] for v in variants}
        for _ in range(args.runs):  # interleaved, so a busy spell hits every variant alike
            for v in variants:
                timed[v].append(time_scans(con, scans[v]))
                builds[v].append(build_cpu(roots[v], db))
        con.close()

        def med(v, i):
            return statistics.median(t[i] for t in timed[v])

        print(f"{args.rows:,} rows, median of {args.runs} interleaved runs; CPU seconds (all DuckDB threads)")
        print(f"{'variant':<11} {'queries':>7} {'grouped':>7} {'scans wall':>10} {'scans CPU':>9} {'+CPU':>7} "
              f"{'grouped CPU':>11} {'build CPU':>9} {'+build':>7}")
        for v in variants:
            print(f"{v:<11} {len(scans[v]):>7} {sum(s.kind == 'segmented' for s, _ in scans[v]):>7} "
                  f"{med(v, 0):>10.3f} {med(v, 1):>9.3f} {med(v, 1) - med('plain', 1):>+7.3f} {med(v, 2):>11.3f} "
                  f"{statistics.median(builds[v]):>9.3f} "
                  f"{statistics.median(builds[v]) - statistics.median(builds['plain']):>+7.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
