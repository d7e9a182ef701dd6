"""payload: the synced traits' values equal the model's."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.testing import assert_close

from kanwidget import KAN, create_dataset
from kanwidget.kan.attribution import attribute
from kanwidget.widget.payload import (
    CURVE_POINTS,
    SAMPLE_POINTS,
    DataSample,
    build_arrays,
    build_history,
    build_loss,
    build_payload,
    build_structure,
)


def _edge_index(structure):
    return {(e["l"], e["i"], e["j"]): k for k, e in enumerate(structure["edges"])}


def test_payload_structure_lists_every_edge_and_node(mult_model):
    s = build_structure(mult_model, ["a", "b"], ["f"])
    assert s["width"] == [[2, 0], [1, 1], [1, 0]]
    assert s["mult_arity"] == [[], [2], []]
    kinds = [(n["l"], n["i"], n["kind"], n["label"]) for n in s["nodes"]]
    assert kinds == [(0, 0, "input", "a"), (0, 1, "input", "b"), (1, 0, "sum", ""),
                     (1, 1, "mult", ""), (2, 0, "output", "f")]  # fmt: skip
    # layer 0 has 2 inputs x 3 subnodes (1 sum + 2 factors of the product); layer 1 2 x 1
    assert len(s["edges"]) == 2 * 3 + 2 * 1
    order = [(e["l"], e["i"], e["j"]) for e in s["edges"]]
    assert order == sorted(order)
    to = {(e["l"], e["j"]): e["to"] for e in s["edges"]}
    assert to[(0, 0)] == 0 and to[(0, 1)] == 1 and to[(0, 2)] == 1 and to[(1, 0)] == 0
    assert all(e["active"] and e["symbolic"] is None for e in s["edges"])


def test_payload_structure_marks_removed_edges_inactive(model):
    model.remove_edge(0, 1, 2)
    s = build_structure(model)
    active = {(e["l"], e["i"], e["j"]): e["active"] for e in s["edges"]}
    assert active[(0, 1, 2)] is False
    assert sum(active.values()) == model.n_edges()
    assert s["in_vars"] == ["x_1", "x_2"] and s["out_vars"] == ["y_1"]


def test_payload_curves_equal_edge_activations(model, dataset):
    model.fit(dataset, steps=3, progress=False)
    data = DataSample.from_dataset(dataset)
    arrays = build_arrays(model, data)
    structure = build_structure(model)
    index = _edge_index(structure)
    cx, cy = arrays["curves"]["x"], arrays["curves"]["y"]
    assert cx.shape == cy.shape == (len(structure["edges"]), CURVE_POINTS)
    assert cx.dtype == np.float32
    for l, layer in enumerate(model.layers):
        # the sampled x of edge (l, i, *) is the same for every j: evaluate the layer there
        xs = torch.stack([torch.from_numpy(cx[index[(l, i, 0)]]) for i in range(layer.in_dim)], 1)
        with torch.no_grad():
            acts = layer.edge_activations(xs.to(model.dtype))  # (P, out, in)
        for i in range(layer.in_dim):
            for j in range(layer.out_dim):
                e = index[(l, i, j)]
                assert_close(torch.from_numpy(cx[e]), xs[:, i])
                assert_close(torch.from_numpy(cy[e]), acts[:, j, i].float(), atol=1e-6, rtol=1e-5)


def test_payload_curve_ranges_follow_the_data(model, dataset):
    model.fit(dataset, steps=3, progress=False)
    data = DataSample.from_dataset(dataset)
    cx = build_arrays(model, data)["curves"]["x"]
    index = _edge_index(build_structure(model))
    x = dataset["train_input"]
    for i in range(2):  # layer 0: the whole training range of input i
        row = cx[index[(0, i, 0)]]
        assert_close(float(row[0]), float(x[:, i].min()), atol=1e-6, rtol=0)
        assert_close(float(row[-1]), float(x[:, i].max()), atol=1e-6, rtol=0)
    hidden = model.forward_cache(data.x).inputs[1]  # layer 1: the subsample's hidden range
    for i in range(3):
        row = cx[index[(1, i, 0)]]
        assert_close(float(row[0]), float(hidden[:, i].min()), atol=1e-5, rtol=1e-5)
        assert_close(float(row[-1]), float(hidden[:, i].max()), atol=1e-5, rtol=1e-5)


def test_payload_without_data_uses_grid_range_and_no_scores(model):
    arrays = build_arrays(model, None)
    assert arrays["samples"] == {} and arrays["scores"] == {}
    cx = arrays["curves"]["x"]
    grid = model.layers[0].grid
    assert_close(float(cx[0, 0]), float(grid[0, 0]))
    assert_close(float(cx[0, -1]), float(grid[0, -1]))


def test_payload_samples_equal_forward_cache(model, dataset):
    model.fit(dataset, steps=3, progress=False)
    data = DataSample.from_dataset(dataset)
    arrays = build_arrays(model, data)
    index = _edge_index(build_structure(model))
    trace = model.forward_cache(data.x)
    sx, sy = arrays["samples"]["x"], arrays["samples"]["y"]
    assert sx.shape == (len(index), SAMPLE_POINTS)
    for (l, i, j), e in index.items():
        assert_close(torch.from_numpy(sx[e]), trace.inputs[l][:SAMPLE_POINTS, i].float())
        assert_close(torch.from_numpy(sy[e]), trace.edge_acts[l][:SAMPLE_POINTS, j, i].float())


def test_payload_scores_equal_model_edge_scores(mult_model, dataset):
    mult_model.fit(dataset, steps=3, progress=False)
    data = DataSample.from_dataset(dataset)
    arrays = build_arrays(mult_model, data)
    index = _edge_index(build_structure(mult_model))
    node_scores = attribute(mult_model, data.x)  # fresh, independent of build_arrays
    for (l, i, j), e in index.items():
        expected = mult_model.edge_scores[l][j, i]  # (out, in)
        assert_close(float(arrays["scores"]["edge"][e]), float(expected), atol=1e-6, rtol=1e-5)
    assert_close(torch.from_numpy(arrays["scores"]["node"]), torch.cat(node_scores).float())


def test_payload_follows_pruned_inputs(dataset):
    model = KAN([2, 3, 1], grid=5, seed=0)
    model.fit(dataset, steps=2, progress=False)
    model.prune_input(active_inputs=[1])
    s = build_structure(model, ["x", "y"])
    assert s["in_vars"] == ["y"]
    arrays = build_arrays(model, DataSample.from_dataset(dataset))
    assert arrays["curves"]["x"].shape[0] == len(s["edges"]) == 3 + 3


def test_payload_history_and_loss_match_model(model, dataset):
    model.fit(dataset, steps=4, progress=False)
    model.remove_edge(0, 0, 0)
    h = build_history(model)
    assert h["current"] == model.version == "0.2"
    assert [v["id"] for v in h["versions"]] == [v.id for v in model.history]
    assert [v["operation"] for v in h["versions"]] == ["init", "fit", "remove_edge"]
    assert set(h["versions"][0]) == {"id", "parent", "operation", "train_loss", "test_loss",
                                     "n_edges", "formula", "time"}  # fmt: skip
    loss = build_loss(model)
    expected = torch.tensor(model.loss_log["train_loss"], dtype=torch.float32)
    assert_close(torch.from_numpy(loss["train"]), expected)
    assert loss["test"].shape == (4,)
    assert loss["test"][-1] == np.float32(model.history["0.1"].test_loss)


def test_payload_build_time_4_10_10_1():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _time_payload()
    finally:
        torch.set_num_threads(threads)


def _time_payload():
    data = create_dataset(lambda x: x[:, :1] * x[:, 1:2] + torch.sin(x[:, 2:3]) + x[:, 3:] ** 2, 4)
    model = KAN([4, 10, 10, 1], grid=5, seed=0)
    model.fit(data, steps=2, progress=False)
    sample = DataSample.from_dataset(data)
    build_payload(model, sample)  # warm up
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        build_payload(model, sample)
        times.append(time.perf_counter() - t0)
    print(f"\npayload build [4,10,10,1] (150 edges, P=48, S=48): "
          f"median {1e3 * np.median(times):.2f} ms, min {1e3 * min(times):.2f} ms")  # fmt: skip


def test_payload_arrays_that_change_every_frame_come_first(model, dataset):
    """ipywidgets deep-compares each new trait value with the last (lodash isEqual, byte by
    byte for binary buffers, in key order): y changes every training step, x of layer 0 (the
    fixed data) never, so y must come first for that compare to stop at once."""
    data = DataSample.from_dataset(dataset)
    before = build_arrays(model, data)
    model.fit(dataset, steps=2, opt="Adam", lr=0.05, update_grid=False, progress=False)
    after = build_arrays(model, data)
    n0 = model.width_in[0] * model.width_out[1]  # edges of layer 0
    for key in ("curves", "samples"):
        assert list(after[key]) == ["y", "x"]
        np.testing.assert_array_equal(after[key]["x"][:n0], before[key]["x"][:n0])
        assert not np.array_equal(after[key]["y"][0], before[key]["y"][0])
