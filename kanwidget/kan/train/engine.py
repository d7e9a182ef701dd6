"""Engines: what ``fit`` steps with.  An engine is an objective plus an optimiser behind one
interface, chosen for each step by one predicate (:func:`choose`).

- ``c_lbfgs.CLBFGSEngine``: the objective in C (:class:`~..kernels.KANProblem`) and torch's
  LBFGS algorithm in C (:class:`~..kernels.NativeLBFGS`): no Python between evaluations.
- ``c_adam.CAdamEngine``: the same C objective with torch's Adam update on the flat vector.
- ``torch_engine.TorchEngine``: ``torch.optim.LBFGS`` / ``torch.optim.Adam`` on the autograd
  objective (any model, any ``loss_fn``; the C kernels still compute plain layers).

The C engines cover a plain KAN with the MSE loss, fixed affine maps included (a pruned
model's, :func:`.objective.plain`); an edit between
steps (a symbolic fix from the widget) can make the model non-plain, and the torch engine
then takes over, which is why the choice is made every step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import torch
from torch import Tensor, nn

from .. import kernels
from .objective import Penalty, StepLosses, for_batch, mse, plain

if TYPE_CHECKING:
    from ..network import KAN


class Engine(Protocol):
    """One optimiser on one objective, state kept between steps."""

    def step(self, xb: Tensor, yb: Tensor) -> StepLosses:
        """One optimiser step on the batch; the parameters change in place."""
        ...

    def test_loss(self, xt: Tensor, yt: Tensor) -> Tensor:
        """The loss (no regulariser) of the parameters as they are now, 0-d tensor."""
        ...


def choose(
    model: KAN, x: Tensor, loss_fn: Callable[[Tensor, Tensor], Tensor], params: Sequence[Tensor]
) -> str:
    """``"c"`` if the C engines cover this step, else ``"torch"``: a plain KAN with the MSE
    loss, C fitting not switched off, and every trainable tensor one of the layers' ``coef``,
    ``scale_base``, ``scale_sp`` in ``x``'s dtype (what :class:`~..kernels.KANProblem`
    flattens)."""
    if loss_fn is not mse or not kernels.fit_enabled() or not plain(model, x, fixed_affine=True):
        return "torch"
    allowed = {id(t) for layer in model.layers for t in (layer.coef, layer.scale_base,
                                                         layer.scale_sp)}  # fmt: skip
    ok = all(id(p) in allowed and p.dtype == x.dtype for p in params)
    return "c" if ok else "torch"


class NativeEngine:
    """The C objective on a flat float64 copy of ``params``; subclasses apply an update.

    The train and test problems are rebuilt only when the data, the knots or a frozen tensor
    change (:meth:`~..kernels.KANProblem.matches`), so the basis of the data is computed once
    per grid.
    """

    def __init__(self, model: KAN, params: Sequence[nn.Parameter], penalty: Penalty) -> None:
        self.model, self.params, self.penalty = model, list(params), penalty
        self.n = sum(p.numel() for p in self.params)
        self.problem: kernels.KANProblem | None = None
        self.test_problem: kernels.KANProblem | None = None
        self.theta: Tensor | None = None

    def update(self, theta: Tensor, problem: kernels.KANProblem) -> None:
        """Change ``theta`` in place by one optimiser step on ``problem``."""
        raise NotImplementedError

    def step(self, xb: Tensor, yb: Tensor) -> StepLosses:
        problem = self.problem
        if problem is None or not problem.matches(self.model, xb, yb):
            penalty = for_batch(self.penalty, len(xb))
            problem = self.problem = kernels.KANProblem(self.model, xb, yb, self.params,
                                                        *penalty)  # fmt: skip
        theta = self.theta = problem.gather()
        self.update(theta, problem)
        problem.scatter(theta)
        return StepLosses(_f64(problem.mse), _f64(problem.reg))

    def test_loss(self, xt: Tensor, yt: Tensor) -> Tensor:
        """The same C forward, without the gradient, at the step's float64 parameters."""
        problem = self.test_problem
        if problem is None or not problem.matches(self.model, xt, yt):
            problem = self.test_problem = kernels.KANProblem(self.model, xt, yt, self.params,
                                                             0.0, 0.0, 0.0)  # fmt: skip
        theta = self.theta if self.theta is not None else problem.gather()
        return _f64(problem(theta, grad=False)[0])


def _f64(value: float) -> Tensor:
    """A loss from the C objective as a tensor, keeping its double precision."""
    return torch.tensor(value, dtype=torch.float64)
