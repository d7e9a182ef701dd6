"""The C Adam engine: torch's Adam update on the flat float64 vector of the C objective."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from .. import kernels
from .engine import NativeEngine
from .objective import Penalty

if TYPE_CHECKING:
    from ..network import KAN


class FlatAdam:
    """``torch.optim.Adam``'s update (no weight decay, no amsgrad) on the same flat float64
    vector, for ``fit(opt='Adam')`` on a :class:`KANProblem`."""

    def __init__(self, n: int, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        if not lr >= 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        self.lr, self.betas, self.eps, self.t = float(lr), betas, float(eps), 0
        self.m = torch.zeros(n, dtype=torch.float64)
        self.v = torch.zeros(n, dtype=torch.float64)

    def step(self, theta: Tensor, grad: Tensor) -> None:
        """One update of ``theta`` in place from its gradient."""
        b1, b2 = self.betas
        self.t += 1
        self.m.mul_(b1).add_(grad, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        denom = (self.v.sqrt() / math.sqrt(1 - b2**self.t)).add_(self.eps)
        theta.addcdiv_(self.m, denom, value=-self.lr / (1 - b1**self.t))


class CAdamEngine(NativeEngine):
    """``fit(opt='Adam')`` on a plain KAN: the gradient from C, :class:`FlatAdam`'s update."""

    def __init__(
        self, model: KAN, params: Sequence[nn.Parameter], penalty: Penalty, lr: float
    ) -> None:
        super().__init__(model, params, penalty)
        self.optimizer = FlatAdam(self.n, lr=lr)

    def update(self, theta: Tensor, problem: kernels.KANProblem) -> None:
        grad = problem(theta)[1]
        assert grad is not None
        self.optimizer.step(theta, grad)
