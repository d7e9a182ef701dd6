"""pykan's ``kan.KANLayer``: kanwidget's layer class (per-edge tensors ``(in, out, ...)`` as
in pykan: ``coef``, ``scale_base``, ``scale_sp``, ``mask``; ``grid`` is the un-extended
``(in, G + 1)`` grid)."""

# ruff: noqa: F401, F403
import numpy as np
import torch
import torch.nn as nn

from ..kan.layer import KANLayer
from .spline import *
from .utils import sparse_mask
