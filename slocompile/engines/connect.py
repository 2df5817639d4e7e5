"""Opening an engine for a target: the one place that knows every concrete engine (engines.base,
the interface, knows none)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slocompile.engines.base import Engine
from slocompile.errors import Problem, SlocompileError
from slocompile.spec.yamlload import unset_env_names


class _EngineClass(Protocol):
    """What a driver's engine class offers: opening an engine for a target."""

    def open(self, target: Any, project_root: str, read_only: bool = False) -> Engine: ...


def _duckdb():
    from slocompile.engines.duckdb import DuckDBEngine

    return DuckDBEngine


def _postgres():
    from slocompile.engines.postgres import PostgresEngine

    return PostgresEngine


def _spark():
    from slocompile.engines.spark import SparkEngine

    return SparkEngine


@dataclass(frozen=True)
class Driver:
    module: str                    # the driver package, imported when the engine opens
    extra: str | None              # the pip extra that installs it (None: a dependency of slocompile)
    engine: Callable[[], _EngineClass]  # the engine class (its module imported on first use)
    needs: str = ""                # what else the driver needs, for `slocompile debug`'s hint


# engine type -> its driver and engine class: a new engine is an entry here, its module, and its
# dialect's entry in dialects/rules.py
DRIVERS = {"duckdb": Driver("duckdb", None, _duckdb),
           "postgres": Driver("psycopg", "postgres", _postgres),
           "spark": Driver("pyspark", "spark", _spark, "Java 17+ for a local master")}


def connect(target, project_root: str, read_only: bool = False) -> Engine:
    """Open the engine for a target; drivers are imported only here, lazily.

    A missing driver is a user error (exit 2) naming the extra to install. `read_only`: an
    engine that cannot change the warehouse, where the engine can promise it (DuckDB opens its
    file read-only, and raises NothingStored when there is no file; a Postgres session's
    transactions are read-only)."""
    missing = unset_env_names(target.options)
    if missing:
        raise SlocompileError([Problem(target.loc, f"target '{target.name}' needs the environment variable "
                                       f"'{missing[0]}', which is not set")])
    driver = DRIVERS.get(target.type)
    if driver is None:
        raise SlocompileError(
            f"target '{target.name}' of type {target.type} cannot be executed by this version "
            f"(executable: {', '.join(DRIVERS)}); use `slocompile compile --target {target.name}` to get its SQL")
    if driver.extra:
        try:
            __import__(driver.module)
        except ImportError:
            raise SlocompileError([Problem(getattr(target, "loc", None), (
                f"target '{target.name}' ({target.type}) needs the {driver.module} package: "
                f"pip install 'slocompile[{driver.extra}]'"))]) from None
    return driver.engine().open(target, project_root, read_only=read_only)
