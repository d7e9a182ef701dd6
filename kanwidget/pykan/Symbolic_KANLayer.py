"""pykan's ``kan.Symbolic_KANLayer``: in kanwidget the symbolic branch lives inside each
layer; ``model.symbolic_fun[l]`` is a :class:`Symbolic_KANLayer` view of layer ``l``
(``funs_name``, ``mask``, ``affine``, ``in_dim``, ``out_dim``; indexed ``(out, in)`` as pykan)."""

# ruff: noqa: F401, F403
import numpy as np
import sympy
import torch
import torch.nn as nn

from ..kan.compat import SymbolicFunView as Symbolic_KANLayer
from .utils import *
