"""pykan's ``kan.spline`` on kanwidget's B-splines (same shapes and conventions).

``grid`` arguments are pykan's *extended* grids ``(in, G + 2k + 1)`` (see :func:`extend_grid`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..kan import spline as _spline

__all__ = ["B_batch", "coef2curve", "curve2coef", "extend_grid", "torch"]


def B_batch(x: Tensor, grid: Tensor, k: int = 0, extend: bool = True, device="cpu") -> Tensor:
    """B-spline basis of order ``k`` at ``x`` ``(B, in)`` on the knots ``grid``
    ``(in, G + 2k + 1)``: ``(B, in, G + k)``, zero outside the knots (pykan's ``B_batch``)."""
    return _spline.bspline_basis(x, grid.to(x.dtype), int(k))


def coef2curve(x_eval: Tensor, grid: Tensor, coef: Tensor, k: int, device="cpu") -> Tensor:
    """Spline values ``(B, in, out)`` of coefficients ``coef`` ``(in, out, G + k)``."""
    return _spline.coef_to_curve(x_eval, grid.to(x_eval.dtype), coef, int(k))


def curve2coef(x_eval: Tensor, y_eval: Tensor, grid: Tensor, k: int) -> Tensor:
    """Least-squares coefficients ``(in, out, G + k)`` of samples ``y_eval`` ``(B, in, out)``."""
    return _spline.curve_to_coef(x_eval, y_eval, grid.to(x_eval.dtype), int(k))


def extend_grid(grid: Tensor, k_extend: int = 0) -> Tensor:
    """Add ``k_extend`` knots on each side of ``grid`` ``(in, G + 1)``, spaced by the mean
    interval (pykan's ``extend_grid``)."""
    return _spline.extend_grid(grid, int(k_extend))
