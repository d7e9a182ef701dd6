"""frames: each version's stored drawn data equals what the live widget draws at that version,
is built without touching the model, follows new versions, and stays small."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kanwidget import KAN
from kanwidget.widget.codec import to_json
from kanwidget.widget.frames import (
    FRAME_POINTS,
    FRAME_SAMPLES,
    LOSS_POINTS,
    FrameStore,
    frame_nbytes,
    thin_loss,
)
from kanwidget.widget.payload import DataSample, build_arrays, build_loss, build_structure


def _versions(model: KAN, dataset) -> KAN:
    """0.0 init, 0.1 fit, 0.2 prune edge, 0.3 symbolic edge, 1.1 rewind to 0.1, 1.2 fit."""
    model.fit(dataset, opt="Adam", lr=0.05, steps=6, progress=False)
    model.remove_edge(0, 1, 2)
    model.fix_symbolic(1, 0, 0, "x")
    model.rewind("0.1")
    model.fit(dataset, opt="Adam", lr=0.05, steps=4, progress=False)
    return model


def test_frames_equal_the_live_payload_of_each_checked_out_version(model, dataset):
    _versions(model, dataset)
    data = DataSample.from_dataset(dataset)
    store = FrameStore(data, ["x", "y"], ["f"])
    assert store.update(model)
    ids = [v.id for v in model.history]
    assert sorted(store.frames) == sorted(ids) == ["0.0", "0.1", "0.2", "0.3", "1.1", "1.2"]
    for vid in ids:
        live = model.copy()
        live.checkout(vid)
        frame = store.frames[vid]
        assert frame["structure"] == build_structure(live, ["x", "y"], ["f"])
        want = build_arrays(live, data, points=FRAME_POINTS, samples=FRAME_SAMPLES)
        cx = want["curves"]["x"]
        np.testing.assert_allclose(frame["curves"]["range"][:, 0], cx[:, 0], rtol=1e-6)
        np.testing.assert_allclose(frame["curves"]["range"][:, 1], cx[:, -1], rtol=1e-6)
        # x is implied: evenly spaced over [lo, hi]
        t = np.linspace(0, 1, FRAME_POINTS, dtype=np.float64)
        rng = frame["curves"]["range"].astype(np.float64)
        implied = rng[:, :1] + (rng[:, 1:] - rng[:, :1]) * t
        np.testing.assert_allclose(implied, cx, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(frame["curves"]["y"], want["curves"]["y"], rtol=1e-5, atol=1e-6)
        for key in ("x", "y"):
            np.testing.assert_allclose(frame["samples"][key], want["samples"][key], rtol=1e-5)
        for key in ("edge", "node"):
            np.testing.assert_allclose(
                frame["scores"][key], want["scores"][key], rtol=1e-4, atol=1e-7
            )
        loss = build_loss(live)
        for key in ("train", "test"):
            np.testing.assert_array_equal(frame["loss"][key], thin_loss(loss[key]))
    # the symbolic edge's label and formula are in its version's frame only
    sym = [e for e in store.frames["0.3"]["structure"]["edges"] if e["symbolic"]]
    assert [(e["l"], e["i"], e["j"], e["symbolic"]) for e in sym] == [(1, 0, 0, "x")]
    assert not any(e["symbolic"] for e in store.frames["1.2"]["structure"]["edges"])
    pruned = {
        (e["l"], e["i"], e["j"]): e["active"] for e in store.frames["0.2"]["structure"]["edges"]
    }
    assert pruned[(0, 1, 2)] is False


def test_frames_leave_the_model_and_its_history_untouched(model, dataset):
    _versions(model, dataset)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    version, n = model.version, len(model.history)
    FrameStore(DataSample.from_dataset(dataset)).update(model)
    assert model.version == version and len(model.history) == n
    after = model.state_dict()
    for k, v in before.items():
        torch.testing.assert_close(after[k], v, rtol=0, atol=0)


def test_frames_are_built_once_per_version(model, dataset):
    store = FrameStore(DataSample.from_dataset(dataset))
    assert store.update(model)
    first = store.frames["0.0"]
    assert not store.update(model)  # nothing new
    model.remove_edge(0, 0, 0)
    assert store.update(model)
    assert store.frames["0.0"] is first and sorted(store.frames) == ["0.0", "0.1"]


def test_frames_without_data_have_curves_but_no_scores(model):
    store = FrameStore(None)
    store.update(model)
    frame = store.frames["0.0"]
    assert frame["curves"]["y"].shape == (9, FRAME_POINTS)
    assert frame["samples"] == {} and frame["scores"] == {}


def test_thin_loss_keeps_first_last_and_at_most_n_points():
    values = np.arange(1000, dtype=np.float32)
    thin = thin_loss(values)
    assert len(thin) == LOSS_POINTS and thin[0] == 0 and thin[-1] == 999
    assert np.all(np.diff(thin) > 0)
    short = np.arange(5, dtype=np.float32)
    assert thin_loss(short) is short


def test_widget_frames_follow_every_new_version(widget, model):
    assert sorted(widget.frames) == ["0.0"]
    widget.prune_edge(0, 1, 2)
    widget.symbolify(0, 0, 0, "x")
    ids = [v.id for v in model.history]
    assert sorted(widget.frames) == sorted(ids) == ["0.0", "0.1", "0.2"]
    edges = widget.frames["0.1"]["structure"]["edges"]
    assert next(e for e in edges if (e["l"], e["i"], e["j"]) == (0, 1, 2))["active"] is False
    assert widget.frames["0.2"]["structure"] == widget.structure
    # frames travel as binary buffers, like every other array trait
    wire = to_json(widget.frames)
    assert isinstance(wire["0.1"]["curves"]["y"]["view"], memoryview)


@pytest.mark.parametrize("versions", [10])
def test_frames_of_ten_quickstart_versions_stay_well_under_one_megabyte(dataset, versions):
    model = KAN([2, 5, 1], grid=5, seed=1)
    for k in range(versions - 1):
        model.fit(dataset, opt="Adam", lr=0.02, steps=2, progress=False)
        assert len(model.history) == k + 2
    store = FrameStore(DataSample.from_dataset(dataset))
    store.update(model)
    size = frame_nbytes(store.frames)
    # binary payload (base64 in a saved notebook adds a third) plus the structure JSON
    assert len(store.frames) == versions
    assert size * 4 / 3 < 200_000, size


def test_frames_of_big_models_leave_out_activation_samples(dataset):
    from kanwidget.widget.frames import MAX_SAMPLED_EDGES

    model = KAN([2, 20, 10, 1], grid=3, seed=0)
    n_edges = 2 * 20 + 20 * 10 + 10
    assert n_edges > MAX_SAMPLED_EDGES
    store = FrameStore(DataSample.from_dataset(dataset))
    store.update(model)
    frame = store.frames["0.0"]
    assert frame["samples"] == {} and frame["curves"]["y"].shape == (n_edges, FRAME_POINTS)
    assert frame["scores"]["edge"].shape == (n_edges,)
