"""Drift SLOs (the check type: checks/drift.py), judged after a table's monitors in a build.

The monitors profile the partitions the build checks and keep each column's distribution summary
in their history (loaded from the meta schema: trailing partitions are never rescanned); a drift
SLO compares each checked partition's summary with the pooled summaries of the partitions before
it, leaving out those where the column's monitors alerted.
"""
from __future__ import annotations

from slocompile import checks as registry
from slocompile.checks.drift import Drift
from slocompile.checks.evaluate import ERROR, FAIL, PASS, WARN, Result


def drift_checks(table) -> list:
    return [c for c in table.checks if registry.get(c.type).from_monitor_history]


def results(table, tm) -> list[Result]:
    """The drift SLOs' results on the partitions the table's monitoring (`tm`, a
    run.monitors.TableMonitoring) judged for this build."""
    checks = drift_checks(table)
    if not checks or (tm is not None and not tm.skipped and tm.history is None):
        return []  # nothing to judge in this build
    out = []
    for check in checks:
        base = dict(table=table.name, check=check.name, check_type=check.type, column=check.column,
                    severity=check.severity)
        if tm is None or tm.skipped:
            why = tm.skipped if tm is not None else "the column's monitor profile did not run"
            out.append(Result(**base, partition=None, status=ERROR, observed=None, expected="",
                              message=f"could not be measured: {why}"))
        else:
            out += [Result(**base, partition=p, **_judged(check, tm.history, p)) for p in tm.checked]
    return out


def _judged(check, history, partition: str) -> dict:
    """status, observed, expected and message of one drift SLO on one partition."""
    earlier = [q for q in history.before(partition) if not history.column_alerted(q, check.column)
               and history.summaries.get(q, {}).get(check.column)]
    refs = [history.summaries[q][check.column] for q in earlier[-check.params["baseline"]:]]
    drift = registry.get(check.type)
    assert isinstance(drift, Drift)  # drift_checks: the check types judged from monitor history
    outcome = drift.judge(check, history.summaries.get(partition, {}).get(check.column), refs)
    status = PASS if outcome.passed else (FAIL if check.severity == "error" else WARN)
    return dict(status=status, observed=outcome.observed, expected=outcome.expected, message=outcome.message)
