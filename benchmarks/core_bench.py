"""Core benchmark: `slocompile build` vs two hand-written SQL plans for the same 30 checks.

Usage:
    python benchmarks/core_bench.py [--rows 10000000] [--runs 5] [--cache DIR] [--bench-dir DIR]
                                    [--profile]

What it does:
  1. Generates the benchmark table `main.user_features` (ROWS rows) with the shared generator
     `gen_data.py` and caches the file under --cache (default: $TMPDIR/slocompile-bench), so
     only the first run of a size pays for it.
  2. Writes a slocompile project declaring exactly the 30 checks of `sql_checks.py`'s
     `checks()` (built from that module's own constants, and checked name by name against it).
  3. Times, as whole processes, interleaved round by round (the order rotates each round), RUNS
     runs of each:
        python sql_checks.py fused DB     one fused aggregate scan
        python sql_checks.py naive DB     one query per check
        slocompile build                  on a fresh copy of DB made before each run (untimed):
                                          the build writes its meta schema and views into the file
     with each child's CPU time (user + system) and peak RSS from os.wait4's rusage; prints min
     and median wall time, median CPU time and peak memory of each, the ratio of slocompile to
     the faster plan (wall; CPU too, steadier on a shared machine) and of its peak memory to the
     per-check plan's. slocompile exits 1 here by design: 5 of the 30 checks fail on this data.
  4. Verifies that slocompile's 30 outcomes (pass/fail, and the measured numbers) equal
     `sql_checks.py naive DB --print`'s.

--profile also runs one build in-process under cProfile, with every SQL statement timed by a
wrapper, and prints where the time goes (imports, loading YAML, planning/compiling, scans,
publishing, artifacts; the slowest statements), then `-X importtime`'s heaviest imports.
--runs 0 skips the timing (verify and/or profile only).

Only the Python that has slocompile installed is needed (the same interpreter runs the
hand-written plans, so both sides use the same DuckDB).
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_BENCH_DIR = os.path.join(os.path.dirname(REPO), "shared", "bench")


# --------------------------------------------------------------------------- data

def ensure_data(bench_dir: str, cache: str, rows: int) -> str:
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, f"user_features_{rows}.duckdb")
    if os.path.exists(path):
        return path
    tmp = path + ".part"
    print(f"generating {rows:,} rows into {path} (once; cached) ...", flush=True)
    subprocess.run([sys.executable, os.path.join(bench_dir, "gen_data.py"), tmp, str(rows)], check=True)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- the project

def load_sql_checks(bench_dir: str):
    spec = importlib.util.spec_from_file_location("sql_checks", os.path.join(bench_dir, "sql_checks.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def safe(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def _yaml_scalar(v) -> str:
    return json.dumps(v)  # JSON scalars are YAML scalars


def declarations(sc) -> tuple[str, dict[str, str]]:
    """The YAML of the 30 checks, and slocompile check name -> sql_checks.py check name."""
    names: dict[str, str] = {}
    col_checks: dict[str, list[str]] = {}
    table_checks: list[str] = []

    def add(column, sc_name, ctype, params=""):
        n = safe(sc_name)
        names[n] = sc_name
        item = f"{{{ctype}: {{{params}{', ' if params else ''}name: {n}}}}}"
        (col_checks.setdefault(column, []) if column else table_checks).append(item)

    for c in sc.NOT_NULL:
        add(c, f"not_null({c})", "not_null")
    add(None, "unique(user_id)", "unique", "columns: [user_id]")
    for c, vals in sc.ACCEPTED.items():
        values = ", ".join(_yaml_scalar(v) for v in vals)
        add(c, f"accepted_values({c})", "accepted_values", f"values: [{values}]")
    for c, (lo, hi) in sc.RANGES.items():
        add(c, f"range({c},{lo},{hi})", "between", f"min: {lo}, max: {hi}")
    for c, mx in sc.MISSING_MAX.items():
        add(c, f"missing_fraction({c})<={mx}", "not_null", f"max_fraction: {mx}")
    add(None, "row_count>0", "row_count", "min: 1")
    add(None, "custom_condition", "expression", f"sql: {_yaml_scalar(sc.CUSTOM)}")
    add("signup_ts", f"freshness(signup_ts)<{sc.FRESH_DAYS}d", "freshness", f"max_age: {sc.FRESH_DAYS}d")
    for c, (lo, hi) in sc.MEANS.items():
        add(c, f"mean({c}) in [{lo},{hi}]", "mean", f"min: {lo}, max: {hi}")
    for c, (op, n) in sc.DISTINCT.items():
        add(c, f"distinct_count({c}){op}{n}", "distinct_count", f"max: {n}" if op == "<=" else f"min: {n}, max: {n}")

    lines = ["tables:", "  - name: user_features", "    relation: main.user_features", "    gate: warn",
             "    checks:"]
    lines += [f"      - {c}" for c in table_checks]
    lines.append("    columns:")
    for column, items in col_checks.items():
        lines += [f"      - name: {column}", "        checks:"] + [f"          - {c}" for c in items]
    return "\n".join(lines) + "\n", names


def write_project(root: str, sc, db_name: str = "warehouse.duckdb", failed_rows: int | None = None) -> dict[str, str]:
    os.makedirs(os.path.join(root, "slos"), exist_ok=True)
    with open(os.path.join(root, "slocompile.yml"), "w") as f:
        f.write(f"name: core_bench\ntarget: local\ntargets:\n  local: {{type: duckdb, path: {db_name}}}\n"
                + (f"failed_rows: {failed_rows}\n" if failed_rows is not None else ""))
    text, names = declarations(sc)
    with open(os.path.join(root, "slos", "user_features.yml"), "w") as f:
        f.write(text)
    expected = [c[0] for c in sc.checks()]
    if sorted(names.values()) != sorted(expected) or len(expected) != 30:
        raise SystemExit(f"the project does not declare sql_checks.py's 30 checks: {sorted(names.values())} "
                         f"vs {sorted(expected)}")
    return names


# --------------------------------------------------------------------------- timing

def slocompile_cmd() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "slocompile")
    return [exe] if os.path.exists(exe) else [shutil.which("slocompile") or "slocompile"]


# every child (both hand-written plans too) runs with Python's bytecode cache on, as an installed
# package has its .pyc files: with PYTHONDONTWRITEBYTECODE set, each build compiled slocompile's modules
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "slocompile-bench", "pycache")


def run_child(cmd: list[str], cwd: str | None = None) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS bytes, exit code, CPU seconds: user + system) of one whole process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=ENV)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss * 1024, p.returncode, ru.ru_utime + ru.ru_stime


def fresh_copy(src: str, dst: str) -> None:
    for p in (dst, dst + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    shutil.copyfile(src, dst)


def gib(b: float) -> str:
    return f"{b / 2**30:.2f} GiB"


def bench(db: str, project: str, sc_path: str, runs: int, warmup: int) -> dict:
    proj_db = os.path.join(project, "warehouse.duckdb")
    cmds = {
        "fused": ([sys.executable, sc_path, "fused", db], None, None),
        "naive": ([sys.executable, sc_path, "naive", db], None, None),
        "slocompile": (slocompile_cmd() + ["build", "--quiet"], project, lambda: fresh_copy(db, proj_db)),
    }
    order = list(cmds)
    times = {k: [] for k in cmds}
    peaks = {k: [] for k in cmds}
    cpus = {k: [] for k in cmds}
    codes = {k: set() for k in cmds}
    for i in range(warmup + runs):
        rot = order[i % len(order):] + order[:i % len(order)]
        for name in rot:
            cmd, cwd, prepare = cmds[name]
            if prepare:
                prepare()
            wall, peak, code, cpu = run_child(cmd, cwd)
            if i >= warmup:
                times[name].append(wall)
                cpus[name].append(cpu)
                peaks[name].append(peak)
                codes[name].add(code)
        if i >= warmup:
            print(f"  round {i - warmup + 1}/{runs}: " + ", ".join(
                f"{k} {times[k][-1]:.3f}s {gib(peaks[k][-1])}" for k in order), flush=True)
    return {"times": times, "peaks": peaks, "cpus": cpus, "codes": codes}


# --------------------------------------------------------------------------- verification

def verify(db: str, project: str, sc_path: str, names: dict[str, str]) -> bool:
    out = subprocess.run([sys.executable, sc_path, "naive", db, "--print"], capture_output=True, text=True,
                         check=True, env=ENV).stdout
    ref = {}
    for line in out.splitlines():  # "PASS  name  [values]"
        parts = line.split("  ", 2)
        if len(parts) == 3 and parts[0] in ("PASS", "FAIL"):
            ref[parts[1]] = (parts[0] == "PASS", list(ast.literal_eval(parts[2])))
    fresh_copy(db, os.path.join(project, "warehouse.duckdb"))
    subprocess.run(slocompile_cmd() + ["build", "--quiet"], cwd=project, capture_output=True, env=ENV)
    with open(os.path.join(project, "target", "run_results.json")) as f:
        results = json.load(f)["results"]
    got = {r["check"]: r for r in results}
    ok = True
    if len(results) != 30 or set(got) != set(names):
        print(f"  MISMATCH: slocompile reported {len(results)} results: {sorted(got)}")
        ok = False
    rows = []
    for sname, rname in names.items():
        r = got.get(sname)
        passed_ref, vals = ref[rname]
        if r is None:
            rows.append((rname, "missing", "", ""))
            ok = False
            continue
        passed = r["status"] == "pass"
        obs = r["observed"]
        mine = obs["rows"] if isinstance(obs, dict) else obs
        theirs = vals[0]
        same_value = _same_value(rname, mine, theirs)
        if passed != passed_ref or not same_value:
            ok = False
        rows.append((rname, "PASS" if passed_ref else "FAIL", r["status"].upper(),
                     "" if same_value else f"value {mine!r} vs {theirs!r}"))
    fails_ref = sorted(n for n, (p, _) in ref.items() if not p)
    fails_mine = sorted(names[r["check"]] for r in results if r["status"] != "pass")
    print(f"  sql_checks.py failures: {fails_ref}")
    print(f"  slocompile failures:    {fails_mine}")
    for rname, a, b, note in rows:
        if a.upper() != b.upper() or note:
            print(f"  MISMATCH {rname}: sql_checks {a}, slocompile {b} {note}")
    print("  outcomes: " + ("all 30 equal (status and measured value)" if ok else "DIFFERENT"))
    return ok


def _same_value(rname: str, mine, theirs) -> bool:
    if rname.startswith("freshness"):
        return True  # slocompile reports an age in seconds, sql_checks.py a boolean
    if isinstance(theirs, bool) or mine is None or theirs is None:
        return mine == theirs
    try:
        return abs(float(mine) - float(theirs)) <= 1e-9 * max(1.0, abs(float(theirs)))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- profile

PHASES = [  # (label, function name in cProfile's stats; slocompile's own functions only)
    ("load YAML (Jinja, validation)", "load_project"),
    ("plan + compile SQL (every call)", "compile_project"),
    ("catalog reads + plan against catalog", "_plan_against_catalog"),
    ("scans (measure)", "measure"),
    ("evaluate", "evaluate_table"),
    ("publish (meta rows, views)", "_record_and_publish_views"),
    ("artifacts (manifest, results, junit)", "write_json"),
]

DRIVER = r"""
import cProfile, json, os, sys, time
T0 = time.perf_counter()
log = []
import slocompile.cli as cli
from slocompile.engines import duckdb as eng
t_import = time.perf_counter() - T0
for name in ("query", "execute"):
    orig = getattr(eng.DuckDBEngine, name)
    def wrap(self, sql, _o=orig):
        t = time.perf_counter()
        try:
            return _o(self, sql)
        finally:
            log.append((" ".join(sql.split()), time.perf_counter() - t))
    setattr(eng.DuckDBEngine, name, wrap)
