"""B-splines of order k on per-input, possibly non-uniform grids (KAN paper eq. 2.2).

Only ``k + 1`` basis functions are non-zero at any ``x``.  ``bspline_basis`` finds the knot
interval (a floor on uniform grids, ``searchsorted`` otherwise), evaluates those ``k + 1``
values from a per-interval polynomial table (``BasisTable``, built once per grid with de
Boor's recurrence, The NURBS Book A2.2) and scatters them into the dense ``(B, in, G + k)``
tensor the spline matmul needs.  Its backward pass is written by hand: it saves the columns
and the ``k + 1`` slopes instead of an autograd tape over ``(B, in, G + 2k)`` tensors, which
is what makes the eager spline layer fast (see DESIGN.md, performance notes).  When the
backward is itself recorded (``create_graph=True``: second derivatives, PDE losses) it is
computed instead by :func:`basis_input_grad` with differentiable torch ops.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import kernels


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


def _local_basis(x: Tensor, knots: Tensor, k: int) -> Tensor:
    """Non-zero basis values at ``x`` by de Boor's recurrence (used to build ``BasisTable``).

    Parameters
    ----------
    x : (B, in)
    knots : (in, M+1) extended knots, M = G + 2k intervals

    Returns
    -------
    (B, in, k+1) basis values B_{j-k..j}(x) for x in interval j; zero outside the knot span
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
    for p in range(1, k + 1):
        left = xe - local[..., k + 1 - p : k + 1].flip(-1)  # r = 1..p -> t[j+1-r]
        right = local[..., k + 1 : k + 1 + p] - xe  # r = 1..p -> t[j+r]
        # for entry r (0..p-1): denom = right[r+1] + left[p-r]
        denom = right + left.flip(-1)
        temp = values / denom
        zero = torch.zeros_like(temp[..., :1])
        values = torch.cat([right * temp, zero], -1) + torch.cat([zero, left.flip(-1) * temp], -1)
    return values * inside.unsqueeze(-1)


