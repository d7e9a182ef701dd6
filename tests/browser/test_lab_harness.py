"""The harness itself: JupyterLab starts offline, runs a notebook, and renders an anywidget.

Independent of KANWidget, so a failure here points at the browser stack (JupyterLab,
the widget manager, anywidget, Chromium), not at kanwidget.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.harness import LabPage, write_notebook

pytestmark = pytest.mark.browser

COUNTER = '''
import anywidget, traitlets

class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const b = document.createElement("button");
      b.dataset.probe = "counter";
      const draw = () => { b.textContent = `count ${model.get("value")}`; };
      b.onclick = () => { model.set("value", model.get("value") + 1); model.save_changes(); };
      model.on("change:value", draw);
      draw();
      el.appendChild(b);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)

c = Counter()
c
'''


def test_harness_runs_notebook_and_syncs_anywidget(lab: LabPage, lab_root: Path) -> None:
    write_notebook(lab_root / "harness_counter.ipynb", [COUNTER])
    lab.open("harness_counter.ipynb")
    lab.run_all(timeout=60)
    button = lab.page.locator('[data-probe="counter"]')
    button.wait_for(timeout=20_000)
    assert button.text_content() == "count 0"
    # Browser -> kernel: a click reaches the Python object.
    button.click()
    lab.wait_until("() => document.querySelector('[data-probe=counter]').textContent === 'count 1'")
    assert lab.execute("print(c.value)").strip() == "1"
    # Kernel -> browser: a trait set from Python redraws the view.
    lab.execute("c.value = 41")
    lab.wait_until(
        "() => document.querySelector('[data-probe=counter]').textContent === 'count 41'"
    )
    # JupyterLab itself stayed offline (no news feed, update check, extension registry).
    assert lab.page.blocked_requests == []
