"""slocompile.integrations.airflow with the real Airflow (issue 14, item 8): DAGs run with
`dag.test()` in a subprocess against an Airflow home of their own (its SQLite database made by
`airflow db migrate`): a passing build succeeds and returns its summary, exit code 1 fails the
task and still pushes `run_results` to XCom, exit code 2 fails it with slocompile's message, and
the DAG of docs/orchestrators.md runs as written."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from orchestrators import docs_block, require
from proj import query, sql, write

require("airflow")  # the DAGs import it, in subprocesses with an Airflow home of their own

PROJECT = """\
tables:
  - name: orders
    relation: raw.orders
    checks:
      - row_count: {min: {{ var('min_orders', 3) }}}
  - name: payments
    relation: raw.payments
    tags: [finance]
    checks:
      - row_count: {min: 3}
      - row_count: {max: 2, severity: warn, name: few_payments}
"""

TEST_DAG = """\
import datetime as dt
import json
import os
import re

from airflow.sdk import DAG

from slocompile.integrations.airflow import SlocompileBuildOperator

with DAG("slocompile_test", schedule=None, start_date=dt.datetime(2026, 12, 1)) as dag:
    SlocompileBuildOperator(task_id="passes", project_dir=os.environ["SLO_PROJECT"], select="payments")
    SlocompileBuildOperator(task_id="fails", project_dir=os.environ["SLO_PROJECT"], select=["orders"],
                            target="local", vars={"min_orders": 10})
    SlocompileBuildOperator(task_id="broken", project_dir=os.environ["SLO_BROKEN"])

if __name__ == "__main__":
    run = dag.test()
    out = {"state": str(run.state), "tasks": {}}
    for ti in run.get_task_instances():
        out["tasks"][ti.task_id] = {"state": str(ti.state),
                                    "run_results": ti.xcom_pull(task_ids=ti.task_id, key="run_results"),
                                    "return_value": ti.xcom_pull(task_ids=ti.task_id)}
    print("RESULT " + json.dumps(out, default=str))
"""


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> dict:
    """An Airflow home with its SQLite database; the environment to run DAG files in."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"), "NO_COLOR": "1"}
    (home / "dags").mkdir()
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    command = [airflow] if os.path.exists(airflow) else [sys.executable, "-m", "airflow"]
    proc = subprocess.run([*command, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return env


def run_dag(env: dict, name: str, text: str, **extra) -> tuple[dict | None, str]:
    """Write the DAG file into the dags folder, run it (its `dag.test()`); (its RESULT line, the output)."""
    path = os.path.join(env["AIRFLOW__CORE__DAGS_FOLDER"], name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    proc = subprocess.run([sys.executable, path], env={**env, **extra}, capture_output=True, text=True, timeout=400)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    return (json.loads(lines[-1][len("RESULT "):]) if lines else None), output


@pytest.fixture
def projects(tmp_path) -> tuple[str, str]:
    good = write(tmp_path / "slo", PROJECT)
    sql(good, ["CREATE TABLE raw.orders AS SELECT range AS id FROM range(5)",
               "CREATE TABLE raw.payments AS SELECT range AS id FROM range(5)"])
    broken = write(tmp_path / "broken", [{"name": "t", "relation": "raw.t", "checks": [{"row_count": {"min": "x"}}]}])
    return good, broken


def test_operator_outcomes_and_xcom(airflow_home, projects):
    good, broken = projects
    result, output = run_dag(airflow_home, "slocompile_test.py", TEST_DAG, SLO_PROJECT=good, SLO_BROKEN=broken)
    assert result is not None, output[-5000:]
    tasks = result["tasks"]
    assert {t: v["state"] for t, v in tasks.items()} == {"passes": "success", "fails": "failed", "broken": "failed"}
    assert result["state"] == "failed"
    # a passing build (with a warning): its summary is the return value and XCom run_results
    passed = tasks["passes"]["run_results"]
    assert passed == tasks["passes"]["return_value"]
    assert (passed["status"], passed["exit_code"], passed["tables"]) == ("pass", 0, ["payments"])
    assert passed["counts"] == {"passed": 1, "failed": 0, "warned": 1, "errored": 0}
    assert [(f["check"], f["status"], f["observed"]) for f in passed["failures"]] == [("few_payments", "warn", 5)]
    assert passed["project"] == "issue4" and passed["target"] == "local" and passed["dialect"] == "duckdb"
    assert passed["run_results"] == os.path.join(good, "target", "run_results.json")
    # exit code 1: the task fails, its results are in XCom all the same; --var reached the build
    failed = tasks["fails"]["run_results"]
    assert tasks["fails"]["return_value"] is None
    assert (failed["status"], failed["exit_code"], failed["tables"]) == ("fail", 1, ["orders"])
    assert [(f["check"], f["expected"]) for f in failed["failures"]] == [("row_count", ">= 10")]
    assert f"slocompile build failed (exit code 1, run {failed['run_id']}): orders.row_count" in output
    # exit code 2: slocompile's located message, no results
    assert tasks["broken"]["run_results"] is None
    located = r"slocompile build could not run \(exit code 2\): slos/tables\.yml:\d+:\d+: "
    assert re.search(located, output), output[-3000:]
    # both builds of the project were recorded, as any build is
    assert sorted(r[0] for r in query(good, "SELECT run_id FROM slo.runs")) == sorted(
        [passed["run_id"], failed["run_id"]])


def test_docs_dag_runs(airflow_home, projects):
    good, _ = projects
    text = docs_block("dags/slo_checks.py").replace('"/opt/slo"', repr(good))
    assert repr(good) in text
    _, output = run_dag(airflow_home, "slo_checks.py", text)
    assert "slocompile run" in output and "PASS (2 passed, 0 failed, 1 warned, 0 errored)" in output
    assert query(good, "SELECT DISTINCT table_name FROM slo.results ORDER BY 1") == [("orders",), ("payments",)]
