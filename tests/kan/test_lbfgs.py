"""fit's LBFGS in C (kan/kernels/: lbfgs.py, _lbfgs.c, kan_objective in _native.c): the
optimiser step for step against torch.optim.LBFGS, the objective against autograd and
finite differences, and fit against the torch optimiser."""

from __future__ import annotations

import os

import pytest
import torch

from kanwidget import KAN
from kanwidget.kan import kernels
from kanwidget.kan.kernels.objective import BLOCK_MAX_NB
from kanwidget.kan.train import regularization, update_grid_from_samples
from kanwidget.kan.train.c_adam import FlatAdam
from tests.kan.lbfgs_runs import lbfgs_run, value_and_grad

if kernels.load() is None and os.environ.get("KANWIDGET_REQUIRE_NATIVE"):  # CI: must build
    raise RuntimeError(f"the native kernel did not load: {kernels.status()}")
pytestmark = pytest.mark.skipif(
    kernels.load() is None, reason=f"no native kernel: {kernels.status()}"
)
f64 = torch.float64


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def torch_run(fn, x0, steps, **kw):
    p = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([p], line_search_fn="strong_wolfe", **kw)

    def closure():
        opt.zero_grad()
        v = fn(p)
        v.backward()
        return v

    out = []
    for _ in range(steps):
        loss = float(opt.step(closure).detach())
        out.append((loss, p.detach().clone(), opt.state[p]["func_evals"]))
    return out


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"history_size": 3, "max_iter": 7},  # the ring buffer of pairs wraps around
        {"lr": 0.3, "history_size": 2, "max_eval": 9},
        {"tolerance_grad": 1e-32, "tolerance_change": 1e-32, "history_size": 10},
    ],
)
def test_lbfgs_iterates_match_torch_on_rosenbrock(kw):
    gen = torch.Generator().manual_seed(3)
    x0 = torch.randn(7, generator=gen, dtype=f64) * 1.5
    ref = torch_run(rosenbrock, x0, 6, **kw)
    opt = kernels.NativeLBFGS(7, **kw)
    x = x0.clone()
    for loss_t, x_t, evals_t in ref:
        loss = opt.step(x, value_and_grad(rosenbrock))
        assert loss == pytest.approx(loss_t, rel=1e-9, abs=1e-12)
        assert torch.allclose(x, x_t, rtol=1e-8, atol=1e-10)
        assert opt.func_evals == evals_t  # same line-search decisions, same evaluation count
    if not kw:  # the defaults reach the minimum (1, ..., 1)
        assert torch.allclose(x, torch.ones(7, dtype=f64), atol=1e-6)


def tiny_rosenbrock(x: torch.Tensor) -> torch.Tensor:
    """Rosenbrock at 1e-12 scale: every curvature pair y.s is below torch's 1e-10."""
    return 1e-12 * rosenbrock(x)


def _x0():
    return torch.randn(7, generator=torch.Generator().manual_seed(3), dtype=f64) * 1.5


def test_lbfgs_tolerance_ys_1e10_takes_torchs_iterates():
    from kanwidget.kan.train.lbfgs import LBFGS

    for fn in (rosenbrock, tiny_rosenbrock):
        ours = lbfgs_run(LBFGS, fn, _x0(), 5, tolerance_ys=1e-10)
        ref = lbfgs_run(torch.optim.LBFGS, fn, _x0(), 5)
        for (loss, x), (loss_t, x_t) in zip(ours, ref, strict=True):
            assert loss == loss_t and torch.equal(x, x_t)