class BasisTable:
    """Per-interval polynomial form of the basis, rebuilt only when the knots change.

    On interval ``j`` (``t_j <= x < t_{j+1}``) the ``k + 1`` non-zero basis functions are
    polynomials in the local coordinate ``u = (x - t_j) / h_j`` in ``[0, 1)``; their
    coefficients are found once (de Boor at ``k + 1`` points, a Vandermonde solve in float64).
    Evaluating the basis is then: ``searchsorted``, one row gather, ``k`` fused multiply-adds
    (Horner) and one ``scatter_add`` straight into the ``(B, in, G + k)`` matrix the layer
    multiplies, instead of a de Boor recurrence over ``(B, in, G + 2k)`` tensors.

    ``rows`` is ``(in * (M + 2), 2 + (k+1)^2)``: ``[t_j, 1/h_j, C_{p,r}]`` per interval
    (``p`` the power, ``r`` the basis function), with an all-zero row before and after each
    input's ``M`` intervals for ``x`` outside the knot span.  Basis functions that fall off
    the ends of the knot vector get zero coefficients and a clamped column, so the scatter
    needs no padding (they add 0).
    """

    def __init__(self, knots: Tensor, k: int):
        n_in, n_knots = knots.shape
        n_int = n_knots - 1
        n_basis = n_int - k
        kd = knots.detach().to(torch.float64).cpu()
        u = (torch.arange(k + 1, dtype=torch.float64) + 0.5) / (k + 1)  # (k+1,) inside (0, 1)
        left, h = kd[:, :-1], kd[:, 1:] - kd[:, :-1]  # (in, M)
        pts = left.unsqueeze(-1) + h.unsqueeze(-1) * u  # (in, M, k+1)
        vals = _local_basis(pts.reshape(n_in, -1).T.contiguous(), kd, k)
        vals = vals.reshape(n_int, k + 1, n_in, k + 1).permute(2, 0, 1, 3)  # (in, M, q, r)
        vander = u.unsqueeze(-1) ** torch.arange(k + 1, dtype=torch.float64)  # (q, p)
        coef = torch.linalg.solve(vander, vals)  # (in, M, p, r)
        # basis index of (interval j, function r) is j - k + r; drop those off the ends
        index = torch.arange(n_int).unsqueeze(-1) - k + torch.arange(k + 1)  # (M, k+1)
        valid = (index >= 0) & (index < n_basis)
        # uniform knots (the initial grid, grid_eps=1 updates): one polynomial for all
        # intervals, so no per-point coefficient gather (see _uniform_forward)
        mean_h = h.mean(1, keepdim=True)
        self.uniform = k >= 1 and bool(((h - mean_h).abs() <= 1e-6 * mean_h).all())
        if self.uniform:
            dev, dt = knots.device, knots.dtype
            inv = 1 / mean_h[:, 0]
            self.inv_h = inv.to(dtype=dt, device=dev)  # (in,)
            self.shift = (-kd[:, 0] * inv).to(dtype=dt, device=dev)  # u_full = x / h - t0 / h
            cardinal = coef[0, k].T  # (r, p) interior interval of input 0
            powers = torch.arange(1, k + 1, dtype=torch.float64)
            deriv = cardinal[:, 1:] * powers  # (r, p): d/du coefficients of u^0..u^(k-1)
            deriv = torch.cat([deriv, torch.zeros(k + 1, 1, dtype=torch.float64)], 1)
            # values then derivatives: one matmul gives both, (2(k+1), 1) + (2(k+1), k) @ u^1..k
            both = torch.cat([cardinal, deriv], 0)
            self.card = [c.to(dtype=dt, device=dev) for c in (both[:, :1], both[:, 1:])]
            inside = torch.cat([torch.zeros(1, k + 1), valid.double(), torch.zeros(1, k + 1)])
            self.valid = inside.T.contiguous().to(dtype=dt, device=dev)  # (k+1, M+2)
        coef = coef * valid.unsqueeze(1).to(coef.dtype)
        coef = coef.reshape(n_in, n_int, (k + 1) ** 2)
        inv_h = torch.where(h > 0, 1 / h.clamp_min(1e-300), torch.zeros_like(h))
        body = torch.cat([left.unsqueeze(-1), inv_h.unsqueeze(-1), coef], -1)  # (in, M, F)
        # float64 CPU copies for the fused C kernel (kernels/layer.py): knots and per-interval rows
        self.knots64, self.body = kd.contiguous(), body.contiguous()
        span = (kd[:, -1] - kd[:, 0]).clamp_min(1e-300)
        self.lut = torch.stack([kd[:, 0], n_int / span], 1).contiguous()  # (in, 2)
        zero = torch.zeros(n_in, 1, body.shape[-1], dtype=torch.float64)
        rows = torch.cat([zero, body, zero], 1)  # (in, M+2, F)
        # component-major, so every Horner step below works on contiguous rows
        rows = rows.reshape(n_in * (n_int + 2), -1).T.contiguous()  # (F, in*(M+2))
        self.rows = rows.to(dtype=knots.dtype, device=knots.device)
        columns = torch.cat([index[:1], index, index[-1:]], 0).clamp(0, n_basis - 1)
        self.columns = columns.T.contiguous().to(knots.device)  # (k+1, M+2): column by row s
        self.offsets = torch.arange(n_in, device=knots.device) * (n_int + 2)  # (in,)
        # column of function r for row s on interior intervals: s - k - 1 + r
        self.col_offsets = (torch.arange(k + 1, device=knots.device) - k - 1).unsqueeze(1)
        self.knots, self.k, self.n_basis, self.n_int = knots, k, n_basis, n_int
        self.version = 0


