"""pykan's ``kan.feynman``: ``get_feynman_dataset``, the 120 AI Feynman equations with pykan's
ids, variables and ranges (KAN paper section 3.3; the table is :mod:`.feynman_table`)."""

# ruff: noqa: F401, F403
from __future__ import annotations

import math
import numbers
from types import SimpleNamespace
from typing import Any

import sympy
import torch
from sympy import *

from .feynman_table import ROWS

SYMPY_FUNCTIONS = SimpleNamespace(
    exp=sympy.exp, sqrt=sympy.sqrt, sin=sympy.sin, cos=sympy.cos, tanh=sympy.tanh,
    log=sympy.log, asin=sympy.asin, acos=sympy.acos, pi=sympy.pi, nsimplify=sympy.nsimplify,
)  # fmt: skip


def _torch(fun):
    return lambda v: fun(torch.as_tensor(v))


TORCH_FUNCTIONS = SimpleNamespace(
    exp=_torch(torch.exp), sqrt=_torch(torch.sqrt), sin=_torch(torch.sin),
    cos=_torch(torch.cos), tanh=_torch(torch.tanh), log=_torch(torch.log),
    asin=_torch(torch.asin), acos=_torch(torch.acos), pi=torch.tensor(math.pi, dtype=torch.float64),
    nsimplify=lambda v: v,
)  # fmt: skip

_BY_NAME = {row[0]: row for row in ROWS}
_BY_NUMBER = {row[1]: row for row in ROWS if row[1] is not None}


def feynman_names() -> list[str]:
    """pykan's equation names (``'I.6.20a'``, ..., and ``'test'``) in table order."""
    return [row[0] for row in ROWS]


def get_feynman_dataset(name: str | int) -> tuple[Any, sympy.Expr, Any, list]:
    """One AI Feynman equation as pykan 0.2.8 gives it.

    Parameters
    ----------
    name : str or int
        pykan's name (``'I.6.20'``, ``'Jackson 3.45'``, ``'test'``, ...) or its id 1..120.

    Returns
    -------
    symbol : tuple of sympy.Symbol (a one-element list for one variable), the input variables
    expr : sympy.Expr, the law in those symbols
    f : callable, ``(B, n_var)`` tensor -> ``(B, 1)``, the same law in torch (columns in the
        order of ``symbol``)
    ranges : list of ``[low, high]`` per variable (or one ``[low, high]`` for all), as pykan

    Raises
    ------
    KeyError
        For a name or id pykan's table does not have.
    """
    key = int(name) if isinstance(name, numbers.Integral) and not isinstance(name, bool) else name
    row = _BY_NUMBER.get(key) if isinstance(key, int) else _BY_NAME.get(key)
    if row is None:
        raise KeyError(f"no Feynman equation {name!r}: pykan's ids are 1..120 or names such as "
                       f"'I.6.20' (see feynman_names())")  # fmt: skip
    _, _, names, law, ranges = row
    symbol = sympy.symbols(names)
    symbol = [symbol] if isinstance(symbol, sympy.Symbol) else symbol
    expr = law(SYMPY_FUNCTIONS, *symbol)
    n_var = len(symbol)

    def f(x: torch.Tensor) -> torch.Tensor:
        return law(TORCH_FUNCTIONS, *(x[:, [i]] for i in range(n_var)))

    return symbol, expr, f, [list(r) if isinstance(r, list) else r for r in ranges]
