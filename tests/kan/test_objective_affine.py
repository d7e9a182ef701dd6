"""The C objective with fixed node/subnode affine maps (kan/kernels/objective.py
``output_affine``): a pruned model keeps the removed edges' mean output in its subnode bias,
and fit stays on the C engines for it, with the numbers of the autograd objective."""

from __future__ import annotations

import os

import pytest
import torch

from kanwidget import KAN
from kanwidget.kan import kernels
from kanwidget.kan.train import regularization, update_grid_from_samples
from kanwidget.kan.train.lbfgs import LBFGS

if kernels.load() is None and os.environ.get("KANWIDGET_REQUIRE_NATIVE"):  # CI: must build
    raise RuntimeError(f"the native kernel did not load: {kernels.status()}")
pytestmark = pytest.mark.skipif(
    kernels.load() is None, reason=f"no native kernel: {kernels.status()}"
)
f64 = torch.float64


def per_op_objective(model, x, y, lamb):
    pred, stds = model._forward(x, with_std=lamb > 0)
    loss = ((pred - y) ** 2).mean()
    if lamb > 0:
        loss = loss + lamb * regularization(stds, 1.0, 2.0)
    return loss


def with_affine_maps(model: KAN, gen: torch.Generator) -> KAN:
    """Every layer's four affine tensors set to random non-identity values (not trained)."""
    with torch.no_grad():
        for plist, centre in ((model.subnode_scale, 1.0), (model.subnode_bias, 0.0),
                              (model.node_scale, 1.0), (model.node_bias, 0.0)):  # fmt: skip
            for p in plist:
                p.copy_(centre + 0.5 * torch.rand(p.shape, generator=gen, dtype=p.dtype) - 0.25)
    assert not any(model._affine_is_identity(l) for l in range(model.depth))
    return model


@pytest.mark.parametrize("dtype", [f64, torch.float32])
@pytest.mark.parametrize("block", ["1", "0"])
@pytest.mark.parametrize("width", [[2, 5, 1], [3, 4, 3, 2]])
@pytest.mark.parametrize("lamb", [0.0, 0.01])
def test_kan_problem_applies_fixed_affine_maps(dtype, block, width, lamb, monkeypatch):
    """Value and gradient of the C objective equal autograd's through the model's forward
    (which applies ``y * subnode_scale + subnode_bias``, then the node map), in both paths."""
    monkeypatch.setenv("KANWIDGET_BLOCK", block)
    gen = torch.Generator().manual_seed(3)
    model = with_affine_maps(KAN(width, grid=5, k=3, seed=4, dtype=dtype), gen)
    x = (torch.rand(57, width[0], generator=gen, dtype=dtype) * 2 - 1) * 1.1
    y = torch.randn(57, width[-1], generator=gen, dtype=dtype)
    update_grid_from_samples(model, x)
    params = [p for p in model.parameters() if p.requires_grad]
    problem = kernels.KANProblem(model, x, y, params, lamb, 1.0, 2.0)
    assert problem.problem.block == (block == "1")
    theta = problem.gather() + 0.05 * torch.randn(problem.n, generator=gen, dtype=f64)
    value, grad = problem(theta)
    problem.scatter(theta)
    ref = per_op_objective(model, x, y, lamb)
    ref_flat = torch.cat([g.reshape(-1).to(f64) for g in torch.autograd.grad(ref, params)])
    tol = 1e-12 if dtype == f64 else 2e-6
    assert value == pytest.approx(float(ref.detach()), rel=tol)
    assert (grad - ref_flat).abs().max() <= tol * 10 * ref_flat.abs().max()


def test_kan_problem_is_rebuilt_when_an_affine_map_changes():
    model = KAN([2, 3, 1], grid=5, seed=0, dtype=f64)
    x, y = torch.rand(64, 2, dtype=f64) * 2 - 1, torch.rand(64, 1, dtype=f64)
    params = [p for p in model.parameters() if p.requires_grad]
    problem = kernels.KANProblem(model, x, y, params, 0.0, 1.0, 2.0)
    before, _ = problem(problem.gather(), grad=False)
    with torch.no_grad():
        model.subnode_bias[1].add_(0.5)  # the output shifts by 0.5
    assert not problem.matches(model, x, y)
    rebuilt = kernels.KANProblem(model, x, y, params, 0.0, 1.0, 2.0)
    after, _ = rebuilt(rebuilt.gather(), grad=False)
    with torch.no_grad():
        assert after == pytest.approx(float(((model(x) - y) ** 2).mean()), rel=1e-12)
    assert after != pytest.approx(before)


def pruned(dtype=f64):
    """A [2, 5, 1] model trained on y = sin(pi x0) and pruned: its subnode biases are not 0."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(400, 2, generator=gen, dtype=dtype) * 2 - 1
    y = torch.sin(torch.pi * x[:, :1])
    ds = {"train_input": x[:200], "train_label": y[:200],
          "test_input": x[200:], "test_label": y[200:]}  # fmt: skip
    model = KAN([2, 5, 1], grid=5, k=3, seed=0, dtype=dtype)
    model.fit(ds, steps=10, lamb=0.01, progress=False)
    model.prune()
    assert not all(model._affine_is_identity(l) for l in range(model.depth))
    return model, ds


def test_fit_after_prune_runs_the_c_lbfgs_with_torchs_numbers(monkeypatch):
    """The fit after prune: C LBFGS steps (no torch optimiser), and the same records and
    parameters as the torch engine's LBFGS (torch's algorithm with pykan's ``tolerance_ys``,
    :mod:`kanwidget.kan.train.lbfgs`) on the autograd objective (float64, to rounding)."""
    model, ds = pruned()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    native_steps, torch_steps = [], []
    real_native, real_torch = kernels.NativeLBFGS.step, LBFGS.step

    def spy_native(self, x, objective):
        native_steps.append(1)
        return real_native(self, x, objective)

    def spy_torch(self, closure):
        torch_steps.append(1)
        return real_torch(self, closure)

    monkeypatch.setattr(kernels.NativeLBFGS, "step", spy_native)
    monkeypatch.setattr(LBFGS, "step", spy_torch)
    results = {}
    for flag in ("1", "0"):
        monkeypatch.setenv("KANWIDGET_NATIVE_FIT", flag)
        model.load_state_dict(state)
        hist = model.fit(ds, steps=3, lamb=0.001, progress=False)
        results[flag] = (hist, torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
        counts = (len(native_steps), len(torch_steps))
        assert counts == ((3, 0) if flag == "1" else (3, 3))
    (h1, p1), (h0, p0) = results["1"], results["0"]
    for key in ("train_loss", "test_loss", "reg"):
        assert h1[key] == pytest.approx(h0[key], rel=1e-6)
    assert torch.allclose(p1, p0, rtol=1e-6, atol=1e-8)
