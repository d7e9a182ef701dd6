"""What pykan's Physics tutorials call beyond pykan 0.2.8 (``perturb(mode='best')``,
``fit(pred_fn=...)``) and pykan's global seeding in ``kanwidget.pykan.KAN`` / ``kanpiler``
(agreement with pykan 0.2.8 on the RNG state it leaves)."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
import sympy
import torch
from torch.testing import assert_close

from kanwidget.pykan import KAN
from kanwidget.pykan.compiler import kanpiler
from kanwidget.pykan.utils import batch_jacobian


def _pykan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import kan

    return kan


def _draws():
    return torch.rand(5), np.random.rand(3), random.random()


@pytest.mark.parametrize("width", [[2, 1], [3, 4, 2], [2, [3, 2], 1]])
@pytest.mark.parametrize("grid", [3, 7])
def test_kan_seed_leaves_global_rngs_as_pykan(width, grid):
    KAN(width=width, grid=grid, seed=11)
    ours = _draws()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _pykan().KAN(width=width, grid=grid, seed=11, auto_save=False)
    theirs = _draws()
    assert torch.equal(ours[0], theirs[0])
    assert np.array_equal(ours[1], theirs[1]) and ours[2] == theirs[2]


def test_kan_seed_keeps_pykans_initial_parameters():
    ours = KAN(width=[2, 3, 1], grid=5, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _pykan().KAN(width=[2, 3, 1], grid=5, seed=3, auto_save=False)
    for l in range(2):
        assert_close(ours.layers[l].coef.detach(), theirs.act_fun[l].coef.detach())
        assert_close(ours.layers[l].scale_base.detach(), theirs.act_fun[l].scale_base.detach())


def test_kanpiler_leaves_global_rngs_as_pykan():
    x, v = sympy.symbols("x v_x")
    kanpiler((x, v), v**2, grid=20)
    ours = _draws()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from kan.compiler import kanpiler as pykan_kanpiler

        pykan_kanpiler((x, v), v**2, grid=20)
    theirs = _draws()
    assert torch.equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])


@pytest.mark.parametrize("formula", ["v_x**2", "v_x**2 + sin(x)", "x*v_x"])
def test_perturb_best_equals_all(formula):
    x, v = sympy.symbols("x v_x")
    expr = sympy.sympify(formula, locals={"x": x, "v_x": v})
    best, every = kanpiler((x, v), expr, grid=5), kanpiler((x, v), expr, grid=5)
    best.perturb(mode="best", mag=0.1)
    every.perturb(mode="all", mag=0.1)
    for ours, theirs in zip(best.layers, every.layers, strict=True):
        for name in ("mask", "sym_mask", "scale_base", "scale_sp", "coef", "sym_params"):
            assert torch.equal(getattr(ours, name), getattr(theirs, name))
    assert best.history.current.operation == "perturb"


def test_perturb_best_switches_on_every_numeric_branch_at_mag():
    x, v = sympy.symbols("x v_x")
    model = kanpiler((x, v), v**2, grid=5)
    sym = [(layer.sym_mask.clone(), [list(r) for r in layer.sym_names]) for layer in model.layers]
    xs = torch.rand(64, 2) * 2 - 1
    model.perturb(mode="best", mag=0.1)
    for layer, (sym_mask, names) in zip(model.layers, sym, strict=True):
        assert torch.equal(layer.mask, torch.full_like(layer.mask, 0.1))
        assert torch.equal(layer.sym_mask, sym_mask) and layer.sym_names == names
    # the numeric branches now train on every edge, including x's (symbolic '0')
    model(xs).pow(2).sum().backward()
    assert bool((model.layers[0].coef.grad.abs().sum(-1) > 0).all())


def _gradient_direction(model, x):
    grad = batch_jacobian(model, x, create_graph=True)
    return grad / torch.linalg.norm(grad, dim=1, keepdim=True)


def _along_flow(pred, flow):
    return torch.mean(torch.sum(flow * pred, dim=1) ** 2)


def test_fit_pred_fn_adam_step_equals_manual_step():
    torch.manual_seed(0)
    x = torch.rand(200, 2) * 2 - 1
    flow = torch.cat([x[:, [1]], -x[:, [0]]], dim=1)
    data = {"train_input": x, "train_label": flow, "test_input": x[:50], "test_label": flow[:50]}
    model, twin = KAN(width=[2, 1], seed=0), KAN(width=[2, 1], seed=0)
    start = _along_flow(_gradient_direction(model, x), flow).item()
    out = model.fit(data, opt="Adam", lr=0.01, steps=1, update_grid=False,
                    pred_fn=_gradient_direction, loss_fn=_along_flow)  # fmt: skip
    params = [p for p in twin.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=0.01)
    _along_flow(_gradient_direction(twin, x), flow).backward()
    opt.step()
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        assert_close(mine.detach(), theirs.detach())
    assert out["train_loss"][0] == pytest.approx(start**0.5, rel=1e-6)
    test = _along_flow(_gradient_direction(twin, x[:50]), flow[:50]).item()
    assert out["test_loss"][0] == pytest.approx(test**0.5, rel=1e-5)


def test_fit_pred_fn_learns_a_conserved_quantity():
    # pykan's tutorial Physics_2A: H = (x^2 + p^2) / 2 from the flow (p, -x)
    model = KAN(width=[2, 1], seed=42)
    x = torch.rand(1000, 2) * 2 - 1
    flow = torch.cat([x[:, [1]], -x[:, [0]]], dim=1)
    data = {"train_input": x[:800], "train_label": flow[:800],
            "test_input": x[800:], "test_label": flow[800:]}  # fmt: skip
    out = model.fit(data, steps=20, pred_fn=_gradient_direction, loss_fn=_along_flow)
    assert out["test_loss"][-1] < 1e-2
    # along p = 0, H - H(0) is c * x^2 (c of either sign)
    grid = torch.tensor([-0.9, -0.6, -0.3, 0.3, 0.6, 0.9])
    h = model(torch.stack([grid, torch.zeros(6)], 1)).detach().squeeze(1)
    h0 = model(torch.zeros(1, 2)).detach().squeeze()
    c = (h - h0) / grid**2
    assert_close(c, c.mean().expand(6), rtol=0.1, atol=0)


def test_fit_pred_fn_refused_if_not_callable_and_model_untouched():
    model = KAN(width=[2, 1], seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(20, 2)
    data = {"train_input": x, "train_label": x, "test_input": x, "test_label": x}
    with pytest.raises(TypeError, match="pred_fn"):
        model.fit(data, steps=1, pred_fn="grad")
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
