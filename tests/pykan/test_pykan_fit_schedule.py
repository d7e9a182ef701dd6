"""``kanwidget.pykan.KAN.fit`` starts as pykan 0.2.8's (its step-0 grid update adapts every
layer), while kanwidget's own ``KAN`` adapts only the input layer at step 0."""

from __future__ import annotations

import warnings

import pytest
import torch

import kanwidget
from kanwidget.pykan import KAN, create_dataset


def _expsin(x):
    return torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)


@pytest.fixture(scope="module")
def data():
    return create_dataset(_expsin, n_var=2)


def test_pykan_kan_first_fit_step_equals_pykans(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from kan import KAN as PykanKAN

        theirs = PykanKAN(width=[2, 5, 1], grid=3, k=3, seed=1, auto_save=False)
        want = theirs.fit(data, opt="LBFGS", steps=1, lamb=0.01, log=10**6)
    ours = KAN(width=[2, 5, 1], grid=3, k=3, seed=1)
    got = ours.fit(data, opt="LBFGS", steps=1, lamb=0.01, progress=False)
    for key in ("train_loss", "test_loss", "reg"):
        assert float(got[key][0]) == pytest.approx(float(want[key][0]), rel=1e-3)
    for l in range(2):
        torch.testing.assert_close(ours.layers[l].knots, theirs.act_fun[l].grid, atol=1e-5, rtol=0)


def test_kanwidget_kan_first_grid_update_keeps_hidden_grids(data):
    model = kanwidget.KAN([2, 5, 1], grid=3, seed=1)
    hidden = model.layers[1].knots.clone()
    model.fit(data, steps=1, lamb=0.01, progress=False)
    assert torch.equal(model.layers[1].knots, hidden)
    twin = KAN([2, 5, 1], grid=3, seed=1)
    twin.fit(data, steps=1, lamb=0.01, progress=False)
    assert not torch.equal(twin.layers[1].knots, hidden)
    assert torch.equal(twin.layers[0].knots, model.layers[0].knots)