prof = cProfile.Profile()
prof.enable()
try:
    cli.main(["build", "--quiet"])
except SystemExit:
    pass
prof.disable()
prof.dump_stats(sys.argv[1])
json.dump({"import": t_import, "total": time.perf_counter() - T0, "statements": log}, open(sys.argv[2], "w"))
"""


def profile(project: str, db: str) -> None:
    """One build in-process: imports, phases (cProfile, inflated by the profiler), and every statement timed
    by a wrapper (not inflated: DuckDB's time is in C)."""
    import pstats

    fresh_copy(db, os.path.join(project, "warehouse.duckdb"))
    prof, stm, drv = (os.path.join(project, n) for n in ("build.prof", "statements.json", "driver.py"))
    with open(drv, "w") as f:
        f.write(DRIVER)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, drv, prof, stm], cwd=project, capture_output=True, env=ENV)
    wall = time.perf_counter() - t0
    info = json.load(open(stm))
    st = pstats.Stats(prof)
    cum: dict[str, list] = {}
    for (file, _line, fn), (_cc, nc, _tt, ct, _callers) in st.stats.items():
        if "slocompile" in file:
            cum.setdefault(fn, []).append((ct, nc))
    print(f"  whole process {wall:.3f}s (profiled); imports of slocompile.cli + engine {info['import']:.3f}s")
    for label, fn in PHASES:
        if fn in cum:
            print(f"  {label:40s} {max(c for c, _ in cum[fn]):7.3f}s  ({fn}, {sum(n for _, n in cum[fn])} calls)")
    stmts = info["statements"]
    total_sql = sum(t for _, t in stmts)
    print(f"  {len(stmts)} SQL statements, {total_sql:.3f}s in DuckDB; the slowest:")
    for sql, t in sorted(stmts, key=lambda x: -x[1])[:8]:
        print(f"    {t:7.3f}s  {sql[:110]}")
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "slocompile", "build", "--quiet"], cwd=project,
                       capture_output=True, text=True, env=ENV)
    tops = []
    for line in r.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 3:
            tops.append((int(m.group(2)), m.group(4)))
    print("  imports of a build (-X importtime, cumulative, top level):")
    for us, name in sorted(tops, reverse=True)[:8]:
        print(f"    {us / 1e6:6.3f}s {name}")


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5; 0: no timing)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "slocompile-bench"),
                    help="where generated tables are kept")
    ap.add_argument("--bench-dir", default=os.environ.get("SLOCOMPILE_BENCH_DIR", DEFAULT_BENCH_DIR),
                    help="folder holding gen_data.py and sql_checks.py")
    ap.add_argument("--profile", action="store_true", help="also profile one build (cProfile, importtime)")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--failed-rows", type=int, default=None, help="the project's failed_rows (default: slocompile's, "
                    "20 rows of each failing check sampled by one more query; 0: no samples)")
    args = ap.parse_args(argv)

    sc_path = os.path.join(args.bench_dir, "sql_checks.py")
    if not os.path.exists(sc_path):
        raise SystemExit(f"{sc_path} not found; pass --bench-dir")
    sc = load_sql_checks(args.bench_dir)
    db = ensure_data(args.bench_dir, args.cache, args.rows)
    project = os.path.join(args.cache, f"project_{args.rows}")
    shutil.rmtree(project, ignore_errors=True)
    names = write_project(project, sc, failed_rows=args.failed_rows)

    import duckdb

    print(f"core benchmark: {args.rows:,} rows, 30 checks, {args.runs} runs each (+{args.warmup} warm-up), "
          f"duckdb {duckdb.__version__}, {os.cpu_count()} cpus, python {sys.version.split()[0]}")
    ok = True
    if not args.no_verify:
        print("verifying outcomes ...")
        ok = verify(db, project, sc_path, names)
    if args.runs > 0:
        print("timing (whole processes, interleaved) ...")
        res = bench(db, project, sc_path, args.runs, args.warmup)
        t, p = res["times"], res["peaks"]
        med = {k: statistics.median(v) for k, v in t.items()}
        pmed = {k: statistics.median(v) for k, v in p.items()}
        print()
        cmed = {k: statistics.median(v) for k, v in res["cpus"].items()}
        print(f"{'command':36s} {'min s':>7s} {'median s':>9s} {'cpu s (median)':>15s} "
              f"{'peak RSS (median)':>18s}  exit")
        labels = {"fused": "hand-written fused (1 query)", "naive": "hand-written per-check (30 queries)",
                  "slocompile": "slocompile build"}
        for k in ("fused", "naive", "slocompile"):
            print(f"{labels[k]:36s} {min(t[k]):7.3f} {med[k]:9.3f} {cmed[k]:15.3f} {gib(pmed[k]):>18s}  "
                  f"{sorted(res['codes'][k])}")
        faster = min(("fused", "naive"), key=lambda k: med[k])
        ratio = med["slocompile"] / med[faster]
        pair = statistics.median(s / min(f, n) for s, f, n in zip(t["slocompile"], t["fused"], t["naive"]))
        target = 1.0  # issue 15: at most the faster hand-written plan, at 10M and at 30M rows
        mem = pmed["slocompile"] / pmed["naive"]
        print(f"time ratio slocompile / faster plan ({faster}): {ratio:.2f} (median of per-round ratios {pair:.2f}; "
              f"target <= {target})")
        cfaster = min(("fused", "naive"), key=lambda k: cmed[k])
        print(f"cpu-time ratio slocompile / cheaper plan ({cfaster}): {cmed['slocompile'] / cmed[cfaster]:.2f} "
              "(user + system seconds: steadier than wall time on a shared machine)")
        print(f"peak memory ratio slocompile / per-check plan: {mem:.2f} (target <= 1.0)")
    if not args.no_verify:
        print(f"outcomes equal to sql_checks.py's: {'yes' if ok else 'NO'}")
    if args.profile:
        print("\nprofile of one build:")
        profile(project, db)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
