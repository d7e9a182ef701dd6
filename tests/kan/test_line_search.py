"""fit's strong-Wolfe line search (kan/train/line_search.py): torch's where every trial is
finite, a back-off where a trial is not (torch's returns NaN there), and a symbolic model
whose first LBFGS trial overflows float32 now trains instead of raising."""

from __future__ import annotations

import math

import pytest
import torch
from torch.optim.lbfgs import _cubic_interpolate as torch_cubic
from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

from kanwidget import KAN, create_dataset
from kanwidget.kan.train import lbfgs
from kanwidget.kan.train.line_search import _cubic_interpolate, strong_wolfe
from tests.kan.lbfgs_runs import lbfgs_run, value_and_grad

f64 = torch.float64


def directional(fn):
    """torch's ``obj_func(x, t, d)`` for a function of one flat tensor."""

    def obj(x, t, d):
        p = (x[0] + t * d).detach().requires_grad_(True)
        v = fn(p)
        (g,) = torch.autograd.grad(v, p)
        return float(v.detach()), g

    return obj


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def quartic(x):
    return ((x - 0.3) ** 4).sum() + (x**2).sum()


@pytest.mark.parametrize("fn", [rosenbrock, quartic], ids=["rosenbrock", "quartic"])
@pytest.mark.parametrize("t0", [1e-3, 0.1, 1.0, 30.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_line_search_equals_torchs_where_finite(fn, t0, seed):
    x0 = torch.randn(6, generator=torch.Generator().manual_seed(seed), dtype=f64)
    f, g = directional(fn)([x0], 0.0, torch.zeros_like(x0))
    d = -g
    ours = strong_wolfe(directional(fn), [x0], t0, d, f, g, g.dot(d))
    ref = torch_strong_wolfe(directional(fn), [x0], t0, d, f, g, g.dot(d))
    assert ours[0] == ref[0] and ours[2] == ref[2] and ours[3] == ref[3]
    assert torch.equal(ours[1], ref[1])


def _nan_beyond_3(x):
    """(x - 2)^2 for x <= 3, NaN beyond (a function outside its domain)."""
    return ((x - 2) ** 2 + 0 * torch.sqrt(3 - x)).sum()


def test_line_search_backs_off_from_a_non_finite_trial():
    x0 = torch.zeros(1, dtype=f64)
    f, g = directional(_nan_beyond_3)([x0], 0.0, torch.zeros_like(x0))  # f = 4, g = -4
    d = -g
    loss, grad, t, _ = strong_wolfe(directional(_nan_beyond_3), [x0], 1.0, d, f, g, g.dot(d))
    # the trial x = 4 is NaN; bisecting [0, 1] gives t = 0.5: x = 2, the minimum
    assert t == 0.5 and loss == 0.0 and float(grad) == 0.0
    ref = torch_strong_wolfe(directional(_nan_beyond_3), [x0], 1.0, d, f, g, g.dot(d))
    assert math.isnan(ref[0])  # torch's interpolates through the NaN


def test_line_search_no_finite_trial_leaves_the_start():
    def nan_off_start(x):
        return (x**2).sum() + 0 * torch.log(-(x**2).sum())  # NaN everywhere it is evaluated

    x0 = torch.zeros(2, dtype=f64)
    g = torch.tensor([1.0, -2.0], dtype=f64)  # a made-up slope: every step leaves x = 0
    d = -g
    loss, grad, t, evals = strong_wolfe(directional(nan_off_start), [x0], 1.0, d, 0.0, g,
                                        g.dot(d), max_ls=6)  # fmt: skip
    assert t == 0 and loss == 0.0 and torch.equal(grad, g)  # no move: the start's values
    assert evals == 1 + 6  # the first trial, then max_ls bisections (torch's count)


def test_line_search_cubic_bisects_where_float32_overflows():
    # a bracket like the one fit met on a tutorial: loss 24 at 0, 3e22 at 3.8e-10 (float32)
    args = (0.0, 24.0, torch.tensor(-2e12), 3.8e-10, 3.2e22, torch.tensor(1e33))
    assert math.isnan(float(torch_cubic(*args)))  # d1**2 overflows: torch's t is NaN
    assert _cubic_interpolate(*args) == pytest.approx(1.9e-10, rel=1e-12)
    finite = (0.0, 1.0, torch.tensor(-2.0), 1.0, 0.5, torch.tensor(0.5))
    assert _cubic_interpolate(*finite) == torch_cubic(*finite)


@pytest.fixture(scope="module")
def exp_data():
    return create_dataset(lambda x: 100 * torch.exp(4 * x + 0.5), 1, ranges=[0, 1],
                          train_num=200, test_num=100, seed=0)  # fmt: skip


def _steep_exp_model():
    """x -> 0.05 x -> 100 exp(80 h): the exp edge's input is steep, so the first LBFGS trial
    (a step of L1 length 1) pushes it past exp's cap and the float32 MSE overflows to inf."""
    model = KAN([1, 1, 1], grid=3, seed=0)
    model.fix_symbolic(0, 0, 0, "x", fit_params_bool=False, params=(1.0, 0.0, 0.05, 0.0))
    model.fix_symbolic(1, 0, 0, "exp", fit_params_bool=False, params=(80.0, 0.0, 100.0, 0.0))
    return model


def _rmse(model, x, y):
    with torch.no_grad():
        return float(torch.sqrt(((model(x) - y) ** 2).mean()))


def test_fit_symbolic_overflowing_first_trial_with_torchs_line_search_raises(exp_data, monkeypatch):
    """The case below is the defect's: torch's line search gives NaN parameters there."""
    monkeypatch.setattr(lbfgs, "strong_wolfe", torch_strong_wolfe)
    model = _steep_exp_model()
    with pytest.raises(FloatingPointError, match="diverged at step 0"):
        model.fit(exp_data, steps=3, progress=False)


def test_fit_symbolic_overflowing_first_trial_completes(exp_data):
    model = _steep_exp_model()
    x, y = exp_data["train_input"], exp_data["train_label"]
    before = _rmse(model, x, y)
    n_versions = len(model.history)
    hist = model.fit(exp_data, steps=5, progress=False)
    after = _rmse(model, x, y)
    assert all(math.isfinite(v) for v in hist["train_loss"] + hist["test_loss"])
    assert math.isfinite(after) and after <= before
    assert after < 1e-3 * before  # 100 exp(4x + 0.5) is in the model's family: it is found
    # the recorded loss is the accepted point's, not the last (rejected) trial's
    assert hist["train_loss"][-1] == pytest.approx(after, rel=1e-4)
    assert len(model.history) == n_versions + 1


def _lbfgs_step(optimizer_class, x0, **kw):
    """The parameters after one step of ``optimizer_class`` on ``_nan_beyond_3``."""
    return lbfgs_run(optimizer_class, _nan_beyond_3, x0, 1, **kw)[-1][1]


def test_native_lbfgs_backs_off_like_the_python_lbfgs():
    """The C engine's line search (kernels/_lbfgs.c) has the same back-off: one step with
    lr=10 from x = (0, 0.5) first tries x = (7.6, 7.1), outside the domain."""
    from kanwidget.kan import kernels

    if kernels.load() is None:
        pytest.skip(f"no native kernel: {kernels.status()}")
    x0 = torch.tensor([0.0, 0.5], dtype=f64)
    ref = _lbfgs_step(lbfgs.LBFGS, x0, lr=10.0, tolerance_ys=1e-10)
    assert torch.allclose(ref, torch.full((2,), 2.0, dtype=f64))  # the minimum
    torch_end = _lbfgs_step(torch.optim.LBFGS, x0, lr=10.0)
    assert torch.isnan(_nan_beyond_3(torch_end))  # torch's ends outside the domain

    x = x0.clone()
    kernels.NativeLBFGS(2, lr=10.0).step(x, value_and_grad(_nan_beyond_3))
    torch.testing.assert_close(x, ref, rtol=1e-9, atol=1e-12)
