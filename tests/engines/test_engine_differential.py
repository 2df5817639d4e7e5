"""One project, the same data, three engines: identical results and views.

DuckDB is the reference (its results are also checked against hand-worked expectations);
Postgres and Spark must agree with it: status and observed value per check and partition
(floats within enginedata.REL_TOL), the columns and rows of every validated and quarantine view,
and a blocked view must fail at query time naming the failed SLO.
"""
from __future__ import annotations

import os
import time

import pytest
from enginedata import (
    D1,
    D2,
    D3,
    UNAVAILABLE,
    close,
    engine_params,
    load_statements,
    normal,
    schemas,
    sorted_rows,
    table_ref,
    target_yaml,
    write_project,
)

from slocompile.api import Project
from slocompile.engines.base import QueryFailed
from slocompile.engines.connect import connect


class Built:
    """An engine's project after a build: its results, and a way to query it."""

    def __init__(self, name: str, project: Project, run, seconds: float):
        self.name, self.project, self.run, self.seconds = name, project, run, seconds

    def engine(self):
        return connect(self.project.spec.targets[self.name], self.project.root)

    def query(self, sql: str):
        eng = self.engine()
        try:
            return eng.query(sql)
        finally:
            eng.close()

    def view(self, kind: str, table: str):
        """(column names, normalized sorted rows) of validated.<table> or quarantine.<table>."""
        ref = table_ref(getattr(self.project.spec.schemas, kind), table)
        eng = self.engine()
        try:
            cols = [c for c, _ in eng.columns(ref) or []]
            rows = eng.query(f"SELECT * FROM {ref.sql(eng.dialect, identify=True)}")
        finally:
            eng.close()
        return cols, sorted_rows(rows)


@pytest.fixture(scope="module")
def tag(run_tag):
    return run_tag


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory, tag, spark_warehouse):
    root = str(tmp_path_factory.mktemp("differential"))
    targets = {}
    for name in ("duckdb", "postgres", "spark"):
        if UNAVAILABLE[name] and name != "duckdb":
            continue
        targets[name] = target_yaml(name, spark_warehouse, os.path.join(root, "warehouse.duckdb"))
    return write_project(root, tag, targets)


@pytest.fixture(scope="module")
def builds(project_dir, tag):
    """engine name -> Built, built on first use; Postgres schemas are dropped at the end."""
    cache: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in cache:
            project = Project.load(project_dir)
            target = project.spec.targets[name]
            eng = connect(target, project.root)
            try:
                _drop_schemas(eng, tag)
                for stmt in load_statements(eng.dialect, schemas(tag)["raw"]):
                    eng.execute(stmt)
            finally:
                eng.close()
            t0 = time.perf_counter()
            run = project.build(target=name)
            cache[name] = Built(name, project, run, time.perf_counter() - t0)
        return cache[name]

    yield get
    if "postgres" in cache:
        eng = cache["postgres"].engine()
        try:
            _drop_schemas(eng, tag)
        finally:
            eng.close()


def _drop_schemas(eng, tag: str) -> None:
    if eng.dialect == "duckdb":
        return
    for schema in schemas(tag).values():
        if eng.dialect == "postgres":
            eng.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            eng.execute(f"DROP DATABASE IF EXISTS `{schema}` CASCADE")


def _results(run) -> dict:
    out = {}
    for r in run.results:
        observed = None if r.check_type == "freshness" else normal(r.observed)  # an age: depends on the clock
        out[(r.table, r.check, r.partition)] = {"status": r.status, "severity": r.severity, "column": r.column,
                                               "expected": r.expected, "observed": observed}
    return out


# -- the reference: DuckDB against hand-worked expectations ------------------------------------

