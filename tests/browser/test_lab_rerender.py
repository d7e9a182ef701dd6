"""The stored SVG follows the widget without costing the user their view (issue 14, item 19's
cost).

After every action the kernel refreshes the SVG stored beside the widget (what code hosts
and VS Code show) with an update_display_data message, and JupyterLab then re-renders the
whole output. The view the user works in must survive that: zoom, pan (the diagram's scroll
offsets) and the view itself stay as they were, and the saved notebook's SVG is the latest
state. In real JupyterLab with Debian's Chromium.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.browser.harness import WIDGET_CELL, LabPage, write_notebook

pytestmark = [pytest.mark.browser]

VIEW_MIME = "application/vnd.jupyter.widget-view+json"

# The stored SVG of the first output in JupyterLab's own notebook model (what a save writes).
STORED_SVG = """(path) => {
  const p = window.jupyterapp.shell.currentWidget;
  const cell = p && p.content && p.content.model.cells.get(0);
  const out = cell && cell.outputs && cell.outputs.get(0);
  const svg = out && out.data['image/svg+xml'];
  return svg ? (Array.isArray(svg) ? svg.join('') : String(svg)) : '';
}"""

VIEW_STATE = """() => {
  const roots = document.querySelectorAll('.jp-Notebook .kanwidget');
  const root = roots[0];
  const svg = root.querySelector('.kw-svg');
  const scroll = root.querySelector('.kw-scroll');
  return {
    views: roots.length,
    same: root === window.__kwRoot,
    width: svg.getAttribute('width'),
    height: svg.getAttribute('height'),
    left: scroll.scrollLeft,
    top: scroll.scrollTop,
    maxTop: scroll.scrollHeight - scroll.clientHeight,
  };
}"""


def _edges_in(svg: str) -> int:
    return len(re.findall(r"data-edge=", svg))


def test_rerendered_output_keeps_zoom_pan_and_view_and_saves_fresh_svg(
    lab: LabPage, lab_root: Path
) -> None:
    import nbformat

    name = "rerender.ipynb"
    path = write_notebook(lab_root / name, [WIDGET_CELL])
    lab.open(name)
    lab.run_all(timeout=90)
    page = lab.page
    page.wait_for_function("() => document.querySelectorAll('[data-edge]').length === 9")
    assert _edges_in(page.evaluate(STORED_SVG, name)) == 9
    # The user zooms in twice, selects edge (0, 1, 2) and pans (scrolls the diagram).
    zoom_in = page.locator('.kanwidget .kw-zoom[title^="zoom in"]').first
    zoom_in.click()
    zoom_in.click()
    page.locator('[data-edge="0,1,2"] .kw-thumb-bg').first.click()
    page.evaluate(
        """() => {
          const root = document.querySelector('.jp-Notebook .kanwidget');
          window.__kwRoot = root;
          const s = root.querySelector('.kw-scroll');
          s.scrollLeft = Math.min(60, s.scrollWidth - s.clientWidth);
          s.scrollTop = Math.min(40, s.scrollHeight - s.clientHeight);
        }"""
    )
    time.sleep(0.3)  # scroll events are delivered at the next frame
    before = page.evaluate(VIEW_STATE)
    assert before["left"] > 0, "the zoomed diagram does not scroll: nothing to keep"
    # A browser-only action: Delete prunes the selected edge. The kernel prunes it and
    # refreshes the stored SVG, which re-renders the output.
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('[data-edge]').length === 8")
    lab.wait_until(f"(path) => ({STORED_SVG})(path).split('data-edge=').length - 1 === 8", name)
    time.sleep(1.0)  # the re-render of the output is done by now
    after = page.evaluate(VIEW_STATE)
    assert after["views"] == 1
    assert after["same"], "the output was re-rendered with a new view: zoom, pan and panels lost"
    # the zoom (drawing width) and the pan are kept; the height follows the layout (pruning
    # an edge can take a row of plots away), so the vertical pan is kept where it still fits
    for key in ("width", "left"):
        assert after[key] == before[key], (key, before, after)
    assert after["top"] == min(before["top"], after["maxTop"]), (before, after)
    # the view is still live: another action still reaches the kernel and draws
    page.locator('[data-edge="0,0,0"] .kw-thumb-bg').first.click()
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('[data-edge]').length === 7")
    lab.wait_until(f"(path) => ({STORED_SVG})(path).split('data-edge=').length - 1 === 7", name)
    time.sleep(1.0)
    assert page.evaluate(VIEW_STATE)["same"]
    # Saved: the stored SVG is the latest state (7 edges).
    lab.command("docmanager:save")
    deadline = time.monotonic() + 30
    while True:
        nb = nbformat.read(str(path), as_version=4)
        outs = [o for c in nb.cells for o in c.get("outputs", []) if VIEW_MIME in o.get("data", {})]
        svg = outs[0]["data"].get("image/svg+xml", "") if outs else ""
        svg = "".join(svg) if isinstance(svg, list) else svg
        if _edges_in(svg) == 7:
            break
        assert time.monotonic() < deadline, f"saved SVG has {_edges_in(svg)} edges, not 7"
        time.sleep(0.25)
