"""`slocompile debug`: one line per probe, ok or FAIL with a hint; exit 0 when all pass, else 2.

DuckDB always; Postgres and Spark where available (enginedata's skip/require logic). The
Postgres tests create a role without CREATE on the database to show that a missing right is a
FAIL line with a GRANT hint, not a traceback; they need a role that may CREATE ROLE: the DSN's
own, SLOCOMPILE_PG_ADMIN_DSN, or `postgres` on the same server (what .ci/run's trust setup
gives).
"""
from __future__ import annotations

import os
import re
import sys

import duckdb
import pytest
from click.testing import CliRunner
from enginedata import REQUIRED, UNAVAILABLE, target_yaml

from slocompile.cli import main

SLOS = """
tables:
  - name: t
    relation: {raw}.t
    checks:
      - row_count: {{min: 1}}
      - relationship: {{column: k, to: {raw}.dims, field: k}}
    columns:
      - name: k
      - name: v
        checks: [{{quantile: {{q: 0.5, max: 10}}}}]
"""


def write_project(root, tag: str, targets: dict[str, str], raw: str = "raw") -> str:
    os.makedirs(os.path.join(root, "slos"), exist_ok=True)
    lines = "\n".join(f"  {k}: {v}" for k, v in targets.items())
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write(f"name: dbg\ntarget: {next(iter(targets))}\ntargets:\n{lines}\n"
                f"schemas: {{validated: dbg_validated_{tag}, quarantine: dbg_quarantine_{tag}, meta: dbg_slo_{tag}}}\n")
    with open(os.path.join(root, "slos", "t.yml"), "w", encoding="utf-8") as f:
        f.write(SLOS.format(raw=raw))
    return str(root)


def debug(root, target: str | None = None):
    args = ["debug", "--project-dir", str(root)] + (["--target", target] if target else [])
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output and not isinstance(result.exception, (AssertionError, TypeError)), \
        result.output
    return result


def probes(output: str) -> dict[str, tuple[str, str]]:
    """probe name -> (status, rest of the line)."""
    out = {}
    for line in output.splitlines():
        m = re.match(r"^  (ok|FAIL|skip|compile-only)\s+(driver|connect|version|catalog|compile|connection|"
                     r"schema \S+|table in \S+|view in \S+|relation \S+)\s+(.*)$", line)
        if m:
            out[m.group(2)] = (m.group(1), m.group(3))
    return out


EXPECTED = ["driver", "connect", "version", "catalog", "schema dbg_slo_{tag}", "schema dbg_validated_{tag}",
            "schema dbg_quarantine_{tag}", "table in dbg_slo_{tag}", "view in dbg_validated_{tag}",
            "view in dbg_quarantine_{tag}", "relation {raw}.t", "relation {raw}.dims"]


def expected(tag: str, raw: str = "raw") -> list[str]:
    return [e.format(tag=tag, raw=raw) for e in EXPECTED]


# -- DuckDB (always) -------------------------------------------------------------------------

@pytest.fixture
def duck(tmp_path):
    root = write_project(tmp_path, "d", {"local": "{type: duckdb, path: w.duckdb}", "snow": "{type: snowflake}",
                                         "bq": "{type: bigquery}"})
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.t (k INT, v DOUBLE); INSERT INTO raw.t VALUES (1, 2.0);"
                "CREATE TABLE raw.dims (k INT)")
    con.close()
    return root


def test_duckdb_every_probe_passes_and_nothing_is_left(duck):
    result = debug(duck)
    assert result.exit_code == 0, result.output
    got = probes(result.output)
    assert list(got) == expected("d"), result.output
    assert all(status == "ok" for status, _ in got.values()), result.output
    assert "all 12 probes passed" in result.output
    assert "2 columns" in got["relation raw.t"][1]
    con = duckdb.connect(os.path.join(duck, "w.duckdb"))
    try:  # the write probes were rolled back: no schema, no scratch table or view
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
        assert not any(s.startswith("dbg_") for s in schemas), schemas
        assert con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name LIKE '_slocompile_debug%'").fetchone()[0] == 0
    finally:
        con.close()


