"""A project's checks as Dagster asset checks (`pip install 'slocompile[dagster]'`).

    from slocompile.integrations.dagster import asset_checks, asset_specs
    defs = dagster.Definitions(assets=asset_specs("slo"), asset_checks=[asset_checks("slo")])

Each table is an asset (key: the table's name, under `key_prefix`, or `asset_key(name)`), each of
its checks an asset check of that asset, and a table with `monitor:` one more, `monitor`, for its
monitor alerts. However many checks Dagster runs, they are ONE `multi_asset_check` step that runs
ONE slocompile build of their tables and reads every result from it: a check passes when none of
its results (one per checked partition) fails or warns; a failing error-severity check is a
failed check of severity ERROR, a warning (or a failing warn-severity check) of severity WARN. A
build that cannot run (a broken declaration, a connection: the command line's exit code 2) fails
the step with slocompile's message. The build is a real one: it records its results, publishes the
validated views and sends the project's alerts, as `slocompile build` does.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import dagster as dg

from slocompile.api import Project
from slocompile.errors import SlocompileError
from slocompile.integrations import runs

MONITOR = "monitor"          # the asset check of a table's monitor alerts (results of check_type monitor)
MAX_PARTITIONS = 50          # failing partitions listed in a check's metadata
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")  # Dagster's check names: ^[A-Za-z0-9_]+$

KeyFor = Callable[[str], "dg.AssetKey | str | Sequence[str]"]


def _key(table: str, key_prefix: Sequence[str] | str, asset_key: KeyFor | None) -> dg.AssetKey:
    if asset_key is not None:
        return dg.AssetKey.from_coercible(asset_key(table))
    prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix)
    return dg.AssetKey([*prefix, table])


def _tables(project: Project, target: str | None, select: Sequence[str] | str | None) -> list:
    """The selected tables' specs, with the selector grammar of `slocompile build --select` (a
    compile for the target's dialect resolves it; nothing is written or connected to)."""
    if not select:
        return list(project.spec.tables)
    chosen = [select] if isinstance(select, str) else list(select)
    return [t.table for t in project.compile(target=target, select=chosen, write=False).tables]


def _checks_of(table) -> list[tuple[str, str, str]]:
    """(Dagster check name, slocompile check name or MONITOR, description) of a table."""
    out, used = [], set()
    entries = [(c.name, f"{c.type}" + (f" of {c.column}" if c.column else "") + f" (severity {c.severity})")
               for c in table.checks]
    if table.monitor is not None:
        entries.append((MONITOR, f"monitor alerts of {table.name} (severity {table.monitor.severity})"))
    for name, what in entries:
        safe = _UNSAFE.sub("_", name) or "check"
        n = 1
        while (safe if n == 1 else f"{safe}_{n}") in used:
            n += 1
        safe = safe if n == 1 else f"{safe}_{n}"
        used.add(safe)
        out.append((safe, name, f"slocompile check {table.name}.{name}: {what}"))
    return out


def asset_specs(project_dir: str = ".", *, target: str | None = None, select: Sequence[str] | str | None = None,
                vars: dict | None = None, key_prefix: Sequence[str] | str = (),
                asset_key: KeyFor | None = None) -> list[dg.AssetSpec]:
    """The selected tables as external assets (their relation, owner and tags as metadata), for a
    Definitions without other assets of those keys (a table Dagster materializes already has one)."""
    project = Project.load(project_dir, vars)
    out = []
    for t in _tables(project, target, select):
        meta = {"slocompile/relation": t.relation_text, "slocompile/table": t.name}
        if t.owner:
            meta["slocompile/owner"] = t.owner
        if t.tags:
            meta["slocompile/tags"] = ", ".join(t.tags)
        out.append(dg.AssetSpec(_key(t.name, key_prefix, asset_key), description=f"{t.relation_text}: declared in "
                                f"{t.file}", metadata=meta))
    return out