def test_duckdb_reference_results(builds):
    run = builds("duckdb").run
    res = _results(run)
    s = {k: v["status"] for k, v in res.items()}
    d1, d2, d3 = D1.isoformat(), D2.isoformat(), D3.isoformat()
    assert run.exit_code == 1
    # events, 2024-01-01: every check passes
    assert all(v == "pass" for (t, _, p), v in s.items() if t == "events" and p == d1), \
        {k: v for k, v in res.items() if k[0] == "events" and k[2] == d1 and v["status"] != "pass"}
    assert s[("events", "unique_id", d2)] == "fail" and res[("events", "unique_id", d2)]["observed"] == 1
    assert s[("events", "relationship_code", d2)] == "fail"
    assert s[("events", "between_amount", d2)] == "pass"          # 1 of 5 out of range <= 50%
    assert res[("events", "between_amount", d2)]["observed"] == {"fraction": 0.2, "rows": 1, "total": 5}
    assert s[("events", "expression_amount", d2)] == "pass"       # 1500 is 'big'
    assert s[("events", "accepted_values_select", d2)] == "pass"  # 'zz': 1 of 5
    # 2024-01-03: a NaN makes the mean NaN (a failure); NULLs and a negative amount
    assert res[("events", "mean_gr_e", d3)]["observed"] == "NaN" and s[("events", "mean_gr_e", d3)] == "fail"
    assert s[("events", "between_gr_e", d3)] == "pass"            # NaN is above 100: 1 of 4
    assert res[("events", "between_gr_e", d3)]["observed"]["rows"] == 1
    assert res[("events", "quantile_gr_e_q50", d3)]["observed"] == 9  # NaN sorts above every number
    assert s[("events", "not_null_mixedcase", d3)] == "pass"      # 1 of 4 <= 30%
    assert s[("events", "accepted_values_category", d3)] == "warn"
    # `where: category is not null` leaves 3 rows, one with a NULL amount
    assert res[("events", "amount_present_when_known", d3)]["observed"] == {"fraction": 0.333333, "rows": 1,
                                                                            "total": 3}
    assert res[("events", "quantile_amount_q25", d3)]["observed"] == 3.5
    assert s[("events", "row_count", d3)] == "pass"
    assert s[("events", "schema", None)] == "pass"
    assert s[("events", "freshness_ts", None)] == "pass"
    # unpartitioned tables
    assert s[("blocked", "enough_rows", None)] == "fail"
    assert s[("blocked", "v_not_nan", None)] == "fail"           # max is NaN
    assert s[("empty", "has_rows", None)] == "fail"
    assert s[("empty", "mean_v", None)] == "fail"                # undefined on no rows
    assert s[("small_ok", "row_count", None)] == "pass"
    assert s[("order", "unique_group", None)] == "fail"
    assert s[("daily", "n_positive", d3)] == "fail" and s[("daily", "n_positive", d1)] == "pass"


# -- every engine agrees with the reference ---------------------------------------------------

def other_engines():
    return [p for p in engine_params() if p.values[0] != "duckdb"]


@pytest.mark.parametrize("engine", other_engines())
def test_results_agree(builds, engine):
    ref, got = _results(builds("duckdb").run), _results(builds(engine).run)
    assert sorted(got, key=repr) == sorted(ref, key=repr), "different checks or partitions"
    diffs = {k: (ref[k], got[k]) for k in ref
             if {**ref[k], "observed": None} != {**got[k], "observed": None} or not close(ref[k]["observed"],
                                                                                       got[k]["observed"])}
    assert not diffs, f"{engine} differs from duckdb: {diffs}"
    assert builds(engine).run.exit_code == builds("duckdb").run.exit_code


@pytest.mark.parametrize("engine", other_engines())
@pytest.mark.parametrize("kind", ["validated", "quarantine"])
@pytest.mark.parametrize("table", ["events", "order", "small_ok"])
def test_views_agree(builds, engine, kind, table):
    ref_cols, ref_rows = builds("duckdb").view(kind, table)
    cols, rows = builds(engine).view(kind, table)
    assert cols == ref_cols
    assert rows == ref_rows


def test_reference_views(builds):
    """What the gates and `rows: drop` do, on the reference engine."""
    b = builds("duckdb")
    cols, rows = b.view("validated", "events")
    ids = sorted(r[cols.index("id")] for r in rows)
    # filter: 2024-01-02 failed (duplicate id, unknown code), 2024-01-03 failed (mean of NaN);
    # in 2024-01-01, id 4 ('d\e' is accepted) stays: every row passes the dropping rules
    assert ids == [1, 2, 3, 4, 5]
    qcols, qrows = b.view("quarantine", "events")
    assert qcols[-1] == "_slo_violations" and qrows == []
    # warn gate: every row, less the dropped ones (-3 and NULL), which are in quarantine with the rules they broke
    cols, rows = b.view("validated", "order")
    assert sorted(r[0] for r in rows) == [1, 2, 2]
    qcols, qrows = b.view("quarantine", "order")
    assert sorted((r[0], r[2]) for r in qrows if r[0] is not None) == [(-3, "between_group")]
    assert [r[2] for r in qrows if r[0] is None] == ["not_null_group"]
    # validated + quarantined = raw
    assert len(rows) + len(qrows) == 5


@pytest.mark.parametrize("engine", engine_params())
@pytest.mark.parametrize("table,slos", [("blocked", ("enough_rows", "v_not_nan")), ("empty", ("has_rows",)),
                                        ("daily", ("n_positive",))])