def _uniform_values(x: Tensor, table: BasisTable, need_grad: bool):
    """Uniform knots: interval from a floor, values from one cardinal polynomial (a matmul).

    Returns the row index ``s``, values ``(k+1, N)``, d/du ``(k+1, N)`` (or None) and the
    per-input ``1/h`` that turns d/du into d/dx (applied to the gradient in backward).
    """
    k = table.k
    # in-place steps: fresh multi-MB temporaries cost page faults on every call
    u = torch.addcmul(table.shift, x, table.inv_h)  # (B, in): position in intervals
    s = u.floor().add_(1).clamp_(0, table.n_int + 1)  # row: 0 / M+1 outside the span
    s_flat = s.reshape(-1).long()
    u = u.sub_(s).add_(1).reshape(1, -1)  # (1, N) local coordinate
    pw = u.expand(k, -1).cumprod(0)  # (k, N): u, u^2, ..., u^k
    bias, mat = table.card  # (2(k+1), 1), (2(k+1), k)
    # every point on an interior interval (the usual case: data inside the grid range)?
    # then no basis function falls off the ends and no mask is needed
    lo, hi = torch.aminmax(s)
    interior = bool(lo >= k + 1) and bool(hi <= table.n_int - k)
    mask = None if interior else table.valid.index_select(1, s_flat)  # (k+1, N)
    if not need_grad:
        values = torch.addmm(bias[: k + 1], mat[: k + 1], pw)
        return s_flat, values if mask is None else values.mul_(mask), None, None, interior
    both = torch.addmm(bias, mat, pw).view(2, k + 1, -1)  # values and d/du
    if mask is not None:
        both.mul_(mask)
    return s_flat, both[0], both[1], table.inv_h, interior


def _table_values(x: Tensor, table: BasisTable, need_grad: bool):
    """Any knots: interval by searchsorted, per-interval coefficients gathered, Horner."""
    k = table.k
    batch, n_in = x.shape
    s = torch.searchsorted(table.knots, x.T.contiguous(), right=True).T  # (B, in) in [0, M+1]
    s_flat = s.reshape(-1)
    rows = table.rows.index_select(1, s_flat + table.offsets.repeat(batch))  # (F, B*in)
    u = (x.reshape(-1) - rows[0]) * rows[1]  # (B*in,) local coordinate in [0, 1)
    coef = rows[2:].view(k + 1, k + 1, -1)  # (p, r, B*in)
    values = coef[k]
    deriv = None
    for p in range(k - 1, -1, -1):  # Horner, with the derivative alongside
        if need_grad:
            deriv = values if deriv is None else torch.addcmul(values, deriv, u)
        values = torch.addcmul(coef[p], values, u)  # (k+1, B*in)
    if need_grad:
        deriv = torch.zeros_like(values) if deriv is None else deriv * rows[1]  # d/dx
    return s_flat, values, deriv, None, False


def _dense_basis(x: Tensor, table: BasisTable, need_grad: bool):
    """Basis ``(B, in, G+k)`` and, with ``need_grad``, what the backward needs."""
    batch, n_in = x.shape
    values_of = _uniform_values if table.uniform else _table_values
    s_flat, values, deriv, grad_scale, interior = values_of(x, table, need_grad)
    # each point's k+1 values go to consecutive columns of its row of the (B*in, G+k)
    # output; off-the-end functions are clamped onto a valid column with value 0, so
    # the scatter must add (a plain scatter could let that 0 overwrite a real value)
    if interior:  # row s starts at column s - k - 1, nothing to clamp
        cols = s_flat + table.col_offsets
    else:
        cols = table.columns.index_select(1, s_flat)  # (k+1, B*in)
    dense = x.new_zeros(batch * n_in, table.n_basis)
    dense.scatter_add_(1, cols.T, values.T)
    return dense.view(batch, n_in, table.n_basis), (cols, deriv, grad_scale)


