"""B-splines of order k on per-input, possibly non-uniform grids (KAN paper eq. 2.2).

Only ``k + 1`` basis functions are non-zero at any ``x``.  ``bspline_basis`` finds the knot
interval with ``searchsorted``, evaluates those ``k + 1`` values with de Boor's triangular
recurrence (The NURBS Book, A2.2) and scatters them into the dense ``(B, in, G + k)`` tensor
the spline matmul needs.  Its backward pass is written by hand: it saves ``x``'s interval
and the ``k + 1`` derivative values instead of an autograd tape over ``(B, in, G + 2k)``
tensors, which is what makes the eager spline layer fast (see DESIGN.md, performance notes).
"""

from __future__ import annotations

import torch
from torch import Tensor


def extend_grid(grid: Tensor, k: int) -> Tensor:
    """Extend grid points ``(in, G+1)`` by ``k`` knots on each side -> ``(in, G+2k+1)``.

    The extension spacing is the mean interval, ``(grid[:, -1] - grid[:, 0]) / G``, as in pykan.
    """
    n_intervals = grid.shape[1] - 1
    h = (grid[:, -1:] - grid[:, :1]) / n_intervals  # (in, 1)
    steps = torch.arange(1, k + 1, device=grid.device, dtype=grid.dtype)  # (k,)
    left = grid[:, :1] - h * steps.flip(0)
    right = grid[:, -1:] + h * steps
    return torch.cat([left, grid, right], dim=1)


def uniform_grid(n_in: int, num: int, grid_range: tuple[float, float], dtype=None, device=None):
    """Uniform grid points ``(n_in, num+1)`` over ``grid_range``."""
    lo, hi = float(grid_range[0]), float(grid_range[1])
    g = torch.linspace(lo, hi, num + 1, dtype=dtype, device=device)
    return g.expand(n_in, num + 1).contiguous()


def _local_basis(x: Tensor, knots: Tensor, k: int, need_grad: bool):
    """Non-zero basis values at ``x``.

    Parameters
    ----------
    x : (B, in)
    knots : (in, M+1) extended knots, M = G + 2k intervals

    Returns
    -------
    first : (B, in) long, index of the first non-zero basis function (may be < 0 or
        > G + k - 1 - k near the ends; the caller clips)
    values : (B, in, k+1) basis values B_{first..first+k}(x); zero outside the knot span
    derivs : (B, in, k+1) d/dx of those values, or None
    """
    n_in, n_knots = knots.shape
    n_int = n_knots - 1
    # interval j with knots[j] <= x < knots[j+1]; j in [0, n_int - 1] inside the span
    j = torch.searchsorted(knots, x.T.contiguous(), right=True).T - 1  # (B, in)
    inside = (j >= 0) & (j < n_int)
    j = j.clamp(0, n_int - 1)
    # local knots T[q] = knots[j - k + q], q = 0..2k+1, padded so indices stay in range
    pad_l = knots[:, :1] + (knots[:, :1] - knots[:, 1:2]) * torch.arange(
        k, 0, -1, dtype=knots.dtype, device=knots.device
    )
    pad_r = knots[:, -1:] + (knots[:, -1:] - knots[:, -2:-1]) * torch.arange(
        1, k + 2, dtype=knots.dtype, device=knots.device
    )
    padded = torch.cat([pad_l, knots, pad_r], dim=1)  # (in, M+1+2k+1)
    offs = torch.arange(2 * k + 2, device=x.device)  # (2k+2,)
    idx = j.unsqueeze(-1) + offs  # (B, in, 2k+2); padded index of knots[j-k+q] is j+q
    local = padded.unsqueeze(0).expand(x.shape[0], -1, -1).gather(2, idx)  # (B, in, 2k+2)
    xe = x.unsqueeze(-1)
    # de Boor: N has p+1 entries at order p; left[r] = x - t[j+1-r], right[r] = t[j+r] - x
    values = torch.ones_like(x).unsqueeze(-1)  # (B, in, 1)
    lower = values
    for p in range(1, k + 1):
        left = xe - local[..., k + 1 - p : k + 1].flip(-1)  # r = 1..p -> t[j+1-r]
        right = local[..., k + 1 : k + 1 + p] - xe  # r = 1..p -> t[j+r]
        # for entry r (0..p-1): denom = right[r+1] + left[p-r]
        denom = right + left.flip(-1)
        temp = values / denom
        zero = torch.zeros_like(temp[..., :1])
        lower = values
        values = torch.cat([right * temp, zero], -1) + torch.cat([zero, left.flip(-1) * temp], -1)
    values = values * inside.unsqueeze(-1)
    derivs = None
    if need_grad and k > 0:
        # dB_{i,k} = k (B_{i,k-1}/(t_{i+k}-t_i) - B_{i+1,k-1}/(t_{i+k+1}-t_{i+1})), i = j-k+r
        span = local[..., k + 1 : 2 * k + 1] - local[..., 1 : k + 1]  # (B, in, k): t_{s+k}-t_s
        scaled = k * lower / span  # order-(k-1) basis j-k+1+s over its span
        zero = torch.zeros_like(scaled[..., :1])
        derivs = torch.cat([zero, scaled], -1) - torch.cat([scaled, zero], -1)
        derivs = derivs * inside.unsqueeze(-1)
    elif need_grad:
        derivs = torch.zeros_like(values)
    return j - k, values, derivs


