"""KANWidget in a real JupyterLab, driven like a user: run, watch it train, click, drag.

Every interaction is checked on both sides: the DOM (through the `data-*` hooks of
docs/widget_contract.md) and the Python model in the notebook's own kernel.
One small notebook (`interactive.ipynb`, a fresh [2, 3, 1] model) serves the
interaction tests in order: fit -> inspect + fix symbolic -> drag-prune -> timeline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    REPO_ROOT,
    WIDGET_CELL,
    LabPage,
    LabServer,
    assert_renders,
    open_offline,
    widget_page,
    write_notebook,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (REPO_ROOT / "kanwidget" / "widget" / "widget.py").exists(),
        reason="kanwidget/widget/widget.py not written yet",
    ),
]

QUICKSTART = "01_quickstart.ipynb"
WIDGET = ".kanwidget"


def curve_d(lab: LabPage, key: str) -> str:
    return lab.page.locator(f'[data-edge="{key}"] .kw-thumb-curve').first.get_attribute("d") or ""


def kernel_json(lab: LabPage, expr: str) -> Any:
    """Evaluate a Python expression in the notebook's kernel and return it (via JSON)."""
    out = lab.execute(f"import json as _json\nprint(_json.dumps({expr}))")
    return json.loads(out.strip().splitlines()[-1])


def wait_widget(lab: LabPage, predicate: str, arg: Any = None, timeout: float = 30) -> None:
    """Wait until the JS `predicate(arg)` holds; fail at once if the widget shows an error."""
    js = (
        "([arg]) => { const b = document.querySelector('.kanwidget .kw-banner');"
        " if (b && !b.hidden) return {error: b.textContent};"
        f" return ({predicate})(arg) ? {{ok: true}} : null; }}"
    )
    result = lab.wait_until(js, [arg], timeout=timeout)
    assert "error" not in result, f"the widget reported an error: {result['error']}"


def edge_has_class(key: str, cls: str, negate: bool = False) -> str:
    """JS predicate: edge `key` is drawn and has (or, negated, lacks) class `cls`."""
    test = f"e.classList.contains('{cls}')"
    return (
        f"() => {{ const e = document.querySelector('[data-edge=\"{key}\"]');"
        f" return !!e && {'!' if negate else ''}{test}; }}"
    )


def test_quickstart_runs_and_draws_the_network(lab: LabPage) -> None:
    lab.open(QUICKSTART)
    try:
        lab.run_all(timeout=150)
        lab.page.locator("[data-edge]").first.wait_for(timeout=30_000)
        n_active = kernel_json(lab, "int(model.n_edges())")
        n_symbolic = kernel_json(lab, "int(sum(float(l.sym_mask.sum()) for l in model.layers))")
        versions = kernel_json(lab, "[v.id for v in model.history]")
        wait_widget(
            lab,
            "(n) => document.querySelectorAll('[data-edge]:not(.kw-inactive)').length === n",
            n_active,
        )
        wait_widget(
            lab,
            "(n) => document.querySelectorAll('[data-edge].kw-symbolic').length === n",
            n_symbolic,
        )
        wait_widget(
            lab, "(n) => document.querySelectorAll('[data-version]').length === n", len(versions)
        )
        assert lab.page.locator("[data-node]").count() > 0
        lab.screenshot("quickstart_lab", selector=WIDGET)
    finally:
        lab.screenshot("quickstart_lab_page")


def test_notebook_saved_from_lab_exports_and_renders_offline(
    lab: LabPage, lab_root: Path, browser: Any, tmp_path: Path
) -> None:
    """DESIGN step 6: run in JupyterLab, save (widget state on), export, open with no kernel."""
    import nbformat

    from kanwidget.sharing import export_html

    # JupyterLab saves widget state only with this setting (off by default).
    lab.server.api(
        "/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin",
        method="PUT",
        body={"raw": json.dumps({"saveState": True})},
    )
    name = "saved_from_lab.ipynb"
    write_notebook(lab_root / name, INTERACTIVE)
    lab.open(name)
    lab.run_all(timeout=90)
    lab.page.locator("[data-edge]").first.wait_for(timeout=30_000)
    lab.execute("w.fit(steps=5); w.wait()")  # a state that differs from the first frame
    wait_widget(lab, "() => !!document.querySelector('[data-version=\"0.1\"]')")
    lab.command("docmanager:save")
    deadline = time.monotonic() + 30
    while True:
        nb = nbformat.read(str(lab_root / name), as_version=4)
        if "widgets" in nb.metadata:
            break
        assert time.monotonic() < deadline, "JupyterLab saved no widget state"
        time.sleep(0.25)
    out = export_html(lab_root / name, tmp_path / "saved_from_lab.html")
    page, blocked = open_offline(browser, out.as_uri(), ("file:", "data:", "blob:"))
    try:
        assert_renders(page, lab_root / name, blocked, "saved_from_lab_html")
        assert page.locator('[data-version="0.1"]').count() == 1
    finally:
        page.context.close()


INTERACTIVE = [WIDGET_CELL]