def test_lbfgs_tolerance_ys_takes_pykans_iterates_on_small_curvature():
    import warnings

    from kanwidget.kan.train.lbfgs import LBFGS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from kan.LBFGS import LBFGS as PykanLBFGS
    kw = {"tolerance_grad": 1e-32, "tolerance_change": 1e-32, "history_size": 10}
    ours = lbfgs_run(LBFGS, tiny_rosenbrock, _x0(), 5, tolerance_ys=1e-32, **kw)
    ref = lbfgs_run(PykanLBFGS, tiny_rosenbrock, _x0(), 5, tolerance_ys=1e-32, **kw)
    torch_ref = lbfgs_run(torch.optim.LBFGS, tiny_rosenbrock, _x0(), 5, **kw)
    for (loss, x), (loss_p, x_p) in zip(ours, ref, strict=True):
        assert loss == pytest.approx(loss_p, rel=1e-12) and torch.allclose(x, x_p, rtol=1e-12)
    # torch's fixed 1e-10 keeps no curvature pairs here: it ends far worse
    assert ours[-1][0] < 0.1 * torch_ref[-1][0]


def test_native_lbfgs_tolerance_ys_matches_python_lbfgs():
    from kanwidget.kan.train.lbfgs import LBFGS

    kw = {"tolerance_grad": 1e-32, "tolerance_change": 1e-32, "history_size": 10}
    ref = lbfgs_run(LBFGS, tiny_rosenbrock, _x0(), 4, tolerance_ys=1e-32, **kw)
    opt = kernels.NativeLBFGS(7, tolerance_ys=1e-32, **kw)
    x = _x0()
    for loss_t, x_t in ref:
        loss = opt.step(x, value_and_grad(tiny_rosenbrock))
        assert loss == pytest.approx(loss_t, rel=1e-9, abs=1e-30)
        assert torch.allclose(x, x_t, rtol=1e-8, atol=1e-10)


def test_lbfgs_solves_a_quadratic_in_n_steps():
    """Strictly convex quadratic 1/2 x'Ax - b'x: minimum at A^-1 b (closed form)."""
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(5, 5, generator=gen, dtype=f64)
    a = q @ q.T + 5 * torch.eye(5, dtype=f64)
    b = torch.randn(5, generator=gen, dtype=f64)
    opt = kernels.NativeLBFGS(5, history_size=10, tolerance_grad=1e-12, tolerance_change=1e-16)
    x = torch.zeros(5, dtype=f64)
    opt.step(x, lambda v: (float(0.5 * v @ a @ v - b @ v), a @ v - b))
    assert torch.allclose(x, torch.linalg.solve(a, b), atol=1e-9)


def test_lbfgs_objective_errors_leave_x_intact():
    opt = kernels.NativeLBFGS(3)
    x = torch.tensor([1.0, 2.0, 3.0], dtype=f64)
    calls = []

    def bad(v):
        calls.append(1)
        if len(calls) > 2:
            raise ValueError("boom")
        return float((v**2).sum()), 2 * v

    with pytest.raises(ValueError, match="boom"):
        opt.step(x, bad)
    assert x.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="float64"):
        opt.step(torch.zeros(3), bad)
    with pytest.raises(ValueError, match="at least one"):
        kernels.NativeLBFGS(0)
    with pytest.raises(ValueError, match="max_iter and history_size"):
        kernels.NativeLBFGS(3, history_size=0)
    with pytest.raises(ValueError, match="learning rate"):
        kernels.NativeLBFGS(3, lr=-1.0)
    with pytest.raises(ValueError, match="learning rate"):
        FlatAdam(3, lr=float("nan"))


# ------------------------------------------------------------------ the KAN objective
def per_op_objective(model, x, y, lamb):
    pred, stds = model._forward(x, with_std=lamb > 0)
    loss = ((pred - y) ** 2).mean()
    if lamb > 0:
        loss = loss + lamb * regularization(stds, 1.0, 2.0)
    return loss


CASES = [  # width, grid, k, batch, adapted grids
    ([2, 5, 1], 5, 3, 1000, True),
    ([3, 4, 2], 5, 3, 37, False),
    ([3, 2, 3, 1], 4, 2, 50, True),  # k = 2: the generic-order copies
    ([2, 3, 1], 40, 3, 64, False),  # 43 basis functions: the generic path
    ([2, 3, 20, 1], 5, 3, 33, True),  # a wide hidden layer: no basis cache there
    ([2, 4, 1], 6, 1, 40, True),  # piecewise linear
    # k = 0 (steps) on fixed knots: adapted ones put samples on the end knots, where a
    # last-bit difference of a hidden value switches a whole step on or off
    ([2, 4, 1], 6, 0, 40, False),
]


