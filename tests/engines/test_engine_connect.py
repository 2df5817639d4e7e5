"""Opening engines: missing drivers and unreachable servers are user errors (exit 2), not tracebacks.

None of these needs a running server.
"""
from __future__ import annotations

import importlib.util
import os
import sys

import pytest
from click.testing import CliRunner
from enginedata import REQUIRED, UNAVAILABLE, table_ref

from slocompile.cli import main
from slocompile.engines.base import QueryFailed
from slocompile.engines.connect import connect
from slocompile.errors import SlocompileError
from slocompile.spec.model import TargetSpec


def _target(kind: str, **options) -> TargetSpec:
    return TargetSpec(name="t", type=kind, options=options, loc=None)


@pytest.mark.parametrize("kind,module,extra", [("postgres", "psycopg", "postgres"), ("spark", "pyspark", "spark")])
def test_missing_driver_names_the_extra(monkeypatch, tmp_path, kind, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(SlocompileError) as err:
        connect(_target(kind, dsn="postgresql://x@/y"), str(tmp_path))
    assert f"pip install 'slocompile[{extra}]'" in str(err.value)
    assert "target 't'" in str(err.value)


def test_compile_only_target_is_refused_clearly(tmp_path):
    with pytest.raises(SlocompileError) as err:
        connect(_target("snowflake"), str(tmp_path))
    assert "slocompile compile --target t" in str(err.value)


needs_psycopg = pytest.mark.skipif(importlib.util.find_spec("psycopg") is None,
                                   reason="psycopg is not installed (pip install 'slocompile[postgres]')")


@needs_psycopg
def test_postgres_unreachable_is_a_user_error(tmp_path):
    dsn = f"postgresql://nobody:secret@/nodb?host={tmp_path}/no-such-socket-dir"
    with pytest.raises(SlocompileError) as err:
        connect(_target("postgres", dsn=dsn, connect_timeout=2), str(tmp_path))
    text = str(err.value)
    assert "target 't': cannot connect to Postgres" in text and "nodb" in text
    assert "secret" not in text


@needs_psycopg
def test_postgres_needs_connection_options(tmp_path):
    with pytest.raises(SlocompileError) as err:
        connect(_target("postgres"), str(tmp_path))
    assert "needs 'dsn'" in str(err.value)


@needs_psycopg
def test_cli_build_on_unreachable_postgres_exits_2(tmp_path):
    (tmp_path / "slos").mkdir()
    (tmp_path / "slocompile.yml").write_text(
        "name: p\ntarget: pg\ntargets:\n"
        f"  pg: {{type: postgres, dsn: 'postgresql://nobody@/nodb?host={tmp_path}/nowhere', connect_timeout: 2}}\n")
    (tmp_path / "slos" / "t.yml").write_text(
        "tables:\n  - name: t\n    relation: raw.t\n    checks: [{row_count: {min: 1}}]\n")
    result = CliRunner().invoke(main, ["build", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "cannot connect to Postgres" in result.output
    assert "Traceback" not in result.output


def test_spark_settings(tmp_path):
    """Static session settings come from the target; relative paths are the project's."""
    from slocompile.engines.sparksession import session_settings

    s = session_settings(_target("spark", master="local[1]", warehouse="wh", conf={"spark.sql.shuffle.partitions": 4}),
                         str(tmp_path))
    assert s["master"] == "local[1]"
    assert s["conf"]["spark.sql.warehouse.dir"] == os.path.join(str(tmp_path), "wh")
    assert s["conf"]["spark.sql.shuffle.partitions"] == "4"
    assert s["conf"]["spark.sql.catalogImplementation"] == "hive"
    assert os.path.join(str(tmp_path), "wh", "metastore_db") in s["conf"]["spark.hadoop.javax.jdo.option.ConnectionURL"]
    remote = session_settings(_target("spark", remote="sc://localhost:15002"), str(tmp_path))
    assert remote["remote"] == "sc://localhost:15002" and "spark.sql.warehouse.dir" not in remote["conf"]
    with pytest.raises(SlocompileError):
        session_settings(_target("spark", catalog="glue"), str(tmp_path))


@pytest.mark.skipif(bool(UNAVAILABLE["postgres"]) and "postgres" not in REQUIRED,
                    reason=f"postgres: {UNAVAILABLE['postgres']}")
def test_postgres_lost_connection_ends_the_build(tmp_path):
    """A dropped connection is not a failed check: it stops the build with a user error."""
    dsn = os.environ["SLOCOMPILE_PG_DSN"]
    victim, killer = (connect(_target("postgres", dsn=dsn), str(tmp_path)) for _ in range(2))
    try:
        pid = victim.query("SELECT pg_backend_pid()")[0][0]
        assert killer.query(f"SELECT pg_terminate_backend({int(pid)})") == [(True,)]
        with pytest.raises(SlocompileError) as err:
            victim.query("SELECT 1")
        assert "lost the connection to Postgres" in str(err.value)
    finally:
        victim.close()
        killer.close()


@pytest.mark.skipif(bool(UNAVAILABLE["postgres"]) and "postgres" not in REQUIRED,
                    reason=f"postgres: {UNAVAILABLE['postgres']}")
def test_postgres_view_whose_columns_change_is_replaced(tmp_path, run_tag):
    """CREATE OR REPLACE VIEW may only append columns in Postgres: the engine drops and creates."""
    eng = connect(_target("postgres", dsn=os.environ["SLOCOMPILE_PG_DSN"]), str(tmp_path))
    schema = f"viewshape_{run_tag}"
    try:
        eng.execute(f'CREATE SCHEMA "{schema}"')
        eng.execute(f'CREATE OR REPLACE VIEW "{schema}"."v" AS SELECT 1 AS a, 2 AS b')
        eng.execute(f'CREATE OR REPLACE VIEW "{schema}"."v" AS SELECT 1 AS a, \'x\' AS c, 2 AS b')  # outside
        with eng.transaction():
            eng.execute(f'CREATE OR REPLACE VIEW "{schema}"."v" AS SELECT 1.5 AS a')  # inside a transaction
            eng.execute(f'CREATE TABLE "{schema}"."t" AS SELECT 1 AS x')  # the transaction is still usable
        assert eng.columns(table_ref(schema, "v")) == [("a", "numeric")]
        eng.execute(f'CREATE VIEW "{schema}"."dependent" AS SELECT * FROM "{schema}"."v"')
        with pytest.raises(QueryFailed) as err:
            eng.execute(f'CREATE OR REPLACE VIEW "{schema}"."v" AS SELECT 1 AS z')
        assert "other views depend on it" in str(err.value)
    finally:
        eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        eng.close()


@pytest.mark.skipif(bool(UNAVAILABLE["spark"]) and "spark" not in REQUIRED, reason=f"spark: {UNAVAILABLE['spark']}")
def test_spark_driver_that_died_ends_the_build_and_the_next_starts_one(tmp_path, spark_warehouse):
    """A Spark driver whose JVM is gone (killed here; out of memory in real life) is a user error that
    says so, not a failed check or an internal error; the process's next build starts a new session."""
    target = _target("spark", master="local[2]", warehouse=f"{spark_warehouse}/warehouse",
                     metastore=f"{spark_warehouse}/metastore_db")
    eng = connect(target, str(tmp_path))
    jvm = eng.spark.sparkContext._gateway.proc  # the java process pyspark launched
    jvm.kill()
    jvm.wait()
    with pytest.raises(SlocompileError) as err:
        eng.query("SELECT 1")
    assert "the Spark driver stopped" in str(err.value) and "spark.driver.memory" in str(err.value)
    eng.close()  # gives nothing back to a dead session, raises nothing
    again = connect(target, str(tmp_path))
    try:
        assert again.query("SELECT 1") == [(1,)]
    finally:
        again.close()
