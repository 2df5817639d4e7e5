"""Publish benchmark: a build's wall time against running the same check queries alone.

Usage:
    python benchmarks/publish_bench.py [--runs 5] [--tables 12] [--checks 100] [--partitions 10]
                                       [--rows 2000] [--dir DIR] [--only many|example|unchanged] [--profile]
                                       [--before] [--before-samples]

Two projects, each on a fresh copy of its warehouse before every run (untimed), so every build
is a first build (every partition checked, every result, metric, status and view written):

  many      TABLES partitioned tables x CHECKS checks (1,200 by default; the check mix of
            compile_bench.py) over PARTITIONS days of ROWS rows per table: small data, many rows
            of results, metrics and statuses to publish.
  example   examples/feature_store (two tables, 30 daily partitions, monitors), its data generated
            once by its generate_data.py.

and first (--only unchanged), TABLES tables of passing checks over PARTITIONS days, built once:
builds that find nothing new to check (target: under 0.3 s), next to `python -c pass` and a
python that opens the warehouse and runs SELECT 1.

For each, one recording build (untimed) logs the exact SQL of every scan the build runs; then,
interleaved round by round (the order alternates), RUNS runs of two whole processes:

  queries   python: connect to the warehouse and run those scans, fetching every row (the
            compiled SQL run directly: the floor for a tool that must run it)
  build     slocompile build --quiet

and, as further baselines, the same with the failed-row sample queries the build ran (a failing
check's rows), and with those and the monitors' profile queries (the example monitors two tables):
queries the build must run too; and `imports + queries`: the check queries after importing the
libraries no build can go without (sqlglot with its dialect, which compiles the SQL; click, which
reads the command line; PyYAML, which reads the declarations). That one is the floor of any build
written on them: a build / queries ratio below imports / queries is out of reach.

(--before: and the build with its meta rows written as sqlglot-built INSERT ... VALUES
statements, the path before the bulk inserts; --before-samples: and the build with each failed-row
sample query sent alone and run_results.json/manifest.json written by json.dumps(indent=2)), and
prints min and median wall time, median CPU
time (user + system; the steadier figure on a shared machine), and build / queries (target: at
most 1.3x, wall). The machine's other load
stretches both sides alike within a round; the ratio is of medians. The children run with
Python's bytecode cache on (compile_bench.ENV), as an installed package has its .pyc files.

--profile runs one build of each project in-process under cProfile and prints where its time
goes: the heaviest functions by cumulative time, and the time inside the engine's statements.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import compile_bench  # noqa: E402  (the check mix)

# Runs inside a project: one build with the SQL of its scans (argv[1]), of its scans and failed-row
# samples (argv[2]), and of those and the monitors' profile queries (argv[3]) recorded.
RECORDER = r"""
import importlib, json, sys
from slocompile.run import failures, measure
profile = importlib.import_module("slocompile.monitors.profile")  # (the package's `profile` is a function)
sqls, samples, monitors = [], [], []
render_profile = profile.render
def profile_sql(tree, dialect, **kw):
    monitors.append(render_profile(tree, dialect, **kw))
    return monitors[-1]
profile.render = profile_sql
class Recorded:  # every statement a scan sends: its settings (dense keys: run/measure.py) too
    def __init__(self, engine):
        self.engine = engine
    def query(self, sql):
        sqls.append(sql)
        return self.engine.query(sql)
    def execute(self, sql):
        sqls.append(sql)
        return self.engine.execute(sql)
    def __getattr__(self, name):
        return getattr(self.engine, name)
scan_query = measure._query
measure._query = lambda engine, table, scan, sql, rows: scan_query(Recorded(engine), table, scan, sql, rows)
render_sample = failures._sql
def sample(engine, tree):
    samples.append(render_sample(engine, tree))
    return samples[-1]
failures._sql = sample
import slocompile.cli as cli
try:
    cli.main(["build", "--quiet"])
except SystemExit:
    pass
