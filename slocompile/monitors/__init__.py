"""Threshold-free monitors: per-partition profiles, learned bands, drift, incidents, backtest.

Typical use (a daily build)::

    spec = make_spec("raw.user_features", "ds", ["user_id"], discover_columns(con, "raw.user_features",
                     exclude=["ds", "user_id"], partition="ds"), con=con)
    history = History.from_rows(**rows_from_meta_tables)        # or History() the first time
    alerts = monitor_partitions(con, spec, history, [new_partition])
    save(history.to_rows())                                      # meta tables

and ``detect_range(con, relation, partition_column, key, columns, start, end)`` replays history.
"""
from slocompile.monitors.runner import (detect_range, discover_columns, family_of, make_spec, monitor_partitions, profile_all,
                       profile_new, replay)
from slocompile.monitors.bands import DEFAULT, Settings
from slocompile.monitors.detect import METRICS, judge_partition
from slocompile.monitors.history import History, Judgement
from slocompile.monitors.incidents import assign
from slocompile.monitors.profile import ColumnSpec, Profile, TableSpec, profile

__all__ = [
    "DEFAULT", "METRICS", "ColumnSpec", "History", "Judgement", "Profile", "Settings", "TableSpec", "assign",
    "detect_range", "discover_columns", "family_of", "judge_partition", "make_spec", "monitor_partitions",
    "profile", "profile_all", "profile_new", "replay",
]
