"""Real engines for the differential tests: DuckDB (always), Postgres and Spark (when available).

Postgres: set SLOCOMPILE_PG_DSN to a database the tests may create schemas in (.ci/run starts a
server and sets it). Spark: needs pyspark and Java 17+; SLOCOMPILE_SPARK=0 skips it. Tests that
need an absent engine are skipped, with the reason shown by `pytest -rs`.
"""
from __future__ import annotations

import uuid

import pytest
from enginedata import REQUIRED, UNAVAILABLE


@pytest.fixture(scope="session")
def run_tag() -> str:
    """Suffix for every schema the tests create, so runs sharing a server do not collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory) -> str:
    """One warehouse (and metastore) for the whole session: the Spark session is shared."""
    return str(tmp_path_factory.mktemp("spark"))


@pytest.fixture(scope="session", autouse=True)
def _stop_spark():
    yield
    if not UNAVAILABLE["spark"]:
        from slocompile.engines import sparksession as spark

        spark.stop_session()


@pytest.fixture(autouse=True)
def _required_engine(request):
    """An engine listed in SLOCOMPILE_REQUIRE_ENGINES but absent fails the test, saying why."""
    callspec = getattr(request.node, "callspec", None)
    engine = callspec.params.get("engine") if callspec else None
    if engine in REQUIRED and UNAVAILABLE.get(engine):
        pytest.fail(f"{engine} is required here (SLOCOMPILE_REQUIRE_ENGINES) but unavailable: {UNAVAILABLE[engine]}")
