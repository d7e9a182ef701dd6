"""Actions (Python twins of the UI) change the model, add one version each and redraw;
bad browser messages are refused through `error` with the model untouched."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from kanwidget import KANWidget


def _edge(w, l, i, j):
    return next(e for e in w.structure["edges"] if (e["l"], e["i"], e["j"]) == (l, i, j))


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_widget_initial_traits(widget, model):
    assert widget.history == {"versions": widget.history["versions"], "current": "0.0"}
    assert len(widget.structure["edges"]) == 2 * 3 + 3 * 1
    assert widget.structure["in_vars"] == ["x", "y"] and widget.structure["out_vars"] == ["f"]
    assert widget.curves["x"].shape == (9, 48) and widget.samples["y"].shape == (9, 48)
    assert widget.scores["edge"].shape == (9,) and widget.scores["node"].shape == (6,)
    assert widget.training == {"state": "idle", "step": 0, "steps": 0}
    assert widget.error == {} and widget.selected == [] and widget.candidates == []


def test_widget_prune_edge_masks_edge_and_adds_one_version(widget, model):
    n = len(model.history)
    widget.prune_edge(0, 1, 2)
    assert model.layers[0].mask[1, 2] == 0
    assert len(model.history) == n + 1 and model.history.current.operation == "remove_edge"
    assert _edge(widget, 0, 1, 2)["active"] is False
    assert widget.history["current"] == model.version
    e = [(x["l"], x["i"], x["j"]) for x in widget.structure["edges"]].index((0, 1, 2))
    assert np.all(widget.curves["y"][e] == 0)


def test_widget_prune_node_adds_one_version(widget, model):
    n = len(model.history)
    widget.prune_node(1, 2)
    assert torch.all(model.layers[0].mask[:, 2] == 0) and torch.all(model.layers[1].mask[2] == 0)
    assert len(model.history) == n + 1
    assert not any(e["active"] for e in widget.structure["edges"] if e["l"] == 1 and e["i"] == 2)


def test_widget_prune_uses_attribution_and_adds_one_version(widget, model, dataset):
    model.fit(dataset, opt="Adam", lr=0.05, steps=5, lamb=1e-2, progress=False)
    widget.refresh()
    n = len(model.history)
    widget.prune(edge_th=0.5)
    assert len(model.history) == n + 1 and model.history.current.operation == "prune"
    assert widget.structure["width"] == [list(w) for w in model.width]
    assert sum(e["active"] for e in widget.structure["edges"]) == model.n_edges()


def test_widget_checkout_and_rewind(widget, model):
    widget.prune_edge(0, 0, 0)
    n = len(model.history)
    widget.checkout("0.0")
    assert len(model.history) == n and model.version == "0.0"  # checkout adds no version
    assert model.layers[0].mask[0, 0] == 1 and _edge(widget, 0, 0, 0)["active"]
    assert widget.history["current"] == "0.0"
    widget.rewind("0.1")
    assert len(model.history) == n + 1 and model.version == "1.1"
    assert model.layers[0].mask[0, 0] == 0 and widget.history["current"] == "1.1"


def test_widget_select_edge_fills_candidates(widget, model):
    widget.select_edge(0, 0, 0)
    assert widget.selected == [0, 0, 0]
    assert widget.candidates, "suggest_symbolic returned no candidates"
    first = widget.candidates[0]
    assert {"name", "r2", "complexity", "params", "formula", "curve"} <= set(first)
    assert len(first["params"]) == 4
    assert first["curve"]["x"].shape == first["curve"]["y"].shape == (48,)
    np.testing.assert_array_equal(first["curve"]["x"], widget.curves["x"][0])
    widget.selected = []
    assert widget.candidates == []


def test_widget_symbolify_fixes_edge_and_adds_one_version(widget, model):
    n = len(model.history)
    widget.symbolify(0, 0, 1, "sin")
    assert len(model.history) == n + 1
    assert model.layers[0].sym_names[0][1] == "sin" and model.layers[0].sym_mask[0, 1] == 1
    edge = _edge(widget, 0, 0, 1)
    assert edge["symbolic"] == "sin" and "sin" in edge["formula"]


def test_widget_python_actions_raise_on_bad_input(widget, model):
    n = len(model.history)
    with pytest.raises(ValueError, match="does not exist"):
        widget.prune_edge(0, 5, 0)
    with pytest.raises(ValueError, match="unknown symbolic function"):
        widget.symbolify(0, 0, 0, "not_a_function")
    with pytest.raises(ValueError, match="version"):
        widget.checkout("9.9")
    widget.prune_edge(0, 0, 0)
    with pytest.raises(ValueError, match="already pruned"):
        widget.prune_edge(0, 0, 0)
    assert len(model.history) == n + 1


def test_widget_message_actions_apply(widget, model):
    widget._on_msg(widget, {"action": "prune_edge", "edge": [0, 1, 1]}, [])
    assert model.layers[0].mask[1, 1] == 0 and widget.error == {}
    widget._on_msg(widget, {"action": "prune_node", "node": [1, 0]}, [])
    assert torch.all(model.layers[1].mask[0] == 0)
    widget._on_msg(widget, {"action": "checkout", "version": "0.1"}, [])
    assert model.version == "0.1"
    widget._on_msg(widget, {"action": "preview", "edge": [0, 0, 0]}, [])
    assert widget.error == {}


BAD_MESSAGES = [
    {"action": "prune_edge", "edge": [0, 99, 0]},
    {"action": "prune_edge", "edge": [5, 0, 0]},
    {"action": "prune_edge", "edge": [0, -1, 0]},
    {"action": "prune_edge", "edge": [0, 0]},
    {"action": "prune_edge", "edge": [0, 0, "1"]},
    {"action": "prune_edge", "edge": [0, 0, 1.0]},
    {"action": "prune_edge", "edge": [True, 0, 0]},
    {"action": "prune_edge", "edge": "0,0,0"},
    {"action": "prune_edge"},
    {"action": "prune_edge", "edge": [0, 0, 0], "junk": 1},
    {"action": "symbolify", "edge": [0, 0, 0], "name": "__import__"},
    {"action": "symbolify", "edge": [0, 0, 0], "name": "os.system('ls')"},
    {"action": "symbolify", "edge": [0, 0, 0], "name": 3},
    {"action": "symbolify", "edge": [0, 0, 0], "name": "x" * 1000},
    {"action": "prune_node", "node": [1, 7]},
    {"action": "prune_node", "node": [9, 0]},
    {"action": "checkout", "version": "7.7"},
    {"action": "rewind", "version": None},
    {"action": "fit", "steps": -5},
    {"action": "fit", "steps": "10"},
    {"action": "select_edge", "edge": [0, 0, 9]},
    {"action": 3},
    {"action": "delete_everything"},
    {"action": None},
    {},
    "prune",
    None,
    [1, 2, 3],
    42,
]


@pytest.mark.parametrize("content", BAD_MESSAGES, ids=lambda c: repr(c)[:40])
def test_widget_bad_message_refused_model_untouched(widget, model, content):
    before, n, version = _state(model), len(model.history), model.version
    structure = copy.deepcopy(widget.structure)
    seq = widget.error.get("seq", 0)
    widget._on_msg(widget, content, [])
    assert widget.error["seq"] == seq + 1 and widget.error["message"]
    _assert_same_state(before, _state(model))
    assert len(model.history) == n and model.version == version
    assert widget.structure == structure and widget.training["state"] == "idle"


def test_widget_error_cleared_by_next_successful_action(widget):
    widget._on_msg(widget, {"action": "prune_edge", "edge": [0, 99, 0]}, [])
    assert "does not exist" in widget.error["message"]
    widget.prune_edge(0, 0, 0)
    assert widget.error == {}


def test_widget_without_dataset(model):
    w = KANWidget(model)
    assert w.samples == {} and w.scores == {}
    with pytest.raises(ValueError, match="no dataset"):
        w.fit(steps=1)
    w.prune_edge(0, 0, 0)
    assert model.layers[0].mask[0, 0] == 0
    w.close()


def test_widget_rejects_bad_dataset(model, dataset):
    bad = dict(dataset, train_input=dataset["train_input"][:, :1])
    with pytest.raises(ValueError):
        KANWidget(model, bad)


def test_widget_mimebundle_has_widget_view_and_static_svg(widget):
    widget.prune_edge(0, 0, 0)
    data, _ = widget._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id
    svg = data["image/svg+xml"]
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    n_active = sum(e["active"] for e in widget.structure["edges"])
    assert svg.count("data-edge=") == n_active
    assert svg.count("<polyline") == n_active
    assert svg.count("data-node=") == len(widget.structure["nodes"])


def test_widget_dashboard_follows_loss(widget, model, dataset):
    box = widget.dashboard()
    assert box.children[0] is widget
    widget.fit(steps=5, opt="Adam", lr=0.01)
    widget.wait()
    lines = widget._dashboard.lines
    assert lines.y.shape == (2, 5)
    np.testing.assert_allclose(lines.y[0], model.loss_log["train_loss"], rtol=1e-6)


def test_widget_follows_model_changed_from_python(widget, model):
    edges_before = sum(e["active"] for e in widget.structure["edges"])
    model.remove_edge(0, 1, 2)  # in a notebook cell, not through the widget
    assert sum(e["active"] for e in widget.structure["edges"]) == edges_before - 1
    assert widget.history["current"] == model.version
    model.checkout("0.0")
    assert sum(e["active"] for e in widget.structure["edges"]) == edges_before


def test_widget_copy_of_model_does_not_drive_widget(widget, model):
    clone = model.copy()
    seen = widget.history["current"]
    clone.remove_edge(0, 0, 0)
    assert widget.history["current"] == seen and len(clone._listeners) == 0
