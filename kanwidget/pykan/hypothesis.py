"""pykan's ``kan.hypothesis`` on kanwidget's tests (KAN 2.0 section 4: separability, symmetry,
the tree of how inputs combine).

Same names and argument order as pykan; every function takes a KAN, an MLP or any callable
``(B, n) -> (B, 1)``.  kanwidget's scores are dimensionless (derivatives in units of the
inputs' and the output's std), so thresholds carry across data sets; pykan's are not divided
by the output's std.  Nothing prints: results are returned.
"""

# ruff: noqa: F401
from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import reduce

import matplotlib.pyplot as plt
import numpy as np
import sympy
import torch
from sympy.printing import latex
from sympy.utilities.lambdify import lambdify
from torch import Tensor

from ..kan import hypothesis as _h
from ..kan.hypothesis import test_general_separability, test_separability
from ..kan.symbolic.library import sympy_to_torch
from ..kan.tree_plot import plot_tree
from .utils import batch_hessian, batch_jacobian

try:  # pykan's module exports these (undeclared dependency)
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.linear_model import LinearRegression
except ImportError:  # pragma: no cover
    pass


def detect_separability(model, x: Tensor, mode: str = "add", score_th: float = 1e-2,
                        res_th: float = 1e-2, n_clusters=None, bias: float = 0.0,
                        verbose: bool = False) -> dict:  # fmt: skip
    """Finest split of the inputs into separable groups (pykan's result dict).

    Returns ``{'hessian': (n, n) interaction scores, 'n_groups', 'labels': group of each
    input, 'groups'}``.  ``res_th``, ``n_clusters`` and ``verbose`` are accepted for
    compatibility: the groups are the connected components of the pairs scoring at least
    ``score_th`` (exact, no clustering).
    """
    groups = _h.detect_separability(model, x, mode, score_th, bias)
    labels = [0] * x.shape[1]
    for g, members in enumerate(groups):
        for m in members:
            labels[m] = g
    scores = _h.interaction_scores(model, x, mode, bias)
    return {"hessian": scores, "n_groups": len(groups), "labels": labels, "groups": groups}


def get_dependence(model, x: Tensor, group: Sequence[int]) -> Tensor:
    """How much the gradient direction within ``group`` moves with each other input,
    ``(len(group), n - len(group))`` (pykan's name for ``dependence_scores``)."""
    return _h.dependence_scores(model, x, group)


def test_symmetry(model, x: Tensor, group: Sequence[int], dependence_th: float = 1e-3) -> bool:
    """Does ``model`` depend on the inputs of ``group`` only through one function of them?"""
    return _h.test_symmetry(model, x, group, dependence_th)


def test_symmetry_var(model, x: Tensor, input_vars: Sequence[sympy.Symbol],
                      symmetry_var: sympy.Expr) -> Tensor:  # fmt: skip
    """Per-sample ``|cos|`` of the angle between the model's gradient and ``symmetry_var``'s,
    over the variables ``symmetry_var`` uses, ``(B,)``: 1 everywhere when the model depends on
    them only through ``symmetry_var`` (pykan: "symmetry" when > 0.9 for 90% of samples)."""
    grad_model = batch_jacobian(model, x)
    fn = sympy_to_torch(sympy.sympify(symmetry_var), *input_vars)
    grad_sym = batch_jacobian(lambda z: fn(*[z[:, k] for k in range(len(input_vars))])[:, None], x)
    used = [k for k, v in enumerate(input_vars) if v in symmetry_var.free_symbols]
    a, b = grad_model[:, used], grad_sym[:, used]
    return ((a * b).sum(1).abs() / (a.norm(dim=1) * b.norm(dim=1))).detach()


for _f in (test_symmetry, test_symmetry_var, test_separability, test_general_separability):
    _f.__test__ = False  # type: ignore[attr-defined]
