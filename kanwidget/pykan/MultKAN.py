"""pykan's ``kan.MultKAN``: the model class (kanwidget's :class:`~kanwidget.kan.network.KAN`)
and the names pykan's module hands out through ``from kan.MultKAN import *``."""

# ruff: noqa: F401, F403, E402
import copy
import glob
import os
import random

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

from ..kan.network import KAN, MultKAN
from .hypothesis import plot_tree
from .KANLayer import KANLayer
from .LBFGS import LBFGS
from .spline import curve2coef
from .Symbolic_KANLayer import Symbolic_KANLayer
from .utils import SYMBOLIC_LIB