@pytest.fixture(scope="module")
def interactive(browser: Any, lab_server: LabServer, lab_root: Path) -> Iterator[LabPage]:
    """One page on `interactive.ipynb`, run once and shared by the interaction tests."""
    with widget_page(browser, lab_server, lab_root, "interactive.ipynb", INTERACTIVE, 1400) as lab:
        yield lab


@pytest.fixture
def ilab(interactive: LabPage, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LabPage]:
    """The shared interactive page; a failing test leaves a screenshot in its tmp_path."""
    yield interactive
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        shot = tmp_path / "failure.png"
        interactive.page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the failing page: {shot}")


def clear_error(lab: LabPage) -> None:
    """Dismiss an error banner left by an earlier step, so wait_widget sees only new ones."""
    close = lab.page.locator(f"{WIDGET} .kw-banner:not([hidden]) .kw-close")
    if close.count():
        close.first.click()


def test_widget_draws_every_edge_node_and_version(ilab: LabPage) -> None:
    # [2, 3, 1]: 2*3 + 3*1 edges, 2 + 3 + 1 nodes, one version (0.0).
    wait_widget(ilab, "() => document.querySelectorAll('[data-edge]').length === 9")
    assert ilab.page.locator("[data-node]").count() == 6
    assert ilab.page.locator('[data-version="0.0"]').count() == 1
    assert curve_d(ilab, "0,0,0"), "edge (0,0,0) has no curve drawn"


def test_fit_button_trains_and_curves_change(ilab: LabPage) -> None:
    clear_error(ilab)
    before = curve_d(ilab, "0,0,0")
    # Record every training state the toolbar shows, to see the run stream to the browser.
    ilab.page.evaluate(
        """() => {
          const bar = document.querySelector('.kanwidget .kw-toolbar');
          window.__kwStates = [bar.dataset.state];
          new MutationObserver(() => window.__kwStates.push(bar.dataset.state))
            .observe(bar, {attributes: true, attributeFilter: ['data-state']});
        }"""
    )
    ilab.page.locator(f"{WIDGET} input.kw-steps").first.fill("15")
    ilab.page.locator(f'{WIDGET} [data-action="fit"]').first.click()
    changed = (
        "(d) => { const p = document.querySelector('[data-edge=\"0,0,0\"] .kw-thumb-curve');"
        " return !!p && p.getAttribute('d') !== d; }"
    )
    wait_widget(ilab, changed, before, timeout=60)
    wait_widget(ilab, "() => !!document.querySelector('[data-version=\"0.1\"]')", timeout=90)
    ilab.execute("w.wait()", timeout=60)
    ops = kernel_json(ilab, "[model.version, [v.operation for v in model.history]]")
    assert ops == ["0.1", ["init", "fit"]]
    wait_widget(ilab, "() => document.querySelector('.kw-toolbar').dataset.state === 'idle'")
    assert "running" in ilab.page.evaluate("() => window.__kwStates")


def test_click_edge_lists_candidates_and_fixes_one(ilab: LabPage) -> None:
    clear_error(ilab)
    ilab.page.locator('[data-edge="0,0,0"] .kw-thumb-bg').first.click()
    wait_widget(ilab, "() => !!document.querySelector('[data-candidate]')", timeout=60)
    assert kernel_json(ilab, "list(w.selected)") == [0, 0, 0]
    row = ilab.page.locator("[data-candidate]").first
    name = row.get_attribute("data-candidate")
    assert name
    # Hovering a candidate overlays its fitted curve on the inspector's plot.
    row.hover()
    wait_widget(ilab, "() => !!document.querySelector('.kw-big-overlay')?.getAttribute('d')")
    row.click()
    wait_widget(ilab, edge_has_class("0,0,0", "kw-symbolic"), timeout=60)
    layer0 = "model.layers[0]"
    state = kernel_json(ilab, f"[{layer0}.sym_names[0][0], float({layer0}.sym_mask[0, 0])]")
    assert state == [name, 1.0]


def test_unknown_function_is_refused_with_an_error(ilab: LabPage) -> None:
    clear_error(ilab)
    version = kernel_json(ilab, "model.version")
    ilab.page.locator('[data-edge="0,1,0"] .kw-thumb-bg').first.click()
    ilab.page.locator(f"{WIDGET} .kw-fn-input").first.fill("no_such_function")
    ilab.page.locator(f'{WIDGET} .kw-inspector [data-action="symbolify"]').first.click()
    banner = ilab.page.locator(f"{WIDGET} .kw-banner")
    ilab.wait_until(
        "() => { const b = document.querySelector('.kanwidget .kw-banner');"
        " return !!b && !b.hidden && b.textContent.includes('no_such_function'); }"
    )
    assert "no_such_function" in (banner.first.text_content() or "")
    assert kernel_json(ilab, "model.version") == version
    assert kernel_json(ilab, "model.layers[0].sym_names[1][0]") == "0"
    clear_error(ilab)


