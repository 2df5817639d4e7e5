"""The command line in CI, end to end in subprocesses: `--format github` workflow commands at the
declaring lines, `report --format markdown`, slim CI with `--select state:modified --state PATH`,
and `--select tag:/owner:` (issue 14 items 5 and 6, issue 12 item 7)."""
from __future__ import annotations

import json
import os
import shutil

import duckdb
from test_cli import cli

# ------------------------------------------------------------------ CI: --format github, report --format markdown

CI_TABLES = """\
tables:
  - name: orders
    relation: raw.orders
    checks:
      - row_count: {min: 3}
    columns:
      - name: country
        checks:
          - accepted_values: {values: [US], severity: warn}
"""


def _ci_project(root, rows: int, country: str = "US") -> str:
    root = str(root)
    os.makedirs(os.path.join(root, "slos"), exist_ok=True)
    with open(os.path.join(root, "slocompile.yml"), "w") as fh:
        fh.write("name: ci\ntarget: local\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb}\n")
    with open(os.path.join(root, "slos", "orders.yml"), "w") as fh:
        fh.write(CI_TABLES)
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(f"CREATE OR REPLACE TABLE raw.orders AS SELECT range AS id, '{country}' AS country FROM range({rows})")
    con.close()
    return root


def test_format_github_annotates_the_lines_declaring_failed_checks(tmp_path):
    root = _ci_project(tmp_path, 1, country="XX")
    out = cli("build", "--format", "github", cwd=root, check=1)
    marks = [line for line in out.stdout.splitlines() if line.startswith("::")]
    assert marks[0].startswith("::error file=slos/orders.yml,line=5,title=slocompile%3A orders.row_count fail::"
                               "orders.row_count fail: ")
    assert marks[1].startswith("::warning file=slos/orders.yml,line=9,title=slocompile%3A "
                               "orders.accepted_values_country warn::")
    assert len(marks) == 2 and "FAIL: 0 passed, 1 failed, 1 warned" in out.stdout  # the usual summary too
    # from a parent folder (GITHUB_WORKSPACE: the repository's root), paths start there
    out = cli("build", "--format", "github", "-p", os.path.basename(root), cwd=os.path.dirname(root), check=1)
    assert f"::error file={os.path.basename(root)}/slos/orders.yml,line=5," in out.stdout
    assert "::" not in cli("build", cwd=root, check=1).stdout  # text: no workflow commands


def test_format_github_annotates_declaration_errors(tmp_path):
    root = _ci_project(tmp_path, 5)
    with open(os.path.join(root, "slos", "orders.yml"), "a") as fh:
        fh.write("      - name: id\n        checks:\n          - not_nul: {}\n")
    out = cli("compile", "--format", "github", cwd=root, check=2)
    assert out.stdout == ("::error file=slos/orders.yml,line=12,col=13,title=slocompile::table 'orders', column 'id': "
                          "unknown check type 'not_nul' (did you mean 'not_null'?)\n")
    assert "error: slos/orders.yml:12:13: table 'orders', column 'id': unknown check type 'not_nul'" in out.stderr


def test_report_markdown_summarises_failed_checks(tmp_path):
    root = _ci_project(tmp_path, 1, country="XX")
    cli("build", cwd=root, check=1)
    out = cli("report", "--format", "markdown", "--report-url", "https://ci.example.com/report.html", cwd=root,
              check=0)
    text = out.stdout
    assert text.startswith("## slocompile: ci (local)\n\nLatest run `")
    assert "❌ failed: 0 passed, 1 failed, 1 warned, 0 errored." in text
    assert "### `orders`: 1 failing, 1 warning" in text
    assert "| fail | `row_count` |  |  | 1 | >= 3 |" in text
    # the failing check's failed-row samples, folded under the table
    assert ("<details><summary>Failed rows of <code>accepted_values_country</code> (1 sampled)</summary>\n\n"
            "| partition | country |\n|---|---|\n|  | \"XX\" |\n\n</details>") in text
    assert text.rstrip().endswith("[Open the full report](https://ci.example.com/report.html)")
    path = os.path.join(root, "summary.md")
    assert cli("report", "--format", "markdown", "-o", path, cwd=root, check=0).stdout.strip() == path
    with open(path, encoding="utf-8") as fh:
        assert fh.read().replace("https://ci.example.com/report.html", "") != ""
    _ci_project(tmp_path, 5)
    cli("build", cwd=root, check=0)
    assert "Every check of the latest builds passes." in cli("report", "--format", "markdown", cwd=root).stdout


