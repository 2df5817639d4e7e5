"""What both orchestrators need from a build: run one, and its outcome as plain JSON data.

The outcome is read back from the build's target/run_results.json: the artifact CI reads, with
configured secrets already redacted, JSON-safe as XCom and Dagster metadata need. Failed-row
samples stay in that file (they are table data, not something to copy into an orchestrator's
database).
"""
from __future__ import annotations

import json
import os

from slocompile.api import Project

MAX_FAILURES = 200  # results listed in a summary (an XCom row); the counts cover all of them
NOT_PASSING = ("fail", "error", "warn")


def build(project_dir: str, *, target: str | None = None, select: list[str] | str | None = None,
          vars: dict | None = None, partitions: list[str] | None = None, full_refresh: bool = False):
    """One build, as `slocompile build` runs it: (the loaded Project, its BuildResult). Raises
    SlocompileError where the command line exits 2 (a broken declaration, a connection)."""
    project = Project.load(project_dir, vars)
    chosen = [select] if isinstance(select, str) else (list(select) if select else None)
    run = project.build(target=target, select=chosen, partitions=list(partitions) if partitions else None,
                        full_refresh=full_refresh)
    return project, run


def run_results(project: Project) -> dict:
    with open(os.path.join(project.target_dir, "run_results.json"), encoding="utf-8") as fh:
        return json.load(fh)


def summary(project: Project, run, data: dict | None = None) -> dict:
    """run_results.json (`data`, read when not given) in short: the run's metadata, status and exit
    code, counts by status, the tables built, and the results that did not pass (at most
    MAX_FAILURES, without failed-row samples)."""
    data = data if data is not None else run_results(project)
    counts = {"passed": 0, "failed": 0, "warned": 0, "errored": 0}
    key = {"pass": "passed", "fail": "failed", "warn": "warned", "error": "errored"}
    failing = []
    for r in data["results"]:
        counts[key.get(r["status"], "errored")] += 1
        if r["status"] in NOT_PASSING:
            failing.append({k: v for k, v in r.items() if not k.startswith("failed_rows")})
    return {**data["metadata"], "status": data["status"], "exit_code": run.exit_code, "counts": counts,
            "tables": [t["table"] for t in data["tables"]], "failures": failing[:MAX_FAILURES],
            "failures_not_listed": max(0, len(failing) - MAX_FAILURES),
            "run_results": os.path.join(project.target_dir, "run_results.json")}


def failed_text(summary: dict, limit: int = 10) -> str:
    """`orders.row_count, payments.not_null_id [2026-12-01], ...` of the error-severity failures."""
    bad = [f"{r['table']}.{r['check']}" + (f" [{r['partition']}]" if r.get("partition") is not None else "")
           for r in summary["failures"] if r["status"] in ("fail", "error") and r["severity"] == "error"]
    return ", ".join(bad[:limit]) + (f" and {len(bad) - limit} more" if len(bad) > limit else "")
