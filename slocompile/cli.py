"""The command line: thin commands over Project; one handler turns user errors into exit 2."""
from __future__ import annotations

import functools
import os
import sys

import click


def _user_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from slocompile.errors import SlocompileError

        try:
            return fn(*args, **kwargs)
        except SlocompileError as e:
            if kwargs.get("fmt") == "github":  # --format github: annotations of the declaring lines too
                from slocompile.reports.github import problem_lines

                for line in problem_lines(e.problems, kwargs.get("project_dir") or "."):
                    click.echo(line)
            for p in e.problems:
                click.echo(click.style("error: ", fg="red", bold=True) + str(p), err=True)
            if len(e.problems) > 1:
                click.echo(f"{len(e.problems)} problems found", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # `slocompile show T | head`: the reader left; stop quietly, as `cat` does
            _silence_stdout()
            sys.exit(141)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as e:  # a bug of ours: say so plainly, keep the traceback opt-in
            if os.environ.get("SLOCOMPILE_DEBUG"):
                raise
            from slocompile.support.secrets import redact  # only on this path: keeps --help fast

            click.echo(f"internal error: {type(e).__name__}: {redact(str(e))}\n"
                       "(set SLOCOMPILE_DEBUG=1 for the traceback, and please report it)", err=True)
            sys.exit(2)
    return wrapper


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _parse_vars(values) -> dict:
    import yaml

    out = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"expected NAME=VALUE, got {v!r}", param_hint="--var")
        k, val = v.split("=", 1)
        try:
            out[k] = yaml.safe_load(val) if val else ""
        except yaml.YAMLError as e:
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise click.BadParameter(f"the value of {k!r} is not valid YAML ({problem}): {val!r}",
                                     param_hint="--var") from None
    return out


# the same list as spec.model.DIALECTS, spelled out so that `--help` imports nothing heavy
DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark", "databricks", "trino", "redshift")

project_dir = click.option("--project-dir", "-p", default=".", show_default=True, type=click.Path(file_okay=False),
                           help="The project folder (holding slocompile.yml).")
var_opt = click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Override a var (repeatable).")
select_opt = click.option("--select", "-s", multiple=True,
                          help="Only these tables (repeatable; space-separated: any of them, comma-joined: all "
                               "of them): names, tag:NAME, owner:NAME; state:modified: the tables whose "
                               "declarations changed since --state.")
state_opt = click.option("--state", type=click.Path(), metavar="PATH",
                         help="An earlier target/ folder (its manifest.json) that state:modified compares with.")


def _selection(project, select, state) -> list[str] | None:
    """--select names, with state:modified expanded (tools.state); None: every table."""
    from slocompile.run.selectors import words
    from slocompile.tools.state import modified, split_select

    names, methods = split_select(words(select, {t.name for t in project.spec.tables}))
    if not methods:
        if state:
            raise click.UsageError("--state goes with --select state:modified")
        return names or None
    chosen = set(modified(project.spec, state)) | set(names)
    # other selectors (tag:, owner:, globs, unknown names: errors) go on to run.selectors
    return [t.name for t in project.spec.tables if t.name in chosen] + [n for n in names
                                                                         if project.spec.table(n) is None]


ci_format = click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text", show_default=True,
                         help="github: also print GitHub Actions workflow commands (::error file=...,line=...::) "
                              "for declaration errors and failing checks, at the lines declaring them.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slocompile")
def main():
    """slocompile: data-quality SLOs in YAML, compiled to SQL checks and validated views."""


@main.command()
@click.argument("directory", default="my_slo_project", type=click.Path(file_okay=False))
@_user_errors
def init(directory):
    """Create a new project from the template, with sample data, ready to build."""
    from slocompile.tools.scaffold import init_project

    path = init_project(directory)
    click.echo(f"created {path}\nnext: cd {directory} && slocompile build")


