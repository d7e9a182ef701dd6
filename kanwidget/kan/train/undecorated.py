"""torch.optim methods without the wrappers that import ``torch._dynamo``.

torch.optim wraps ``Optimizer.add_param_group`` and ``zero_grad`` in
``torch._disable_dynamo`` and ``Adam.step`` in ``_use_grad_for_differentiable``; the first
call of either imports ``torch._dynamo``: 1.5-5 s once per process (a sweep worker's first
symbolic fit).  Nothing in ``fit`` runs under ``torch.compile``, so the plain bodies do the
same arithmetic without that import.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["undecorated"]


def undecorated(method: Any) -> Any:
    """``method`` with every ``functools.wraps`` layer removed (torch's dynamo and profiler
    wrappers keep the body as ``__wrapped__``); ``method`` itself if nothing wraps it."""
    return inspect.unwrap(method)
