"""The Project facade: the same operations the CLI runs, for Python callers (Airflow, notebooks)."""
from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from slocompile.spec.model import ProjectSpec

if TYPE_CHECKING:
    from slocompile.compiling.compiler import Compiled
    from slocompile.engines.base import Engine
    from slocompile.run.backtest import Backtest
    from slocompile.run.build import BuildResult
    from slocompile.tools.suggest import Suggestion


class Project:
    def __init__(self, spec: ProjectSpec):
        self.spec = spec

    @classmethod
    def load(cls, path: str = ".", vars: dict | None = None, require_tables: bool = True) -> Project:
        """The project in `path`; `require_tables=False` also loads one that declares no table yet
        (what `suggest` and `debug` need in a new project)."""
        from slocompile.declarations.loader import load_project

        return cls(load_project(path, vars, require_tables=require_tables))

    @property
    def root(self) -> str:
        return self.spec.root

    @property
    def target_dir(self) -> str:
        return os.path.join(self.root, "target")

    def dialect_for(self, target: str | None = None, dialect: str | None = None) -> str:
        if dialect:
            return dialect
        from slocompile.run import selection

        return selection.target(self.spec, target).dialect

    def compile(self, target: str | None = None, dialect: str | None = None, select: list[str] | None = None,
                write: bool = True) -> Compiled:
        """Plans and SQL for a dialect; writes target/compiled/<dialect>/ and target/manifest.json."""
        from slocompile.compiling.compiler import compile_project
        from slocompile.reports import artifacts
        from slocompile.run import selection

        d = self.dialect_for(target, dialect)
        names = [t.name for t in selection.selected(self.spec, select)]
        compiled = compile_project(self.spec, d, names)
        if write:
            files = artifacts.write_compiled(self.target_dir, compiled)
            artifacts.write_json(os.path.join(self.target_dir, "manifest.json"), artifacts.manifest(compiled, files))
        return compiled

    def build(self, target: str | None = None, select: list[str] | None = None,
              progress: Callable[[str, object, int, int], None] | None = None, write: bool = True,
              partitions: list[str] | None = None, full_refresh: bool = False) -> BuildResult:
        """Run checks, record results, publish views; writes run_results.json, manifest.json, junit.xml.

        Partitioned tables are checked incrementally (new, failing and changed partitions);
        `partitions` names the ones to (re)check and `full_refresh` checks them all. With `write`,
        an earlier build's run_results.json and junit.xml are removed first (a build that raises
        leaves none); when the build committed but its artifacts cannot be written, raises
        reports.artifacts.ArtifactsNotWritten (its `run` is the committed build)."""
        from slocompile.reports import artifacts
        from slocompile.run.build import run_build

        if write:
            artifacts.discard_results(self.target_dir)
        return run_build(self.spec, target, select, progress, partitions, full_refresh,
                         while_closing=functools.partial(artifacts.write_build, self.target_dir) if write else None)

    def backtest(self, select: list[str] | None = None, start: str | None = None, end: str | None = None,
                 target: str | None = None, detailed: bool = False) -> Backtest | list[dict]:
        """Replay the partitions of monitored tables in order, each judged only by the partitions before
        it (the same detection as `build`), and return the alerts of partitions in [start, end]: dicts
        with partition, table, column, check, metric, severity, observed, expected (the normal band),
        message, incident and cause. `select` names tables (one without `monitor:` is replayed as if it
        had `monitor: all`). Opens the database read-only: writes nothing. With `detailed`, a
        monitoring.Backtest (alerts and a summary per table). See `slocompile backtest`."""
        from slocompile.run.backtest import backtest

        result = backtest(self.spec, target, select, start, end)
        return result if detailed else result.alerts

    def accept(self, table: str, column: str | None = None, *, start: str, reason: str, metric: str | None = None,
               who: str | None = None, target: str | None = None) -> dict:
        """Declare a monitored change intended from partition `start` on (`metric` of `column`, every
        metric of `column`, or with no column the whole table): its level becomes the baseline.
        Recorded in the meta schema (who, when, why); returns the recorded row. See `slocompile accept`."""
        from slocompile.run.acceptances import accept

        engine = self._engine(target)
        try:
            return accept(engine, self.spec, table, column, metric, start, reason, who)
        finally:
            engine.close()

    def mute(self, selector: str, *, until: str | dt.date, reason: str, who: str | None = None,
             target: str | None = None) -> dict:
        """Hold back the alerts of `selector` (TABLE, TABLE.CHECK or a glob) until `until`: a date or
        datetime (naive: UTC), or text as `--until` takes it (`2026-12-10`, `2026-12-10 08:00`, `3d`).
        Recorded in the meta schema (every machine building the project sees it); returns the mute:
        mute_id, selector, until, reason, created_by, created_at, ended_at, ended_by. See `slocompile mute`."""
        from slocompile.run import mutes

        when = mutes.parse_until(until)
        mutes.check_selector(self.spec, selector)
        engine = mutes.open_engine(self.spec, target)
        try:
            return mutes.add(engine, self.spec, selector, when, reason, who).as_dict()
        finally:
            engine.close()

    def unmute(self, selector: str, *, who: str | None = None, target: str | None = None) -> list[dict]:
        """End the active mutes whose selector (as given to `mute`) or id is `selector`; returns them
        (ended_at and ended_by set). No such mute: SlocompileError. See `slocompile unmute`."""
        from slocompile.run import mutes

        engine = mutes.open_engine(self.spec, target)
        try:
            return [m.as_dict() for m in mutes.end(engine, self.spec, selector, who)]
        finally:
            engine.close()

    def alerts(self, target: str | None = None) -> dict:
        """What `slocompile alerts --format json` prints: `failing` (each check failing or warning now:
        table, check, column, partition, status, severity, since, incident, cause, muted_until, mute),
        `mutes` (active and ended in the last 7 days, with `active`) and `held` (alerts mutes hold).
        Reads only (DuckDB opens read-only)."""
        from slocompile.run import mutes

        engine = mutes.open_engine(self.spec, target, read_only=True)
        try:
            return mutes.open_problems(engine, self.spec)
        finally:
            engine.close()

    def report(self, target: str | None = None, select: list[str] | None = None, output: str | None = None,
               last: int = 90) -> str:
        """Write one self-contained HTML page (no network, no scripts) from the target's meta schema:
        status per table and partition, failed and warned checks with the SQL that measured them,
        monitor incidents, and metric history plots with their learned bands over the newest `last`
        partitions. Reads only (DuckDB opens read-only). Returns the path written (default
        target/report.html). See `slocompile report`."""
        from slocompile.reports.html import write_report

        return write_report(self.spec, target, select, output, last)

    def _engine(self, target: str | None) -> Engine:
        from slocompile.engines.connect import connect
        from slocompile.run import selection

        return connect(selection.target(self.spec, target), self.root)

    def rollback(self, table: str, to: int | None = None, target: str | None = None) -> dict:
        """gate last_good: serve an earlier passing version of `table` (default: undo its latest
        publish). Returns {partition: (old version, new version)}."""
        from slocompile.run.last_good import rollback

        engine = self._engine(target)
        try:
            return rollback(self.spec, engine, table, to)
        finally:
            engine.close()

    def versions(self, table: str, target: str | None = None) -> list[dict]:
        """gate last_good: the kept versions of `table`, per partition, and which one is published."""
        from slocompile.run.last_good import list_versions

        engine = self._engine(target)
        try:
            return list_versions(self.spec, engine, table)
        finally:
            engine.close()

    def failures(self, table: str, check: str | None = None, target: str | None = None) -> dict:
        """The failed-row samples of `table`'s latest build (of one `check`): {"run_id": ..., "rows":
        [{check, partition, row_number, values}]}. See `slocompile show TABLE --failures`."""
        from slocompile.engines.base import QueryFailed
        from slocompile.errors import SlocompileError
        from slocompile.reports.reportdata import open_target
        from slocompile.run import selection
        from slocompile.run.failures import read

        spec = self.spec.table(table)
        if spec is None:
            raise SlocompileError(f"no table '{table}' is declared")
        if check is not None and check not in {c.name for c in spec.checks}:
            raise SlocompileError(f"table '{table}' has no check '{check}' (its checks: "
                                  f"{', '.join(sorted(c.name for c in spec.checks))})")
        chosen = selection.target(self.spec, target)
        engine, _ = open_target(self.spec, chosen)  # read-only: writes nothing, creates no database
        try:
            run_id, rows = read(engine, self.spec, table, check)
        except QueryFailed as e:
            raise SlocompileError(f"target '{chosen.name}': no slocompile history in schema '{self.spec.schemas.meta}' "
                                  f"(run `slocompile build` first): {str(e).splitlines()[0]}") from None
        finally:
            engine.close()
        return {"run_id": run_id, "rows": rows}

    def failures_text(self, table: str, check: str | None = None, target: str | None = None) -> str:
        """What `slocompile show TABLE --failures [CHECK]` prints."""
        from slocompile.run.failures import format_samples

        found = self.failures(table, check, target)
        return format_samples(table, found["run_id"], found["rows"], check)

    def suggest(self, relation: str, target: str | None = None, name: str | None = None,
                partition: str | None = None, margin: float = 0.1, max_values: int = 20,
                detailed: bool = False) -> Suggestion | str:
        """Profile `relation` (schema.table) on a target in one scan; the YAML declaration of a table
        whose checks pass on the data as it is now (or, with `detailed`, a suggest.Suggestion with
        the profile too). See `slocompile suggest`."""
        from slocompile.tools.suggest import suggest

        result = suggest(self.spec, relation, target=target, name=name, partition=partition, margin=margin,
                         max_values=max_values)
        return result if detailed else result.yaml

    @staticmethod
    def schema(kind: str = "declarations") -> dict:
        """The JSON Schema (draft 2020-12) of declaration files ('declarations') or of slocompile.yml
        ('project'), generated from the validator's own definitions."""
        from slocompile.tools.jsonschema import schema

        return schema(kind)

    def write_schemas(self) -> dict[str, str]:
        """(Re)write the editor schemas into <project>/.slocompile/ (where `init`'s YAML files point), with
        the project's custom check types."""
        from slocompile.tools.jsonschema import SCHEMA_DIR, project_types, write_schemas

        return write_schemas(os.path.join(self.root, SCHEMA_DIR), project_types(self.root))
