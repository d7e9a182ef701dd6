"""Training a symbolic model (the fit after ``auto_symbolic``): the layer skips a numeric
branch whose every edge is off, and the symbolic branch's summed forward equals its per-edge
activations; values, regulariser spreads and gradients as the full computation's."""

from __future__ import annotations

import pytest
import torch

from kanwidget import KAN
from kanwidget.kan.layer import KANLayer
from kanwidget.kan.symbolic.branch import symbolic_edge_acts, symbolic_forward
from kanwidget.kan.symbolic.library import get_function

f64 = torch.float64
NAMES = [["sin", "0", "x^2"], ["exp", "0", "tanh"]]


def all_symbolic_model() -> KAN:
    """A [2, 3, 1] float64 KAN with every edge fixed to a function (numeric masks all 0)."""
    model = KAN([2, 3, 1], grid=5, k=3, seed=0, dtype=f64)
    for (i, j), name in zip([(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)],
                            ["sin", "x^2", "exp", "tanh", "x", "cos"], strict=True):  # fmt: skip
        model.fix_symbolic(0, i, j, name, fit_params_bool=False)
    for i, name in enumerate(["x^2", "sin", "x"]):
        model.fix_symbolic(1, i, 0, name, fit_params_bool=False)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for layer in model.layers:
            layer.sym_params.add_(0.3 * torch.randn(layer.sym_params.shape, generator=gen,
                                                     dtype=f64))  # fmt: skip
    assert all(not layer.mask.any() for layer in model.layers)
    return model


def forward_and_grads(model: KAN, x: torch.Tensor):
    params = [p for p in model.parameters() if p.requires_grad]
    out, stds = model._forward(x, with_std=True)
    loss = out.square().mean() + sum(s.sum() for pair in stds for s in pair)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return (
        out.detach(),
        [s.detach() for pair in stds for s in pair],
        [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)],
    )


def test_layer_all_symbolic_skips_numeric_branch_with_the_same_numbers(monkeypatch):
    model = all_symbolic_model()
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(2), dtype=f64) * 2 - 1
    calls = []
    real_base = model.layers[0].base_fun
    for layer in model.layers:
        layer.base_fun = lambda t, real=real_base: calls.append(1) or real(t)
    out, stds, grads = forward_and_grads(model, x)
    assert calls == []  # no numeric branch ran
    monkeypatch.setattr(KANLayer, "_mask_is_empty", lambda self: False)
    ref_out, ref_stds, ref_grads = forward_and_grads(model, x)
    assert len(calls) == 2  # the full computation ran the numeric branch of both layers
    torch.testing.assert_close(out, ref_out, rtol=1e-13, atol=1e-13)
    for s, r in zip(stds, ref_stds, strict=True):
        torch.testing.assert_close(s, r, rtol=1e-12, atol=1e-12)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r, rtol=1e-12, atol=1e-12)


def test_layer_with_some_numeric_edges_keeps_its_numeric_branch():
    model = KAN([2, 2, 1], grid=5, k=3, seed=0, dtype=f64)
    model.fix_symbolic(0, 0, 0, "sin", fit_params_bool=False)
    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(3), dtype=f64)
    layer = model.layers[0]
    acts = layer.edge_activations(x)  # (B, out, in), both branches
    torch.testing.assert_close(layer(x), acts.sum(-1))


def test_symbolic_forward_masked_unset_edges_add_nothing():
    gen = torch.Generator().manual_seed(4)
    x = torch.rand(16, 2, generator=gen, dtype=f64) * 2 - 1
    params = torch.randn(2, 3, 4, generator=gen, dtype=f64)
    mask = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=f64)
    expected = torch.zeros(16, 3, dtype=f64)
    for i, row in enumerate(NAMES):
        for j, name in enumerate(row):
            a, b, c, d = params[i, j]
            expected[:, j] += mask[i, j] * (c * get_function(name).torch_fn(a * x[:, i] + b) + d)
    torch.testing.assert_close(symbolic_forward(x, NAMES, params, mask), expected)
    torch.testing.assert_close(symbolic_edge_acts(x, NAMES, params, mask).sum(-1), expected)
    with pytest.raises(ValueError, match="shape mismatch"):
        symbolic_forward(x[:, :1], NAMES, params, mask)
