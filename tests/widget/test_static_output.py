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


class _Handle:
    """Stands in for IPython's DisplayHandle: records each refreshed bundle."""

    def __init__(self) -> None:
        self.svgs: list[str] = []

    def update(self, data, metadata=None, raw=False) -> None:
        self.svgs.append(data["image/svg+xml"])


def test_static_svg_follows_a_click_in_the_widget(widget):
    """A prune made only in the browser (a comm message) refreshes the stored picture."""
    handle = _Handle()
    widget._display_handles.append(handle)
    widget._on_msg(widget, {"action": "prune_edge", "edge": [0, 0, 0]}, [])
    assert widget.error == {}
    assert len(handle.svgs) == 1
    svg = handle.svgs[-1]
    assert 'data-edge="0,0,0"' not in svg and len(re.findall(r"data-edge=", svg)) == 8
    # a selection changes nothing drawn: no refresh (it would re-render the live view)
    widget._on_msg(widget, {"action": "select_edge", "edge": [0, 1, 0]}, [])
    assert len(handle.svgs) == 1


def test_static_svg_waits_for_the_end_of_training(widget):
    handle = _Handle()
    widget._display_handles.append(handle)
    widget._on_msg(widget, {"action": "fit", "steps": 3}, [])
    assert widget.wait(timeout=60)
    # frames during the run refreshed nothing; the run's end refreshed it once
    assert len(handle.svgs) == 1
    assert widget.history["current"] == "0.1"
