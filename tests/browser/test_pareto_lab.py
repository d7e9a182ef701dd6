"""The Pareto panel in a real JupyterLab: click a point, the diagram shows that universe.

A sweep of three universes of different widths runs in the notebook's kernel (in process,
tiny steps); its widget shows one point per universe.  Clicking each point must check its
universe out: the kernel's model moves to that version and the diagram's drawn edges
(``data-edge`` of the active edges) become that universe's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import REPO_ROOT, LabPage, open_offline, write_notebook

pytestmark = pytest.mark.browser

SWEEP = [
    "import torch\n"
    "from kanwidget import KANWidget, create_dataset, sweep\n"
    "dataset = create_dataset(lambda x: x[:, [0]] * x[:, [1]], n_var=2, train_num=40,"
    " test_num=40)\n"
    "result = sweep(dataset, configs=[{'width': [2, 1, 1]}, {'width': [2, 3, 1]},"
    " {'width': [2, [0, 1], 1]}], n_jobs=1, progress=False, steps=2,"
    " refine=None, symbolic=False)\n"
    "w = result.widget()\n"
    "w",
]


def kernel_json(lab: LabPage, expr: str) -> Any:
    out = lab.execute(f"import json as _json\nprint(_json.dumps({expr}))")
    return json.loads(out.strip().splitlines()[-1])


def drawn_edges(lab: LabPage) -> list[str]:
    return sorted(
        lab.page.evaluate(
            "() => [...document.querySelectorAll('.kanwidget [data-edge]:not(.kw-inactive)')]"
            ".map((e) => e.getAttribute('data-edge'))"
        )
    )


def test_pareto_point_click_shows_that_universe(lab: LabPage, lab_root: Path) -> None:
    write_notebook(lab_root / "pareto.ipynb", SWEEP)
    lab.open("pareto.ipynb")
    lab.run_all(timeout=240)
    lab.page.locator("[data-pareto-point]").first.wait_for(timeout=60_000)
    universes = kernel_json(lab, "w.pareto['universe']")
    assert len(universes) == 3 and lab.page.locator("[data-pareto-point]").count() == 3
    for k, version in enumerate(universes):
        lab.page.locator(f'[data-pareto-point="{k}"]').click()
        lab.wait_until(
            '([v]) => { const p = document.querySelector(`[data-universe="${v}"]`);'
            " return !!p && p.classList.contains('kw-current'); }",
            [version],
            timeout=60,
        )
        assert kernel_json(lab, "w.model.version") == version
        expected = kernel_json(
            lab,
            "sorted(f\"{e['l']},{e['i']},{e['j']}\" for e in w.structure['edges'] if e['active'])",
        )
        n_edges = kernel_json(lab, f"result[{k}].n_edges")
        lab.wait_until(
            "([n]) => document.querySelectorAll('.kanwidget [data-edge]:not(.kw-inactive)')"
            ".length === n",
            [len(expected)],
            timeout=30,
        )
        assert drawn_edges(lab) == expected and len(expected) == n_edges
    lab.screenshot("pareto_lab", selector=".kanwidget")


def test_pareto_panel_survives_export_to_offline_html(browser: Any, tmp_path: Path) -> None:
    """nbclient stores the widget state; the exported page draws the panel with no kernel."""
    import nbformat
    from nbclient import NotebookClient

    from kanwidget.sharing import export_html

    path = write_notebook(tmp_path / "pareto_export.ipynb", SWEEP)
    nb = nbformat.read(str(path), as_version=4)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    client = NotebookClient(nb, kernel_name="python3", timeout=300, store_widget_state=True,
                            resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
    client.execute(env=env)
    nbformat.write(nb, str(path))
    out = export_html(path, tmp_path / "pareto_export.html")
    page, blocked = open_offline(browser, out.as_uri(), ("file:", "data:", "blob:"))
    try:
        page.locator("[data-pareto-point]").first.wait_for(timeout=30_000)
        assert page.locator("[data-pareto-point]").count() == 3
        assert page.locator("[data-pareto-point].kw-current").count() == 1
        assert page.locator("[data-edge]").count() > 0
        assert not [u for u in blocked if "mathjax" not in u], blocked
    finally:
        page.context.close()
