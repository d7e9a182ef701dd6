"""Fixtures for the browser tests: one JupyterLab server and one headless Chromium per session.

The server serves a temporary copy of notebooks/ (plus the small notebooks the tests write
there), so running the tests never modifies the repository's notebooks. Each test gets a
fresh browser context; when a test fails, a screenshot of its page goes to the session's
temporary directory (the path is printed in the failure report).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO_ROOT,
    LabPage,
    LabServer,
    guard_network,
)


def _require_browser_stack() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (make browser-deps installs Debian's chromium)")
    pytest.importorskip("playwright.sync_api")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary copy of notebooks/ that the JupyterLab server serves."""
    root = tmp_path_factory.mktemp("lab_root")
    src = REPO_ROOT / "notebooks"
    if src.is_dir():
        shutil.copytree(src, root, dirs_exist_ok=True)
    return root


@pytest.fixture(scope="session")
def lab_server(lab_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A running JupyterLab on a free localhost port; stopped (and its kernels) at the end."""
    _require_browser_stack()
    server = LabServer(lab_root, tmp_path_factory.mktemp("jupyterlab"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        log = server.log()
        if log:
            print(f"\n--- JupyterLab log ({server.log_path}), last lines ---\n{log[-3000:]}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (no downloaded browser build)."""
    _require_browser_stack()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh page (own context); a failing test leaves a screenshot in its tmp_path."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    blocked = guard_network(context)
    pg = context.new_page()
    pg.blocked_requests = blocked  # type: ignore[attr-defined]
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    pg.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    pg.console_lines = console  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            shot = tmp_path / "failure.png"
            try:
                pg.screenshot(path=str(shot), full_page=True)
                print(f"\nscreenshot of the failing page: {shot}")
            except Exception as e:  # noqa: BLE001 (a broken page must not hide the failure)
                print(f"\nno screenshot: {e}")
            print("--- browser console (last 40) ---\n" + "\n".join(console[-40:]))
        context.close()


@pytest.fixture
def lab(page: Any, lab_server: LabServer) -> Iterator[LabPage]:
    """A LabPage on the session's JupyterLab server (open a notebook with `lab.open(name)`).

    The notebook's kernel is shut down afterwards so kernels do not pile up on two cores.
    """
    lp = LabPage(page, lab_server)
    yield lp
    lp.shutdown_kernel()