def test_duckdb_missing_relation_is_a_fail_line(duck):
    con = duckdb.connect(os.path.join(duck, "w.duckdb"))
    con.execute("DROP TABLE raw.dims")
    con.close()
    result = debug(duck)
    assert result.exit_code == 2, result.output
    got = probes(result.output)
    assert got["relation raw.dims"][0] == "FAIL" and "does not exist" in got["relation raw.dims"][1]
    assert "hint: load the table" in got["relation raw.dims"][1] and "slos/t.yml" in got["relation raw.dims"][1]
    assert got["relation raw.t"][0] == "ok"
    assert "1 of 12 probes failed" in result.output


def test_duckdb_missing_file_is_not_created(tmp_path):
    root = write_project(tmp_path, "d", {"local": "{type: duckdb, path: nothing_yet.duckdb}"})
    result = debug(root)
    assert result.exit_code == 2, result.output
    got = probes(result.output)
    assert got["connect"][0] == "ok" and "does not exist yet" in got["connect"][1]
    assert got["table in dbg_slo_d"][0] == "ok"
    assert got["relation raw.t"][0] == "FAIL" and "DuckDB file does not exist yet" in got["relation raw.t"][1]
    assert not os.path.exists(tmp_path / "nothing_yet.duckdb")


def test_compile_only_target(duck):
    result = debug(duck, "snow")
    assert result.exit_code == 0, result.output
    got = probes(result.output)
    assert got["connection"][0] == "compile-only" and "snowflake is compile-only" in got["connection"][1]
    assert "slocompile compile --target snow" in got["connection"][1]
    assert got["compile"][0] == "ok"
    # bigquery has no exact quantile: the project does not compile there
    result = debug(duck, "bq")
    assert result.exit_code == 2, result.output
    got = probes(result.output)
    assert got["connection"][0] == "compile-only"
    assert got["compile"][0] == "FAIL" and "quantile" in got["compile"][1]


def test_unknown_target_is_a_user_error(duck):
    result = debug(duck, "nope")
    assert result.exit_code == 2
    assert "unknown target 'nope'" in result.output


@pytest.mark.parametrize("kind,module,extra", [("postgres", "psycopg", "postgres"), ("spark", "pyspark", "spark")])
def test_missing_driver_fails_and_skips_the_rest(monkeypatch, tmp_path, kind, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError
    target = "{type: postgres, dsn: 'postgresql://u@/db'}" if kind == "postgres" else "{type: spark}"
    root = write_project(tmp_path, "d", {"t": target})
    result = debug(root)
    assert result.exit_code == 2, result.output
    got = probes(result.output)
    assert got["driver"][0] == "FAIL" and f"pip install 'slocompile[{extra}]'" in got["driver"][1]
    assert got["connect"] == ("skip", "not run: driver failed")
    assert all(status == "skip" for name, (status, _) in got.items() if name != "driver")


@pytest.mark.skipif(bool(UNAVAILABLE["postgres"]) and UNAVAILABLE["postgres"].startswith("psycopg"),
                    reason="psycopg is not installed")
def test_unreachable_postgres_hides_the_password(tmp_path):
    dsn = f"postgresql://someone:pw-Xy7-secret@/nodb?host={tmp_path}/no-socket-here"
    root = write_project(tmp_path, "d", {"pg": f"{{type: postgres, dsn: '{dsn}', connect_timeout: 2}}",
                                         "pg2": (f"{{type: postgres, host: '{tmp_path}/nowhere', user: u, "
                                                 "password: other-Secret-9, dbname: x}")})
    for target in ("pg", "pg2"):
        result = debug(root, target)
        assert result.exit_code == 2, result.output
        got = probes(result.output)
        assert got["connect"][0] == "FAIL" and "cannot connect to Postgres" in got["connect"][1]
        assert "hint: check target" in got["connect"][1]
        assert "pw-Xy7-secret" not in result.output and "other-Secret-9" not in result.output
        assert got["version"] == ("skip", "not run: connect failed")


def test_secrets_are_masked():
    from slocompile.spec.model import TargetSpec
    from slocompile.tools.debug import ProbeReport, _secrets

    t = TargetSpec("pg", "postgres", {"dsn": "postgresql://u:p%40ss-word@h/db", "password": "second-one"}, None)
    secrets = _secrets(t)
    report = ProbeReport("p", "pg", "postgres", secrets=secrets)
    report.add("connect", "FAIL", "failed for postgresql://u:p%40ss-word@h/db with p@ss-word and second-one")
    assert "ss-word" not in report.lines()[0] and "second-one" not in report.lines()[0]


# -- Postgres ----------------------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(bool(UNAVAILABLE["postgres"]) and "postgres" not in REQUIRED,
                                    reason=f"postgres: {UNAVAILABLE['postgres']}")


