"""Threshold-free monitors: per-partition profiles, learned bands, drift, incidents, backtest.

Typical use (a daily build), on any Engine (engines.connect)::

    spec = make_spec("raw.user_features", "ds", ["user_id"], discover_columns(engine, "raw.user_features",
                     exclude=["ds", "user_id"], partition="ds"), engine=engine)
    history = History.from_rows(**rows_from_meta_tables)        # or History() the first time
    alerts = monitor_partitions(engine, spec, history, [new_partition])
    save(history.to_rows())                                      # meta tables

and ``detect_range(engine, relation, partition_column, key, columns, start, end)`` replays history.

Detection (``detect.judge_partition``): per metric a band learned from the metric's own clean
history (``bands``; the seasonal cycle and history length of the partition grain:
``bands.settings_for``, the table's ``sensitivity``: ``bands.sensitive``), shares moved between
categories (``shares``), incidents that last while a fault does, with ``open`` and ``recover``
events (``incidents.track``), and changes declared intended (``history.Acceptance``).
"""
from slocompile.monitors.bands import DEFAULT, Settings
from slocompile.monitors.detect import METRICS, judge_partition
from slocompile.monitors.history import History, Judgement
from slocompile.monitors.incidents import assign
from slocompile.monitors.profile import Profile, ProfiledColumn, ProfiledTable, profile
from slocompile.monitors.runner import (
                                        detect_range,
                                        discover_columns,
                                        make_spec,
                                        monitor_family,
                                        monitor_partitions,
                                        profile_all,
                                        profile_new,
                                        replay,
)

__all__ = [
    "DEFAULT", "METRICS", "History", "Judgement", "Profile", "ProfiledColumn", "ProfiledTable", "Settings", "assign",
    "detect_range", "discover_columns", "judge_partition", "make_spec", "monitor_family", "monitor_partitions",
    "profile", "profile_all", "profile_new", "replay",
]