json.dump(sqls, open(sys.argv[1], "w"))
json.dump(sqls + samples, open(sys.argv[2], "w"))
json.dump(sqls + samples + monitors, open(sys.argv[3], "w"))
"""

# --before: the build with the meta rows written as sqlglot-built INSERT ... VALUES statements, as
# before the bulk path (meta.rows answered by meta.insert; the monitors' rows still go through
# Engine.insert_rows).
BEFORE = r"""
import sys
from slocompile.sqltrees import meta
meta.rows = lambda schemas, name, values: meta.insert(schemas, name, values)
import slocompile.cli as cli
cli.main(["build", "--quiet"])
"""

# --before-samples: the build with each failed-row sample query sent alone (no UNION ALL batches)
# and its JSON artifacts written by json.dumps(indent=2) (the pure-Python encoder), as before.
BEFORE_SAMPLES = r"""
import json
from slocompile.run import failures
from slocompile.reports import artifacts
failures.BATCH = 1
artifacts.pretty_json = lambda data, flat_depth=None: json.dumps(data, indent=2, default=str, ensure_ascii=False)
import slocompile.cli as cli
cli.main(["build", "--quiet"])
"""

# The baseline: the recorded scans run directly (argv[1]: the warehouse, argv[2]: the JSON file).
QUERIES = r"""
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1])
for sql in json.load(open(sys.argv[2])):
    con.execute(sql).fetchall()
con.close()
"""

# The floor of a build: the libraries it cannot go without, imported, then the same queries.
IMPORTS = "import click, yaml, sqlglot\nfrom sqlglot.dialects import duckdb as _dialect\n"

# One build in-process under cProfile (argv[1]: stats file, argv[2]: JSON of statement times).
PROFILER = r"""
import cProfile, json, sys, time
T0 = time.perf_counter()
from slocompile.engines import duckdb as eng
stmts = {}  # kind of call -> [calls, seconds]
def kind(name, a):
    if name == "insert_rows":
        return "insert_rows " + a[0].name
    words = " ".join(a[0].split()[:4]).upper()
    for k in ("CREATE OR REPLACE VIEW", "SELECT", "INSERT", "DELETE", "UPDATE", "CREATE"):
        if words.startswith(k):
            return k
    return words[:30]
for name in ("query", "execute", "insert_rows"):
    orig = getattr(eng.DuckDBEngine, name)
    def wrap(self, *a, _o=orig, _n=name):
        t = time.perf_counter()
        try:
            return _o(self, *a)
        finally:
            s = stmts.setdefault(kind(_n, a), [0, 0.0]); s[0] += 1; s[1] += time.perf_counter() - t
    setattr(eng.DuckDBEngine, name, wrap)
prof = cProfile.Profile()
prof.enable()
import slocompile.cli as cli
try:
    cli.main(["build", "--quiet"])
except SystemExit:
    pass