def _require(engine: str) -> None:
    """Reached only when the engine is available or required (SLOCOMPILE_REQUIRE_ENGINES): fail clearly if absent."""
    if UNAVAILABLE[engine]:
        pytest.fail(f"{engine} is required here (SLOCOMPILE_REQUIRE_ENGINES) but unavailable: {UNAVAILABLE[engine]}")


def _pg(dsn: str):
    import psycopg

    return psycopg.connect(dsn, autocommit=True)


def _admin_dsn(dsn: str) -> str:
    """A DSN whose role may CREATE ROLE (and DROP OWNED): the tests' own, an explicit admin DSN,
    or the superuser `postgres` on the same server."""
    from psycopg.conninfo import make_conninfo

    candidates = [os.environ.get("SLOCOMPILE_PG_ADMIN_DSN"), dsn, make_conninfo(dsn, user="postgres")]
    for cand in filter(None, candidates):
        try:
            with _pg(cand) as con:
                if con.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
                               ).fetchone()[0]:
                    return cand
        except Exception:
            continue
    pytest.skip("no Postgres role that may CREATE ROLE (set SLOCOMPILE_PG_ADMIN_DSN)")


@pytest.fixture
def pg_project(tmp_path, run_tag):
    """A project whose relations are raw_dbg_<tag>.t (readable) and .dims, owned by the DSN's role."""
    _require("postgres")
    dsn = os.environ["SLOCOMPILE_PG_DSN"]
    raw = f"raw_dbg_{run_tag}"
    root = write_project(tmp_path, run_tag, {"pg": "{type: postgres, dsn: \"{{ env_var('SLOCOMPILE_PG_DSN') }}\"}"},
                         raw=raw)
    with _pg(dsn) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{raw}" CASCADE')
        con.execute(f'CREATE SCHEMA "{raw}"')
        con.execute(f'CREATE TABLE "{raw}".t (k INT, v DOUBLE PRECISION)')
        con.execute(f'CREATE TABLE "{raw}".dims (k INT)')
    yield root, raw, dsn
    with _pg(dsn) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{raw}" CASCADE')
        for kind in ("slo", "validated", "quarantine"):
            con.execute(f'DROP SCHEMA IF EXISTS "dbg_{kind}_{run_tag}" CASCADE')


@needs_postgres
def test_postgres_every_probe_passes(pg_project, run_tag):
    root, raw, dsn = pg_project
    result = debug(root)
    assert result.exit_code == 0, result.output
    got = probes(result.output)
    assert list(got) == expected(run_tag, raw), result.output
    assert all(status == "ok" for status, _ in got.values()), result.output
    assert "PostgreSQL" in got["version"][1]
    with _pg(dsn) as con:  # rolled back: the schemas the build would create are still absent
        left = con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"dbg_%_{run_tag}",)).fetchall()
    assert left == []


