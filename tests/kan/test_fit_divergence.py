"""fit never loses the model: a diverged step is undone (kan/train/guard.py), a first step
that diverges leaves the model bit-identical and commits nothing; one training row has a
regulariser of 0 on the C and the torch paths alike."""

from __future__ import annotations

import math

import pytest
import torch

from kanwidget import KAN, create_dataset
from kanwidget.kan import kernels


@pytest.fixture(scope="module")
def data():
    return create_dataset(lambda x: torch.sin(2 * x[:, :1]) * x[:, 1:], 2, train_num=200,
                          test_num=100, seed=0)  # fmt: skip


def state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_state(model, before):
    return all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def nan_after(calls: int):
    """An MSE loss that returns NaN from its ``calls + 1``-th training evaluation on (test
    losses, under no_grad, are not counted but turn NaN with them): a loss that blows up."""
    seen = []

    def loss(pred, y):
        if torch.is_grad_enabled():
            seen.append(1)
        value = ((pred - y) ** 2).mean()
        return value * float("nan") if len(seen) > calls else value

    return loss


def test_fit_divergence_mid_fit_keeps_last_finite_step(data):
    """Adam (one loss call per step): the 4th step's loss is NaN, so the model keeps the
    parameters after step 2, commits them as the fit version, and warns naming step 3."""
    model = KAN([2, 3, 1], grid=5, seed=0)
    reference = KAN([2, 3, 1], grid=5, seed=0)
    ref = reference.fit(data, opt="Adam", lr=0.01, steps=3, progress=False,
                        loss_fn=lambda p, y: ((p - y) ** 2).mean())  # fmt: skip
    n_versions = len(model.history)
    with pytest.warns(RuntimeWarning, match=r"stopped at step 3 of 10.*train_loss.*step 2"):
        hist = model.fit(data, opt="Adam", lr=0.01, steps=10, progress=False,
                         loss_fn=nan_after(3))  # fmt: skip
    assert len(hist["train_loss"]) == 3 and hist["train_loss"] == ref["train_loss"]
    assert len(model.history) == n_versions + 1 and model.version == "0.1"
    assert model.history.current.operation == "fit"
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    assert same_state(model, reference.state_dict())  # exactly the state after step 2
    assert model.history.current.train_loss == pytest.approx(ref["train_loss"][-1])


def test_fit_divergence_at_step_0_restores_and_raises(data):
    model = KAN([2, 3, 1], grid=5, seed=0)
    model.fit(data, steps=2, progress=False)
    before, version, n_versions = state(model), model.version, len(model.history)
    loss_log = {k: list(v) for k, v in model.loss_log.items()}
    with pytest.raises(FloatingPointError, match=r"step 0.*unchanged.*lower lr or use opt='Adam'"):
        model.fit(data, steps=5, progress=False, loss_fn=nan_after(0))
    assert same_state(model, before)  # bit-identical, grids included (step 0 updates them)
    assert model.version == version and len(model.history) == n_versions
    assert model.loss_log == loss_log


def test_fit_divergence_error_does_not_suggest_adam_when_adam_was_used(data):
    model = KAN([2, 3, 1], grid=5, seed=0)
    with pytest.raises(FloatingPointError) as err:
        model.fit(data, opt="Adam", steps=3, progress=False, loss_fn=nan_after(0))
    assert "opt='Adam'" not in str(err.value) and "lower lr" in str(err.value)


@pytest.mark.skipif(kernels.load() is None, reason="no native kernel")
def test_fit_divergence_in_the_c_lbfgs_is_undone(data, monkeypatch):
    """The C engine: a line search that leaves NaN in the parameters (planted in its 3rd
    step) is undone like the torch engine's; the C fit of the first two steps is kept."""
    real = kernels.NativeLBFGS.step
    calls = []

    def poisoned(self, x, objective):
        calls.append(1)
        out = real(self, x, objective)
        if len(calls) == 3:
            x[0] = float("nan")
        return out

    reference = KAN([2, 3, 1], grid=5, seed=0)
    ref = reference.fit(data, steps=2, progress=False)
    monkeypatch.setattr(kernels.NativeLBFGS, "step", poisoned)
    model = KAN([2, 3, 1], grid=5, seed=0)
    with pytest.warns(RuntimeWarning, match="stopped at step 2 of 6"):
        hist = model.fit(data, steps=6, progress=False)
    assert len(calls) == 3 and hist["train_loss"] == ref["train_loss"]
    assert same_state(model, reference.state_dict())


def test_fit_divergence_torch_lbfgs_line_search_nan_is_undone(data):
    """torch's LBFGS whose objective turns NaN inside the line search (a symbolic function
    evaluated at a singular point): the parameters are not poisoned."""
    model = KAN([2, 3, 1], grid=5, seed=0)
    before = state(model)
    with pytest.raises(FloatingPointError):
        model.fit(data, opt="LBFGS", steps=3, progress=False, loss_fn=nan_after(2))
    assert same_state(model, before) and len(model.history) == 1


ONE_ROW = {
    "train_input": torch.tensor([[0.3, -0.2]]),
    "train_label": torch.tensor([[0.5]]),
    "test_input": torch.tensor([[0.1, 0.4]]),
    "test_label": torch.tensor([[0.2]]),
}


@pytest.mark.parametrize("width", [[2, [0, 1], 1], [2, 5, 1]], ids=["mult", "plain"])
@pytest.mark.parametrize(
    "kw", [{"lamb": 1e-3}, {"opt": "Adam", "lr": 1e-2, "batch": 1, "lamb": 1e-3}],
    ids=["lbfgs", "adam"],
)  # fmt: skip
def test_fit_one_row_has_zero_regulariser_on_both_paths(width, kw, monkeypatch):
    runs = []
    for native in (True, False):
        if native and kernels.load() is None:
            continue
        monkeypatch.setattr(kernels, "usable", kernels.usable if native else lambda x: False)
        monkeypatch.setenv("KANWIDGET_NATIVE_FIT", "1" if native else "0")
        model = KAN(width, seed=0)
        hist = model.fit(ONE_ROW, steps=1, progress=False, **kw)
        assert hist["reg"] == [0.0]
        assert all(math.isfinite(v) for v in hist["train_loss"] + hist["test_loss"])
        assert all(torch.isfinite(v).all() for v in model.state_dict().values())
        runs.append(hist)
    for other in runs[1:]:
        assert other["train_loss"] == pytest.approx(runs[0]["train_loss"], abs=1e-6)
        assert other["test_loss"] == pytest.approx(runs[0]["test_loss"], abs=1e-6)
