"""Views a build need not create again: those the warehouse already holds as this build would
create them.

A table's validated and quarantine views are static SQL (the statuses they filter on are rows
read at query time), so re-creating an identical view changes nothing but costs a catalog write
per view on every build. A view is left as it is when all of these hold: this build's SQL for
both views is what the view cache (compiling.viewcache) holds, the engine shows each view with
the text it showed right after a build created it from that very SQL, and the relation has the
columns the views were created over (schema_drift's recorded == actual, as settle_views asks).
Anything else (a view dropped or replaced by hand, another version of the engine, a drifted
table, an engine that cannot show its views) creates them, as before.
"""
from __future__ import annotations

from slocompile.compiling.viewcache import ViewCache
from slocompile.engines.base import Engine
from slocompile.spec.model import ProjectSpec
from slocompile.sqltrees.views import view_name


def current(engine: Engine, project: ProjectSpec, table_runs: list, found: dict, views: ViewCache) -> set[str]:
    """The names of the tables (of run.build.TableRun `table_runs`) whose two views need no CREATE."""
    candidates = []
    for tr in table_runs:
        f = found.get(tr.table.name)
        if f is None or f.drifted or f.recorded is None or f.recorded != f.actual:
            continue
        shown = views.shown(tr.table.name, tr.compiled.validated_view, tr.compiled.quarantine_view)
        if shown is not None:
            candidates.append((tr, shown))
    if not candidates:
        return set()
    now = engine.view_definitions(_names(project, [tr for tr, _ in candidates]))
    if now is None:
        return set()
    return {tr.table.name for i, (tr, shown) in enumerate(candidates) if (now[2 * i], now[2 * i + 1]) == shown}


def record(engine: Engine, project: ProjectSpec, created: list, views: ViewCache) -> None:
    """After the commit: how the engine shows the views this build created (`created`: TableRuns),
    kept in the view cache for the next build's `current`."""
    if not created or views.base is None:
        return
    now = engine.view_definitions(_names(project, created))
    if now is None:
        return
    for i, tr in enumerate(created):
        validated, quarantine = now[2 * i], now[2 * i + 1]
        if validated is not None and quarantine is not None:
            views.record_shown(tr.table.name, tr.compiled.validated_view, tr.compiled.quarantine_view,
                               (validated, quarantine))
    views.save([t.name for t in project.tables])


def _names(project: ProjectSpec, table_runs: list) -> list:
    s = project.schemas
    return [view for tr in table_runs for view in (view_name(s.validated, tr.table), view_name(s.quarantine, tr.table))]