@needs_postgres
def test_postgres_role_without_create_rights(pg_project, run_tag, monkeypatch):
    """A role with no CREATE on the database: every schema, table and view probe is a FAIL line
    naming the missing right; a relation it may read passes, one it may not fails with a GRANT hint."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    root, raw, dsn = pg_project
    role, password = f"slo_nocreate_{run_tag}", f"pw-{run_tag}-Zq"
    admin = _admin_dsn(dsn)
    db = conninfo_to_dict(dsn).get("dbname")
    with _pg(admin) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN PASSWORD \'{password}\'')
    try:
        with _pg(dsn) as con:
            con.execute(f'GRANT USAGE ON SCHEMA "{raw}" TO "{role}"')
            con.execute(f'GRANT SELECT ON "{raw}".t TO "{role}"')  # not dims
        monkeypatch.setenv("SLOCOMPILE_DEBUG_TEST_DSN", make_conninfo(dsn, user=role, password=password))
        _add_target(root, "weak", "{type: postgres, dsn: \"{{ env_var('SLOCOMPILE_DEBUG_TEST_DSN') }}\"}")
        result = debug(root, "weak")
        assert result.exit_code == 2, result.output
        assert password not in result.output
        got = probes(result.output)
        assert got["connect"][0] == "ok" and f"as role {role}" in got["connect"][1]
        for schema in (f"dbg_slo_{run_tag}", f"dbg_validated_{run_tag}", f"dbg_quarantine_{run_tag}"):
            status, rest = got[f"schema {schema}"]
            assert status == "FAIL" and f"permission denied for database {db}" in rest, result.output
            assert f'GRANT CREATE ON DATABASE "{db}" TO "{role}"' in rest
        for probe in (f"table in dbg_slo_{run_tag}", f"view in dbg_validated_{run_tag}"):
            assert got[probe][0] == "skip" and "cannot be created" in got[probe][1]
        assert got[f"relation {raw}.t"][0] == "ok"
        status, rest = got[f"relation {raw}.dims"]
        assert status == "FAIL" and "permission denied for table dims" in rest
        assert f'GRANT SELECT ON {raw}.dims TO "{role}"' in rest

        # the schemas exist (made by their owner) and the role may create in them: the build skips
        # CREATE SCHEMA for a schema that exists, so no CREATE on the database is needed; every
        # probe passes but the unreadable relation
        with _pg(dsn) as con:
            for kind in ("slo", "validated", "quarantine"):
                con.execute(f'CREATE SCHEMA "dbg_{kind}_{run_tag}"')
                con.execute(f'GRANT USAGE, CREATE ON SCHEMA "dbg_{kind}_{run_tag}" TO "{role}"')
        result = debug(root, "weak")
        got = probes(result.output)
        assert [n for n, (s, _) in got.items() if s != "ok"] == [f"relation {raw}.dims"], result.output
        assert "exists" in got[f"schema dbg_slo_{run_tag}"][1]
        assert result.exit_code == 2
    finally:
        with _pg(admin) as con:
            con.execute(f'DROP OWNED BY "{role}" CASCADE')
            con.execute(f'DROP ROLE IF EXISTS "{role}"')


@needs_postgres
def test_postgres_build_into_owned_schemas_without_create_on_the_database(pg_project, run_tag, monkeypatch):
    """A role without CREATE on the database builds into schemas it owns (created for it by an
    admin): the build skips CREATE SCHEMA for schemas that exist. A raw relation it may not read
    stops the build (exit 2) naming the relation, the missing right and the GRANT, instead of
    saying the relation does not exist."""
    from psycopg.conninfo import make_conninfo

    root, raw, dsn = pg_project
    role, password = f"slo_owner_{run_tag}", f"pw-{run_tag}-Xy"
    admin = _admin_dsn(dsn)
    with _pg(admin) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN PASSWORD \'{password}\'')
        for kind in ("slo", "validated", "quarantine"):
            con.execute(f'CREATE SCHEMA "dbg_{kind}_{run_tag}" AUTHORIZATION "{role}"')
        assert not con.execute("SELECT has_database_privilege(%s, current_database(), 'CREATE')",
                               (role,)).fetchone()[0]
    try:
        with _pg(dsn) as con:
            con.execute(f'INSERT INTO "{raw}".t VALUES (1, 2.0)')
            con.execute(f'INSERT INTO "{raw}".dims VALUES (1)')
            con.execute(f'GRANT USAGE ON SCHEMA "{raw}" TO "{role}"')
            con.execute(f'GRANT SELECT ON "{raw}".t, "{raw}".dims TO "{role}"')
        monkeypatch.setenv("SLOCOMPILE_DEBUG_TEST_DSN", make_conninfo(dsn, user=role, password=password))
        _add_target(root, "owner", "{type: postgres, dsn: \"{{ env_var('SLOCOMPILE_DEBUG_TEST_DSN') }}\"}")
        result = _build(root, "owner")
        assert result.exit_code == 0, result.output
        with _pg(admin) as con:
            assert con.execute(f'SELECT count(*) FROM "dbg_validated_{run_tag}".t').fetchone()[0] == 1

        with _pg(dsn) as con:
            con.execute(f'REVOKE SELECT ON "{raw}".t FROM "{role}"')
        result = _build(root, "owner")
        assert result.exit_code == 2, result.output
        assert f"relation {raw}.t exists, but role {role} may not read it: permission denied for table t" \
            in result.output and f'GRANT SELECT ON "{raw}"."t" TO "{role}"' in result.output, result.output
        assert "does not exist" not in result.output

        with _pg(dsn) as con:
            con.execute(f'REVOKE USAGE ON SCHEMA "{raw}" FROM "{role}"')
        result = _build(root, "owner")
        assert result.exit_code == 2, result.output
        assert f"permission denied for schema {raw}" in result.output, result.output
        assert f'GRANT USAGE ON SCHEMA "{raw}" TO "{role}"' in result.output, result.output
    finally:
        with _pg(admin) as con:
            con.execute(f'DROP OWNED BY "{role}" CASCADE')
            con.execute(f'DROP ROLE IF EXISTS "{role}"')


def _build(root, target: str):
    result = CliRunner().invoke(main, ["build", "--project-dir", str(root), "--target", target])
    assert "Traceback" not in result.output and not isinstance(result.exception, (AssertionError, TypeError)), \
        result.output
    return result


def _add_target(root: str, name: str, spec: str) -> None:
    path = os.path.join(root, "slocompile.yml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("targets:\n", f"targets:\n  {name}: {spec}\n", 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# -- Spark -------------------------------------------------------------------------------------

needs_spark = pytest.mark.skipif(bool(UNAVAILABLE["spark"]) and "spark" not in REQUIRED,
                                 reason=f"spark: {UNAVAILABLE['spark']}")


@needs_spark
def test_spark_every_probe_passes_and_cleans_up(tmp_path, run_tag, spark_warehouse):
    from slocompile.api import Project
    from slocompile.engines.connect import connect

    _require("spark")
    raw = f"raw_dbg_{run_tag}"
    root = write_project(tmp_path, run_tag, {"spark": target_yaml("spark", spark_warehouse, "")}, raw=raw)
    project = Project.load(root)
    eng = connect(project.spec.targets["spark"], root)
    try:
        eng.execute(f"CREATE DATABASE IF NOT EXISTS `{raw}`")
        eng.execute(f"CREATE TABLE `{raw}`.t USING parquet AS SELECT 1 AS k, 2.0D AS v")
        eng.execute(f"CREATE TABLE `{raw}`.dims (k INT) USING parquet")
        result = debug(root)
        assert result.exit_code == 0, result.output
        got = probes(result.output)
        assert list(got) == expected(run_tag, raw), result.output
        assert all(status == "ok" for status, _ in got.values()), result.output
        assert "created and dropped again" in got[f"schema dbg_slo_{run_tag}"][1]
        dbs = {r[0] for r in eng.query("SHOW DATABASES")}
        assert not any(d.startswith("dbg_") for d in dbs), dbs  # what debug created, it dropped

        eng.execute(f"DROP TABLE `{raw}`.dims")
        result = debug(root)
        assert result.exit_code == 2
        got = probes(result.output)
        assert got[f"relation {raw}.dims"][0] == "FAIL" and "TABLE_OR_VIEW_NOT_FOUND" in got[f"relation {raw}.dims"][1]
    finally:
        eng.execute(f"DROP DATABASE IF EXISTS `{raw}` CASCADE")
        eng.close()
