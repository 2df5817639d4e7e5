"""The command line: thin commands over Project; one handler turns user errors into exit 2."""
from __future__ import annotations

import functools
import os
import sys

import click


def _user_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import SlocompileError

        try:
            return fn(*args, **kwargs)
        except SlocompileError as e:
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
            click.echo(f"internal error: {type(e).__name__}: {e}\n"
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slocompile")
def main():
    """slocompile: data-quality SLOs in YAML, compiled to SQL checks and validated views."""


@main.command()
@click.argument("directory", default="my_slo_project", type=click.Path(file_okay=False))
@_user_errors
def init(directory):
    """Create a new project from the template, with sample data, ready to build."""
    from .scaffold import init_project

    path = init_project(directory)
    click.echo(f"created {path}\nnext: cd {directory} && slocompile build")


@main.command(name="compile")
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@click.option("--dialect", "-d", type=click.Choice(DIALECTS), help="Compile for a dialect instead of a target.")
@click.option("--select", "-s", multiple=True, help="Only these tables (repeatable).")
@var_opt
@_user_errors
def compile_cmd(project_dir, target, dialect, select, variables):
    """Write target/compiled/<dialect>/ and target/manifest.json; connects to nothing."""
    from .project import Project

    project = Project.load(project_dir, _parse_vars(variables))
    compiled = project.compile(target=target, dialect=dialect, select=list(select) or None)
    n_checks = sum(len(t.table.checks) for t in compiled.tables)
    n_scans = sum(len(t.scans) for t in compiled.tables)
    click.echo(f"compiled {len(compiled.tables)} tables, {n_checks} checks into {n_scans} queries "
               f"for {compiled.dialect}: {os.path.join(project.target_dir, 'compiled', compiled.dialect)}")


@main.command()
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml (default: the project's target).")
@click.option("--select", "-s", multiple=True, help="Only these tables (repeatable).")
@click.option("--partition", "partitions", multiple=True, metavar="P",
              help="(Re)check these partitions only (repeatable); default: new, failing and changed ones.")
@click.option("--full-refresh", is_flag=True, help="Check every partition again.")
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and the verdict.")
@var_opt
@_user_errors
def build(project_dir, target, select, partitions, full_refresh, quiet, variables):
    """Run the checks, record results in the meta schema, publish the validated views."""
    from .project import Project
    from .reports import terminal

    project = Project.load(project_dir, _parse_vars(variables))
    run = project.build(target=target, select=list(select) or None, progress=terminal.progress(quiet),
                        partitions=list(partitions) or None, full_refresh=full_refresh)
    terminal.summary(run, quiet=quiet)
    sys.exit(run.exit_code)


@main.command()
@click.argument("table")
@project_dir
@click.option("--target", "-t", help="Target from slocompile.yml.")
@click.option("--dialect", "-d", type=click.Choice(DIALECTS), help="Show SQL for a dialect instead of a target.")
@var_opt
@_user_errors
def show(table, project_dir, target, dialect, variables):
    """Print the plan and compiled SQL of a table's checks and views."""
    from .project import Project

    project = Project.load(project_dir, _parse_vars(variables))
    compiled = project.compile(target=target, dialect=dialect, select=[table], write=False)
    ct = compiled.tables[0]
    click.echo(f"-- table {table}: {len(ct.table.checks)} checks in {len(ct.scans)} queries ({compiled.dialect})")
    for scan, sql in ct.scans:
        labels = ", ".join(m.label() for m in scan.metrics)
        click.echo(f"\n-- {scan.kind} ({scan.reason}): {labels}")
        click.echo((sql or "-- read from the catalog") + (";" if sql else ""))
    click.echo(f"\n-- validated view\n{ct.validated_view};\n\n-- quarantine view\n{ct.quarantine_view};")