@main.command(name="compile")
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@click.option("--dialect", "-d", type=click.Choice(DIALECTS), help="Compile for a dialect instead of a target.")
@select_opt
@state_opt
@ci_format
@var_opt
@_user_errors
def compile_cmd(project_dir, target, dialect, select, state, fmt, variables):
    """Write target/compiled/<dialect>/ and target/manifest.json; connects to nothing."""
    from slocompile.compiling import cache  # the standard library only: an unchanged project compiles in no time

    fingerprint = cache.key(project_dir, {"target": target, "dialect": dialect, "select": list(select),
                                          "vars": list(variables)})
    summary = cache.hit(project_dir, fingerprint)
    if summary is not None:
        click.echo(summary)
        return
    from slocompile.api import Project
    from slocompile.support.gcpause import for_short_process

    for_short_process()
    cache.forget(project_dir)
    project = Project.load(project_dir, _parse_vars(variables))
    tables = _selection(project, select, state)
    if tables == []:
        click.echo(f"no table changed since {state}: nothing to compile")
        return
    compiled = project.compile(target=target, dialect=dialect, select=tables)
    n_checks = sum(len(t.table.checks) for t in compiled.tables)
    n_scans = sum(len(t.scans) for t in compiled.tables)
    summary = (f"compiled {len(compiled.tables)} tables, {n_checks} checks into {n_scans} queries "
               f"for {compiled.dialect}: {os.path.join(project.target_dir, 'compiled', compiled.dialect)}")
    cache.store(project_dir, fingerprint, cache.outputs(project_dir, compiled.dialect), summary)
    click.echo(summary)


@main.command()
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@select_opt
@state_opt
@click.option("--partition", "partitions", multiple=True, metavar="P",
              help="(Re)check these partitions only (repeatable); default: new, failing and changed ones.")
@click.option("--full-refresh", is_flag=True, help="Check every partition again.")
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and the verdict.")
@ci_format
@var_opt
@_user_errors
def build(project_dir, target, select, state, partitions, full_refresh, quiet, fmt, variables):
    """Run the checks, record results in the meta schema, publish the validated views."""
    from slocompile.support.gcpause import frozen_after

    with frozen_after():  # imports and the declarations live until the process ends
        import slocompile.run.build  # noqa: F401  (for the freeze below)
        from slocompile.api import Project
        from slocompile.reports import artifacts, terminal

        # an earlier build's verdict goes first: whatever stops this one (a broken declaration, a
        # connection, a signal) leaves no run_results.json or junit.xml that CI could take for its own
        artifacts.discard_results(os.path.join(project_dir, "target"))
        project = Project.load(project_dir, _parse_vars(variables))
        tables = _selection(project, select, state)
    if tables == []:
        click.echo(f"no table changed since {state}: nothing to build")
        return
    progress = terminal.progress(quiet)  # on a terminal, a live line for phases over a second
    try:
        run = project.build(target=target, select=tables, progress=progress,
                            partitions=list(partitions) or None, full_refresh=full_refresh)
    except artifacts.ArtifactsNotWritten as e:  # committed: show what was, then the error (exit 2)
        progress.close()
        terminal.summary(e.run, quiet=quiet)
        raise
    finally:
        progress.close()
    terminal.summary(run, quiet=quiet)
    if fmt == "github":
        from slocompile.reports.github import result_lines

        for line in result_lines(run):
            click.echo(line)
    sys.exit(run.exit_code)


@main.command()
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@click.option("--select", "-s", multiple=True,
              help="Only these tables (repeatable; names, tag:NAME, owner:NAME, as in build); default: every "
                   "table with monitor:. A table without "
                   "monitor: is replayed as if it had monitor: all.")
@click.option("--start", metavar="P", help="Print alerts from this partition on (earlier ones still form the history).")
@click.option("--end", metavar="P", help="Replay up to this partition (default: the last).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: alerts grouped by incident; json: one alert a line.")
@var_opt
@_user_errors
def backtest(project_dir, target, select, start, end, fmt, variables):
    """Replay partitions in order, each judged only by the partitions before it, and print the
    monitor alerts that would have fired.

    Opens the database read-only: writes nothing. Exit code 0 whatever the alerts (they are
    information, not failed SLOs); 2 when the project, the command line or the connection is wrong."""
    from slocompile.api import Project
    from slocompile.run.backtest import format_json, format_text

    project = Project.load(project_dir, _parse_vars(variables))
    result = project.backtest(select=list(select) or None, start=start, end=end, target=target, detailed=True)
    click.echo(format_json(result) if fmt == "json" else format_text(result), nl=False)


