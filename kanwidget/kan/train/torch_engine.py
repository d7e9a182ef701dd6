"""The torch engine: ``torch.optim.LBFGS`` / ``torch.optim.Adam`` on the autograd objective.

Covers every model and loss, and ``fit``'s ``pred_fn`` (the loss of ``pred_fn(model, x)``).
For a plain KAN with the MSE loss the objective is still one C autograd node
(:func:`~..kernels.fused_objective`); otherwise the model's forward with per-edge stds and
pykan's regulariser (:func:`.objective.regularization`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from .. import kernels
from .adam import Adam
from .lbfgs import LBFGS
from .objective import (
    Penalty,
    StepLosses,
    coefficient_penalty,
    for_batch,
    mse,
    plain,
    regularization,
)

if TYPE_CHECKING:
    from ..network import KAN


class TorchEngine:
    """``opt`` ('LBFGS' with pykan's settings, its ``tolerance_ys=1e-32`` too, or 'Adam') on
    ``params``."""

    def __init__(
        self,
        model: KAN,
        params: Sequence[nn.Parameter],
        penalty: Penalty,
        opt: str,
        lr: float,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        coef_penalty: tuple[float, float] = (0.0, 0.0),
        pred_fn: Callable[[KAN, Tensor], Tensor] | None = None,
    ) -> None:
        self.model, self.penalty, self.opt, self.loss_fn = model, penalty, opt, loss_fn
        self.pred_fn = pred_fn
        self.coef_penalty = coef_penalty  # pykan's lamb_coef, lamb_coefdiff
        self.optimizer: torch.optim.Optimizer
        if opt == "Adam":  # foreach: one kernel per step for all parameters
            self.optimizer = Adam(params, lr=lr, foreach=True)
        else:
            self.optimizer = LBFGS(
                params, lr=lr, history_size=10, line_search_fn="strong_wolfe",
                tolerance_grad=1e-32, tolerance_change=1e-32, tolerance_ys=1e-32,
            )  # fmt: skip

    def objective(self, xb: Tensor, yb: Tensor, fused: bool) -> tuple[Tensor, StepLosses]:
        """``loss + lamb * reg`` (differentiable) and its parts (detached)."""
        model, (lamb, lamb_l1, lamb_entropy) = self.model, for_batch(self.penalty, len(xb))
        if fused:  # one C autograd node for the whole objective
            weights = [w for layer in model.layers for w in layer.kernel_weights()]
            tables = [layer.basis_table() for layer in model.layers]
            obj, train_loss, reg = kernels.fused_objective(
                xb, yb, tables, weights, lamb, lamb_l1, lamb_entropy
            )
            return obj, StepLosses(train_loss.detach(), reg.detach())
        stds: list[tuple[Tensor, Tensor]] = []
        if self.pred_fn is None or lamb > 0:  # the regulariser is the model forward's
            pred, stds = model._forward(xb, with_std=lamb > 0)
        if self.pred_fn is not None:
            pred = self.pred_fn(model, xb)
        train_loss = self.loss_fn(pred, yb)
        reg = regularization(stds, lamb_l1, lamb_entropy) if lamb > 0 else train_loss.new_zeros(())
        if lamb > 0 and any(self.coef_penalty):
            reg = reg + coefficient_penalty(model, *self.coef_penalty)
        return train_loss + lamb * reg, StepLosses(train_loss.detach(), reg.detach())

    def step(self, xb: Tensor, yb: Tensor) -> StepLosses:
        coef = self.penalty.lamb > 0 and any(self.coef_penalty)  # not in the C objective
        fused = (self.loss_fn is mse and self.pred_fn is None and not coef
                 and plain(self.model, xb))  # fmt: skip
        evaluated: list[tuple[float, StepLosses]] = []  # (objective, its parts) per call

        def closure() -> Tensor:
            self.optimizer.zero_grad()
            obj, losses = self.objective(xb, yb, fused)
            obj.backward()
            evaluated.append((float(obj.detach()), losses))
            return obj

        if isinstance(self.optimizer, LBFGS):
            self.optimizer.step(closure)  # type: ignore[arg-type]
            # the losses where the step ended: the line search's accepted point, which need
            # not be its last trial (that one may have been rejected, even non-finite)
            final = self.optimizer.final_loss
            accepted = [losses for value, losses in evaluated if value == final]
            return accepted[-1] if accepted else evaluated[-1][1]
        closure()
        self.optimizer.step()
        return evaluated[-1][1]

    def test_loss(self, xt: Tensor, yt: Tensor) -> Tensor:
        if self.pred_fn is None:
            return self.loss_fn(self.model._forward(xt)[0], yt)
        with torch.enable_grad():  # pred_fn may differentiate the model (batch_jacobian)
            return self.loss_fn(self.pred_fn(self.model, xt), yt).detach()
