"""The differential tests' data and project, written the same way for every engine."""
from __future__ import annotations

import datetime as dt
import importlib.util
import math
import os
import shutil
import subprocess
from decimal import Decimal

import pytest
from sqlglot import exp

NAN = float("nan")
D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)


def ts(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 30, 15)


# column "select" is a reserved word, "Grüße" unicode (and NaN), "MixedCase" needs quoting
EVENTS_COLUMNS = [("id", "INT"), ("ds", "DATE"), ("select", "TEXT"), ("Grüße", "DOUBLE"), ("MixedCase", "TEXT"),
                  ("amount", "DOUBLE"), ("category", "TEXT"), ("ts", "TIMESTAMP"), ("code", "TEXT")]
EVENTS_ROWS = [
    # 2024-01-01: every error SLO passes
    (1, D1, "a", 10.5, "Alpha", 10.0, "x", ts(D1, 1), "US"),
    (2, D1, "b'c", 20.25, "Beta", 20.0, "y", ts(D1, 2), "CN"),
    (3, D1, "a", 30.0, "Gamma 'quoted'", 30.0, "x", ts(D1, 3), "IN"),
    (4, D1, "d\\e", 40.0, "Delta\\slash", 40.0, "y", ts(D1, 4), "US"),
    (5, D1, "a", 50.0, "Épsilon", 50.0, "big", ts(D1, 5), None),
    # 2024-01-02: a duplicated id, an amount out of range, an unknown code
    (6, D2, "a", 1.0, "Zeta", 5.0, "x", ts(D2, 1), "US"),
    (6, D2, "a", 2.0, "Eta", 6.0, "x", ts(D2, 2), "US"),
    (7, D2, "zz", 3.0, "theta", 1500.0, "big", ts(D2, 3), "XX"),
    (8, D2, "b'c", 4.0, "Iota", 7.0, "y", ts(D2, 4), "CN"),
    (9, D2, "a", 5.0, "Kappa", 8.0, "y", ts(D2, 5), "IN"),
    # 2024-01-03: NULLs, a NaN, an unknown category, a regex mismatch, a negative amount
    (10, D3, None, NAN, "Lambda", -5.0, "x", ts(D3, 1), "US"),
    (11, D3, "a", 7.0, None, 12.0, "w", ts(D3, 2), "US"),
    (12, D3, "a", None, "9nine", 14.0, None, ts(D3, 3), "CN"),
    (13, D3, "a", 9.0, "Mu", None, "x", None, "US"),
]
DIMS_COLUMNS = [("code", "TEXT"), ("name", "TEXT")]
DIMS_ROWS = [("US", "United States"), ("CN", "China"), ("IN", "India")]
# a reserved word as table name and as column name
ORDER_COLUMNS = [("group", "INT"), ("label", "TEXT")]
ORDER_ROWS = [(1, "one"), (2, "two"), (-3, "minus three"), (None, "none"), (2, "two again")]
SMALL_COLUMNS = [("k", "INT"), ("v", "DOUBLE")]
SMALL_ROWS = [(1, 1.5), (2, 2.5), (3, NAN)]
DAILY_COLUMNS = [("day", "DATE"), ("n", "INT")]
DAILY_ROWS = [(D1, 1), (D1, 2), (D2, 3), (D3, -1)]

TABLES = {
    "events": (EVENTS_COLUMNS, EVENTS_ROWS),
    "dims": (DIMS_COLUMNS, DIMS_ROWS),
    "order": (ORDER_COLUMNS, ORDER_ROWS),
    "small": (SMALL_COLUMNS, SMALL_ROWS),
    "empty_t": (SMALL_COLUMNS, []),
    "daily": (DAILY_COLUMNS, DAILY_ROWS),
}


def schemas(tag: str) -> dict:
    return {"raw": f"raw_{tag}", "validated": f"validated_{tag}", "quarantine": f"quarantine_{tag}",
            "meta": f"slo_{tag}"}


