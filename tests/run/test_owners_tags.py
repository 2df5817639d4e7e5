"""Owners and tags at run time (issue 12 item 7, issue 14 item 3): `--select tag:... owner:...`
(space: union, comma: intersection), owner and tags in run_results.json, JUnit and alert units, and
triggers routed by `owner:` and `tags:` to real local HTTP servers."""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest
from alertservers import Service
from proj import build, cli, sql, write

from slocompile.declarations.loader import load_project
from slocompile.errors import SlocompileError
from slocompile.run.selection import selected

TABLES = [
    {"name": "features", "relation": "raw.features", "owner": "ml-platform", "tags": ["core"],
     "checks": [{"row_count": {"min": 3}}],
     "columns": [{"name": "email", "tags": ["pii"], "checks": ["not_null"]}]},
    {"name": "orders", "relation": "raw.orders", "owner": "sales", "tags": ["core"],
     "checks": [{"row_count": {"min": 3}}, {"row_count": {"min": 1, "name": "ml_rows", "owner": "ml-platform"}}]},
    {"name": "payments", "relation": "raw.payments", "checks": [{"row_count": {"min": 3}}]},
]


def data(root, rows: int = 1) -> None:
    sql(root, [f"CREATE OR REPLACE TABLE raw.features AS SELECT range AS id, NULL::VARCHAR AS email FROM range({rows})",
               f"CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id FROM range({rows})",
               f"CREATE OR REPLACE TABLE raw.payments AS SELECT range AS id FROM range({rows})"])


def names(spec, *select) -> list[str]:
    return [t.name for t in selected(spec, list(select))]


def test_select_by_tag_and_owner_union_and_intersection(tmp_path):
    spec = load_project(write(tmp_path, TABLES), env={})
    assert names(spec, "tag:pii") == ["features"]              # a column's tag selects its table
    assert names(spec, "tag:core") == ["features", "orders"]
    assert names(spec, "owner:ml-platform") == ["features", "orders"]  # orders has a check ml-platform owns
    assert names(spec, "owner:sales") == ["orders"]
    assert names(spec, "tag:pii payments") == ["features", "payments"]  # space: union
    assert names(spec, "tag:pii", "owner:sales") == ["features", "orders"]  # repeated --select: union
    assert names(spec, "tag:core,owner:sales") == ["orders"]    # comma: intersection
    assert names(spec, "owner:ml-platform,tag:pii") == ["features"]
    assert names(spec, "tag:pii,owner:sales") == []             # both exist, no table has both
    assert names(spec, "pay*") == ["payments"]
    assert names(spec, "orders") == ["orders"]


@pytest.mark.parametrize("select,message", [
    ("tag:pi", "--select: no table, column or check has tag 'pi' (did you mean 'pii'?) (tags: core, pii)"),
    ("owner:nobody", "--select: no table, column or check has owner 'nobody' (owners: ml-platform, sales)"),
    ("team:x", "--select team:x: unknown selector method 'team:' (known: tag:, owner:, state:)"),
    ("order", "--select: unknown table 'order' (did you mean 'orders'?)"),
])
def test_select_that_selects_nothing_is_an_error(tmp_path, select, message):
    spec = load_project(write(tmp_path, TABLES), env={})
    with pytest.raises(SlocompileError) as info:
        selected(spec, [select])
    assert str(info.value) == message


def test_cli_compile_and_build_select_by_tag_and_owner(tmp_path):
    write(tmp_path, TABLES)
    data(tmp_path)
    out = cli(tmp_path, "compile", "--select", "tag:pii")
    assert out.returncode == 0, out.stderr
    compiled = os.listdir(tmp_path / "target" / "compiled" / "duckdb")
    assert [n for n in compiled if not n.startswith("_")] == ["features"]
    out = cli(tmp_path, "build", "--select", "owner:sales payments")
    assert out.returncode == 1, out.stderr
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert sorted({r["table"] for r in results}) == ["orders", "payments"]
    out = cli(tmp_path, "build", "--select", "tag:nope")
    assert out.returncode == 2 and "no table, column or check has tag 'nope'" in out.stderr


