"""Compile benchmark: `slocompile compile` of a 10,000-check project, and `slocompile --help`.

Usage:
    python benchmarks/compile_bench.py [--tables 100] [--checks 100] [--runs 5] [--dialect duckdb]
                                       [--dir DIR] [--profile]

Generates a project of TABLES tables x CHECKS checks of mixed types (every check type, with
`where`, `severity: warn`, `rows: drop`, partitioned and unpartitioned tables, filter and block
gates) under DIR (default: $TMPDIR/slocompile-bench/compile_<tables>x<checks>), then times as
whole processes, interleaved, RUNS runs each:

    slocompile compile           cold: the compile cache (target/.compile_cache.json) removed first
                                 (target: < 2 s for 10,000 checks)
    slocompile compile           unchanged: the declarations as the previous compile left them, so
                                 the compile cache answers (target: near zero, next to the floor)
    slocompile --help            (target: < 0.3 s), next to `python -c pass` as the floor

and prints min and median of each, in wall time and in CPU time (user + system: the steadier
figure on a shared machine), and the --help / `python -c pass` ratio. `compile` connects to
nothing, so no data is needed. --profile prints where one compile's time goes.

The children run with Python's bytecode cache on (PYTHONDONTWRITEBYTECODE unset, the cache under
PYTHONPYCACHEPREFIX in the benchmark folder), as an installed package has its .pyc files.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

COLUMNS = [  # (name, declared type)
    ("user_id", "integer"), ("ds", "date"), ("country", "string"), ("age", "integer"), ("income", "number"),
    ("score", "number"), ("clicks", "integer"), ("device", "string"), ("email", "string"),
    ("event_ts", "timestamp"), ("plan", "string"), ("ltv", "number"), ("sessions", "integer"),
    ("is_active", "boolean"), ("baseline", "number"), ("model", "string"),
]
NUMERIC = ["age", "income", "score", "clicks", "ltv", "sessions", "baseline"]
STRINGS = ["country", "device", "plan", "model"]


def column_checks(i: int) -> list[tuple[str, str]]:
    """An endless, deterministic mix of column-level checks: (column, YAML flow mapping)."""
    k = i // 14                      # the round through the 14 kinds below
    c = NUMERIC[(i + k) % len(NUMERIC)]
    s = STRINGS[(i + k) % len(STRINGS)]
    drop = ", rows: drop" if k % 3 == 0 else ""
    kinds = [
        (c, f"{{not_null: {{max_fraction: 0.0{k % 10}}}}}"),
        (c, f"{{between: {{min: {-k}, max: {1000 + k}{drop}}}}}"),
        (s, f"{{accepted_values: {{values: [a{k}, b, c, 'it''s', \"x\\\\y\"]}}}}"),
        ("email", f"{{matches: {{pattern: '^[a-z0-9.]+@[a-z]+\\\\.[a-z]{{2,{3 + k}}}$', severity: warn}}}}"),
        (c, f"{{expression: {{sql: \"{c} >= {-k} OR {c} IS NULL\", where: \"is_active\"}}}}"),
        (c, f"{{mean: {{min: {-k}, max: {10000 + k}}}}}"),
        (c, f"{{min: {{min: {-k - 1}}}}}"),
        (c, f"{{max: {{max: {100000 + k}, where: \"country = 'US'\"}}}}"),
        (c, f"{{stddev: {{max: {50000 + k}}}}}"),
        (c, f"{{quantile: {{q: 0.{1 + k % 9}, min: 0, max: {10000 + k}}}}}"),
        (s, f"{{distinct_count: {{min: 1, max: {50 + k}}}}}"),
        ("event_ts", f"{{freshness: {{max_age: {24 + k}h}}}}"),
        ("country", f"{{relationship: {{to: dims.countries, field: code, where: \"age > {k}\"}}}}"),
        (c, f"{{not_null: {{where: \"plan <> 'free{k}'\", severity: warn}}}}"),
    ]
    return [kinds[i % len(kinds)]]


def table_yaml(t: int, n_checks: int) -> str:
    partitioned = t % 2 == 0
    gate = ["filter", "block", "warn"][t % 3] if partitioned else ["block", "warn"][t % 2]
    head = [f"  - name: t{t:03d}", f"    relation: raw.t{t:03d}", "    key: [user_id]"]
    if partitioned:
        head.append("    partition: ds")
    head.append(f"    gate: {gate}")
    table_level = [
        "{row_count: {min: {{ var('min_rows') }}}}",
        "{unique: [user_id, ds]}",
        "{schema: {allow_extra: true}}",
        "{assert: {name: spend_sane, sql: \"sum(ltv) >= 0 AND count(*) FILTER (WHERE age < 0) < 10\"}}",
        "{unique: {columns: [email], severity: warn}}",
    ]
    remaining = n_checks - len(table_level) - 1  # -1: the implicit key check (unique user_id)
    by_col: dict[str, list[str]] = {}
    for i in range(remaining):
        for col, body in column_checks(i + t):
            by_col.setdefault(col, []).append(body)
    lines = head + ["    checks:"] + [f"      - {c}" for c in table_level] + ["    columns:"]
    for name, typ in COLUMNS:
        lines += [f"      - name: {name}", f"        type: {typ}"]
        if by_col.get(name):
            lines.append("        checks:")
            lines += [f"          - {b}" for b in by_col[name]]
    return "\n".join(lines)


def write_project(root: str, tables: int, checks: int) -> None:
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "slos"))
    with open(os.path.join(root, "slocompile.yml"), "w") as f:
        f.write("name: compile_bench\ntarget: local\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb}\n"
                "vars: {min_rows: 1000}\n")
    per_file = 10
    for start in range(0, tables, per_file):
        with open(os.path.join(root, "slos", f"tables_{start:03d}.yml"), "w") as f:
            f.write("tables:\n" + "\n".join(table_yaml(t, checks) for t in range(start, min(tables, start + per_file)))
                    + "\n")


# Run inside the project folder: times the phases of `slocompile compile` by wrapping the functions
# that do them (inclusive times, wall and CPU; nested phases are indented), and the garbage collector.
PHASE_DRIVER = r"""
import gc, sys, time, os
W0, C0 = time.perf_counter(), time.process_time()
import slocompile.cli
t_import = (time.perf_counter() - W0, time.process_time() - C0)
from slocompile.spec import yamlload
from slocompile.declarations import loader
from slocompile.compiling import compiler
from slocompile.reports import artifacts
import yaml
totals = {}
def timed(mod, name, label):
    f = getattr(mod, name)
    totals[label] = [0.0, 0.0, 0]
    def w(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return f(*a, **k)
        finally:
            d = totals[label]; d[0] += time.perf_counter() - t; d[1] += time.process_time() - c; d[2] += 1
    setattr(mod, name, w)
timed(loader, "load_project", "load_project")
timed(loader, "load_yaml", "  load_yaml (Jinja, YAML, located nodes)")
timed(yaml, "compose", "    yaml.compose (libyaml)")
timed(loader, "parse_user_sql", "  parse_user_sql (sqlglot parse of where/sql)")
timed(compiler, "compile_project", "compile_project")
timed(compiler, "plan_table", "  plan_table")
timed(compiler, "scan_sql", "  scan_sql (build ASTs; renders new fragments)")
timed(compiler, "render", "  render (sqlglot generate; also of fragments)")
timed(artifacts, "write_compiled", "write_compiled (SQL files)")
timed(artifacts, "manifest", "manifest (plan descriptions)")
timed(artifacts, "write_json", "write_json")
gc_time = [0.0, 0, 0.0]  # CPU seconds, runs, start of the current run
def on_gc(phase, info):
    if phase == "start":
        gc_time[2] = time.process_time()
    else:
        gc_time[0] += time.process_time() - gc_time[2]; gc_time[1] += 1
gc.callbacks.append(on_gc)
try:
    slocompile.cli.main(["compile"] + sys.argv[1:])
except SystemExit:
    pass
print(f"  {'':46s} {'wall':>7s} {'cpu':>7s}")
whole = (time.perf_counter() - W0, time.process_time() - C0)
print(f"  {'whole process (after interpreter start)':46s} {whole[0]:6.3f}s {whole[1]:6.3f}s")
print(f"  {'imports (slocompile.cli)':46s} {t_import[0]:6.3f}s {t_import[1]:6.3f}s")
for label, (wall, cpu, n) in totals.items():
    print(f"  {label:46s} {wall:6.3f}s {cpu:6.3f}s  {n:6d} calls")
print(f"  {'garbage collector (inside the phases above)':46s} {'':7s} {gc_time[0]:6.3f}s  {gc_time[1]:6d} runs")
"""


def slocompile_cmd() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "slocompile")
    return [exe] if os.path.exists(exe) else [shutil.which("slocompile") or "slocompile"]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "slocompile-bench", "pycache")


def run(cmd, cwd=None) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds (user + system), exit code, output) of one whole process. CPU time
    is the steadier figure on a shared machine: other processes stretch the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       env=ENV)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, p.returncode, p.stdout.decode(errors="replace")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tables", type=int, default=100)
    ap.add_argument("--checks", type=int, default=100, help="checks per table (default 100)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dialect", default=None, help="compile for this dialect (default: the target's, duckdb)")
    ap.add_argument("--dir", default=None)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    root = args.dir or os.path.join(tempfile.gettempdir(), "slocompile-bench", f"compile_{args.tables}x{args.checks}")
    write_project(root, args.tables, args.checks)

    compile_cmd = slocompile_cmd() + ["compile"] + (["--dialect", args.dialect] if args.dialect else [])
    _, _, code, out = run(compile_cmd, cwd=root)  # warm-up, and the check count
    if code != 0:
        print(out)
        raise SystemExit(f"slocompile compile failed (exit {code})")
    print(f"project: {root}\n  {out.strip()}")
    cmds = {"compile": (compile_cmd, root), "cached": (compile_cmd, root),
            "--help": (slocompile_cmd() + ["--help"], None), "python -c pass": ([sys.executable, "-c", "pass"], None)}
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    cache_file = os.path.join(root, "target", ".compile_cache.json")

    def prepare(name: str) -> None:
        if name == "compile" and os.path.exists(cache_file):
            os.remove(cache_file)  # cold: the cache gone (the next, "cached", run finds the one this one stores)

    for _ in range(1):  # warm-up round
        for name, (cmd, cwd) in cmds.items():
            prepare(name)
            run(cmd, cwd)
    for _ in range(args.runs):
        for name, (cmd, cwd) in cmds.items():
            prepare(name)
            wall, cpu, _, _ = run(cmd, cwd)
            walls[name].append(wall)
            cpus[name].append(cpu)
    med = {k: statistics.median(v) for k, v in walls.items()}
    print(f"\n{'command':42s} {'wall min':>9s} {'median':>7s} {'cpu min':>9s} {'median':>7s}  target (wall)")
    n = args.tables * args.checks
    rows = [("compile", f"slocompile compile ({n:,} checks, cold)", "< 2 s"),
            ("cached", "slocompile compile (unchanged)", "near zero"),
            ("--help", "slocompile --help", "< 0.3 s"), ("python -c pass", "python -c pass (floor)", "")]
    for key, label, target in rows:
        print(f"{label:42s} {min(walls[key]):9.3f} {med[key]:7.3f} {min(cpus[key]):9.3f} "
              f"{statistics.median(cpus[key]):7.3f}  {target}")
    print(f"--help / python -c pass: {med['--help'] / med['python -c pass']:.2f}x "
          f"(+{med['--help'] - med['python -c pass']:.3f} s)")
    print(f"unchanged compile / python -c pass: {med['cached'] / med['python -c pass']:.2f}x "
          f"(+{med['cached'] - med['python -c pass']:.3f} s); cold / unchanged: {med['compile'] / med['cached']:.1f}x")
    if args.profile:
        print("\nwhere one (cold) compile's time goes (in-process timers, no profiler):")
        prepare("compile")
        r = subprocess.run([sys.executable, "-c", PHASE_DRIVER] + (["--dialect", args.dialect] if args.dialect else []),
                           cwd=root, capture_output=True, text=True)
        print(r.stdout.rstrip() or r.stderr[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
