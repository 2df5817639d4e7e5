"""Engine.insert_rows, the bulk path of the meta writes (DuckDB: bound parameters or NumPy arrays;
Postgres: COPY; Spark: a DataFrame), leaves exactly what the INSERT ... VALUES statements of
meta.insert leave, on every engine, for awkward values; and keeps NaN and infinities where it is
given them (the monitors' rows)."""
from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import replace

import numpy as np
import pytest
from enginedata import engine_params, target_yaml
from sqlglot import exp

from slocompile.api import Project
from slocompile.compiling.compiler import compile_project
from slocompile.dialects.render import render
from slocompile.engines.connect import connect
from slocompile.engines.duckdb import FEW_ROWS
from slocompile.sqltrees import meta

UTC2 = dt.timezone(dt.timedelta(hours=2))
TEXTS = ["it's", 'a "quoted" \\ back\\slash', "tab\tnew\nline", "\\N", "", "é ü 中 🙂", "NULL", "x" * 300]
DOUBLES = [1.5, float("nan"), float("inf"), float("-inf"), -0.0, 1e-300, 0.1 + 0.2, np.float64(2.25), 7, None]
TIMES = [dt.datetime(2024, 1, 2, 3, 4, 5, 678901), dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC2),
         dt.datetime(1999, 12, 31, 23, 59, 59), None]


def monitor_rows(n: int) -> list[tuple]:
    """monitor_metrics rows: table, column, metric, partition, value, alerted, run_id, measured_at."""
    return [(TEXTS[i % len(TEXTS)], None if i % 5 == 0 else f"c{i}", "mean", f"2024-01-{i % 28 + 1:02d}",
             DOUBLES[i % len(DOUBLES)], [True, False, None, np.bool_(True)][i % 4], np.int64(i) if i % 3 else i,
             TIMES[i % len(TIMES)]) for i in range(n)]


def version_rows(n: int) -> list[tuple]:
    """versions rows: table, version (INT), partition, status, failed_checks, row_count (BIGINT), run, created."""
    return [("t", np.int32(i), None if i % 4 == 0 else str(i), "pass", None, 2**40 + i if i % 2 else -i, "r",
             dt.datetime(2024, 1, 1)) for i in range(n)]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _rows(engine, table: exp.Table) -> list[tuple]:
    return sorted(engine.query(f"SELECT * FROM {table.sql(engine.dialect, identify=True)}"), key=repr)


@pytest.fixture
def engine_for(tmp_path, spark_warehouse, run_tag):
    opened = []

    def open_(name: str):
        root = str(tmp_path / name)
        os.makedirs(os.path.join(root, "slos"), exist_ok=True)
        with open(os.path.join(root, "slocompile.yml"), "w", encoding="utf-8") as f:
            f.write(f"name: bulk\ntarget: {name}\ntargets:\n  {name}: "
                    f"{target_yaml(name, spark_warehouse, os.path.join(root, 'w.duckdb'))}\n")
        spec = Project.load(root, require_tables=False).spec
        engine = connect(spec.targets[name], root)
        opened.append(engine)
        return spec, engine

    yield open_
    for engine in opened:
        engine.close()


@pytest.mark.parametrize("engine", engine_params())
@pytest.mark.parametrize("n", [3, FEW_ROWS + 20])  # DuckDB: bound parameters, then NumPy arrays
def test_bulk_rows_store_what_values_statements_store(engine, n, engine_for, run_tag):
    spec, eng = engine_for(engine)
    stores = {}
    for path in ("values", "bulk"):
        schemas = replace(spec.schemas, meta=f"bulk_{path}_{n}_{run_tag}")
        for stmt in compile_project(replace(spec, schemas=schemas, tables=()), eng.dialect).setup:
            eng.execute(stmt)
        for name, rows in (("monitor_metrics", monitor_rows(n)), ("versions", version_rows(n))):
            eng.execute(f"DELETE FROM {meta.table(schemas, name).sql(eng.dialect, identify=True)}")
            with eng.transaction():
                if path == "values":
                    for stmt in meta.insert(schemas, name, rows):
                        eng.execute(render(stmt, eng.dialect))
                else:
                    for op in meta.rows(schemas, name, rows):
                        eng.insert_rows(op.table, op.columns, op.rows)
            stores[path, name] = _rows(eng, meta.table(schemas, name))
    for name in ("monitor_metrics", "versions"):
        old, new = stores["values", name], stores["bulk", name]
        assert len(new) == len(old) == n
        assert all(len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b)) for a, b in zip(old, new)), \
            [(a, b) for a, b in zip(old, new) if a != b][:3]
    values = [r[4] for r in stores["bulk", "monitor_metrics"]]
    assert None in values and not any(isinstance(v, float) and not math.isfinite(v) for v in values)  # meta: NULL


@pytest.mark.parametrize("engine", engine_params())
@pytest.mark.parametrize("n", [2, FEW_ROWS + 2])
def test_insert_rows_keeps_nan_and_infinities(engine, n, engine_for, run_tag):
    spec, eng = engine_for(engine)
    schemas = replace(spec.schemas, meta=f"bulk_nan_{n}_{run_tag}")
    for stmt in compile_project(replace(spec, schemas=schemas, tables=()), eng.dialect).setup:
        eng.execute(stmt)
    table = meta.table(schemas, "monitor_metrics")
    specials = [float("nan"), float("inf"), float("-inf"), np.float64("nan"), 2.5, None]
    rows = [("t", None, "m", str(i), specials[i % len(specials)], None, "r", dt.datetime(2024, 1, 1))
            for i in range(n)]
    eng.insert_rows(table, meta.TABLES["monitor_metrics"], rows)
    got = {r[3]: r[4] for r in _rows(eng, table)}
    for i in range(n):
        want = specials[i % len(specials)]
        assert _same(got[str(i)], None if want is None else float(want)), (i, got[str(i)], want)
