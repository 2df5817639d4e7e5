"""One small featurebench run: an injected null_all fault is caught on its day, the next day is quiet."""
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from slocompile.engines.duckdb import DuckDBEngine
from slocompile.monitors import detect_range, discover_columns

FEATUREBENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "featurebench.py"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    if not FEATUREBENCH.exists():
        pytest.skip(f"featurebench not found at {FEATUREBENCH}")
    pytest.importorskip("pyarrow")
    d = tmp_path_factory.mktemp("fb")
    subprocess.run([sys.executable, str(FEATUREBENCH), "generate", "--out", str(d), "--seed", "3",
                    "--rows", "800", "--days", "45", "--history", "25"], check=True, capture_output=True)
    truth = json.loads((d / "truth.json").read_text())
    path = str(d / "warehouse.duckdb")
    engine = DuckDBEngine(duckdb.connect(path, read_only=True), path)
    cols = discover_columns(engine, "raw.user_features", exclude=["ds", "user_id"], partition="ds")
    alerts = detect_range(engine, "raw.user_features", "ds", ["user_id"], cols)
    engine.close()
    return truth, alerts


def test_null_all_caught_on_its_day_and_next_day_quiet(bench):
    truth, alerts = bench
    nulls = [f for f in truth["faults"] if f["kind"] == "null_all"]
    assert nulls
    faults_on = {}
    for f in truth["faults"]:
        faults_on.setdefault(f["partition"], set()).update(f["columns"])
    for f in nulls:
        col, p = f["columns"][0], f["partition"]
        hit = [a for a in alerts if a["partition"] == p and a["column"] == col]
        assert any(a["check"] == "monitor_missing_fraction" and a["observed"] == 1.0 for a in hit)
        assert "missing fraction of " + col + " rose" in next(a["message"] for a in hit
                                                              if a["metric"] == "missing_fraction")
        nxt = (dt.date.fromisoformat(p) + dt.timedelta(days=1)).isoformat()
        assert not [a for a in alerts if a["partition"] == nxt and a["column"] == col]
        # whatever alerts the next day is explained by that day's own faults
        for a in alerts:
            if a["partition"] == nxt:
                assert "*" in faults_on.get(nxt, ()) or a["column"] in faults_on.get(nxt, ())


def test_every_alert_in_the_window_is_a_true_fault(bench):
    truth, alerts = bench
    faults_on = {}
    for f in truth["faults"]:
        faults_on.setdefault(f["partition"], set()).update(f["columns"])
    window = [a for a in alerts if a["partition"] >= truth["eval_start"]]
    false = [a["message"] for a in window
             if "*" not in faults_on.get(a["partition"], ()) and a["column"] not in faults_on.get(a["partition"], ())]
    assert not false
