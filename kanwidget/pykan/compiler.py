"""pykan's ``kan.compiler``: formula -> KAN (``kanpiler``, pykan's ``expr2kan``), with the
sympy names pykan's module exports."""

# ruff: noqa: F401, F403, E402
import numpy as np
import sympy
import torch
from sympy import *

from ..kan.compiler import kanpiler
from ..kan.network import MultKAN

expr2kan = sf2kan = kanpiler
