"""pykan's ``kan.compiler``: formula -> KAN (``kanpiler``, pykan's ``expr2kan``), with the
sympy names pykan's module exports.  As pykan's (which builds ``MultKAN(...)`` with its
default ``seed=1``), compiling seeds the global RNGs."""

# ruff: noqa: F401, F403, E402
from typing import Any

import numpy as np
import sympy
import torch
from sympy import *

from ..kan import compiler as _compiler
from ..kan.network import KAN as _KAN
from .MultKAN import MultKAN, seed_globals_as_pykan


def kanpiler(*args: Any, **kwargs: Any) -> _KAN:
    """:func:`kanwidget.kan.compiler.kanpiler` building this namespace's :class:`KAN` (pykan's
    grid schedule in ``fit``, as pykan's ``kanpiler`` builds a ``MultKAN``); afterwards the
    global RNGs are as after pykan's ``kanpiler`` (seeded with 1, ``MultKAN``'s default)."""
    model = _compiler.kanpiler(*args, model_class=MultKAN, **kwargs)
    seed_globals_as_pykan(model, 1)
    return model


kanpiler.__doc__ = (kanpiler.__doc__ or "") + "\n" + (_compiler.kanpiler.__doc__ or "")
expr2kan = sf2kan = kanpiler