def test_widget_answers_clicks_while_training_and_stops(ilab: LabPage) -> None:
    clear_error(ilab)
    n_versions = kernel_json(ilab, "len(model.history)")
    ilab.page.locator(f"{WIDGET} input.kw-steps").first.fill("5000")
    ilab.page.locator(f'{WIDGET} [data-action="fit"]').first.click()
    running = "() => document.querySelector('.kw-toolbar').dataset.state === 'running'"
    wait_widget(ilab, running, timeout=30)
    try:
        # The kernel is idle (training runs in a thread), so the click is answered mid-run.
        ilab.page.locator('[data-edge="1,0,0"] .kw-thumb-bg').first.click()
        wait_widget(
            ilab,
            "() => document.querySelector('.kw-inspector .kw-panel-title').textContent"
            " === 'edge (1,0,0)' && !!document.querySelector('[data-candidate]')",
            timeout=60,
        )
        assert ilab.page.evaluate(running), "training ended before the candidates arrived"
    except BaseException:
        ilab.execute("w.stop(); w.wait()", timeout=60)  # leave the next test an idle model
        raise
    ilab.page.locator(f'{WIDGET} [data-action="stop"]').first.click()
    wait_widget(ilab, "() => document.querySelector('.kw-toolbar').dataset.state === 'idle'")
    ilab.execute("w.wait()", timeout=60)
    # Stopped early: one fit version, fewer than the 5000 steps asked for.
    assert kernel_json(ilab, "len(model.history)") == n_versions + 1
    assert kernel_json(ilab, "model.history.current.operation") == "fit"
    assert kernel_json(ilab, "w.training['step']") < 5000


def drag_out(lab: LabPage, key: str) -> None:
    """Drag an edge's thumbnail onto the trash zone with real pointer events."""
    thumb = lab.page.locator(f'[data-edge="{key}"] .kw-thumb-bg').first
    trash = lab.page.locator(f"{WIDGET} .kw-trash").first
    thumb.scroll_into_view_if_needed()
    a = thumb.bounding_box()
    b = trash.bounding_box()
    assert a and b, "thumbnail or trash zone not laid out"
    ax, ay = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
    mouse = lab.page.mouse
    mouse.move(ax, ay)
    mouse.down()
    mouse.move(ax + 12, ay + 12, steps=4)  # past the drag threshold
    mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    mouse.up()


def test_drag_edge_off_prunes_it(ilab: LabPage) -> None:
    clear_error(ilab)
    assert kernel_json(ilab, "float(model.layers[0].mask[1, 2])") == 1.0
    n_versions = kernel_json(ilab, "len(model.history)")
    drag_out(ilab, "0,1,2")
    gone = (
        "() => { const e = document.querySelector('[data-edge=\"0,1,2\"]');"
        " return !e || e.classList.contains('kw-inactive'); }"
    )
    wait_widget(ilab, gone, timeout=30)
    assert kernel_json(ilab, "float(model.layers[0].mask[1, 2])") == 0.0
    assert kernel_json(ilab, "len(model.history)") == n_versions + 1


def test_timeline_click_checks_out_an_older_version(ilab: LabPage) -> None:
    # Version 0.1 (after the fit) has edge (0,1,2) and no symbolic edge; later ones differ.
    clear_error(ilab)
    assert kernel_json(ilab, "model.version") != "0.1"
    ilab.page.locator('[data-version="0.1"]').first.click()
    wait_widget(ilab, edge_has_class("0,1,2", "kw-inactive", negate=True), timeout=30)
    wait_widget(ilab, edge_has_class("0,0,0", "kw-symbolic", negate=True), timeout=30)
    assert kernel_json(ilab, "model.version") == "0.1"
    layer0 = "model.layers[0]"
    state = kernel_json(ilab, f"[float({layer0}.mask[1, 2]), {layer0}.sym_names[0][0]]")
    assert state == [1.0, "0"]
    ilab.screenshot("interactive_lab", selector=WIDGET)


def test_widget_follows_the_dark_theme(ilab: LabPage) -> None:
    # the widget's colours come from --jp-* variables: switching JupyterLab to its dark theme
    # must turn the widget background dark and its text light
    colours = (
        "() => { const w = document.querySelector('.kanwidget');"
        " const s = getComputedStyle(w); return [s.backgroundColor, s.color]; }"
    )

    def luminance(css: str) -> float:
        r, g, b = (float(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light_bg, light_fg = ilab.page.evaluate(colours)
    ilab.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
    try:
        ilab.wait_until("() => document.body.dataset.jpThemeLight === 'false'", timeout=30)
        wait_widget(
            ilab,
            "() => { const s = getComputedStyle(document.querySelector('.kanwidget'));"
            " return s.backgroundColor !== " + json.dumps(light_bg) + "; }",
            timeout=30,
        )
        ilab.wait_until("() => !document.querySelector('#jupyterlab-splash')", timeout=30)
        dark_bg, dark_fg = ilab.page.evaluate(colours)
        assert luminance(dark_bg) < luminance(light_bg)
        assert luminance(dark_fg) > luminance(light_fg)
        ilab.screenshot("interactive_lab_dark", selector=WIDGET)
    finally:
        ilab.command("apputils:change-theme", {"theme": "JupyterLab Light"})
