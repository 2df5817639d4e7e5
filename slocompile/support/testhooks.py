"""Test-only hooks: SLOCOMPILE_TEST_PAUSE=<stage> makes a build stop at that stage, so that tests can
kill it there (tests/run/test_crash_safety.py). Unset, every call is a dictionary lookup and nothing else.

Stages, in build order: staged (last_good versions written), measured (all checks measured, nothing
recorded), publishing (inside the build's commit, before COMMIT), published (after the commit,
before triggers deliver).
"""
from __future__ import annotations

import os
import sys
import time

STAGES = ("staged", "measured", "publishing", "published")


def pause(stage: str) -> None:
    if os.environ.get("SLOCOMPILE_TEST_PAUSE") != stage:
        return
    print(f"slocompile: test pause at stage {stage} (pid {os.getpid()})", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("SLOCOMPILE_TEST_PAUSE_SECONDS", "60")))
