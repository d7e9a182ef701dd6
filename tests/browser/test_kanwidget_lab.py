"""KANWidget in a real JupyterLab, driven like a user: run, watch it train, click, drag.

Every interaction is checked on both sides: the DOM (through the `data-*` hooks of
docs/widget_contract.md) and the Python model in the notebook's own kernel.
One small notebook (`interactive.ipynb`, a fresh [2, 3, 1] model) serves the
interaction tests in order: fit -> inspect + fix symbolic -> drag-prune -> timeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import REPO_ROOT, LabPage, LabServer, write_notebook

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


def test_quickstart_runs_and_draws_the_network(lab: LabPage) -> None:
    lab.open(QUICKSTART)
    lab.run_all(timeout=150)
    lab.page.locator("[data-edge]").first.wait_for(timeout=30_000)
    n_active = kernel_json(lab, "int(model.n_edges())")
    versions = kernel_json(lab, "[v.id for v in model.history]")
    lab.wait_until(
        "(n) => document.querySelectorAll('[data-edge]:not(.kw-inactive)').length === n",
        n_active,
    )
    lab.wait_until(
        "(n) => document.querySelectorAll('[data-version]').length === n", len(versions)
    )
    assert lab.page.locator("[data-node]").count() > 0
    lab.screenshot("quickstart_lab", selector=WIDGET)
    lab.screenshot("quickstart_lab_page")


INTERACTIVE = [
    "import torch\n"
    "from kanwidget import KAN, KANWidget, create_dataset\n"
    "f = lambda x: torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)\n"
    "dataset = create_dataset(f, n_var=2, train_num=200, test_num=200)\n"
    "model = KAN([2, 3, 1], grid=5, seed=1)\n"
    "w = KANWidget(model, dataset)\n"
    "w",
]


@pytest.fixture(scope="module")
def interactive(browser: Any, lab_server: LabServer, lab_root: Path) -> Iterator[LabPage]:
    """One page on `interactive.ipynb`, run once and shared by the interaction tests."""
    write_notebook(lab_root / "interactive.ipynb", INTERACTIVE)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    lab = LabPage(context.new_page(), lab_server)
    try:
        lab.open("interactive.ipynb")
        lab.run_all(timeout=90)
        lab.page.locator("[data-edge]").first.wait_for(timeout=30_000)
        yield lab
    finally:
        lab.shutdown_kernel()
        context.close()


@pytest.fixture
def ilab(
    interactive: LabPage, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[LabPage]:
    """The shared interactive page; a failing test leaves a screenshot in its tmp_path."""
    yield interactive
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        shot = tmp_path / "failure.png"
        interactive.page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the failing page: {shot}")


def test_widget_draws_every_edge_node_and_version(ilab: LabPage) -> None:
    # [2, 3, 1]: 2*3 + 3*1 edges, 2 + 3 + 1 nodes, one version (0.0).
    ilab.wait_until("() => document.querySelectorAll('[data-edge]').length === 9")
    assert ilab.page.locator("[data-node]").count() == 6
    assert ilab.page.locator('[data-version="0.0"]').count() == 1
    assert curve_d(ilab, "0,0,0"), "edge (0,0,0) has no curve drawn"


def test_fit_button_trains_and_curves_change(ilab: LabPage) -> None:
    before = curve_d(ilab, "0,0,0")
    ilab.page.locator(f"{WIDGET} input.kw-steps").first.fill("15")
    ilab.page.locator(f'{WIDGET} [data-action="fit"]').first.click()
    ilab.wait_until(
        "(d) => { const p = document.querySelector('[data-edge=\"0,0,0\"] .kw-thumb-curve');"
        " return p && p.getAttribute('d') !== d; }",
        before,
        timeout=60,
    )
    ilab.wait_until('() => document.querySelector(\'[data-version="0.1"]\')', timeout=90)
    ilab.execute("w.wait()", timeout=60)
    assert kernel_json(ilab, "[model.version, [v.operation for v in model.history]]") == [
        "0.1",
        ["init", "fit"],
    ]
    ilab.wait_until(
        "() => document.querySelector('.kw-toolbar').dataset.state === 'idle'", timeout=30
    )


def test_click_edge_lists_candidates_and_fixes_one(ilab: LabPage) -> None:
    ilab.page.locator('[data-edge="0,0,0"] .kw-thumb-bg').first.click()
    rows = ilab.page.locator("[data-candidate]")
    rows.first.wait_for(timeout=60_000)
    assert kernel_json(ilab, "list(w.selected)") == [0, 0, 0]
    name = rows.first.get_attribute("data-candidate")
    assert name
    rows.first.click()
    ilab.wait_until(
        "() => document.querySelector('[data-edge=\"0,0,0\"]').classList.contains('kw-symbolic')",
        timeout=60,
    )
    assert kernel_json(ilab, "[model.layers[0].sym_names[0][0], float(model.layers[0].sym_mask[0, 0])]") == [name, 1.0]


def drag_out(lab: LabPage, key: str) -> None:
    """Drag an edge's thumbnail onto the trash zone with real pointer events."""
    thumb = lab.page.locator(f'[data-edge="{key}"] .kw-thumb-bg').first
    trash = lab.page.locator(f"{WIDGET} .kw-trash").first
    a = thumb.bounding_box()
    b = trash.bounding_box()
    assert a and b, "thumbnail or trash zone not laid out"
    mouse = lab.page.mouse
    mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    mouse.down()
    mouse.move(a["x"] + a["width"] / 2 + 12, a["y"] + a["height"] / 2 + 12, steps=4)
    mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    mouse.up()


def test_drag_edge_off_prunes_it(ilab: LabPage) -> None:
    key = "0,1,2"
    assert kernel_json(ilab, "float(model.layers[0].mask[1, 2])") == 1.0
    n_versions = kernel_json(ilab, "len(list(model.history))")
    drag_out(ilab, key)
    ilab.wait_until(
        "(k) => { const e = document.querySelector(`[data-edge=\"${k}\"]`);"
        " return !e || e.classList.contains('kw-inactive'); }",
        key,
        timeout=30,
    )
    assert kernel_json(ilab, "float(model.layers[0].mask[1, 2])") == 0.0
    assert kernel_json(ilab, "len(list(model.history))") == n_versions + 1


def test_timeline_click_checks_out_an_older_version(ilab: LabPage) -> None:
    # Now at 0.3 (fit, symbolic, prune edge). Version 0.1 has edge (0,1,2) back and no symbolic edge.
    ilab.page.locator('[data-version="0.1"]').first.click()
    ilab.wait_until(
        "() => { const e = document.querySelector('[data-edge=\"0,1,2\"]');"
        " const s = document.querySelector('[data-edge=\"0,0,0\"]');"
        " return e && !e.classList.contains('kw-inactive') && s && !s.classList.contains('kw-symbolic'); }",
        timeout=30,
    )
    assert kernel_json(ilab, "model.version") == "0.1"
    assert kernel_json(ilab, "[float(model.layers[0].mask[1, 2]), model.layers[0].sym_names[0][0]]") == [1.0, "0"]
    ilab.screenshot("interactive_lab", selector=WIDGET)
