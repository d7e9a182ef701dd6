"""pykan's ``kan.LBFGS``: torch's L-BFGS with pykan's extra ``tolerance_ys`` argument (the
curvature ``y . s`` a step needs to join the history; torch fixes it at 1e-10), honoured
(:class:`kanwidget.kan.train.lbfgs.LBFGS`)."""

from __future__ import annotations

from functools import reduce  # noqa: F401  (pykan's module names)

import torch  # noqa: F401  (pykan's module names)
from torch.optim import Optimizer  # noqa: F401

from ..kan.train.lbfgs import LBFGS

__all__ = ["LBFGS"]