def test_owner_and_tags_in_run_results_junit_and_manifest(tmp_path):
    write(tmp_path, TABLES)
    data(tmp_path)
    assert cli(tmp_path, "build").returncode == 1
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    got = {(r["table"], r["check"]): (r["owner"], r["tags"]) for r in results}
    assert got[("features", "not_null_email")] == ("ml-platform", ["core", "pii"])
    assert got[("features", "row_count")] == ("ml-platform", ["core"])
    assert got[("orders", "ml_rows")] == ("ml-platform", ["core"])
    assert got[("orders", "row_count")] == ("sales", ["core"])
    assert got[("payments", "row_count")] == (None, [])
    suites = ET.parse(tmp_path / "target" / "junit.xml").getroot()
    props = {(s.get("name"), c.get("name")): {p.get("name"): p.get("value") for p in c.iter("property")}
             for s in suites for c in s.iter("testcase")}
    assert props[("features", "not_null_email")] == {"owner": "ml-platform", "tags": "core,pii"}
    assert props[("orders", "ml_rows")] == {"owner": "ml-platform", "tags": "core"}
    assert props[("payments", "row_count")] == {}
    manifest = {t["name"]: t for t in json.loads((tmp_path / "target" / "manifest.json").read_text())["tables"]}
    assert (manifest["orders"]["owner"], manifest["orders"]["tags"]) == ("sales", ["core"])
    checks = {c["name"]: (c["owner"], c["tags"]) for c in manifest["orders"]["checks"]}
    assert checks == {"row_count": ("sales", ["core"]), "ml_rows": ("ml-platform", ["core"])}
    email = manifest["features"]["columns"][0]
    assert (email["name"], email["owner"], email["tags"]) == ("email", "ml-platform", ["core", "pii"])
    assert manifest["payments"]["owner"] is None and manifest["payments"]["tags"] == []


@pytest.fixture
def services():
    made: list[Service] = []

    def make():
        s = Service(None)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_triggers_route_by_owner_and_tags(tmp_path, services):
    ml, sales, pii, rest = services(), services(), services(), services()
    triggers = [{"name": "ml", "owner": "ml-platform", "do": [{"webhook": {"url": ml.url, "retries": 0}}]},
                {"name": "sales", "owner": ["sales"], "do": [{"webhook": {"url": sales.url, "retries": 0}}]},
                {"name": "pii", "tags": "pii", "do": [{"webhook": {"url": pii.url, "retries": 0}}]},
                {"name": "rest", "do": [{"webhook": {"url": rest.url, "retries": 0}}]}]
    write(tmp_path, TABLES, triggers=triggers)
    data(tmp_path, rows=0)  # every row_count fails; not_null passes on no rows
    assert build(tmp_path).exit_code == 1

    def units(service):
        return sorted((u["table"], u["check"], u["owner"], tuple(u["tags"]))
                      for body in service.accepted for u in body["results"])

    assert units(ml) == [("features", "row_count", "ml-platform", ("core",)),
                         ("orders", "ml_rows", "ml-platform", ("core",))]
    assert units(sales) == [("orders", "row_count", "sales", ("core",))]
    assert units(pii) == []  # not_null_email passes
    assert units(rest) == [("features", "row_count", "ml-platform", ("core",)),
                           ("orders", "ml_rows", "ml-platform", ("core",)),
                           ("orders", "row_count", "sales", ("core",)),
                           ("payments", "row_count", None, ())]
    # the existing payload keys are all still there
    body = sales.accepted[0]
    assert {"alert_id", "trigger", "event", "table", "view", "project", "target", "run_id", "at", "summary",
            "results", "still_failing"} <= set(body)
    assert body["still_failing"] == ["row_count"]  # ml_rows fails too, but it is ml-platform's
    assert set(body["results"][0]) >= {"table", "check", "check_type", "column", "partition", "status",
                                       "severity", "observed", "expected", "message", "previous"}

    data(tmp_path, rows=5)  # payments recovers; features' email is NULL now: the pii trigger hears it
    sql(tmp_path, "CREATE OR REPLACE TABLE raw.payments AS SELECT range AS id FROM range(5)")
    assert build(tmp_path).exit_code == 1
    assert [(b["event"], [(u["check"], u["tags"]) for u in b["results"]]) for b in pii.accepted] == [
        ("fail", [("not_null_email", ["core", "pii"])])]
    assert [b["event"] for b in sales.accepted] == ["fail", "recover"]


def test_trigger_owner_or_tag_nobody_has_is_an_error(tmp_path):
    write(tmp_path, TABLES, triggers=[{"name": "t", "owner": "ml-platfrom", "tags": ["nope"]}])
    out = cli(tmp_path, "compile")
    assert out.returncode == 2
    assert "slos/tables.yml:" in out.stderr
    assert "trigger 't': owner 'ml-platfrom' is on no table, column or check (did you mean 'ml-platform'?)" \
        in out.stderr
    assert "trigger 't': tags 'nope' is on no table, column or check (tags: core, pii)" in out.stderr
