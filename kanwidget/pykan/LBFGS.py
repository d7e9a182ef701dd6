"""pykan's ``kan.LBFGS``: ``torch.optim.LBFGS`` with pykan's extra ``tolerance_ys`` argument."""

from __future__ import annotations

from functools import reduce  # noqa: F401  (pykan's module names)

import torch
from torch.optim import Optimizer  # noqa: F401

__all__ = ["LBFGS"]


class LBFGS(torch.optim.LBFGS):
    """torch's L-BFGS (strong-Wolfe line search optional).

    pykan's copy adds ``tolerance_ys``: the curvature ``y . s`` a step needs before it joins
    the history (torch fixes it at 1e-10).  It is accepted and recorded here; torch's
    threshold applies, so steps with ``1e-32 < y . s <= 1e-10`` are not stored.
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 tolerance_ys: float = 1e-32, history_size: int = 100,
                 line_search_fn: str | None = None):  # fmt: skip
        super().__init__(params, lr=lr, max_iter=max_iter, max_eval=max_eval,
                         tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                         history_size=history_size, line_search_fn=line_search_fn)  # fmt: skip
        self.tolerance_ys = tolerance_ys