def slos_yaml(tag: str) -> str:
    raw = schemas(tag)["raw"]
    return f"""
tables:
  - name: events
    relation: {raw}.events
    partition: ds
    gate: filter
    checks:
      - row_count: {{min: 4}}
      - unique: [id]
      - assert: {{name: total_positive, sql: "sum(amount) > 0"}}
      - assert: {{name: few_big, sql: "count(*) filter (where category = 'big') <= 1", severity: warn}}
      - freshness: {{column: ts, max_age: 36500d, severity: warn}}
      - relationship: {{column: code, to: {raw}.dims, field: code}}
      - schema
    columns:
      - name: id
        type: integer
        checks:
          - not_null
      - name: ds
        type: date
      - name: select
        type: string
        checks:
          - accepted_values: {{values: [a, "b'c", 'd\\e'], rows: drop, max_fraction: 0.5}}
      - name: Grüße
        type: number
        checks:
          - between: {{min: 0, max: 100, rows: drop, max_fraction: 0.5}}
          - mean: {{min: 0, max: 100}}
          - stddev: {{max: 100, severity: warn}}
          - quantile: {{q: 0.5, min: 0, max: 100, severity: warn}}
      - name: MixedCase
        type: string
        checks:
          - matches: {{pattern: "^[A-Za-zÉ]", rows: drop, max_fraction: 0.5}}
          - not_null: {{max_fraction: 0.3}}
      - name: amount
        type: number
        checks:
          - between: {{min: 0, max: 1000, max_fraction: 0.5}}
          - min: {{min: -100}}
          - max: {{max: 2000}}
          - quantile: {{q: 0.25, min: 0, max: 500}}
          - distinct_count: {{min: 2}}
          - expression: {{sql: "amount < 900 or category = 'big'", severity: warn}}
          - not_null: {{name: amount_present_when_known, where: "category is not null"}}
      - name: category
        checks:
          - accepted_values: {{values: [x, y, big], severity: warn}}
      - name: ts
        type: timestamp
      - name: code
        type: string
  - name: order
    relation: {raw}."order"
    gate: warn
    columns:
      - name: group
        checks:
          - between: {{min: 0, rows: drop}}
          - not_null: {{rows: drop}}
          - unique
  - name: small_ok
    relation: {raw}.small
    gate: block
    checks:
      - row_count: {{min: 1}}
    columns:
      - name: k
        checks: [not_null]
  - name: blocked
    relation: {raw}.small
    gate: block
    checks:
      - row_count: {{name: enough_rows, min: 100}}
    columns:
      - name: v
        checks:
          - max: {{name: v_not_nan, max: 10}}
  - name: empty
    relation: {raw}.empty_t
    gate: block
    checks:
      - row_count: {{name: has_rows, min: 1}}
    columns:
      - name: v
        checks:
          - mean: {{min: 0}}
  - name: daily
    relation: {raw}.daily
    partition: day
    gate: block
    columns:
      - name: n
        checks:
          - between: {{name: n_positive, min: 0}}
"""


def project_yaml(tag: str, targets: dict[str, str]) -> str:
    s = schemas(tag)
    lines = "\n".join(f"  {name}: {spec}" for name, spec in targets.items())
    return (f"name: differential\ntarget: duckdb\ntargets:\n{lines}\n"
            f"schemas: {{validated: {s['validated']}, quarantine: {s['quarantine']}, meta: {s['meta']}}}\n")


def write_project(root: str, tag: str, targets: dict[str, str]) -> str:
    os.makedirs(os.path.join(root, "slos"), exist_ok=True)
    with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
        f.write(project_yaml(tag, targets))
    with open(os.path.join(root, "slos", "tables.yml"), "w", encoding="utf-8") as f:
        f.write(slos_yaml(tag))
    return root


# -- engines ---

ENGINES = ("duckdb", "postgres", "spark")


def _postgres_unavailable() -> str | None:
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install 'slocompile[postgres]')"
    if not os.environ.get("SLOCOMPILE_PG_DSN"):
        return "SLOCOMPILE_PG_DSN is not set (no Postgres server to test against; .ci/run starts one)"
    return None


def _spark_unavailable() -> str | None:
    if os.environ.get("SLOCOMPILE_SPARK", "1") in ("0", "false", "no"):
        return "SLOCOMPILE_SPARK=0"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'slocompile[spark]')"
    java = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin")) \
        if os.environ.get("JAVA_HOME") else shutil.which("java")
    if not java:
        return "no Java runtime on PATH (pyspark needs Java 17+)"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"java -version failed: {e}"
    if out.returncode != 0:
        return f"java -version failed: {out.stderr.strip()[:200]}"
    return None


UNAVAILABLE = {"duckdb": None, "postgres": _postgres_unavailable(), "spark": _spark_unavailable()}


