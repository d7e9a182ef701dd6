"""`kanwidget export --execute` writes a page that works with no network and no kernel:
TeX (vendored MathJax), the dashboard's bqplot chart (bqplot's and bqscales' own AMD
builds) and the diagram render; the widget says it is a read-only copy, and clicking a
version in the timeline shows that version's diagram from the stored frames.

The page is opened from file:// in headless Chromium with every other request aborted;
any such request fails the test (no exception for MathJax or anything else).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import SCREENSHOT_DIR, open_offline, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    (
        "markdown",
        "Euler's identity: $e^{i\\pi} + 1 = 0$, and $$\\int_0^1 x^2\\,dx = \\frac{1}{3}.$$",
    ),
    (
        "code",
        "import torch\n"
        "torch.set_num_threads(1)\n"
        "from kanwidget import KAN, KANWidget, create_dataset\n"
        "f = lambda x: torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)\n"
        "dataset = create_dataset(f, n_var=2, train_num=200, test_num=200, seed=0)\n"
        "model = KAN([2, 3, 1], grid=5, seed=1)\n"
        "w = KANWidget(model, dataset, in_vars=['x', 'y'], out_vars=['f'])\n"
        "w.fit(steps=5, opt='Adam', lr=0.05)\n"
        "w.wait()\n"
        "w.prune_edge(0, 1, 2)\n"
        "w.symbolify(0, 0, 0, 'x')\n"
        "w.wait()\n"
        "print(model.version)",
    ),
    ("code", "w.dashboard()"),
]

EDGES = "() => document.querySelectorAll('.kanwidget [data-edge]').length"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The notebook above, executed and exported by the `kanwidget export` command."""
    from kanwidget import cli

    work = tmp_path_factory.mktemp("offline_export")
    nb = write_notebook(work / "offline.ipynb", CELLS)
    with pytest.raises(SystemExit) as done:
        cli.main(["export", str(nb), "--execute", "-o", str(work / "offline.html")])
    assert done.value.code == 0
    return work / "offline.html"


@pytest.fixture
def offline_page(browser: Any, exported: Path) -> Any:
    page, blocked = open_offline(browser, exported.as_uri(), ("file:", "data:", "blob:"))
    page.blocked = blocked
    try:
        yield page
    finally:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / "offline_export.png"), full_page=True)
        page.context.close()


def _curve(page: Any, key: str) -> str:
    return page.locator(f'.kanwidget [data-edge="{key}"] .kw-thumb-curve').first.get_attribute("d")


def test_export_renders_tex_dashboard_and_diagram_with_no_network(offline_page: Any) -> None:
    page = offline_page
    page.locator(".kanwidget [data-edge]").first.wait_for(timeout=60_000)
    # TeX: typeset by the inlined MathJax into SVG (inline and display math)
    page.wait_for_function(
        "() => document.querySelectorAll('mjx-container svg').length >= 2", timeout=30_000
    )
    # the dashboard's bqplot figure: drawn, with the train/test loss lines
    page.wait_for_function(
        "() => [...document.querySelectorAll('.bqplot .line path, .bqplot path.line')]"
        ".some(p => (p.getAttribute('d') || '').length > 20)",
        timeout=30_000,
    )
    text = page.locator("body").inner_text()
    assert "Click to show javascript error" not in text and "Error displaying widget" not in text
    # the final model: edge (0, 1, 2) pruned (not drawn), (0, 0, 0) symbolic
    assert page.evaluate(EDGES) == 8
    assert "kw-symbolic" in (
        page.locator('.kanwidget [data-edge="0,0,0"]').first.get_attribute("class") or ""
    )
    assert not page.blocked, f"the page asked for non-local resources: {page.blocked}"
    assert not page.errors, page.errors


def test_export_is_a_read_only_copy_with_time_travel(offline_page: Any) -> None:
    page = offline_page
    page.locator(".kanwidget [data-edge]").first.wait_for(timeout=60_000)
    page.wait_for_function("() => !!document.querySelector('.kanwidget .kw-readonly-note')")
    assert "read-only copy" in page.locator(".kanwidget .kw-readonly-note").first.inner_text()
    for action in ("fit", "prune", "rewind"):
        assert page.locator(f'.kanwidget [data-action="{action}"]').first.is_disabled(), action
    assert [
        page.locator(f'.kanwidget [data-version="{v}"]').count() for v in ("0.0", "0.1", "0.2")
    ] == [1, 1, 1]
    final_000 = _curve(page, "0,0,0")
    # 0.1: after the fit, before the prune and the symbolic fix
    page.locator('.kanwidget [data-version="0.1"]').first.click()
    page.wait_for_function(f"() => ({EDGES})() === 9")
    cls = page.locator('.kanwidget [data-edge="0,0,0"]').first.get_attribute("class") or ""
    assert "kw-symbolic" not in cls
    fitted_000, fitted_100 = _curve(page, "0,0,0"), _curve(page, "1,0,0")
    assert fitted_000 and fitted_000 != final_000  # the spline, not the symbolic line
    assert "0.1" in page.locator(".kanwidget .kw-timeline .kw-panel-title").first.inner_text()
    assert "kw-current" in (
        page.locator('.kanwidget [data-version="0.1"]').first.get_attribute("class") or ""
    )
    # 0.0: the untrained model's curves differ from the trained ones
    page.locator('.kanwidget [data-version="0.0"]').first.click()
    page.wait_for_function(
        "(d) => { const p = document.querySelector("
        "'.kanwidget [data-edge=\"1,0,0\"] .kw-thumb-curve');"
        " return p && p.getAttribute('d') !== d; }",
        arg=fitted_100,
    )
    # the inspector opens, but does not promise candidates a kernel would compute
    page.locator('.kanwidget [data-edge="1,0,0"] .kw-thumb-bg').first.click(force=True)
    note = page.evaluate(
        "() => { const m = document.querySelector('.kanwidget .kw-candidate-list > .kw-muted');"
        " return m ? getComputedStyle(m, '::after').content : null; }"
    )
    assert note and "read-only copy" in note, note
    assert page.locator(".kanwidget .kw-fix button").first.is_disabled()
    # and back to the last version: the symbolic edge returns
    page.locator('.kanwidget [data-version="0.3"]').first.click()
    page.wait_for_function(f"() => ({EDGES})() === 8")
    # the same line (the frame samples it at 24 points, the live view at 48)
    back = _curve(page, "0,0,0")
    assert back.split("L")[0] == final_000.split("L")[0]
    assert back.split("L")[-1] == final_000.split("L")[-1]
    assert not page.blocked, page.blocked
    assert not page.errors, page.errors