def test_blocked_view_fails_naming_the_slo(builds, engine, table, slos):
    b = builds(engine)
    validated = b.project.spec.schemas.validated
    with pytest.raises(QueryFailed) as err:
        b.query(f"SELECT count(*) FROM {table_ref(validated, table).sql(b.engine().dialect, identify=True)}")
    text = str(err.value)
    assert f"{validated}.{table} is blocked by failed SLOs" in text, text
    for slo in slos:
        assert slo in text, text
    if table == "daily":
        assert D3.isoformat() in text and D1.isoformat() not in text  # names the failed partition only


@pytest.mark.parametrize("engine", engine_params())
def test_passing_block_view_serves_rows(builds, engine):
    b = builds(engine)
    cols, rows = b.view("validated", "small_ok")
    assert cols == ["k", "v"] and [r[0] for r in rows] == [1, 2, 3]


@pytest.mark.parametrize("engine", engine_params())
def test_status_one_row_per_partition(builds, engine):
    b = builds(engine)
    meta = table_ref(b.project.spec.schemas.meta, "status")
    rows = b.query(f"SELECT table_name, partition, status FROM {meta.sql(b.engine().dialect, identify=True)}")
    keys = [(r[0], r[1]) for r in rows]
    assert len(keys) == len(set(keys)), keys
    assert ("events", D1.isoformat(), "pass") in [tuple(r) for r in rows]


# -- a second build: incremental, fixed data, a view whose columns change -----------------------

@pytest.mark.parametrize("engine", engine_params())
def test_rebuild_recovers_and_follows_new_columns(builds, engine, tag):
    b = builds(engine)
    raw = schemas(tag)["raw"]
    eng = b.engine()
    d = eng.dialect
    try:
        small = table_ref(raw, "small").sql(d, identify=True)
        order = table_ref(raw, "order").sql(d, identify=True)
        # a new column lands before the quarantine view's _slo_violations: Postgres cannot
        # CREATE OR REPLACE that view, the engine drops and creates it in the transaction
        add = "ADD COLUMNS (`note` STRING)" if d == "spark" else 'ADD COLUMN "note" TEXT'
        eng.execute(f"ALTER TABLE {order} {add}")
        # the blocked table recovers: 100 more rows (and the NaN row goes)
        if d == "spark":
            eng.execute(f"INSERT OVERWRITE TABLE {small} SELECT CAST(id AS INT), CAST(id % 7 AS DOUBLE) "
                        "FROM range(1, 101) AS r(id)")
        else:
            eng.execute(f"DELETE FROM {small}")
            eng.execute(f"INSERT INTO {small} SELECT CAST(i AS INT), (i % 7) * 1.0 "
                        f"FROM generate_series(1, 100) AS g(i)")
    finally:
        eng.close()
    run = b.project.build(target=engine)
    by = {(r.table, r.check, r.partition): r.status for r in run.results}
    assert by[("blocked", "enough_rows", None)] == "pass" and by[("blocked", "v_not_nan", None)] == "pass"
    # events: its failing partitions are checked again, the passing one is not
    assert {p for t, _, p in by if t == "events" and p is not None} == {D2.isoformat(), D3.isoformat()}
    blocked = table_ref(b.project.spec.schemas.validated, "blocked").sql(d, identify=True)
    assert b.query(f"SELECT count(*) FROM {blocked}") == [(100,)]
    cols, _ = b.view("quarantine", "order")
    assert cols == ["group", "label", "note", "_slo_violations"]
    cols, rows = b.view("validated", "order")
    assert cols == ["group", "label", "note"] and len(rows) == 3
    # events' failing partitions were checked again; its status is still one row per partition
    meta = table_ref(b.project.spec.schemas.meta, "status").sql(d, identify=True)
    keys = b.query(f"SELECT table_name, partition FROM {meta}")
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("engine", engine_params())
def test_failed_publish_changes_no_status(builds, engine):
    """A transaction that raises leaves the status as it was: rolled back (DuckDB, Postgres), or
    never applied (Spark collects its copy-on-write changes until the block ends)."""
    b = builds(engine)
    eng = b.engine()
    try:
        meta = table_ref(b.project.spec.schemas.meta, "status").sql(eng.dialect, identify=True)
        before = sorted(eng.query(f"SELECT table_name, partition, status FROM {meta}"), key=repr)
        with pytest.raises(RuntimeError):
            with eng.transaction():
                eng.execute(f"DELETE FROM {meta} WHERE table_name = 'events'")
                eng.execute(f"INSERT INTO {meta} (table_name, status) VALUES ('events', 'pass')")
                raise RuntimeError("the build died while publishing")
        assert sorted(eng.query(f"SELECT table_name, partition, status FROM {meta}"), key=repr) == before
    finally:
        eng.close()