# CI sets SLOCOMPILE_REQUIRE_ENGINES=postgres,spark: there an absent engine fails instead of skipping
REQUIRED = {e.strip() for e in os.environ.get("SLOCOMPILE_REQUIRE_ENGINES", "").split(",") if e.strip()}


def engine_params():
    """pytest params for every engine, skipped (with the reason) where absent and not required."""
    return [pytest.param(name, id=name, marks=pytest.mark.skipif(bool(UNAVAILABLE[name]) and name not in REQUIRED,
                                                                reason=f"{name}: {UNAVAILABLE[name]}"))
            for name in ENGINES]


def target_yaml(name: str, spark_warehouse: str, duckdb_path: str) -> str:
    if name == "duckdb":
        return f"{{type: duckdb, path: '{duckdb_path}'}}"
    if name == "postgres":
        return "{type: postgres, dsn: \"{{ env_var('SLOCOMPILE_PG_DSN') }}\"}"
    return (f"{{type: spark, master: 'local[2]', warehouse: '{spark_warehouse}/warehouse', "
            f"metastore: '{spark_warehouse}/metastore_db'}}")


# -- loading -------------------------------------------------------------------------------

def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def table_ref(schema: str, name: str) -> exp.Table:
    return exp.Table(this=_ident(name), db=_ident(schema))


def literal(v, typ: str) -> exp.Expression:
    t = exp.DataType.build(typ)
    if v is None:
        return exp.cast(exp.Null(), t)
    if isinstance(v, float) and math.isnan(v):
        return exp.cast(exp.Literal.string("NaN"), t)
    if isinstance(v, dt.datetime):
        return exp.cast(exp.Literal.string(v.isoformat(sep=" ")), t)
    if isinstance(v, dt.date):
        return exp.cast(exp.Literal.string(v.isoformat()), t)
    if isinstance(v, str):
        return exp.Literal.string(v)
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, (int, float)):
        node = exp.Literal.number(abs(v))
        node = exp.Neg(this=node) if v < 0 else node
        return exp.cast(node, t)
    raise TypeError(type(v))


def load_statements(dialect: str, schema: str, tables: dict | None = None) -> list[str]:
    """(Re)create `tables` (name -> (columns, rows); default TABLES) in `schema` with their rows."""
    out = [exp.Create(kind="SCHEMA", exists=True, this=exp.Table(db=_ident(schema))).sql(dialect, identify=True)]
    for name, (cols, rows) in (TABLES if tables is None else tables).items():
        ref = table_ref(schema, name)
        out.append(f"DROP TABLE IF EXISTS {ref.sql(dialect, identify=True)}"
                   + (" CASCADE" if dialect == "postgres" else ""))
        defs = [exp.ColumnDef(this=_ident(c), kind=exp.DataType.build(t)) for c, t in cols]
        create = exp.Create(kind="TABLE", this=exp.Schema(this=ref.copy(), expressions=defs))
        create = create.sql(dialect, identify=True)
        out.append(create + (" USING parquet" if dialect == "spark" else ""))
        if rows:
            values = exp.Values(expressions=[exp.Tuple(expressions=[literal(v, t) for v, (_, t) in zip(r, cols)])
                                             for r in rows])
            insert = exp.Insert(this=exp.Schema(this=ref.copy(), expressions=[_ident(c) for c, _ in cols]),
                                expression=values)
            out.append(insert.sql(dialect, identify=True))
    return out


# -- comparing -----------------------------------------------------------------------------

REL_TOL = 1e-9  # floats: relative tolerance across engines (Postgres averages NUMERIC, the others DOUBLE)
# monitors' distinct counts: DuckDB's fixed-size HyperLogLog (up to ~10% off at thousands of values,
# and 1 or 2 off at a handful: 2 for {-5, 12, 14}), Spark's HyperLogLog++ (5% standard error),
# Postgres exact: they agree within DISTINCT_TOL (relative) or DISTINCT_ABS (absolute)
DISTINCT_TOL = 0.2
DISTINCT_ABS = 2


def normal(v):
    """A comparable, engine-independent form of a value."""
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if v.is_integer():
            return int(v)
        return float(f"{v:.12g}")
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: normal(x) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return [normal(x) for x in v]
    return v


def close(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def rows_key(row) -> str:
    return repr(tuple((x is None, str(type(x).__name__ if x is not None else ""), repr(x)) for x in row))


def sorted_rows(rows) -> list[tuple]:
    return sorted((tuple(normal(v) for v in r) for r in rows), key=rows_key)