@main.command()
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@click.option("--select", "-s", multiple=True,
              help="Only these tables (repeatable; names, tag:NAME, owner:NAME, as in build).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here (default: target/report.html).")
@click.option("--last", type=click.IntRange(min=1), default=90, show_default=True, metavar="N",
              help="Show the newest N partitions in the status grid and the metric plots.")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="html", show_default=True,
              help="markdown: a summary (failing checks with observed and expected, incidents) for a CI job "
                   "summary or a pull-request comment, printed (or written to --output).")
@click.option("--report-url", metavar="URL", help="markdown: link to the HTML report (e.g. where CI publishes it).")
@var_opt
@_user_errors
def report(project_dir, target, select, output, last, fmt, report_url, variables):
    """Write one self-contained HTML report from the meta schema and print its path (--format
    markdown: print a markdown summary instead).

    Status per table and partition, failed and warned checks with the SQL that measured them,
    monitor incidents and metric history with learned bands. Reads only: the database is opened
    read-only; the page loads nothing from the network."""
    from slocompile.api import Project

    project = Project.load(project_dir, _parse_vars(variables))
    if fmt == "markdown":
        from slocompile.reports.markdown import write_markdown

        text = write_markdown(project.spec, target, list(select) or None, report_url)
        if not output:
            click.echo(text, nl=False)
            return
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            raise click.UsageError(f"cannot write {output}: {e.strerror or e}") from None
        click.echo(output)
        return
    click.echo(project.report(target=target, select=list(select) or None, output=output, last=last))


@main.command()
@click.argument("table")
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml.")
@click.option("--dialect", "-d", type=click.Choice(DIALECTS), help="Show SQL for a dialect instead of a target.")
@click.option("--failures", is_flag=False, flag_value="", default=None, metavar="[CHECK]",
              help="Print the failed-row samples of the table's latest build (of one check with CHECK) instead.")
@var_opt
@_user_errors
def show(table, project_dir, target, dialect, failures, variables):
    """Print the plan and compiled SQL of a table's checks and views (or, with --failures, failed rows)."""
    from slocompile.api import Project

    project = Project.load(project_dir, _parse_vars(variables))
    if failures is not None:
        click.echo(project.failures_text(table, failures or None, target=target))
        return
    compiled = project.compile(target=target, dialect=dialect, select=[table], write=False)
    ct = compiled.tables[0]
    click.echo(f"-- table {table}: {len(ct.table.checks)} checks in {len(ct.scans)} queries ({compiled.dialect})")
    for scan, sql in ct.scans:
        labels = ", ".join(m.label() for m in scan.metrics)
        click.echo(f"\n-- {scan.kind} ({scan.reason}): {labels}")
        click.echo((sql or "-- read from the catalog") + (";" if sql else ""))
    click.echo(f"\n-- validated view\n{ct.validated_view};\n\n-- quarantine view\n{ct.quarantine_view};")


