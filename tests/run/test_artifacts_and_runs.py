"""Artifacts describe this invocation and runs are never left `running` (issue 11, items 4 and 5):
a build that stops early (exit 2, a signal) leaves no earlier build's run_results.json or
junit.xml; the next build marks runs killed mid-flight `aborted`; a build that committed but
cannot write its artifacts says so (exit 2, with the committed state), not "internal error"."""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
from proj import cli, query, sql, write

from slocompile.api import Project
from slocompile.errors import SlocompileError
from slocompile.reports import artifacts

RESULT_FILES = ("run_results.json", "junit.xml")


@pytest.fixture
def green(tmp_path):
    """A project whose first build passed and wrote its artifacts."""
    write(tmp_path, [{"name": "t", "relation": "raw.t", "checks": [{"row_count": {"min": 1}}]}])
    sql(tmp_path, "CREATE TABLE raw.t AS SELECT range AS id FROM range(3)")
    done = cli(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert all((tmp_path / "target" / f).exists() for f in RESULT_FILES)
    return tmp_path


def left(root) -> list[str]:
    return [f for f in RESULT_FILES if (root / "target" / f).exists()]


def test_a_broken_declaration_leaves_no_earlier_verdict(green):
    (green / "slos" / "tables.yml").write_text("tables:\n  - {name: t, relation: raw.t, checks: [row_cnt]}\n")
    done = cli(green, "build")
    assert done.returncode == 2 and "row_cnt" in done.stderr
    assert left(green) == []


def test_a_missing_relation_leaves_no_earlier_verdict(green):
    write(green, [{"name": "t", "relation": "raw.t"}, {"name": "u", "relation": "raw.nope"}])
    done = cli(green, "build")
    assert done.returncode == 2 and "relation raw.nope does not exist" in done.stderr
    assert left(green) == []


def test_the_api_discards_them_too(green):
    write(green, [{"name": "u", "relation": "raw.nope"}])  # never built: a declaration error
    with pytest.raises(SlocompileError, match="relation raw.nope does not exist"):
        Project.load(str(green)).build()
    assert left(green) == []


def test_a_killed_build_is_marked_aborted_by_the_next(green):
    env = {**os.environ, "SLOCOMPILE_TEST_PAUSE": "measured", "SLOCOMPILE_TEST_PAUSE_SECONDS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "slocompile", "build"], cwd=str(green), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "test pause at stage measured" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert left(green) == []  # the killed build removed the earlier verdict before it started
    killed = query(green, "SELECT run_id FROM slo.runs WHERE status = 'running'")
    assert len(killed) == 1
    done = cli(green, "build")
    assert done.returncode == 0, done.stderr
    rows = query(green, "SELECT status, finished_at IS NOT NULL, passed + failed + warned + errored "
                        "FROM slo.runs WHERE run_id = ?", [killed[0][0]])
    assert rows == [("aborted", True, 0)]
    assert query(green, "SELECT count(*) FROM slo.runs WHERE status = 'running'") == [(0,)]
    assert json.loads((green / "target" / "run_results.json").read_text())["status"] == "pass"


def test_target_is_a_file(green):
    shutil.rmtree(green / "target")
    (green / "target").write_text("not a folder")
    done = cli(green, "build")
    assert done.returncode == 2
    assert "internal error" not in done.stderr
    run_id = query(green, "SELECT run_id, status FROM slo.runs ORDER BY started_at DESC LIMIT 1")[0]
    assert run_id[1] == "pass"
    assert f"error: run {run_id[0]} is committed (PASS: its results, statuses and views are in the slo schema " \
           f"of target 'local'), but its artifacts could not be written to " in done.stderr
    assert "Not a directory" in done.stderr
    assert f"PASS: 1 passed, 0 failed, 0 warned, 0 errored in 1 tables (run {run_id[0]})" in done.stdout


def test_disk_full_while_writing_leaves_none_of_them(green, monkeypatch):
    real = artifacts.write_text

    def full(path, text):
        if path.endswith("junit.xml"):
            raise OSError(errno.ENOSPC, "No space left on device", path)
        real(path, text)

    monkeypatch.setattr(artifacts, "write_text", full)
    with pytest.raises(artifacts.ArtifactsNotWritten) as err:
        Project.load(str(green)).build()
    assert err.value.run.status == "pass"
    assert "No space left on device" in str(err.value) and "junit.xml" in str(err.value)
    assert left(green) == []  # run_results.json was written, then removed: all or nothing
    assert query(green, "SELECT status FROM slo.runs WHERE run_id = ?", [err.value.run.run_id]) == [("pass",)]


def test_json_artifacts_are_written_as_json_indent_2_writes_them(green):
    """pretty_json (the fast writer) gives json.dumps(indent=2, default=str, ensure_ascii=False)'s
    bytes: for a build's own artifacts and for every kind of value and key json accepts."""
    import datetime as dt
    from decimal import Decimal

    def dumps(value):
        return json.dumps(value, indent=2, default=str, ensure_ascii=False)

    with open(os.path.join(green, "target", "manifest.json"), encoding="utf-8") as fh:
        text = fh.read()
    assert artifacts.pretty_json(json.loads(text)) + "\n" == text == dumps(json.loads(text)) + "\n"
    with open(os.path.join(green, "target", "run_results.json"), encoding="utf-8") as fh:
        text = fh.read()
    data = json.loads(text)  # one result a line (flat_depth=2), the rest indented
    assert text.splitlines()[-len(data["alerts"]) - len(data["tables"]) - 6].startswith('    {"table": ')
    assert [json.loads(line.strip().rstrip(",")) for line in text.splitlines() if line.startswith('    {"table": ')
            and '"check": ' in line] == data["results"]
    odd = {"empty": [], "none": {}, "nested": [[], {}, [1, [2, {"x": None}]]], 7: True, 2.5: False, None: float("nan"),
           True: float("inf"), False: -float("inf"), "tuple": (1, 2), "date": dt.date(2024, 1, 1),
           "decimal": Decimal("1.10"), "text": "ünï \u2028 \"q\" \\ \n\t\x00", "floats": [-0.0, 1e300, 0.1],
           "big": 10**30, "mixed": [None, True, False, "s", 1.5]}
    for value in (odd, [], {}, "x", 1, None, [odd, [odd]], {"a": {"b": {"c": []}}}):
        assert artifacts.pretty_json(value) == dumps(value)
        for depth in (0, 1, 2):
            assert json.loads(artifacts.pretty_json(value, depth)) == json.loads(dumps(value))


def test_junit_is_what_elementtree_writes(tmp_path):
    """junit.xml is written as text: byte for byte what ElementTree (with ET.indent) writes for the
    same results, with markup, quotes and line breaks in them."""
    import xml.etree.ElementTree as ET
    from types import SimpleNamespace as NS

    from slocompile.checks.evaluate import Result

    def reference(run) -> str:
        suites = ET.Element("testsuites", name=f"slocompile {run.project.name}")
        for t in run.tables:
            rs = t.results
            suite = ET.SubElement(suites, "testsuite", name=t.table.name, tests=str(len(rs)),
                                  failures=str(sum(r.status == "fail" for r in rs)),
                                  errors=str(sum(r.status == "error" for r in rs)), skipped="0",
                                  time=f"{t.seconds:.3f}")
            for r in rs:
                name = r.check + (f" ({r.column})" if r.check_type == "monitor" and r.column else "") \
                    + (f" [{r.partition}]" if r.partition is not None else "")
                case = ET.SubElement(suite, "testcase", classname=f"{run.project.name}.{t.table.name}", name=name)
                owner, tags = t.table.labels(r.check, r.column)
                if owner or tags:
                    props = ET.SubElement(case, "properties")
                    for key, value in (("owner", owner), ("tags", ",".join(tags))):
                        if value:
                            ET.SubElement(props, "property", name=key, value=value)
                if r.status == "fail":
                    ET.SubElement(case, "failure", message=r.message, type=r.check_type).text = artifacts._detail(r)
                elif r.status == "error":
                    ET.SubElement(case, "error", message=r.message, type=r.check_type).text = r.message
                elif r.status == "warn":
                    ET.SubElement(case, "system-out").text = "WARN: " + r.message
        for element in suites.iter():
            element.attrib.update({k: artifacts.redact(v) for k, v in element.attrib.items()})
            element.text = artifacts.redact(element.text)
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"

    def result(check, status, message, column=None, partition=None, ctype="not_null"):
        return Result("t<&>", check, ctype, column, partition, status, "error", 1.5, "<= 0", message)

    labels = {"c1": ("ml-platform", ("pii", "a&b")), "c2": (None, ())}
    table = NS(name='t<&>"', labels=lambda check, column: labels.get(check, (None, ())))
    results = [result("c1", "pass", "ok"), result("c2", "fail", 'a <b> & "c"\nline\ttab\r', "x", "2024-01-01"),
               result("c3", "error", "boom & <bang>"), result("c4", "warn", "careful >"),
               result("m", "fail", "drift", "col", "2024-01-02", "monitor")]
    run = NS(project=NS(name='p "q" & r'), tables=[NS(table=table, results=results, seconds=0.1234),
                                                    NS(table=NS(name="empty", labels=table.labels), results=[],
                                                       seconds=0.0)])
    assert artifacts.junit(run) == reference(run)
    assert artifacts.junit(NS(project=run.project, tables=[])) == reference(NS(project=run.project, tables=[]))