prof.disable()
prof.dump_stats(sys.argv[1])
json.dump({"total": time.perf_counter() - T0, "statements": stmts}, open(sys.argv[2], "w"))
"""


def write_many(root: str, tables: int, checks: int, partitions: int, rows: int) -> None:
    import duckdb

    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w") as f:
        f.write("name: publish_bench\ntarget: local\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb}\n"
                "vars: {min_rows: 10}\n")
    ts = [2 * i for i in range(tables)]  # compile_bench partitions the even-numbered tables
    with open(os.path.join(root, "slos", "tables.yml"), "w") as f:
        f.write("tables:\n" + "\n".join(compile_bench.table_yaml(t, checks) for t in ts) + "\n")
    con = duckdb.connect(os.path.join(root, "fresh.duckdb"))
    con.execute("CREATE SCHEMA raw; CREATE SCHEMA dims")
    con.execute("CREATE TABLE dims.countries AS SELECT * FROM (VALUES ('US'), ('DE'), ('FR')) v(code)")
    for t in ts:
        con.execute(f"""
            CREATE TABLE raw.t{t:03d} AS SELECT i AS user_id, DATE '2024-01-01' + CAST(i % {partitions} AS INT) AS ds,
              ['US', 'DE', 'FR', 'XX'][i % 4 + 1] AS country, i % 90 AS age, CAST(i * 7 % 1000 AS DOUBLE) AS income,
              (i % 100) / 10.0 AS score, i % 50 AS clicks, ['ios', 'android', 'web'][i % 3 + 1] AS device,
              'u' || i || '@ex.com' AS email, TIMESTAMP '2024-01-01' + to_seconds(i) AS event_ts,
              ['free', 'pro'][i % 2 + 1] AS plan, CAST(i % 300 AS DOUBLE) AS ltv, i % 20 AS sessions,
              i % 2 = 0 AS is_active, CAST(i % 10 AS DOUBLE) AS baseline, 'm' || (i % 5) AS model
            FROM range(?) r(i)""", [rows])
    con.close()


def write_unchanged(root: str, tables: int, partitions: int) -> None:
    """TABLES partitioned tables with passing checks, built once: the timed builds find nothing new."""
    import duckdb

    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w") as f:
        f.write("name: unchanged\ntarget: local\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb}\n")
    decl = ["tables:"]
    for t in range(tables):
        decl += [f"  - name: u{t:03d}", f"    relation: raw.u{t:03d}", "    key: [id]", "    partition: ds",
                 "    gate: filter", "    checks:", "      - row_count: {min: 1}", "    columns:",
                 "      - name: amount", "        type: number", "        checks:", "          - not_null",
                 "          - between: {min: 0, max: 1000}"]
    with open(os.path.join(root, "slos", "tables.yml"), "w") as f:
        f.write("\n".join(decl) + "\n")
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute("CREATE SCHEMA raw")
    for t in range(tables):
        con.execute(f"CREATE TABLE raw.u{t:03d} AS SELECT i AS id, i % 100 AS amount, "
                    f"DATE '2024-01-01' + CAST(i % {partitions} AS INT) AS ds FROM range(1000) r(i)")
    con.close()
    subprocess.run(slocompile_cmd() + ["build", "--quiet"], cwd=root, check=True, stdout=subprocess.DEVNULL,
                   env=compile_bench.ENV)


def bench_unchanged(root: str, runs: int) -> None:
    """Builds that find nothing new (target: < 0.3 s) next to two floors: `python -c pass` and a
    python that opens the warehouse and runs SELECT 1."""
    cmds = {"build": slocompile_cmd() + ["build", "--quiet"], "pass": [sys.executable, "-c", "pass"],
            "duckdb": [sys.executable, "-c", "import duckdb; duckdb.connect('warehouse.duckdb').execute('SELECT 1')"]}
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    for i in range(runs + 1):
        for key, cmd in cmds.items():
            wall, cpu, code = child(cmd, root)
            if key == "build" and code != 0:
                raise SystemExit(f"the unchanged build failed (exit {code})")
            if i:
                walls[key].append(wall)
                cpus[key].append(cpu)
    labels = {"build": "slocompile build --quiet (nothing new)", "pass": "python -c pass (floor)",
              "duckdb": "python: open the warehouse, SELECT 1"}
    print(f"\nunchanged project, unchanged data: {root}")
    print(f"  {'':40s} {'wall min':>9s} {'median':>7s} {'cpu median':>11s}")
    for k in cmds:
        print(f"  {labels[k]:40s} {min(walls[k]):9.3f} {statistics.median(walls[k]):7.3f} "
              f"{statistics.median(cpus[k]):11.3f}")
    med = statistics.median(walls["build"])
    print(f"  build: {med:.3f} s wall (target < 0.3 s); {med - statistics.median(walls['duckdb']):+.3f} s over "
          f"opening the warehouse")


def write_example(root: str) -> None:
    src = os.path.join(REPO, "examples", "feature_store")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(src, root, ignore=shutil.ignore_patterns("warehouse.duckdb*", "target", "*.pyc"))
    subprocess.run([sys.executable, os.path.join(root, "generate_data.py"), "--out",
                    os.path.join(root, "fresh.duckdb")], check=True, stdout=subprocess.DEVNULL)


def slocompile_cmd() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "slocompile")
    return [exe] if os.path.exists(exe) else [shutil.which("slocompile") or "slocompile"]


def fresh(root: str) -> str:
    """A first build's state: the warehouse as generated, and no target/ (no artifacts, no compile
    or view cache of an earlier run)."""
    db = os.path.join(root, "warehouse.duckdb")
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    shutil.rmtree(os.path.join(root, "target"), ignore_errors=True)
    shutil.copyfile(os.path.join(root, "fresh.duckdb"), db)
    return db


def child(cmd: list[str], cwd: str) -> tuple[float, float, int]:
    """(wall, CPU = user + system, exit code) of one whole process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                         env=compile_bench.ENV)
    _, status, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status)