@pytest.mark.parametrize("dtype", [f64, torch.float32])
@pytest.mark.parametrize("block", ["1", "0"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("lamb", [0.0, 0.01])
def test_kan_objective_matches_autograd(dtype, block, case, lamb, monkeypatch):
    monkeypatch.setenv("KANWIDGET_BLOCK", block)
    width, grid, k, batch, adapted = case
    model = KAN(width, grid=grid, k=k, seed=2, dtype=dtype, sb_trainable=False)
    model.layers[0].mask[1, 0] = 0  # a pruned edge
    gen = torch.Generator().manual_seed(1)
    x = (torch.rand(batch, width[0], generator=gen, dtype=dtype) * 2 - 1) * 1.2
    y = torch.randn(batch, width[-1], generator=gen, dtype=dtype)
    if adapted:
        update_grid_from_samples(model, x)
    x[0, 0] = 7.0  # outside every grid
    params = [p for p in model.parameters() if p.requires_grad]
    assert all(p is not layer.scale_base for p in params for layer in model.layers)
    problem = kernels.KANProblem(model, x, y, params, lamb, 1.0, 2.0)
    assert problem.problem.block == (block == "1" and grid + k <= BLOCK_MAX_NB)
    theta = problem.gather() + 0.05 * torch.randn(problem.n, generator=gen, dtype=f64)
    value, grad = problem(theta)
    again, grad2 = problem(theta)  # second call: the cached basis of the data
    problem.scatter(theta)
    ref = per_op_objective(model, x, y, lamb)
    ref_grad = torch.autograd.grad(ref, params)
    ref_flat = torch.cat([g.reshape(-1).to(f64) for g in ref_grad])
    tol = 1e-12 if dtype == f64 else 2e-6
    assert value == pytest.approx(float(ref.detach()), rel=tol)
    assert value == again and torch.equal(grad, grad2)
    scale = ref_flat.abs().max()
    assert (grad - ref_flat).abs().max() <= tol * 10 * scale
    assert problem.mse == pytest.approx(float(per_op_objective(model, x, y, 0.0).detach()), rel=tol)
    value_only, none = problem(theta, grad=False)
    assert none is None and value_only == value


def test_kan_objective_gradient_by_finite_differences():
    model = KAN([2, 3, 1], grid=4, k=3, seed=5, dtype=f64)
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(40, 2, generator=gen, dtype=f64) * 2 - 1
    y = torch.sin(3 * x[:, :1]) * x[:, 1:]
    update_grid_from_samples(model, x)
    params = [p for p in model.parameters() if p.requires_grad]
    problem = kernels.KANProblem(model, x, y, params, 0.01, 1.0, 2.0)
    theta = problem.gather()
    _, grad = problem(theta)
    eps = 1e-6
    for idx in torch.randperm(problem.n, generator=gen)[:25].tolist():
        e = torch.zeros_like(theta)
        e[idx] = eps
        fd = (problem(theta + e, grad=False)[0] - problem(theta - e, grad=False)[0]) / (2 * eps)
        assert fd == pytest.approx(float(grad[idx]), rel=1e-5, abs=1e-8)


def test_problem_is_rebuilt_when_the_model_changes():
    model = KAN([2, 3, 1], grid=5, seed=0, sb_trainable=False)
    x, y = torch.rand(64, 2) * 2 - 1, torch.rand(64, 1)
    params = [p for p in model.parameters() if p.requires_grad]
    problem = kernels.KANProblem(model, x, y, params, 0.0, 1.0, 2.0)
    assert problem.matches(model, x, y)
    assert not problem.matches(model, x.clone(), y)
    with torch.no_grad():
        model.layers[1].scale_base.mul_(2)  # a frozen tensor: its copy in C is stale
    assert not problem.matches(model, x, y)
    problem = kernels.KANProblem(model, x, y, params, 0.0, 1.0, 2.0)
    update_grid_from_samples(model, x)  # new knots, new tables
    assert not problem.matches(model, x, y)


# ------------------------------------------------------------------ fit
def dataset(dtype, n=300):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2 * n, 2, generator=gen, dtype=dtype) * 2 - 1
    y = torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:] ** 2)
    return {"train_input": x[:n], "train_label": y[:n], "test_input": x[n:], "test_label": y[n:]}