@main.command()
@click.argument("table")
@project_dir
@click.option("--to", "to", type=int, metavar="VERSION",
              help="Publish this version (default: undo the latest publish of the table).")
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@var_opt
@_user_errors
def rollback(table, project_dir, to, target, variables):
    """gate last_good: serve an earlier version of TABLE that passed its SLOs."""
    from slocompile.api import Project

    project = Project.load(project_dir, _parse_vars(variables))
    changes = project.rollback(table, to=to, target=target)
    view = f"{project.spec.schemas.validated}.{table}"
    for partition, (old, new) in sorted(changes.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        where = f" partition {partition}" if partition is not None else ""
        now = f"version {new}" if new is not None else "nothing (no earlier passing version is kept)"
        click.echo(f"{view}{where}: now serves {now} (was {old if old is not None else 'nothing'})")


@main.command()
@click.argument("table")
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@var_opt
@_user_errors
def versions(table, project_dir, target, variables):
    """gate last_good: list the kept versions of TABLE (* marks the published one)."""
    from slocompile.api import Project

    project = Project.load(project_dir, _parse_vars(variables))
    rows = project.versions(table, target=target)
    if not rows:
        click.echo(f"table {table} has no versions yet: run `slocompile build`")
        return
    click.echo(f"{'':1} {'version':>7}  {'partition':<12} {'status':<7} {'rows':>9}  created_at           failed")
    for r in rows:
        created = r["created_at"].isoformat(sep=" ", timespec="seconds") if r["created_at"] else ""
        click.echo(f"{'*' if r['published'] else ' '} {r['version']:>7}  {r['partition'] or '-':<12} {r['status']:<7} "
                   f"{r['rows'] if r['rows'] is not None else '':>9}  {created:<20} {r['failed_checks'] or ''}")


@main.command()
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@var_opt
@_user_errors
def debug(project_dir, target, variables):
    """Test the target's connection and permissions: one line per probe; exit 0 if all pass, else 2."""
    from slocompile.api import Project
    from slocompile.tools.debug import FAIL, OK, SKIP, run

    project = Project.load(project_dir, _parse_vars(variables), require_tables=False)
    report = run(project.spec, target)
    colors = {OK: "green", FAIL: "red", SKIP: "yellow"}

    def style(status, text):
        return click.style(text, fg=colors.get(status, "cyan"), bold=status == FAIL)

    click.echo(report.header())
    for line in report.lines(style):
        click.echo("  " + line)
    click.echo(report.footer())
    sys.exit(report.exit_code)


# ------------------------------------------------------------------ mute, unmute, alerts

@main.command()
@click.argument("selector")
@project_dir
@click.option("--until", required=True, metavar="WHEN",
              help="When the mute ends: a date (2026-12-10: its start, UTC), a date and time, or a duration (24h, 3d).")
@click.option("--reason", required=True, help="Why (shown with the alerts the mute holds back).")
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@var_opt
@_user_errors
def mute(selector, project_dir, until, reason, target, variables):
    """Hold back the alerts of SELECTOR (TABLE, TABLE.CHECK or a glob) until WHEN.

    Muted alerts are recorded in the meta schema but not delivered; at the first build after the
    mute ends, those whose checks still fail are delivered once. The mute lives in the meta schema:
    every machine that builds the project sees it."""
    from slocompile.api import Project

    m = Project.load(project_dir, _parse_vars(variables)).mute(selector, until=until, reason=reason, target=target)
    click.echo(f"muted {selector} until {m['until'][:16]} UTC (mute {m['mute_id']}): {m['reason']}")


@main.command()
@click.argument("selector")
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@var_opt
@_user_errors
def unmute(selector, project_dir, target, variables):
    """End the active mutes of SELECTOR (as given to `mute`) or with that mute id."""
    from slocompile.api import Project

    for m in Project.load(project_dir, _parse_vars(variables)).unmute(selector, target=target):
        click.echo(f"unmuted {m['selector']} (mute {m['mute_id']}, was until {m['until'][:16]} UTC)")


@main.command()
@click.argument("table")
@click.argument("column", required=False)
@project_dir
@click.option("--metric", "-m", metavar="M", help="Only this monitor metric (default: every metric of the column).")
@click.option("--from", "start", required=True, metavar="PARTITION",
              help="The first partition of the intended change (its level is the baseline from there on).")
@click.option("--reason", required=True, help="Why the change is intended (recorded, shown in the report).")
@click.option("--by", "who", metavar="NAME", help="Who accepts (default: the user name).")
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@var_opt
@_user_errors
def accept(table, column, project_dir, metric, start, reason, who, target, variables):
    """Declare a change a monitor flags as intended: from PARTITION on, the new level of COLUMN's
    metrics (or --metric, or, without COLUMN, the whole table's) is the baseline.

    Recorded in the meta schema with who, when and why; the next build re-checks the failing
    partitions and closes the incident, and `backtest` judges with it too."""
    from slocompile.api import Project
    from slocompile.run.acceptances import describe

    project = Project.load(project_dir, _parse_vars(variables))
    click.echo(describe(project.accept(table, column, start=start, reason=reason, metric=metric, who=who,
                                       target=target)))


@main.command()
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@var_opt
@_user_errors
def alerts(project_dir, target, fmt, variables):
    """List the checks failing now (since when, their monitor incident, their mute) and the mutes.

    Reads the meta schema only (the database is opened read-only)."""
    import json

    from slocompile.api import Project
    from slocompile.run import mutes

    data = Project.load(project_dir, _parse_vars(variables)).alerts(target)
    click.echo(json.dumps(data, default=str, indent=2) if fmt == "json" else mutes.format_text(data), nl=fmt == "json")


# ------------------------------------------------------------------ schema, suggest, import-dbt

@main.command()
@click.option("--kind", type=click.Choice(["declarations", "project"]), default="declarations", show_default=True,
              help="declarations: slos/**/*.yml; project: slocompile.yml.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Write both schemas into DIR (init writes them into .slocompile/).")
@_user_errors
def schema(kind, out, directory):
    """Print the JSON Schema of the YAML files, for editor completion and checks.

    The schema describes a file after Jinja rendering (what the validator sees): a value written
    as {{ var(...) }} is checked as the value it renders to."""
    from slocompile.tools import jsonschema

    if out and directory:
        raise click.UsageError("--out and --dir exclude each other")
    if directory:
        custom = jsonschema.project_types(os.getcwd())  # run in a project: its custom check types too
        for kind_name, path in jsonschema.write_schemas(directory, custom).items():
            click.echo(f"wrote {path} ({kind_name})")
        return
    text = jsonschema.dumps(jsonschema.schema(kind, jsonschema.project_types(os.getcwd())))
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("relation")
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write the declaration here (default: stdout).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--name", help="The table's name (default: the relation's table name).")
@click.option("--partition", help="Declare this date/timestamp column as the partition.")
@click.option("--margin", type=float, default=0.1, show_default=True,
              help="Widen observed ranges by this fraction of their span on each side.")
