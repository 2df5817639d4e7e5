"""Monitors on a table without partitions: each build is a snapshot in the history.

The monitors learn each metric's band from earlier partitions. An unpartitioned table has none,
so a build judges the whole table as one partition, labelled by the build's start (to the
second): a view in the meta schema adds that label as a column, `_slo_snapshot`, and the monitors
profile the view as a table partitioned by it. Their history (`slo.monitor_metrics`, ...) then
holds one partition per build, and the results go back to the table as whole-table results
(partition NULL). The view is dropped once judged.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlglot import exp

from slocompile.dialects.nodes import lit
from slocompile.dialects.render import render
from slocompile.spec.model import TableSpec

SNAPSHOT_COLUMN = "_slo_snapshot"


def label(started: dt.datetime) -> str:
    """A build's snapshot: its start, to the second (two builds in one second share one)."""
    return started.replace(microsecond=0).isoformat(sep=" ")


def view_of(schemas, table: TableSpec) -> exp.Table:
    return exp.Table(this=exp.to_identifier(f"_snapshot_{table.name}", quoted=True),
                     db=exp.to_identifier(schemas.meta, quoted=True))


def snapshot(engine, schemas, table: TableSpec, started: dt.datetime) -> tuple[TableSpec, list[str]]:
    """The table as the monitors see it (a view partitioned by the build's snapshot) and its one
    partition; the view is created here, `drop` removes it."""
    view, text = view_of(schemas, table), label(started)
    select = exp.select(exp.Star(), exp.alias_(exp.cast(lit(text), exp.DataType.Type.TIMESTAMP), SNAPSHOT_COLUMN,
                                               quoted=True)).from_(table.relation.copy(), copy=False)
    drop(engine, schemas, table)  # not CREATE OR REPLACE: Postgres refuses a replacement with other columns
    engine.execute(render(exp.Create(kind="VIEW", this=view, expression=select), engine.dialect))
    return replace(table, relation=view, partition=SNAPSHOT_COLUMN, partition_grain=None), [text]


def drop(engine, schemas, table: TableSpec) -> None:
    engine.execute(render(exp.Drop(kind="VIEW", tables=[view_of(schemas, table)], exists=True), engine.dialect))


def whole_table(results: list) -> list:
    """The monitors' results on the snapshot, as the table's whole-table results."""
    return [replace(r, partition=None) for r in results]
