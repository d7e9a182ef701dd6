"""pykan's regulariser value (``MultKAN.reg``), ``attribute(out_score=...)`` and
``feature_score`` after fit and rewind, each against pykan 0.2.8 on the same parameters."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from kanwidget import KAN, create_dataset

from .conftest import to_pykan

METRICS = ["edge_forward_spline_n", "edge_forward_sum", "edge_forward_spline_u",
           "edge_backward", "node_backward"]  # fmt: skip


def _expsin(x):
    return torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)


@pytest.fixture(scope="module")
def data():
    return create_dataset(_expsin, 2, seed=0)


# a multiplication node with one output: pykan's score_node2subnode expands a node's
# (n_out,) scores to (n_out, arity) along the wrong axis, so with n_out == arity > 1 its
# backward scores are transposed (kanwidget gives each operand its node's score)
WIDTHS = [[2, 3, 2], [2, [1, 1], 1]]


@pytest.fixture(scope="module", params=WIDTHS, ids=["sum", "mult"])
def trained(request, data):
    width = request.param
    d = dict(data)
    if width[-1] == 2:
        d["train_label"] = torch.cat([d["train_label"], d["train_input"][:, :1]], 1)
        d["test_label"] = torch.cat([d["test_label"], d["test_input"][:, :1]], 1)
    model = KAN(width, grid=5, seed=0)
    model.fit(d, steps=5, progress=False)
    return model, d


@pytest.mark.parametrize("metric", METRICS)
def test_reg_equals_pykans_on_the_same_parameters(trained, metric):
    model, d = trained
    if metric == "node_backward" and any(model.mult_arity):
        pytest.skip("pykan's attribute(l) transposes operand scores there (see WIDTHS)")
    twin = to_pykan(model)
    x = d["train_input"]
    model(x)
    twin.get_act(x)
    if metric == "edge_backward":
        twin.attribute(plot=False)
    if metric == "node_backward":
        twin.node_attribute()
    ours = model.reg(metric, 1.0, 2.0, 0.5, 0.3)
    theirs = twin.reg(metric, 1.0, 2.0, 0.5, 0.3)
    assert_close(ours, theirs.detach(), rtol=1e-5, atol=1e-5)
    assert_close(model.get_reg(metric, 1.0, 2.0, 0.5, 0.3), ours)


def test_reg_unknown_metric_is_refused(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="not recognized"):
        model.reg("edge_sideways", 1.0, 2.0, 0.0, 0.0)


def test_activation_scales_have_pykans_layouts(trained):
    model, d = trained
    twin = to_pykan(model)
    model(d["train_input"])
    twin.get_act(d["train_input"])
    for name in ("edge_actscale", "acts_scale_spline", "acts_scale"):
        for ours, theirs in zip(getattr(model, name), getattr(twin, name), strict=True):
            assert_close(ours, theirs.detach(), rtol=1e-5, atol=1e-6)


def test_attribute_out_score_equals_pykans(trained):
    model, d = trained
    twin = to_pykan(model)
    x = d["train_input"]
    model(x)
    twin.get_act(x)
    n_out = model.width[-1][0]
    weights = torch.arange(1.0, n_out + 1.0) * 0.7
    model.attribute(out_score=weights)
    twin.attribute(out_score=weights, plot=False)
    for ours, theirs in zip(model.node_scores, twin.node_scores, strict=True):
        assert_close(ours, theirs.detach(), rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(model.edge_scores, twin.edge_scores, strict=True):
        assert_close(ours, theirs.detach(), rtol=1e-5, atol=1e-6)


def test_attribute_out_score_of_ones_is_the_plain_attribution(trained):
    model, d = trained
    model(d["train_input"])
    plain = [s.clone() for s in model.attribute()]
    weighted = model.attribute(out_score=torch.ones(model.width[-1][0]))
    for a, b in zip(plain, weighted, strict=True):
        assert_close(a, b)


def test_attribute_out_score_wrong_length_is_refused(trained):
    model, d = trained
    model(d["train_input"])
    before = [s.clone() for s in model.attribute()]
    with pytest.raises(ValueError, match="out_score must have shape"):
        model.attribute(out_score=torch.ones(5))
    for a, b in zip(before, model.node_scores, strict=True):
        assert torch.equal(a, b)


def test_feature_score_is_set_by_fit_and_survives_rewind_and_checkout(data):
    model = KAN([2, 3, 1], grid=5, seed=0)
    model.fit(data, steps=5, progress=False)
    after_fit = model.feature_score.clone()
    model.fit(data, steps=5, lamb=0.01, progress=False)
    assert model.version == "0.2"
    model.rewind("0.1")
    assert_close(model.feature_score, after_fit)  # same parameters, same last input
    twin = to_pykan(model)
    twin.get_act(model.cache_data)
    assert_close(model.feature_score, twin.feature_score.detach(), rtol=1e-5, atol=1e-6)
    model.checkout("1.1")
    assert model.feature_score is not None and model.feature_score.shape == (2,)


def test_feature_score_after_restore_of_narrower_input_stays_none(data):
    model = KAN([2, 3, 1], grid=5, seed=0)
    model.fit(data, steps=5, lamb=0.01, progress=False)
    model.remove_edge(0, 1, 0)
    model.remove_edge(0, 1, 1)
    model.remove_edge(0, 1, 2)
    pruned = model.prune_input(threshold=1e-8)
    assert pruned.width[0][0] == 1
    pruned(data["train_input"][:, :1])  # the last input now has one column
    pruned.checkout("0.1")
    assert pruned.width[0][0] == 2 and pruned.feature_score is None