class _BSplineBasis(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, knots: Tensor, k: int) -> Tensor:  # type: ignore[override]
        n_basis = knots.shape[1] - 1 - k
        first, values, derivs = _local_basis(x, knots, k, ctx.needs_input_grad[0])
        pos = first.unsqueeze(-1) + torch.arange(k + 1, device=x.device) + k  # shifted by k
        dense = x.new_zeros(x.shape[0], x.shape[1], n_basis + 2 * k)
        dense.scatter_(2, pos, values)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(pos, derivs)
            ctx.n_basis = n_basis
            ctx.k = k
        return dense[..., k : k + n_basis]

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        pos, derivs = ctx.saved_tensors
        k, n_basis = ctx.k, ctx.n_basis
        padded = torch.nn.functional.pad(grad_out, (k, k))  # (B, in, n_basis + 2k)
        grad_x = (padded.gather(2, pos) * derivs).sum(-1)
        return grad_x, None, None


def bspline_basis(x: Tensor, knots: Tensor, k: int) -> Tensor:
    """B-spline basis values of order ``k``.

    Parameters
    ----------
    x : (B, in) points
    knots : (in, G+2k+1) extended knots (non-decreasing per row)
    k : spline order (3 = cubic)

    Returns
    -------
    (B, in, G+k) basis values; zero outside ``[knots[:, 0], knots[:, -1])``.
    Differentiable with respect to ``x`` (not the knots).
    """
    return _BSplineBasis.apply(x, knots, k)


def coef_to_curve(x: Tensor, knots: Tensor, coef: Tensor, k: int) -> Tensor:
    """Evaluate splines: x (B, in), coef (in, out, G+k) -> (B, in, out)."""
    basis = bspline_basis(x, knots, k)  # (B, in, n)
    return torch.einsum("bin,ion->bio", basis, coef)


def curve_to_coef(x: Tensor, y: Tensor, knots: Tensor, k: int, ridge: float = 1e-8) -> Tensor:
    """Least-squares spline coefficients for samples ``y`` (B, in, out) at ``x`` (B, in).

    Solved per input with a small ridge term so empty intervals stay finite.
    Returns (in, out, G+k).
    """
    basis = bspline_basis(x, knots, k).permute(1, 0, 2)  # (in, B, n)
    target = y.permute(1, 0, 2)  # (in, B, out)
    dtype = torch.float64
    a = basis.to(dtype)
    gram = a.transpose(1, 2) @ a  # (in, n, n)
    eye = torch.eye(gram.shape[-1], dtype=dtype, device=x.device)
    scale = gram.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(1e-12)[:, None, None]
    rhs = a.transpose(1, 2) @ target.to(dtype)  # (in, n, out)
    coef = torch.linalg.solve(gram + ridge * scale * eye, rhs)  # (in, n, out)
    return coef.permute(0, 2, 1).to(y.dtype).contiguous()