SLIM_TABLES = """\
tables:
  - name: orders
    relation: raw.orders
    checks:
      - row_count: {min: "{{ var('min_orders', 3) }}"}
  - name: payments
    relation: raw.payments
    checks:
      - row_count: {min: 3}
"""


def test_select_state_modified_builds_only_changed_tables(tmp_path):
    root = _ci_project(tmp_path, 5)
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute("CREATE TABLE raw.payments AS SELECT range AS id FROM range(5)")
    con.close()
    decl = os.path.join(root, "slos", "orders.yml")
    with open(decl, "w") as fh:
        fh.write(SLIM_TABLES)
    cli("compile", cwd=root, check=0)
    shutil.copytree(os.path.join(root, "target"), os.path.join(root, "prod"))

    def built(*args) -> list[str]:
        out = cli("build", "--select", "state:modified", "--state", "prod", *args, cwd=root, check=0)
        if "nothing to build" in out.stdout:
            return []
        with open(os.path.join(root, "target", "run_results.json"), encoding="utf-8") as fh:
            return [t["table"] for t in json.load(fh)["tables"]]

    assert built() == []
    with open(decl, "w") as fh:  # moved down by a comment: nothing that runs changed
        fh.write("# orders and payments\n\n" + SLIM_TABLES)
    assert built() == []
    with open(decl, "w") as fh:
        fh.write(SLIM_TABLES.replace("{min: 3}", "{min: 4}"))
    assert built() == ["payments"]
    assert built("--var", "min_orders=2") == ["orders", "payments"]  # a var the checks use
    assert built("--select", "orders") == ["orders", "payments"]     # state:modified and a name: both


def test_select_state_errors_exit_2(tmp_path):
    root = _ci_project(tmp_path, 5)
    for args, message in [(("--select", "state:modified"), "needs --state PATH"),
                          (("--select", "state:modified", "--state", "nowhere"), "--state: cannot read nowhere"),
                          (("--select", "state:new", "--state", "target"), "unknown state selector"),
                          (("--state", "target"), "--state goes with --select state:modified")]:
        out = cli("build", *args, cwd=root, check=2)
        assert message in out.stderr, (args, out.stderr)


TAGGED_TABLES = """\
tables:
  - name: orders
    relation: raw.orders
    owner: sales
    tags: [core]
    checks:
      - row_count: {min: 3}
  - name: payments
    relation: raw.payments
    owner: finance
    checks:
      - row_count: {min: 3}
"""


def test_select_by_owner_and_tag_on_build_report_and_with_state_modified(tmp_path):
    root = _ci_project(tmp_path, 5)
    con = duckdb.connect(os.path.join(root, "warehouse.duckdb"))
    con.execute("CREATE TABLE raw.payments AS SELECT range AS id FROM range(1)")
    con.close()
    decl = os.path.join(root, "slos", "orders.yml")
    with open(decl, "w") as fh:
        fh.write(TAGGED_TABLES)
    cli("compile", cwd=root, check=0)
    shutil.copytree(os.path.join(root, "target"), os.path.join(root, "prod"))

    def built(*args, check=0) -> list[str]:
        cli("build", *args, cwd=root, check=check)
        with open(os.path.join(root, "target", "run_results.json"), encoding="utf-8") as fh:
            return [t["table"] for t in json.load(fh)["tables"]]

    assert built("--select", "tag:core") == ["orders"]
    assert built("-s", "owner:finance", check=1) == ["payments"]
    assert built("-s", "owner:finance tag:core", check=1) == ["orders", "payments"]
    assert built("-s", "owner:sales,tag:core") == ["orders"]
    report = cli("report", "--format", "markdown", "--select", "owner:finance", cwd=root, check=0).stdout
    assert "`payments`" in report and "`orders`" not in report
    with open(decl, "w") as fh:
        fh.write(TAGGED_TABLES.replace("finance\n    checks:\n      - row_count: {min: 3}",
                                       "finance\n    checks:\n      - row_count: {min: 1}"))
    assert built("-s", "state:modified", "--state", "prod") == ["payments"]
    assert built("-s", "state:modified tag:core", "--state", "prod") == ["orders", "payments"]
    out = cli("build", "-s", "owner:nobody", cwd=root, check=2)
    assert "no table, column or check has owner 'nobody' (owners: finance, sales)" in out.stderr