def test_c_lbfgs_on_the_kan_objective_tracks_torch_lbfgs():
    """torch.optim.LBFGS and the C driver on the same (C) objective, float64: the same
    iterates and evaluation counts.  (Long runs drift apart: LBFGS with tolerance 1e-32
    amplifies the last-bit differences of their dot products ~100x per step.)"""
    ds = dataset(f64)
    model = KAN([2, 3, 1], grid=5, k=3, seed=0, dtype=f64)
    params = [p for p in model.parameters() if p.requires_grad]
    problem = kernels.KANProblem(model, ds["train_input"], ds["train_label"], params, 0.001,
                               1.0, 2.0)  # fmt: skip
    theta0 = problem.gather()
    kw = {"history_size": 10, "tolerance_grad": 1e-32, "tolerance_change": 1e-32}
    p = theta0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([p], line_search_fn="strong_wolfe", **kw)

    def closure():
        value, grad = problem(p.detach())
        p.grad = grad
        return torch.tensor(value, dtype=f64)

    native_opt = kernels.NativeLBFGS(problem.n, **kw)
    theta = theta0.clone()
    for _ in range(3):
        opt.step(closure)
        native_opt.step(theta, problem)
        assert torch.allclose(theta, p.detach(), rtol=1e-7, atol=1e-8)
        assert native_opt.func_evals == opt.state[p]["func_evals"]
    assert problem.mse < 0.05  # and it trains: RMSE of the start is ~2