def bench(name: str, root: str, runs: int, before: bool = False, before_samples: bool = False) -> float:
    sqls, with_samples = os.path.join(root, "scans.json"), os.path.join(root, "scans_and_samples.json")
    with_monitors = os.path.join(root, "scans_samples_monitors.json")
    fresh(root)
    subprocess.run([sys.executable, "-c", RECORDER, sqls, with_samples, with_monitors], cwd=root, check=True,
                   stdout=subprocess.DEVNULL)
    n = len(json.load(open(sqls)))
    if not n:
        raise SystemExit(f"{name}: the recording build ran no scan (is the build broken? "
                         f"run slocompile build in {root})")
    n_samples = len(json.load(open(with_samples))) - n
    n_monitors = len(json.load(open(with_monitors))) - n - n_samples
    cmds = {"queries": [sys.executable, "-c", QUERIES, "warehouse.duckdb", sqls],
            "build": slocompile_cmd() + ["build", "--quiet"],
            "imports": [sys.executable, "-c", IMPORTS + QUERIES, "warehouse.duckdb", sqls]}
    if n_samples:  # failing checks' failed-row samples: queries the build must run too (issue 12)
        cmds["samples"] = [sys.executable, "-c", QUERIES, "warehouse.duckdb", with_samples]
    if n_monitors:  # the monitors' profile queries (the example monitors two tables)
        cmds["monitors"] = [sys.executable, "-c", QUERIES, "warehouse.duckdb", with_monitors]
    if before:
        cmds["before"] = [sys.executable, "-c", BEFORE]
    if before_samples:
        cmds["one_by_one"] = [sys.executable, "-c", BEFORE_SAMPLES]
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    codes: dict[str, set[int]] = {k: set() for k in cmds}
    order = list(cmds)
    for i in range(runs + 1):  # round 0 warms the page cache and is not counted
        for key in (order if i % 2 else order[::-1]):
            fresh(root)
            wall, cpu, code = child(cmds[key], root)
            if i:
                walls[key].append(wall)
                cpus[key].append(cpu)
                codes[key].add(code)
    if 2 in codes["build"]:
        raise SystemExit(f"{name}: a build exited 2 (an error, not a verdict): run slocompile build in {root}")
    med = {k: statistics.median(v) for k, v in walls.items()}
    print(f"\n{name}: {root} ({n} scans; exit codes: build {sorted(codes['build'])}, "
          f"queries {sorted(codes['queries'])})")
    print(f"  {'':34s} {'wall min':>9s} {'median':>7s} {'cpu median':>11s}")
    labels = {"queries": "the check queries alone (python)", "build": "slocompile build --quiet",
              "imports": "imports + check queries (floor)",
              "samples": f"check + {n_samples} sample queries",
              "monitors": f"and {n_monitors} monitor queries", "before": "build, meta rows as VALUES (before)",
              "one_by_one": "build, samples 1 by 1, json indent=2"}
    for k in order:
        print(f"  {labels[k]:34s} {min(walls[k]):9.3f} {med[k]:7.3f} {statistics.median(cpus[k]):11.3f}")
    ratio = med["build"] / med["queries"]
    cpu_ratio = statistics.median(cpus["build"]) / statistics.median(cpus["queries"])
    print(f"  build / queries: {ratio:.2f}x wall (target <= 1.3x), {cpu_ratio:.2f}x CPU;"
          f" build - queries: {med['build'] - med['queries']:+.3f} s")
    print(f"  floor: (imports + queries) / queries: {med['imports'] / med['queries']:.2f}x wall; "
          f"build / (imports + queries): {med['build'] / med['imports']:.2f}x wall, "
          f"{statistics.median(cpus['build']) / statistics.median(cpus['imports']):.2f}x CPU")
    if n_samples:
        print(f"  build / (check + sample queries): {med['build'] / med['samples']:.2f}x wall, "
              f"{statistics.median(cpus['build']) / statistics.median(cpus['samples']):.2f}x CPU")
    if n_monitors:
        print(f"  build / (check + sample + monitor profile queries): {med['build'] / med['monitors']:.2f}x wall, "
              f"{statistics.median(cpus['build']) / statistics.median(cpus['monitors']):.2f}x CPU")
    if before:
        print(f"  before / build: {med['before'] / med['build']:.2f}x wall, "
              f"{statistics.median(cpus['before']) / statistics.median(cpus['build']):.2f}x CPU")
    if before_samples:
        print(f"  samples 1 by 1, json indent=2 / build: {med['one_by_one'] / med['build']:.2f}x wall, "
              f"{statistics.median(cpus['one_by_one']) / statistics.median(cpus['build']):.2f}x CPU; "
              f"{med['one_by_one'] - med['build']:+.3f} s wall")
    return ratio


