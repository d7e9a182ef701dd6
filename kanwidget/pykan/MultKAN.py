"""pykan's ``kan.MultKAN``: the model class (kanwidget's :class:`~kanwidget.kan.network.KAN`,
seeding the global RNGs as pykan's does) and the names pykan's module hands out through
``from kan.MultKAN import *``."""

# ruff: noqa: F401, F403, E402
import copy
import glob
import os
import random
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import sympy
import torch
import torch.nn as nn
from sympy import *
from sympy.printing import latex
from tqdm import tqdm

try:  # undeclared dependencies of pykan's module; exported when installed
    import pandas as pd
    import yaml
except ImportError:  # pragma: no cover
    pass

from ..kan.network import KAN as _KAN
from .hypothesis import plot_tree
from .KANLayer import KANLayer
from .LBFGS import LBFGS
from .spline import curve2coef
from .Symbolic_KANLayer import Symbolic_KANLayer
from .utils import SYMBOLIC_LIB


class KAN(_KAN):
    """kanwidget's :class:`~kanwidget.kan.network.KAN` that, like pykan 0.2.8's ``MultKAN``,
    seeds the global RNGs: ``torch.manual_seed(seed)``, ``np.random.seed(seed)``,
    ``random.seed(seed)``, then draws what pykan's layers draw (per layer
    ``torch.rand(grid + 1, in, out)`` and ``torch.rand(in, out)``, ``out`` counting
    multiplication subnodes).  A notebook drawing its data after ``KAN(..., seed=s)`` then
    gets pykan's data.  The parameters are the same as kanwidget's (pykan's initial draws).

    ``fit`` follows pykan's grid schedule exactly: its first grid update (step 0) adapts
    every layer, as pykan's (kanwidget's own ``KAN`` adapts only the input layer there,
    README: deliberate behaviour changes), so a tutorial's fit starts as pykan's does.
    """

    first_grid_update_input_only = False
    model_class_name = "kanwidget.pykan.KAN"  # saved files reload as this class

    def __init__(self, width: Any, *args: Any, seed: Any = 1, **kwargs: Any) -> None:
        super().__init__(width, *args, seed=seed, **kwargs)
        seed_globals_as_pykan(self, int(seed))


def seed_globals_as_pykan(model: _KAN, seed: int) -> None:
    """Leave torch's, numpy's and ``random``'s global RNGs as pykan's ``MultKAN(...,
    seed=seed)`` with ``model``'s layer shapes leaves them."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    for layer in model.layers:
        torch.rand(int(layer.num) + 1, layer.in_dim, layer.out_dim)
        torch.rand(layer.in_dim, layer.out_dim)


MultKAN = KAN
