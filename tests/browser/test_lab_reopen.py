"""`make lab`'s JupyterLab keeps widgets across save and reopen, and the saved picture is fresh.

`make install` writes `.venv/share/jupyter/lab/settings/overrides.json`, which turns on
"Save Widget State Automatically" for the JupyterLab of this environment only. The harness
starts that same JupyterLab (`python -m jupyter lab` of this interpreter) with a throw-away
user settings folder, as a new user would have: nothing is set through the settings API
here. A widget cell is run, the user prunes an edge with a click and Delete (an action made
only in the browser), saves, closes, and reopens the notebook: the widget must be drawn
from the saved state (not "Error displaying widget: model not found"), and the stored SVG
(what code hosts and VS Code show) must show the pruned model.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from tests.browser.harness import (
    REPO_ROOT,
    WIDGET_CELL,
    LabPage,
    kanwidget_states,
    write_notebook,
)

pytestmark = [pytest.mark.browser]

OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"

CELLS = [WIDGET_CELL]


def test_make_install_turns_on_widget_state_saving_in_the_environment() -> None:
    assert OVERRIDES.is_file(), f"{OVERRIDES} missing: run `make install`"
    settings = json.loads(OVERRIDES.read_text())
    assert settings[PLUGIN]["saveState"] is True
    committed = json.loads((REPO_ROOT / "etc" / "jupyterlab" / "overrides.json").read_text())
    assert committed[PLUGIN] == {"saveState": True}
    # the file `make install` writes is the one this environment's JupyterLab reads
    from jupyterlab.commands import get_app_dir

    assert (Path(get_app_dir()) / "settings" / "overrides.json").resolve() == OVERRIDES.resolve()


def _saved(path: Path, predicate, timeout: float = 30.0):
    import nbformat

    deadline = time.monotonic() + timeout
    while True:
        nb = nbformat.read(str(path), as_version=4)
        if predicate(nb):
            return nb
        assert time.monotonic() < deadline, "the saved notebook never showed the expected state"
        time.sleep(0.25)


def _svg(nb) -> str:
    [data] = [
        o["data"] for c in nb.cells for o in c.get("outputs", []) if VIEW_MIME in o.get("data", {})
    ]
    svg = data.get("image/svg+xml", "")
    return "".join(svg) if isinstance(svg, list) else svg


def test_saved_notebook_reopens_with_its_widget_and_a_fresh_svg(
    lab: LabPage, lab_root: Path
) -> None:
    name = "reopen.ipynb"
    path = write_notebook(lab_root / name, CELLS)
    lab.open(name)
    lab.run_all(timeout=90)
    page = lab.page
    page.wait_for_function("() => document.querySelectorAll('[data-edge]').length === 9")
    # A browser-only action: select edge (0, 0, 0) and press Delete.
    page.locator('[data-edge="0,0,0"] .kw-thumb-bg').first.click()
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('[data-edge]').length === 8")
    page.wait_for_function("() => !!document.querySelector('[data-version=\"0.1\"]')")
    time.sleep(1.0)  # let the kernel's refresh of the stored picture arrive
    # one live view in the output, even though the picture was refreshed under it
    assert page.locator(".kanwidget").count() == 1
    lab.command("docmanager:save")
    nb = _saved(path, lambda nb: "widgets" in nb.metadata and 'data-edge="0,0,0"' not in _svg(nb))
    svg = _svg(nb)
    assert len(re.findall(r"data-edge=", svg)) == 8, "the stored SVG is not the pruned model"
    [entry] = kanwidget_states(path)
    state = entry["state"]
    assert state["history"]["current"] == "0.1"
    assert sorted(state["frames"]) == ["0.0", "0.1"]

    lab.shutdown_kernel()
    lab.command("application:close-all")
    page.wait_for_function("() => !document.querySelector('.kanwidget')")
    lab.open(name)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-edge]').length === 8", timeout=60_000
    )
    body = page.locator(".jp-Notebook").first.inner_text()
    assert "model not found" not in body and "Error displaying widget" not in body
    assert page.locator('[data-version="0.1"]').count() == 1
    # The restored widget has no Python object behind it: it says so and still time-travels.
    page.wait_for_function("() => !!document.querySelector('.kanwidget .kw-readonly-note')")
    assert page.locator('.kanwidget [data-action="fit"]').first.is_disabled()
    page.locator('[data-version="0.0"]').first.click()
    page.wait_for_function("() => document.querySelectorAll('[data-edge]').length === 9")
    lab.screenshot("lab_reopened", selector=".kanwidget")