def asset_checks(project_dir: str = ".", *, target: str | None = None, select: Sequence[str] | str | None = None,
                 vars: dict | None = None, key_prefix: Sequence[str] | str = (), asset_key: KeyFor | None = None,
                 name: str = "slocompile_checks", full_refresh: bool = False) -> dg.AssetChecksDefinition:
    """One asset check per check of the selected tables (and `monitor` per monitored table), all
    computed by one step that runs one build of the tables whose checks Dagster selected (a table
    is checked whole: its other checks run too, and are recorded, but only selected ones report)."""
    project = Project.load(project_dir, vars)
    entries: dict[dg.AssetCheckKey, tuple[str, str]] = {}
    specs = []
    for t in _tables(project, target, select):
        key = _key(t.name, key_prefix, asset_key)
        for safe, check, description in _checks_of(t):
            specs.append(dg.AssetCheckSpec(safe, asset=key, description=description,
                                           metadata={"slocompile/check": check, "slocompile/table": t.name}))
            entries[dg.AssetCheckKey(key, safe)] = (t.name, check)

    @dg.multi_asset_check(specs=specs, name=name, can_subset=True,
                          description=f"slocompile build of {project.spec.name}: one build, every check's result")
    def _slocompile_checks(context) -> Iterator[dg.AssetCheckResult]:  # context: Dagster reads its annotation
        wanted = [k for k in entries if k in context.selected_asset_check_keys]
        tables = list(dict.fromkeys(entries[k][0] for k in wanted))
        try:
            built, run = runs.build(project_dir, target=target, select=tables, vars=vars, full_refresh=full_refresh)
        except SlocompileError as e:
            raise dg.Failure(description=f"slocompile build could not run (exit code 2): {e}") from None
        data = runs.run_results(built)
        summary = runs.summary(built, run, data)
        context.log.info(f"slocompile run {summary['run_id']} on target {summary['target']}: "
                         f"{summary['status'].upper()} {summary['counts']}")
        by_check: dict[tuple[str, str], list[dict]] = {}
        for r in data["results"]:
            by_check.setdefault((r["table"], MONITOR if r["check_type"] == "monitor" else r["check"]), []).append(r)
        known = set(entries.values())
        for (table, check), rs in by_check.items():
            if (table, check) not in known and table in tables:
                bad = [r for r in rs if r["status"] in runs.NOT_PASSING]
                if bad:  # e.g. the implied schema check when a used column drifted: in run_results.json
                    context.log.warning(f"{table}.{check} ({bad[0]['status']}): {bad[0]['message']}")
        for k in wanted:
            yield _result(k, *entries[k], by_check.get(entries[k], []), summary["run_id"])

    return _slocompile_checks


def _result(key: dg.AssetCheckKey, table: str, check: str, results: list[dict], run_id: str) -> dg.AssetCheckResult:
    bad = [r for r in results if r["status"] in runs.NOT_PASSING]
    failing = [r for r in bad if r["status"] in ("fail", "error") and r["severity"] == "error"]
    worst = next(iter(failing or bad or results), None)
    meta: dict = {"slocompile/run_id": run_id, "results": len(results), "not_passing": len(bad)}
    parts = sorted({str(r["partition"]) for r in bad if r.get("partition") is not None})
    if parts:
        meta["partitions_not_passing"] = ", ".join(parts[:MAX_PARTITIONS]) + (
            f" and {len(parts) - MAX_PARTITIONS} more" if len(parts) > MAX_PARTITIONS else "")
    if worst is not None:
        meta["status"] = worst["status"]
        meta["observed"] = dg.MetadataValue.json(worst["observed"]) if isinstance(worst["observed"], (dict, list)) \
            else dg.MetadataValue.text(str(worst["observed"]))
        meta["expected"] = str(worst["expected"])
        description = worst["message"] or f"{table}.{check}: {worst['status']}"
    else:
        description = (f"{table}.{check}: not checked by this build (no new, failing or changed partition; "
                       "its checked partitions pass)")
    return dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=not bad, metadata=meta,
                               severity=dg.AssetCheckSeverity.ERROR if failing or not bad
                               else dg.AssetCheckSeverity.WARN, description=description)