@click.option("--max-values", type=int, default=20, show_default=True,
              help="Suggest accepted_values for string columns with at most this many distinct values.")
@var_opt
@_user_errors
def suggest(relation, project_dir, target, out, force, name, partition, margin, max_values, variables):
    """Profile RELATION (schema.table) in one scan and write a YAML declaration that passes on it."""
    from slocompile.api import Project

    if out and os.path.exists(out) and not force:
        raise click.UsageError(f"{out} exists; choose another file or pass --force")
    project = Project.load(project_dir, _parse_vars(variables), require_tables=False)
    result = project.suggest(relation, target=target, name=name, partition=partition, margin=margin,
                             max_values=max_values, detailed=True)
    declared = project.spec.table(result.name)
    if declared is not None:
        click.echo(f"note: table '{result.name}' is already declared at {declared.loc}; give --name to "
                   "keep both", err=True)
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(result.yaml)
        click.echo(f"wrote {out}: table {relation}, {result.profile.rows} rows, {len(result.profile.columns)} columns")
    else:
        click.echo(result.yaml, nl=False)


@main.command(name="import-dbt")
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--out", "-o", default=os.path.join("slos", "dbt"), show_default=True, type=click.Path(file_okay=False),
              help="Folder for the converted declarations (one file per dbt YAML file), from the current folder.")
@click.option("--schema", help="The dbt target schema models are built in (default: the profile's).")
@click.option("--profiles-dir", type=click.Path(file_okay=False), help="Folder of profiles.yml (as in dbt).")
@click.option("--dialect", "-d", type=click.Choice(DIALECTS),
              help="SQL dialect of `where` and expressions (default: the profile's type, else duckdb).")
@click.option("--prefix", default="", help="Put this before every table name (e.g. dbt_), to avoid clashes.")
@click.option("--force", is_flag=True, help="Overwrite converted files that exist.")
@_user_errors
def import_dbt(path, out, schema, profiles_dir, dialect, prefix, force):
    """Convert a dbt project's YAML tests (schema.yml, ...) into slocompile declarations.

    Prints what could not be converted; each written file lists it in a comment block too."""
    from slocompile.tools.dbt import import_dbt as run

    result, paths = run(path, out, schema=schema, profiles_dir=profiles_dir, dialect=dialect, force=force,
                        prefix=prefix)
    for p in paths:
        click.echo(f"wrote {p}")
    click.echo(result.report(), nl=False)


if __name__ == "__main__":  # python -m slocompile.cli > docs/cli.md (`python -m slocompile` runs the CLI)
    from slocompile.tools import reference  # only here: `slocompile --help` does not load the generators

    print(reference.cli_markdown(main), end="")
