"""pykan's ``kan.experiment``: the Pareto-front helper (pykan's ``runner1`` training script
is not provided: ``kanwidget.discovery.sweep`` does that job)."""

# ruff: noqa: F401, F403
from __future__ import annotations

import numpy as np
import torch

from .MultKAN import *


def pareto_frontier(x, y):
    """The Pareto front of points (x, y), both minimised (pykan's rule: a point is on the
    front when no other point is at most as large in both).

    Returns ``(x_front, y_front, indices)``, numpy arrays.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    covered = ((x[:, None] <= x[None, :]) & (y[:, None] <= y[None, :])).sum(0)  # incl. itself
    ids = np.where(covered == 1)[0]
    return x[ids], y[ids], ids
