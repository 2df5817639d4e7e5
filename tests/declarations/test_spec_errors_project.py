"""Pinned error messages across a whole project: every problem of every file at once, slocompile.yml
(targets, schemas, dialect, vars) and what the CLI prints."""
from __future__ import annotations

from click.testing import CliRunner
from specproblems import problems, write_project

from slocompile.cli import main

# -------------------------------------------------------------------------------------------- all at once, CLI


def test_every_problem_in_several_files_at_once(tmp_path):
    found = problems(tmp_path, {
        "a.yml": "tables:\n  - name: a0\n    relation: raw.a\n  - name: a\n    relation: raw.a\n    gate: blok\n",
        "b/b.yml": "tables:\n  - name: b\n    relation: raw.b\n    checks: [{rowcount: {min: 1}}]\n",
        "c.yml": "tables:\n  - name: c\n  relation: raw.c\n",
        "d.yml": "tables:\n  - name: d\n    relation: {{ nope }}\n",
        "e.yaml": "tables:\n  - name: a0\n    relation: raw.e\n",
    })
    assert [p.split(": ")[0] for p in found] == [
        "slos/a.yml:6:11", "slos/b/b.yml:4:15", "slos/c.yml:3:3", "slos/d.yml:3", "slos/e.yaml:2:5"]
    assert found[-1] == "slos/e.yaml:2:5: duplicate table 'a0' (also declared at slos/a.yml:2:5)"


def test_unknown_target_settings(tmp_path):
    """A misspelt setting of an engine target is an error, not a silently ignored key; compile-only
    targets read no settings and may carry any."""
    assert problems(tmp_path, {"t.yml": "tables: []\n"}, project="""\
name: p
targets:
  local: {type: duckdb, pth: w.duckdb}
  pg: {type: postgres, hots: db.internal, dbname: x}
  spark: {type: spark, master: "local[2]", warehouse: w, confs: {}}
  snow: {type: snowflake, account: acme}
""") == [
        "slocompile.yml:3:25: target 'local': unknown setting 'pth' for duckdb (did you mean 'path'?); "
        "duckdb reads: path, threads",
        "slocompile.yml:4:24: target 'pg': unknown setting 'hots' for postgres (did you mean 'host'?); postgres reads: "
        "dsn, host, port, user, password, dbname, database, sslmode, options, application_name, connect_timeout",
        "slocompile.yml:5:58: target 'spark': unknown setting 'confs' for spark (did you mean 'conf'?); spark reads: "
        "master, remote, warehouse, metastore, catalog, conf",
    ]


def test_project_file_problems(tmp_path):
    assert problems(tmp_path, {"t.yml": "tables: []\n"}, project="""\
name: p
target: prod
targets:
  local: {type: duckdb}
  pg: {type: postgress}
  x: {type: [duckdb]}
  y: 5
schemas: {validated: v, quarantine: v, meta: m}
sql_dialect: duck
vars: [1]
unknown_thing: 1
""") == [
        "slocompile.yml:2:9: target 'prod' is not defined in targets",
        "slocompile.yml:5:14: target 'pg': unknown type 'postgress' (did you mean 'postgres'?)",
        "slocompile.yml:6:13: target 'x': unknown type ['duckdb']",
        "slocompile.yml:7:6: target 'y' must be a mapping with a 'type'",
        "slocompile.yml:8:10: schemas: validated, quarantine, meta and versions must differ",
        "slocompile.yml:9:14: 'sql_dialect' in slocompile.yml must be one of duckdb, postgres, snowflake, bigquery, "
        "spark, databricks, trino, redshift, not 'duck' (did you mean 'duckdb'?)",
        "slocompile.yml:10:7: vars must be a mapping of names to values",
        "slocompile.yml:11:1: unknown key 'unknown_thing' in slocompile.yml",
    ]


def test_cli_prints_every_problem_and_exits_2(tmp_path):
    root = write_project(tmp_path, {"a.yml": "tables:\n  - name: a\n    relation: raw.a\n    gate: blok\n",
                                    "b.yml": "tables:\n  - name: b\n    relation: raw.b\n    key: 5\n"})
    result = CliRunner().invoke(main, ["compile", "-p", root])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: slos/a.yml:4:11: 'gate' in a table must be one of block, filter, last_good, warn, not 'blok' "
        "(did you mean 'block'?)",
        "error: slos/b.yml:4:10: 'key' in a table must be a column name or a list of column names, not 5",
        "2 problems found",
    ]
    assert result.stdout == ""
