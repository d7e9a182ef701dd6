"""The static SVG stored next to the live view follows changes made from notebook cells,
so renderers without widgets (code-host previews) show the final diagram, not the first."""

from __future__ import annotations

import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import torch\n"
    "from kanwidget import KAN, KANWidget, create_dataset\n"
    "data = create_dataset(lambda x: x[:, 0] ** 2 + x[:, 1], 2, train_num=200, test_num=100)\n"
    "model = KAN([2, 3, 1], grid=3, seed=0)\n"
    "w = KANWidget(model, data)",
    "w",
    "w.prune_edge(0, 0, 0)\nw.prune_edge(0, 1, 2)",
    "w.fit(steps=3)\nw.wait()",
    "print('EDGES', model.n_edges())",
]


def test_static_svg_output_shows_the_final_model(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    (display,) = [o for o in nb.cells[1].outputs if o.output_type == "display_data"]
    svg = display.data["image/svg+xml"]
    assert "application/vnd.jupyter.widget-view+json" in display.data
    final = int(re.search(r"EDGES (\d+)", nb.cells[4].outputs[0].text).group(1))
    assert final == 9 - 2
    # inactive edges are not drawn: the stored picture has the final model's edges
    assert len(re.findall(r"data-edge=", svg)) == final
