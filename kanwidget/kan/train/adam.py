"""``torch.optim.Adam`` for ``fit(opt='Adam')`` on the torch engine (a symbolic model)
without torch's wrappers that import ``torch._dynamo`` (see :mod:`.undecorated`)."""

from __future__ import annotations

from typing import Any

import torch

from .undecorated import undecorated

__all__ = ["Adam"]


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` (same update, state and options; Kingma & Ba 2015) whose
    ``step`` runs without gradient recording, as torch's wrapper does for
    ``differentiable=False`` (the only mode offered here)."""

    add_param_group = undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = undecorated(torch.optim.Optimizer.zero_grad)
    _step = undecorated(torch.optim.Adam.step)

    def __init__(self, params: Any, lr: float = 1e-3, foreach: bool | None = None) -> None:
        super().__init__(params, lr=lr, foreach=foreach)

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        """One Adam update of every parameter from its ``.grad``; ``closure`` (optional)
        re-evaluates the loss with gradients and its value is returned."""
        return self._step(closure)