def fit_both_ways(monkeypatch, rel, **fit_kw):
    """The same float64 fit with the C optimiser and with torch's; asserts the records and
    the parameters agree to ``rel``; returns the C run's record."""
    ds = dataset(f64)
    results = {}
    for flag in ("1", "0"):
        monkeypatch.setenv("KANWIDGET_NATIVE_FIT", flag)
        model = KAN([2, 3, 1], grid=5, k=3, seed=0, dtype=f64)
        hist = model.fit(ds, lamb=0.001, progress=False, **fit_kw)
        results[flag] = (hist, torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    (h1, p1), (h0, p0) = results["1"], results["0"]
    for key in ("train_loss", "test_loss", "reg"):
        assert h1[key] == pytest.approx(h0[key], rel=rel)
    assert torch.allclose(p1, p0, rtol=rel, atol=rel * 1e-2)
    return h1


def test_fit_matches_torch_lbfgs_in_float64(monkeypatch):
    """fit with the C LBFGS vs torch's LBFGS on the per-op objective, grid updates between
    the steps: the first steps agree to rounding."""
    hist = fit_both_ways(monkeypatch, 1e-6, opt="LBFGS", steps=2, grid_update_num=2,
                         stop_grid_update_step=2)  # fmt: skip
    assert hist["train_loss"][-1] < 0.3 * hist["train_loss"][0]


def test_fit_uses_the_c_lbfgs_for_plain_kans_only(monkeypatch):
    ds = dataset(torch.float32, 200)
    steps = []
    real = kernels.NativeLBFGS.step

    def spy(self, x, objective):
        steps.append(objective)
        return real(self, x, objective)

    monkeypatch.setattr(kernels.NativeLBFGS, "step", spy)
    model = KAN([2, 3, 1], grid=5, seed=0)
    hist = model.fit(ds, opt="LBFGS", steps=20, lamb=0.001, progress=False)
    assert len(steps) == 20 and hist["train_loss"][-1] < 0.05
    # problems are reused between grid updates (data, knots and frozen tensors unchanged)
    assert len({id(p) for p in steps}) <= 11
    steps.clear()
    KAN([2, [2, 1], 1], grid=5, seed=0).fit(ds, opt="LBFGS", steps=2, progress=False)
    assert steps == []  # multiplication nodes: torch's LBFGS on the autograd objective
    model.fit(ds, opt="LBFGS", steps=2, loss_fn=lambda p, y: ((p - y).abs()).mean(),
              progress=False)  # fmt: skip
    assert steps == []  # a custom loss likewise
    steps.clear()
    model.fit(ds, opt="Adam", steps=3, progress=False)
    assert steps == []  # Adam: FlatAdam on the same objective, no LBFGS steps


def test_kan_objective_with_two_threads(monkeypatch):
    """The sparse path runs its kernels on the problem's thread count (OpenMP)."""
    monkeypatch.setenv("KANWIDGET_BLOCK", "0")
    model = KAN([3, 8, 2], grid=5, seed=4, dtype=f64)
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(500, 3, generator=gen, dtype=f64) * 2 - 1
    y = torch.randn(500, 2, generator=gen, dtype=f64)
    params = [p for p in model.parameters() if p.requires_grad]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        problem = kernels.KANProblem(model, x, y, params, 0.01, 1.0, 2.0)
        assert problem.problem.nthreads == 2
        value, grad = problem(problem.gather())
    finally:
        torch.set_num_threads(before)
    ref = per_op_objective(model, x, y, 0.01)
    ref_flat = torch.cat([g.reshape(-1) for g in torch.autograd.grad(ref, params)])
    assert value == pytest.approx(float(ref.detach()), rel=1e-12)
    assert torch.allclose(grad, ref_flat, rtol=1e-9, atol=1e-13)


def test_flat_adam_matches_torch_adam():
    gen = torch.Generator().manual_seed(6)
    a = torch.randn(6, 6, generator=gen, dtype=f64)
    a = a @ a.T + torch.eye(6, dtype=f64)
    b = torch.randn(6, generator=gen, dtype=f64)
    x0 = torch.randn(6, generator=gen, dtype=f64)
    p = x0.clone().requires_grad_(True)
    ref = torch.optim.Adam([p], lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    ours = FlatAdam(6, lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    theta = x0.clone()
    for _ in range(25):
        ref.zero_grad()
        (0.5 * p @ a @ p - b @ p).backward()
        ref.step()
        ours.step(theta, a @ theta - b)
        assert torch.allclose(theta, p.detach(), rtol=1e-12, atol=1e-14)


def test_fit_adam_matches_torch_adam_in_float64(monkeypatch):
    hist = fit_both_ways(monkeypatch, 1e-8, opt="Adam", lr=0.01, steps=30,
                         stop_grid_update_step=20)  # fmt: skip
    assert hist["train_loss"][-1] < 0.8 * hist["train_loss"][0]


def test_block_path_refuses_grids_beyond_its_arrays():
    """Asking for the block path with a 43-function grid falls back to the sparse path (in C:
    the block path's per-block arrays hold at most 32 basis rows)."""
    model = KAN([2, 3, 1], grid=40, k=3, seed=0, dtype=f64)
    x = torch.rand(40, 2, generator=torch.Generator().manual_seed(0), dtype=f64) * 2 - 1
    y = x[:, :1] ** 2
    params = [p for p in model.parameters() if p.requires_grad]
    problem = kernels.KANProblem(model, x, y, params, 0.0, 1.0, 2.0)
    problem.problem.block = 1
    value, _ = problem(problem.gather())
    assert problem.problem.block == 0
    assert value == pytest.approx(float(per_op_objective(model, x, y, 0.0).detach()), rel=1e-12)


def test_fit_hands_over_to_torch_when_an_edit_makes_the_model_non_plain(monkeypatch):
    """A symbolic fix between steps (the widget applies edits there) adds a branch the C
    objective does not compute: the following steps run torch's optimiser on the autograd
    objective, and the recorded losses are the model's."""
    ds = dataset(f64, 200)
    native_steps, torch_steps = [], []
    from kanwidget.kan.train.lbfgs import LBFGS

    real_native, real_torch = kernels.NativeLBFGS.step, LBFGS.step

    def spy_native(self, x, objective):
        native_steps.append(1)
        return real_native(self, x, objective)

    def spy_torch(self, closure):
        torch_steps.append(1)
        return real_torch(self, closure)

    monkeypatch.setattr(kernels.NativeLBFGS, "step", spy_native)
    monkeypatch.setattr(LBFGS, "step", spy_torch)
    model = KAN([2, 3, 1], grid=5, seed=0, dtype=f64)

    def fix_at_step_1(step, record):
        if step == 1:
            model.fix_symbolic(0, 1, 0, "x^2")

    hist = model.fit(ds, opt="LBFGS", steps=4, update_grid=False, callback=fix_at_step_1,
                     progress=False)  # fmt: skip
    assert len(native_steps) == 2 and len(torch_steps) == 2
    with torch.no_grad():
        test = float(((model(ds["test_input"]) - ds["test_label"]) ** 2).mean().sqrt())
    assert hist["test_loss"][-1] == pytest.approx(test, rel=1e-10)


PORTABLE_CHECK = r"""
import os, sys, torch
from kanwidget.kan import kernels
from kanwidget.kan.kernels import build
build.FLAG_SETS = (tuple(sys.argv[1].split()),)
assert kernels.status() == "loaded", kernels.status()
from kanwidget import KAN
from kanwidget.kan.train import regularization, update_grid_from_samples
worst = 0.0
for dtype, block in [(torch.float32, "1"), (torch.float32, "0"), (torch.float64, "1")]:
    os.environ["KANWIDGET_BLOCK"] = block
    model = KAN([2, 4, 1], grid=5, seed=3, dtype=dtype)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(100, 2, generator=gen, dtype=dtype) * 2 - 1
    y = torch.sin(3 * x[:, :1]) * x[:, 1:]
    update_grid_from_samples(model, x)
    params = [p for p in model.parameters() if p.requires_grad]
    problem = kernels.KANProblem(model, x, y, params, 0.01, 1.0, 2.0)
    value, grad = problem(problem.gather())
    pred, stds = model._forward(x, with_std=True)
    ref = ((pred - y) ** 2).mean() + 0.01 * regularization(stds, 1.0, 2.0)
    ref_grad = torch.cat([g.reshape(-1) for g in torch.autograd.grad(ref, params)]).double()
    worst = max(worst, abs(value - float(ref.detach())) / float(ref.detach()),
                float((grad - ref_grad).abs().max() / ref_grad.abs().max()))
print(worst)
"""


def _cpu_has(flag: str) -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return f" {flag}" in f.read()
    except OSError:
        return False


@pytest.mark.parametrize(
    "flags",
    [
        "-O3",  # no OpenMP, no -march: the portable scalar code
        pytest.param("-O3 -march=x86-64-v3 -fopenmp -fno-math-errno", marks=pytest.mark.skipif(
            not _cpu_has("avx2") or not _cpu_has("fma"), reason="needs an AVX2 CPU")),
    ],
)  # fmt: skip
def test_objective_in_other_builds(flags, tmp_path):
    """The kernel as other machines build it (the SIMD paths differ): the objective still
    matches autograd.  In a subprocess with its own cache, so this process's library stays."""
    import subprocess
    import sys

    env = {**os.environ, "KANWIDGET_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", PORTABLE_CHECK, flags], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip().splitlines()[-1]) < 2e-5
