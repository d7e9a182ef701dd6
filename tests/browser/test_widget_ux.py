"""Issue 14's widget behaviour in a real JupyterLab, driven like a user (one shared page).

In order, on one [2, 3, 1] notebook: the candidate list never belongs to another edge
(item 2) nor another version (3); Enter in the function box submits (12); keyboard access
without keys leaking into the notebook (24); Delete closes the inspector (4); branch from
what is highlighted (5); the loss label is the current version's (6); the Fit options
(8, 9); the current version stays in view (10); y labels are not clipped (15); the dark
theme's selected row has AA contrast (17); a kernel restart shows "disconnected" (7).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import WIDGET_CELL, LabPage, LabServer, widget_page
from tests.browser.test_kanwidget_lab import clear_error, kernel_json, wait_widget

pytestmark = [pytest.mark.browser]

W = ".kanwidget"
NOTEBOOK = [
    WIDGET_CELL,
    "x = 1",  # a second cell, to see whether keys move the notebook's active cell
]


@pytest.fixture(scope="module")
def ux(browser: Any, lab_server: LabServer, lab_root: Path) -> Iterator[LabPage]:
    with widget_page(browser, lab_server, lab_root, "ux.ipynb", NOTEBOOK, 1500) as lab:
        lab.execute("w.fit(steps=5, opt='Adam', lr=0.02); w.wait()")
        wait_widget(lab, "() => !!document.querySelector('[data-version=\"0.1\"]')")
        yield lab


CURRENT = "(v) => document.querySelector('.kw-version.kw-current').dataset.version"


def current_is(lab: LabPage, version: str, negate: bool = False) -> None:
    wait_widget(lab, f"{CURRENT} {'!==' if negate else '==='} v", version)


def click_edge(lab: LabPage, key: str) -> None:
    lab.page.locator(f'[data-edge="{key}"] .kw-thumb-bg').first.click()


def candidates_for(lab: LabPage, key: str, timeout: float = 60) -> None:
    wait_widget(
        lab,
        "(k) => { const l = document.querySelector('.kw-candidate-list');"
        " return l && l.dataset.forEdge === k && !!l.querySelector('[data-candidate]'); }",
        key,
        timeout=timeout,
    )


def notebook_focus(lab: LabPage) -> dict[str, Any]:
    return lab.page.evaluate(
        "() => { const nb = window.jupyterapp.shell.currentWidget.content;"
        " return {cell: nb.activeCellIndex, mode: nb.mode}; }"
    )


def test_ux_candidates_never_shown_for_another_edge_or_version(ux: LabPage) -> None:
    # Record every moment candidate rows are on screen under an edge or version they were
    # not computed for (item 2: shown for ~0.3 s before; item 3: kept after a checkout).
    ux.page.evaluate(
        """() => {
          window.__kwWrong = [];
          const check = () => {
            const l = document.querySelector('.kanwidget .kw-candidate-list');
            const t = document.querySelector('.kanwidget .kw-inspector .kw-panel-title');
            const cur = document.querySelector('.kanwidget .kw-version.kw-current');
            if (!l || !l.querySelector('[data-candidate]')) return;
            const edge = t.textContent.replace(/^edge \\((.*)\\)$/, '$1');
            if (l.dataset.forEdge !== edge || (cur && l.dataset.forVersion !== cur.dataset.version))
              window.__kwWrong.push([l.dataset.forEdge, edge, l.dataset.forVersion]);
          };
          new MutationObserver(check).observe(document.querySelector('.kanwidget'),
            {subtree: true, childList: true, attributes: true, characterData: true});
        }"""
    )
    click_edge(ux, "0,0,0")
    candidates_for(ux, "0,0,0")
    for key in ("0,1,1", "0,0,2", "1,1,0"):
        click_edge(ux, key)
        candidates_for(ux, key)
    ux.page.locator('[data-version="0.0"]').first.click()  # the curve changes: list recomputed
    wait_widget(
        ux,
        "() => { const l = document.querySelector('.kw-candidate-list');"
        " return l.dataset.forVersion === '0.0' && !!l.querySelector('[data-candidate]'); }",
    )
    assert ux.page.evaluate("() => window.__kwWrong") == []
    ux.page.locator('[data-version="0.1"]').first.click()
    wait_widget(
        ux, "() => document.querySelector('.kw-candidate-list').dataset.forVersion === '0.1'"
    )


def test_ux_enter_in_function_box_fixes_the_edge(ux: LabPage) -> None:
    clear_error(ux)
    click_edge(ux, "0,1,0")
    candidates_for(ux, "0,1,0")
    before = notebook_focus(ux)
    box = ux.page.locator(f"{W} .kw-fn-input").first
    box.fill("x^2")
    box.press("Enter")
    wait_widget(ux, "() => document.querySelector('[data-edge=\"0,1,0\"]').matches('.kw-symbolic')")
    assert kernel_json(ux, "model.layers[0].sym_names[1][0]") == "x^2"
    assert notebook_focus(ux) == before  # Enter did not reach the notebook


def test_ux_keyboard_reaches_edges_versions_and_keys_stay_in_the_widget(ux: LabPage) -> None:
    clear_error(ux)
    ux.page.locator(f"{W} .kw-inspector .kw-close").first.click()  # start with it closed
    before = notebook_focus(ux)
    ux.page.locator(f"{W} .kw-show-pruned-toggle").first.focus()
    for _ in range(10):  # Tab until a diagram item has focus
        ux.page.keyboard.press("Tab")
        if ux.page.evaluate("() => !!document.activeElement.closest('[data-edge], [data-node]')"):
            break
    first = ux.page.evaluate(
        "() => document.activeElement.getAttribute('data-node') ||"
        " document.activeElement.getAttribute('data-edge')"
    )
    assert first, "Tab never reached the diagram"
    outline = ux.page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e.querySelector("
        "'.kw-thumb-bg, .kw-node-shape')); return [s.stroke, s.strokeWidth]; }"
    )
    assert outline[1] == "3px", f"no visible focus: {outline}"
    at = "() => document.activeElement.getAttribute('data-edge')"
    ux.page.keyboard.press("ArrowDown")
    for _ in range(12):  # past the nodes of the next layer, if any
        if ux.page.evaluate(at):
            break
        ux.page.keyboard.press("ArrowRight")
    focused = ux.page.evaluate(at)
    assert focused, "arrows did not move to an edge"
    ux.page.keyboard.press("Enter")
    candidates_for(ux, focused)
    assert kernel_json(ux, "list(w.selected)") == [int(v) for v in focused.split(",")]
    ux.page.keyboard.press("Escape")
    wait_widget(ux, "() => document.querySelector('.kw-inspector').hidden")
    # versions: one Tab stop, arrows move, Enter checks out
    ux.page.locator(f"{W} .kw-version[tabindex='0']").first.focus()
    ux.page.keyboard.press("Home")
    ux.page.keyboard.press("Enter")
    wait_widget(
        ux, "() => document.querySelector('.kw-version.kw-current').dataset.version === '0.0'"
    )
    # the checkout refreshes the stored SVG, so JupyterLab re-renders the output: keyboard
    # focus comes back to the version row in the new view
    wait_widget(ux, "() => !!document.activeElement.closest('[data-version]')")
    ux.page.keyboard.press("End")
    ux.page.keyboard.press("Enter")
    wait_widget(
        ux, "() => document.querySelector('.kw-version.kw-current').dataset.version !== '0.0'"
    )
    assert notebook_focus(ux) == before  # no arrow / Enter reached JupyterLab


def test_ux_delete_closes_inspector_and_branch_uses_what_is_highlighted(ux: LabPage) -> None:
    clear_error(ux)
    ux.page.locator('[data-version="0.1"]').first.click()
    wait_widget(
        ux, "() => document.querySelector('.kw-version.kw-current').dataset.version === '0.1'"
    )
    click_edge(ux, "0,1,2")
    candidates_for(ux, "0,1,2")
    ux.page.keyboard.press("Delete")
    wait_widget(ux, "() => document.querySelector('.kw-inspector').hidden")
    new = kernel_json(ux, "model.version")
    assert new != "0.1" and kernel_json(ux, "model.history.current.operation") == "remove_edge"
    wait_widget(
        ux,
        "(v) => document.querySelector('.kw-version.kw-selected')?.dataset.version === v",
        new,
    )
    branch = ux.page.locator(f'{W} [data-action="rewind"]').first
    assert branch.text_content() == f"branch from {new}"
    branch.click()
    current_is(ux, new, negate=True)
    head = kernel_json(ux, "[model.history.current.parent, float(model.layers[0].mask[1, 2])]")
    assert head == [new, 0.0]  # branched from the version with the edge deleted


def test_ux_loss_label_and_fit_options(ux: LabPage) -> None:
    clear_error(ux)
    label = ux.page.locator(f"{W} .kw-spark-label tspan").first
    loss = kernel_json(ux, "model.history.current.test_loss")
    expected = f"test RMSE {loss:#.3g}" if loss >= 1e-3 else f"test RMSE {loss:.2e}"
    assert label.text_content() == expected.replace("e-0", "e-")
    steps = ux.page.locator(f"{W} .kw-steps").first
    steps.fill("abc")
    fit = ux.page.locator(f'{W} [data-action="fit"]').first
    assert fit.is_disabled()
    assert "whole number" in (ux.page.locator(f"{W} .kw-form-error").first.text_content() or "")
    steps.fill("3")
    ux.page.locator(f"{W} .kw-opt").first.select_option("Adam")
    ux.page.locator(f"{W} .kw-lr").first.fill("0.01")
    ux.page.locator(f"{W} .kw-lamb").first.fill("0.002")
    n = kernel_json(ux, "len(model.history)")
    fit.dblclick()  # a double click starts one run, with no "call stop() first" banner
    rows = "(n) => document.querySelectorAll('[data-version]').length === n"
    wait_widget(ux, rows, n + 1, timeout=60)
    wait_widget(ux, "() => document.querySelector('.kw-toolbar').dataset.state === 'idle'")
    assert kernel_json(ux, "[len(model.history), w.trainer.running]") == [n + 1, False]
    args = kernel_json(ux, "model.history.current.arguments")
    assert (args["steps"], args["opt"], args["lr"], args["lamb"]) == (3, "Adam", 0.01, 0.002)
    assert ux.page.locator(f"{W} .kw-banner").first.is_hidden()
    # the current version stays in view in the timeline's scroll box (item 10)
    ux.execute("for k in range(14): w.symbolify(1, 2, 0, ['x', 'x^2'][k % 2])")
    wait_widget(ux, "() => document.querySelectorAll('[data-version]').length > 14")
    ux.page.locator('[data-version="0.1"]').first.click()
    visible = (
        "() => { const b = document.querySelector('.kw-graph');"
        " const r = document.querySelector('.kw-version.kw-current');"
        " if (!r || r.dataset.version !== '0.1') return false;"
        " const a = b.getBoundingClientRect(), c = r.getBoundingClientRect();"
        " return c.top >= a.top - 1 && c.bottom <= a.bottom + 1; }"
    )
    wait_widget(ux, visible)


def test_ux_inspector_y_labels_fit_inside_the_plot(ux: LabPage) -> None:
    clear_error(ux)
    ux.execute("w.symbolify(1, 0, 0, 'x')")  # a symbolic label to look at
    wait_widget(ux, "() => !!document.querySelector('[data-edge=\"1,0,0\"] .kw-thumb-label')")
    click_edge(ux, "0,0,1")
    candidates_for(ux, "0,0,1")
    boxes = ux.page.evaluate(
        "() => [...document.querySelectorAll('.kw-bigplot .kw-axis-label')]"
        ".map(t => [t.textContent, t.getBBox().x])"
    )
    assert len(boxes) == 4
    assert all(x >= 0 for _, x in boxes), boxes
    # item 30: one line per candidate row (the formula is cut, not wrapped)
    heights = ux.page.evaluate(
        "() => [...document.querySelectorAll('[data-candidate]')]"
        ".map(r => r.getBoundingClientRect().height)"
    )
    assert heights and max(heights) < 24, heights
    # item 30: a symbolic label has a halo, so the edge's own line never crosses the text
    halo = ux.page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('.kw-thumb-label'));"
        " return [s.paintOrder, s.strokeWidth, s.stroke]; }"
    )
    assert halo[0].startswith("stroke") and halo[1] == "3px", halo
    ux.screenshot("ux_lab_light", selector=W)


# WCAG 2 contrast of each text of the selected timeline row against its (composited) fill
CONTRAST = """() => {
  const rgba = (s) => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const over = (f, b) => [0, 1, 2].map((k) => f[k] * f[3] + b[k] * (1 - f[3]));
  const lin = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const bgOf = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let b = [255, 255, 255];
    for (const c of layers.reverse()) b = over(c, b);
    return b;
  };
  const row = document.querySelector('.kanwidget .kw-version.kw-selected');
  const bg = bgOf(row);
  return [...row.querySelectorAll('span')].map((s) => {
    const fg = over(rgba(getComputedStyle(s).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return [s.className, (a + 0.05) / (b + 0.05)];
  });
}"""


def test_ux_dark_theme_selected_row_has_aa_contrast(ux: LabPage) -> None:
    ux.page.locator('[data-version="0.1"]').first.click()
    wait_widget(ux, "() => !!document.querySelector('.kw-version.kw-selected')")
    light = ux.page.evaluate(CONTRAST)
    ux.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
    try:
        ux.wait_until("() => document.body.dataset.jpThemeLight === 'false'", timeout=30)
        ux.wait_until("() => !document.querySelector('#jupyterlab-splash')", timeout=30)
        ux.page.wait_for_timeout(500)  # the theme's stylesheet applies after the attribute
        dark = ux.page.evaluate(CONTRAST)
        ux.screenshot("ux_lab_dark", selector=W)
    finally:
        ux.command("apputils:change-theme", {"theme": "JupyterLab Light"})
    for theme, ratios in (("light", light), ("dark", dark)):
        assert ratios and all(r >= 4.5 for _, r in ratios), f"{theme}: {json.dumps(ratios)}"


def test_ux_kernel_restart_shows_disconnected(ux: LabPage) -> None:
    note = ux.page.locator(f"{W} .kw-link-note").first
    assert note.is_hidden()
    ux.page.evaluate(
        "async () => { const p = window.jupyterapp.shell.currentWidget;"
        " await p.sessionContext.session.kernel.restart(); }"
    )
    wait_widget(ux, "() => !document.querySelector('.kanwidget .kw-link-note').hidden", timeout=30)
    assert "re-run the cell" in (note.text_content() or "")
    assert ux.page.locator(f"{W} .kw-status").first.text_content() == "no kernel"
    for action in ("fit", "prune", "rewind", "stop"):
        assert ux.page.locator(f'{W} [data-action="{action}"]').first.is_disabled(), action
    ux.screenshot("ux_lab_disconnected", selector=W)
