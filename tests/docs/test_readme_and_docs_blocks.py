"""One test per code block of README.md, docs/**/*.md and examples/*/README.md, in page order
(what each kind of block and each docs-test marker does: doctools.py)."""
from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import sys
import traceback

import pytest
from docblocks import check_yaml, run_python, run_sql
from doctools import (
    ALL_BLOCKS,
    CONSOLE,
    JSON,
    KNOWN,
    PYTHON,
    REPO,
    ROOT,
    RUNS,
    SESSIONS,
    SHELL,
    SQL,
    TEXT,
    YAML,
    Block,
    Page,
    docs_pages,
    page_of,
    page_session,
    parse_page,
    run_console,
    run_shell,
    slocompile_commands,
)

sys.path.insert(0, os.path.join(REPO, "tests", "engines"))
from enginedata import REQUIRED, UNAVAILABLE  # noqa: E402  (engine availability, as tests/engines sees it)


def _skip_reason(block: Block, page: Page) -> str | None:
    if "skip" in block.directives:
        return block.directives["skip"]
    if "requires-command" in block.directives and block.directives["requires-command"] not in slocompile_commands():
        return f"{block.directives['requires-command']} command not present"
    unavailable = _engine_unavailable(page.engine) if page.engine and block.lang in RUNS else None
    if unavailable:
        if page.engine in REQUIRED:
            pytest.fail(f"{page.engine} is required here (SLOCOMPILE_REQUIRE_ENGINES) but unavailable: {unavailable}")
        return f"{page.engine}: {unavailable}"
    return None


def _engine_unavailable(engine: str) -> str | None:
    if UNAVAILABLE[engine]:
        return UNAVAILABLE[engine]
    if engine == "postgres" and not shutil.which("psql"):
        return "psql (the Postgres client the page uses) is not on PATH"
    return None


def test_pages_found():
    pages = docs_pages()
    assert "README.md" in pages and "docs/tutorial.md" in pages or os.environ.get("SLOCOMPILE_DOCS_PAGES")
    unknown = [f"{b.where}: {b.lang}" for b in ALL_BLOCKS if b.lang not in KNOWN]
    assert not unknown, "code blocks in a language this test does not know: " + ", ".join(unknown)


def _check_file(block: Block, project: str | None = None) -> None:
    """`project`: the session's folder, whose custom check types (macros/) a declaration may use."""
    if block.lang in YAML:
        name = os.path.basename(block.directives["file"])
        check_yaml(block, "project" if name == "slocompile.yml" else "declarations", project)
    elif block.lang in PYTHON:
        compile(block.text, block.where, "exec")


def run_block(block: Block, monkeypatch=None) -> None:
    """Run (or check) one block in its page's session; raises on failure, pytest.skip to skip."""
    page = page_of(block)
    reason = _skip_reason(block, page)
    if reason:
        pytest.skip(reason)
    if "file" not in block.directives:
        if block.lang in YAML:
            return check_yaml(block)
        if block.lang in JSON:
            json.loads(block.text)
            return
        if block.lang in TEXT:
            return  # shown, not run
        if block.lang in SQL and not page.session:
            return run_sql(block, None)
    elif page.engine and _engine_unavailable(page.engine):
        return _check_file(block)  # the page's session does not run here: check the file only
    session = page_session(page, block)
    if session.failed:
        pytest.skip(f"an earlier block of this page failed ({session.failed})")
    try:
        if "file" in block.directives:
            _check_file(block, session.cwd)
            path = os.path.join(session.cwd, block.directives["file"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(block.text)
        elif block.lang in SHELL:
            run_shell(block, session)
        elif block.lang in CONSOLE:
            run_console(block, session)
        elif block.lang in PYTHON:
            assert monkeypatch is not None, "python blocks run in the test's own thread"
            run_python(block, session, monkeypatch)
        elif block.lang in SQL:
            run_sql(block, session)
    except BaseException:
        session.failed = f"line {block.line}"
        raise


# Pages whose blocks all run in subprocesses (no Python block executed in this process, which
# would need the process's current folder) run ahead in background threads, JOBS at a time
# (SLOCOMPILE_DOCS_JOBS, default 2; 1 runs every block in its test); each page's blocks still run
# in order, and test_block reports their outcomes. Pages with Python blocks run in the test's
# thread meanwhile.
JOBS = int(os.environ.get("SLOCOMPILE_DOCS_JOBS", "2"))
_AHEAD: dict[str, concurrent.futures.Future] = {}


def _runs_ahead(page: Page) -> bool:
    blocks = [b for b in page.blocks if "skip" not in b.directives]
    return JOBS > 1 and any(b.lang in SHELL | CONSOLE for b in blocks) \
        and not any(b.lang in PYTHON and "file" not in b.directives for b in blocks)


def _run_page(page: Page) -> list[tuple[str, str]]:
    """("passed" | "skipped" | "failed", message) of each block of the page, in order."""
    out = []
    for block in page.blocks:
        try:
            run_block(block)
            out.append(("passed", ""))
        except pytest.skip.Exception as e:
            out.append(("skipped", str(e.msg)))
        except BaseException as e:  # an assertion, pytest.fail, or a bug: reported by test_block
            out.append(("failed", "".join(traceback.format_exception_only(type(e), e)).strip()))
    return out


@pytest.fixture(scope="module")
def _docs_root(request, tmp_path_factory):
    ROOT[:] = [str(tmp_path_factory.mktemp("docs"))]
    slocompile_commands()  # once, before the threads
    selected = {item.callspec.params["block"].page for item in request.session.items
                if getattr(item, "originalname", None) == "test_block" and hasattr(item, "callspec")}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(JOBS, 1))
    for path in dict.fromkeys(b.page for b in ALL_BLOCKS):  # in test order: the pages in this thread overlap
        if path in selected and _runs_ahead(parse_page(path)):
            _AHEAD[path] = pool.submit(_run_page, parse_page(path))
    yield
    pool.shutdown(wait=True, cancel_futures=True)
    _AHEAD.clear()
    if any(s.spark for s in SESSIONS.values()):
        from slocompile.engines import sparksession as spark

        spark.stop_session()
    SESSIONS.clear()


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.id)
def test_block(block: Block, monkeypatch, _docs_root):
    ahead = _AHEAD.get(block.page)
    if ahead is None:
        return run_block(block, monkeypatch)
    status, message = ahead.result()[block.index]
    if status == "skipped":
        pytest.skip(message)
    if status == "failed":
        pytest.fail(message, pytrace=False)


def test_inventory():
    """Every block is accounted for; the marked skips are few and each says why."""
    counts: dict[str, int] = {}
    for b in ALL_BLOCKS:
        kind = "skipped (marked)" if "skip" in b.directives else "text (shown, not run)" if b.lang in TEXT \
            and "file" not in b.directives else b.lang or "text"
        counts[kind] = counts.get(kind, 0) + 1
    skipped = [f"{b.where}: {b.directives['skip']}" for b in ALL_BLOCKS if "skip" in b.directives]
    print("\ndocs blocks: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print("marked skip:\n  " + "\n  ".join(skipped))
    assert len(skipped) <= max(3, len(ALL_BLOCKS) // 10), "too many docs blocks are marked skip"