def profile(name: str, root: str, top: int = 30) -> None:
    import pstats

    fresh(root)
    prof, info = os.path.join(root, "build.prof"), os.path.join(root, "profile.json")
    subprocess.run([sys.executable, "-c", PROFILER, prof, info], cwd=root, check=True, stdout=subprocess.DEVNULL)
    data = json.load(open(info))
    calls = data["statements"]
    print(f"\n{name}: one build under cProfile: {data['total']:.3f}s in all (inflated by the profiler), "
          f"{sum(s for _, s in calls.values()):.3f}s in {sum(n for n, _ in calls.values())} engine calls:")
    for k, (n, secs) in sorted(calls.items(), key=lambda kv: -kv[1][1])[:8]:
        print(f"  {secs:7.3f}s {n:7d}  {k}")
    print("  slocompile functions by cumulative time:")
    stats = pstats.Stats(prof)
    rows = [(ct, nc, f"{os.path.relpath(f, REPO) if f.startswith(REPO) else os.path.basename(f)}:{ln}({fn})")
            for (f, ln, fn), (_cc, nc, _tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
            if "slocompile" in f and "benchmarks" not in f]
    for ct, nc, where in sorted(rows, reverse=True)[:top]:
        print(f"  {ct:7.3f}s {nc:7d}  {where}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tables", type=int, default=12)
    ap.add_argument("--checks", type=int, default=100, help="checks per table (default 100)")
    ap.add_argument("--partitions", type=int, default=10)
    ap.add_argument("--rows", type=int, default=2000, help="rows per table (default 2000)")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "slocompile-bench", "publish"))
    ap.add_argument("--only", choices=["many", "example", "unchanged"])
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--before", action="store_true", help="also time the build with the meta rows written as "
                    "INSERT ... VALUES statements (the path before the bulk inserts; slow)")
    ap.add_argument("--before-samples", action="store_true", help="also time the build with each failed-row "
                    "sample query sent alone and the JSON artifacts written by json.dumps(indent=2)")
    args = ap.parse_args(argv)
    projects = {}
    if args.only in (None, "many"):
        root = os.path.join(args.dir, f"many_{args.tables}x{args.checks}x{args.partitions}")
        write_many(root, args.tables, args.checks, args.partitions, args.rows)
        projects[f"many ({args.tables * args.checks:,} checks x {args.partitions} partitions)"] = root
    if args.only in (None, "example"):
        root = os.path.join(args.dir, "feature_store")
        write_example(root)
        projects["example (feature_store, first build)"] = root
    print(f"{os.cpu_count()} CPUs (shared with other work: compare the ratios, measured in the same rounds)")
    if args.only in (None, "unchanged") and args.runs:
        root = os.path.join(args.dir, "unchanged")
        write_unchanged(root, args.tables, args.partitions)
        bench_unchanged(root, args.runs)
    for name, root in projects.items():
        if args.runs:
            bench(name, root, args.runs, args.before, args.before_samples)
        if args.profile:
            profile(name, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
