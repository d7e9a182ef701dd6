"""The C LBFGS engine: torch.optim.LBFGS's algorithm (strong Wolfe, pykan's settings) run in C
on the C objective; one ``step`` is one call into ``kan_lbfgs_step``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from torch import Tensor, nn

from .. import kernels
from .engine import NativeEngine
from .objective import Penalty

if TYPE_CHECKING:
    from ..network import KAN


class CLBFGSEngine(NativeEngine):
    """``fit(opt='LBFGS')`` on a plain KAN: history 10, tolerances (grad, change, ys) 1e-32
    (pykan's)."""

    def __init__(
        self, model: KAN, params: Sequence[nn.Parameter], penalty: Penalty, lr: float
    ) -> None:
        super().__init__(model, params, penalty)
        self.optimizer = kernels.NativeLBFGS(
            self.n,
            lr=lr,
            history_size=10,
            tolerance_grad=1e-32,
            tolerance_change=1e-32,
            tolerance_ys=1e-32,
        )

    def update(self, theta: Tensor, problem: kernels.KANProblem) -> None:
        self.optimizer.step(theta, problem)
