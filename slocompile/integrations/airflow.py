"""SlocompileBuildOperator: `slocompile build` as an Airflow task (`pip install 'slocompile[airflow]'`).

    SlocompileBuildOperator(task_id="check_orders", project_dir="/opt/slo", select=["orders"], target="prod")

The arguments are those of `slocompile build` (select, target, vars, partitions, full_refresh).
The task fails as the command exits non-zero: exit code 1 (an error-severity check failed) with
AirflowFailException naming the failed checks (retrying would re-check the same data), exit code
2 (the build could not run: a broken declaration, a connection) with AirflowException and
slocompile's message (retries apply: a connection may come back). The run's results, in short
(runs.summary: run id, status, counts, the results that did not pass), are pushed to XCom as
`run_results` whatever the outcome of a build that ran, and are the task's return value.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator  # Airflow 3's task SDK
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from slocompile.errors import SlocompileError
from slocompile.integrations import runs

XCOM_KEY = "run_results"


class SlocompileBuildOperator(BaseOperator):
    template_fields: Sequence[str] = ("project_dir", "select", "target", "vars", "partitions")
    ui_color = "#d9ead3"

    def __init__(self, *, project_dir: str = ".", select: list[str] | str | None = None,
                 target: str | None = None, vars: dict | None = None, partitions: Sequence[str] | None = None,
                 full_refresh: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project_dir = project_dir
        self.select = select
        self.target = target
        self.vars = vars
        self.partitions = partitions
        self.full_refresh = full_refresh

    def execute(self, context: Any) -> dict:
        try:
            project, run = runs.build(self.project_dir, target=self.target, select=self.select, vars=self.vars,
                                      partitions=list(self.partitions) if self.partitions else None,
                                      full_refresh=self.full_refresh)
        except SlocompileError as e:
            raise AirflowException(f"slocompile build could not run (exit code 2): {e}") from None
        summary = runs.summary(project, run)
        context["ti"].xcom_push(key=XCOM_KEY, value=summary)
        counts = summary["counts"]
        self.log.info("slocompile run %s on target %s: %s (%s passed, %s failed, %s warned, %s errored)",
                      summary["run_id"], summary["target"], summary["status"].upper(), counts["passed"],
                      counts["failed"], counts["warned"], counts["errored"])
        if run.exit_code:
            raise AirflowFailException(f"slocompile build failed (exit code {run.exit_code}, run {summary['run_id']}): "
                                       f"{runs.failed_text(summary)}")
        return summary