def basis_input_grad(x: Tensor, table: BasisTable, grad_out: Tensor) -> Tensor:
    """``sum_n grad_out[b, i, n] B_n'(x[b, i])``, ``(B, in)``, from differentiable torch ops.

    The backward of the basis when it is itself recorded (``create_graph=True``, e.g. a
    PDE loss on the Laplacian of a KAN, KAN paper section 3.4): the slopes come from the
    per-interval polynomials of ``table`` by Horner's rule on ``u = (x - t_j) / h_j``, so
    the result is differentiable in ``x`` (curvature, to any order) and in ``grad_out``.

    Parameters
    ----------
    x : (B, in) points (the basis' saved input, with its autograd history)
    table : the knots' :class:`BasisTable`
    grad_out : (B, in, G+k) upstream gradient of the basis
    """
    s_flat, _, deriv, _, _ = _table_values(x, table, True)  # deriv (k+1, B*in), d/dx
    cols = table.columns.index_select(1, s_flat)  # (k+1, B*in)
    rows = grad_out.reshape(-1, grad_out.shape[-1])  # (B*in, G+k)
    return (rows.gather(1, cols.T) * deriv.T).sum(1).view(x.shape)


class _BSplineBasis(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, table: BasisTable) -> Tensor:  # type: ignore[override]
        dense, saved = _dense_basis(x, table, True)
        ctx.save_for_backward(x, *saved)
        ctx.shape, ctx.table = x.shape, table
        return dense

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        x, cols, deriv, grad_scale = ctx.saved_tensors  # (B, in), (k+1, B*in) x2, (in,)|None
        if torch.is_grad_enabled():  # create_graph: the gradient must be differentiable
            return basis_input_grad(x, ctx.table, grad_out), None
        rows = grad_out.reshape(-1, grad_out.shape[-1])  # (B*in, G+k)
        grad_x = (rows.gather(1, cols.T) * deriv.T).sum(1).view(ctx.shape)  # (B, in)
        if grad_scale is not None:
            grad_x = grad_x * grad_scale  # d/du -> d/dx
        return grad_x, None


def bspline_basis(x: Tensor, knots: Tensor, k: int, table: BasisTable | None = None) -> Tensor:
    """B-spline basis values of order ``k``.

    Parameters
    ----------
    x : (B, in) points
    knots : (in, G+2k+1) extended knots (strictly increasing per row)
    k : spline order (3 = cubic)
    table : a cached :class:`BasisTable` for these knots (built if omitted)

    Returns
    -------
    (B, in, G+k) basis values; zero outside ``[knots[:, 0], knots[:, -1])``.
    Differentiable with respect to ``x`` (not the knots).
    """
    if table is None:
        table = BasisTable(knots, k)
    if kernels.usable(x):
        return kernels.dense_basis(x, table)
    if not (x.requires_grad and torch.is_grad_enabled()):
        return _dense_basis(x, table, False)[0]  # e.g. the data layer: no autograd node needed
    return _BSplineBasis.apply(x, table)


def coef_to_curve(x: Tensor, knots: Tensor, coef: Tensor, k: int) -> Tensor:
    """Evaluate splines: x (B, in), coef (in, out, G+k) -> (B, in, out)."""
    basis = bspline_basis(x, knots, k)  # (B, in, n)
    return torch.einsum("bin,ion->bio", basis, coef)


def curve_to_coef(
    x: Tensor,
    y: Tensor,
    knots: Tensor,
    k: int,
    ridge: float = 1e-8,
    table: BasisTable | None = None,
) -> Tensor:
    """Least-squares spline coefficients for samples ``y`` (B, in, out) at ``x`` (B, in).

    Solved per input with a small ridge term so empty intervals stay finite.  ``table``:
    the knots' cached :class:`BasisTable` (built if omitted).  Returns (in, out, G+k).
    """
    basis = bspline_basis(x, knots, k, table).permute(1, 0, 2)  # (in, B, n)
    target = y.permute(1, 0, 2)  # (in, B, out)
    dtype = torch.float64
    a = basis.to(dtype)
    gram = a.transpose(1, 2) @ a  # (in, n, n)
    eye = torch.eye(gram.shape[-1], dtype=dtype, device=x.device)
    scale = gram.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(1e-12)[:, None, None]
    rhs = a.transpose(1, 2) @ target.to(dtype)  # (in, n, out)
    coef = torch.linalg.solve(gram + ridge * scale * eye, rhs)  # (in, n, out)
    return coef.permute(0, 2, 1).to(y.dtype).contiguous()


kernels.register_twins(basis_input_grad=basis_input_grad)
