"""One KAN layer: each edge (i -> j) is phi(x) = s_b silu(x) + s_sp sum_n c_n B_n(x) (KAN eq 2.10).

The whole numeric branch is two matmuls over flattened features, as in efficient-kan:
``silu(x) @ W_base`` and ``B(x).view(B, in*n) @ W_spline`` with ``W`` folding in ``scale_base``,
``scale_sp`` and the edge ``mask``.  Edges fixed to a symbolic function add
``c f(a x + b) + d`` through the symbolic branch, which only runs when some edge uses it.
Per-edge activations ``(B, out, in)`` are only formed on request (plots, attribution).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import kernels
from .spline import (
    BasisTable,
    bspline_basis,
    curve_to_coef,
    extend_grid,
    uniform_grid,
)

BASE_FUNCTIONS = {
    "silu": F.silu,
    "identity": lambda x: x,
    "zero": torch.zeros_like,
}


def base_function(name: str):
    """The residual function b(x) by name ('silu', 'identity' or 'zero')."""
    if name not in BASE_FUNCTIONS:
        raise ValueError(f"unknown base_fun {name!r}; choose one of {sorted(BASE_FUNCTIONS)}")
    return BASE_FUNCTIONS[name]


class KANLayer(nn.Module):
    """Layer of ``in_dim * out_dim`` learnable edges; all per-edge tensors are ``(in, out, ...)``.

    Parameters
    ----------
    in_dim, out_dim : number of input nodes and output subnodes
    num : grid intervals G
    k : spline order
    generator : torch.Generator for the initial noise and scale_base (no global RNG use)
    """

    knots: Tensor  # (in, G+2k+1) buffer
    mask: Tensor  # (in, out) buffer, 1 = numeric branch on
    sym_mask: Tensor  # (in, out) buffer, 1 = symbolic branch on

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        num: int = 5,
        k: int = 3,
        noise_scale: float = 0.3,
        scale_base_mu: float = 0.0,
        scale_base_sigma: float = 1.0,
        scale_sp: float = 1.0,
        base_fun: str = "silu",
        grid_eps: float = 0.02,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        sparse_init: bool = False,
        sp_trainable: bool = True,
        sb_trainable: bool = True,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        dtype = dtype or torch.get_default_dtype()
        self.in_dim, self.out_dim, self.num, self.k = in_dim, out_dim, num, k
        self.grid_eps = grid_eps
        self.base_fun_name = base_fun
        self.base_fun = base_function(base_fun)
        grid = uniform_grid(in_dim, num, grid_range, dtype=dtype, device=device)
        self.register_buffer("knots", extend_grid(grid, k))  # (in, G+2k+1)
        # small random curves, as in pykan: noise sampled at the grid points, fit by least squares
        noise = torch.rand(num + 1, in_dim, out_dim, generator=generator, dtype=dtype) - 0.5
        noise = (noise * noise_scale / num).to(device)
        coef = curve_to_coef(grid.T.contiguous(), noise, self.knots, k)
        self.coef = nn.Parameter(coef)  # (in, out, G+k)
        mask = torch.ones(in_dim, out_dim, dtype=dtype, device=device)
        if sparse_init:
            mask = _sparse_mask(in_dim, out_dim, dtype, device)
        self.register_buffer("mask", mask)
        rand = torch.rand(in_dim, out_dim, generator=generator, dtype=dtype).to(device)
        sb = (scale_base_mu + scale_base_sigma * (rand * 2 - 1)) / math.sqrt(in_dim)
        self.scale_base = nn.Parameter(sb, requires_grad=sb_trainable)
        sp = torch.full((in_dim, out_dim), scale_sp / math.sqrt(in_dim), dtype=dtype, device=device)
        self.scale_sp = nn.Parameter(sp * mask, requires_grad=sp_trainable)
        # symbolic branch: c * f(a * x + b) + d per edge, on where sym_mask == 1
        self.register_buffer("sym_mask", torch.zeros(in_dim, out_dim, dtype=dtype, device=device))
        params = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=dtype, device=device)
        self.sym_params = nn.Parameter(params.repeat(in_dim, out_dim, 1), requires_grad=False)
        self.sym_names: list[list[str]] = [["0"] * out_dim for _ in range(in_dim)]
        self._sym_groups: Any = None  # cache of edges grouped by function, rebuilt on change
        self._has_symbolic = False
        self._basis_table: BasisTable | None = None  # cache for the knots, see basis()
        self._mask_full: tuple[Tensor, int, tuple[bool, bool]] | None = None  # _mask_state()

    # ------------------------------------------------------------------ structure
    @property
    def grid(self) -> Tensor:
        """Grid points without the extension, ``(in, G+1)``."""
        return self.knots[:, self.k : self.knots.shape[1] - self.k]

    @property
    def has_symbolic(self) -> bool:
        """Whether any edge has its symbolic branch on (cached; see ``symbolic_changed``)."""
        return self._has_symbolic

    def symbolic_changed(self) -> None:
        """Call after editing ``sym_names``/``sym_mask``: rebuilds the grouping of edges by
        function and the flag that lets the forward pass skip the symbolic branch."""
        self._sym_groups = None
        self._has_symbolic = bool(self.sym_mask.any())
        # (a, b, c, d) only train while some edge is symbolic: optimisers skip them otherwise
        self.sym_params.requires_grad_(self._has_symbolic)

    def _load_from_state_dict(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super()._load_from_state_dict(*args, **kwargs)
        self.symbolic_changed()  # sym_mask may have changed under the cached flag

    def _symbolic_groups(self):
        from .symbolic.branch import SymbolicGroups

        if self._sym_groups is None:
            self._sym_groups = SymbolicGroups.from_names(self.sym_names, device=self.knots.device)
        return self._sym_groups

    # ------------------------------------------------------------------ forward
    def basis_table(self) -> BasisTable:
        """Interval table of the current knots, rebuilt only when they change (grid update,
        refine, pruning, load)."""
        table = self._basis_table
        if table is None or table.knots is not self.knots or table.version != self.knots._version:
            table = BasisTable(self.knots, self.k)
            table.version = self.knots._version
            self._basis_table = table
        return table

    def basis(self, x: Tensor) -> Tensor:
        """B-spline basis ``(B, in, G+k)`` of the inputs."""
        return bspline_basis(x, self.knots, self.k, self.basis_table())

    def numeric_weights(self) -> tuple[Tensor, Tensor]:
        """Masked weights: base ``(in, out)`` and spline ``(in, out, n)``."""
        if self._mask_is_full():  # no edge switched off: skip two products and their grads
            return self.scale_base, self.coef * self.scale_sp.unsqueeze(-1)
        base_w = self.scale_base * self.mask
        spline_w = self.coef * (self.scale_sp * self.mask).unsqueeze(-1)
        return base_w, spline_w

    def _mask_is_full(self) -> bool:
        """Whether every numeric edge is on (cached on the mask object and its version)."""
        return self._mask_state()[0]

    def _mask_is_empty(self) -> bool:
        """Whether every numeric edge is off (all symbolic or removed, as after
        ``auto_symbolic``): the numeric branch then adds exactly 0 and is skipped."""
        return self._mask_state()[1]

    def _mask_state(self) -> tuple[bool, bool]:
        """(all edges on, all off), cached on the mask object and its in-place version."""
        mask = self.mask
        cached = self._mask_full
        if cached is None or cached[0] is not mask or cached[1] != mask._version:
            state = (bool((mask == 1).all()), not bool(mask.any()))
            cached = self._mask_full = (mask, mask._version, state)
        return cached[2]

    def kernel_weights(self) -> tuple[Tensor, Tensor]:
        """Masked weights in the native kernel's layout: base ``(in, out)`` and spline
        ``(in, n, out)`` (outputs innermost), differentiable like :meth:`numeric_weights`."""
        base_w, spline_w = self.numeric_weights()
        return base_w, spline_w.transpose(1, 2).contiguous()

    def forward(self, x: Tensor, with_std: bool = False):
        """``x`` (B, in) -> ``(B, out)``; with ``with_std`` also the per-edge numeric
        activation std ``(in, out)`` (for the regulariser), without forming ``(B, out, in)``."""
        var = None
        if self.has_symbolic and self.sym_params.requires_grad and self._mask_is_empty():
            # every edge symbolic (after auto_symbolic): the numeric branch adds exactly 0, and
            # the trained symbolic parameters keep the output in the autograd graph
            y = x.new_zeros(x.shape[0], self.out_dim)
            if with_std:
                var = x.new_zeros(self.in_dim, self.out_dim)
        elif kernels.usable(x) and kernels.use_fused(self.out_dim, x.numel(), with_std):
            base = self.base_fun(x)  # (B, in)
            # fused C kernel: no dense basis, variance from double sums (kernels/layer.py)
            base_w, ws = self.kernel_weights()
            y, var = kernels.fused_layer(x, base, base_w, ws, self.basis_table(), with_std)
        else:
            base = self.base_fun(x)  # (B, in)
            base_w, spline_w = self.numeric_weights()
            y, var = torch_layer(x, base, base_w, spline_w, self.basis_table(), with_std)
        if self.has_symbolic:
            from .symbolic.branch import symbolic_forward

            y = y + symbolic_forward(x, self._symbolic_groups(), self.sym_params, self.sym_mask)
        if not with_std:
            return y
        assert var is not None
        return y, torch.sqrt(var.clamp_min(0) + 1e-12).to(y.dtype)

    def edge_activations(self, x: Tensor, numeric_only: bool = False) -> Tensor:
        """Per-edge outputs ``(B, out, in)`` (masks applied)."""
        basis = self.basis(x)  # (B, in, n)
        base_w, spline_w = self.numeric_weights()
        acts = torch.einsum("bin,ion->boi", basis, spline_w)
        acts = acts + self.base_fun(x).unsqueeze(1) * base_w.T.unsqueeze(0)
        if self.has_symbolic and not numeric_only:
            from .symbolic.branch import symbolic_edge_acts

            acts = acts + symbolic_edge_acts(
                x, self._symbolic_groups(), self.sym_params, self.sym_mask
            )
        return acts

    # ------------------------------------------------------------------ grids
    def update_grid_from_samples(self, x: Tensor) -> None:
        """Move grid points to the sample quantiles (mixed with a uniform grid by ``grid_eps``)
        and refit the coefficients so every curve stays the same on the samples (pykan)."""
        with torch.no_grad():
            x_sorted = torch.sort(x, dim=0).values  # (B, in)
            old = self._numeric_curves(x_sorted)  # (B, in, out)
            new_grid = _adaptive_grid(x_sorted, self.num, self.grid_eps)
            # inputs whose samples are (nearly) constant keep their old grid
            span = new_grid[:, -1] - new_grid[:, 0]
            keep = span < 1e-4 * (1 + new_grid[:, -1].abs())
            new_grid = torch.where(keep.unsqueeze(-1), self.grid, new_grid)
            self.knots = extend_grid(new_grid, self.k)
            self.coef.data = curve_to_coef(x_sorted, old, self.knots, self.k,
                                           table=self.basis_table())  # fmt: skip

    def refine(self, num: int, x: Tensor | None = None) -> None:
        """Change the grid to ``num`` intervals keeping each learned curve.

        New grid points interpolate the current (possibly non-uniform) ones, so a multiple of
        the old size contains the old knots and the spline is reproduced exactly; the
        coefficients are fit by least squares on dense points over the old grid range
        (plus the samples ``x`` if given).
        """
        if num < 1:
            raise ValueError(f"grid must be >= 1 interval, got {num}")
        with torch.no_grad():
            old_grid = self.grid  # (in, G+1)
            pos = torch.linspace(0, self.num, num + 1, dtype=old_grid.dtype, device=old_grid.device)
            new_grid = _interp_rows(pos, old_grid)  # (in, num+1)
            new_knots = extend_grid(new_grid, self.k)
            # fit on the grid range: outside it (the extension intervals) a spline has fewer
            # than k+1 basis functions, so no grid can reproduce another grid's tails there
            n_pts = 8 * (num + self.k) + 16
            t = torch.linspace(0, 1, n_pts, dtype=old_grid.dtype, device=old_grid.device)
            lo, hi = old_grid[:, :1], old_grid[:, -1:]
            pts = (lo + (hi - lo) * t).T.contiguous()  # (P, in)
            if x is not None:
                pts = torch.cat([pts, x.to(pts.dtype)], 0)
            old = self._numeric_curves(pts)
            self.knots = new_knots
            self.num = num
            self.coef = nn.Parameter(
                curve_to_coef(pts, old, self.knots, self.k, table=self.basis_table())
            )

    def _numeric_curves(self, x: Tensor) -> Tensor:
        """Spline part only, ``(B, in, out)`` (coefficients, not scales)."""
        return torch.einsum("bin,ion->bio", self.basis(x), self.coef)

    # ------------------------------------------------------------------ subsetting
    def subset(self, in_ids: list[int], out_ids: list[int]) -> None:
        """Keep only the given inputs and outputs, in place (used by pruning)."""
        ii = torch.as_tensor(in_ids, dtype=torch.long, device=self.knots.device)
        oo = torch.as_tensor(out_ids, dtype=torch.long, device=self.knots.device)
        self.knots = self.knots[ii].contiguous()
        for name in ("mask", "sym_mask"):
            setattr(self, name, getattr(self, name)[ii][:, oo].contiguous())
        for name in ("coef", "scale_base", "scale_sp", "sym_params"):
            old = getattr(self, name)
            setattr(self, name, nn.Parameter(old.data[ii][:, oo].contiguous(), old.requires_grad))
        self.sym_names = [[self.sym_names[i][j] for j in out_ids] for i in in_ids]
        self.in_dim, self.out_dim = len(in_ids), len(out_ids)
        self.symbolic_changed()


def torch_layer(
    x: Tensor, base: Tensor, base_w: Tensor, spline_w: Tensor, table: BasisTable, with_std: bool
) -> tuple[Tensor, Tensor | None]:
    """The numeric branch in torch ops (KAN eq. 2.10 summed over inputs, as two matmuls):
    ``y = b(x) @ W_base + B(x).view(B, in*n) @ W_spline``, ``(B, out)``; with ``with_std`` also
    the per-edge variance over the batch ``(in, out)`` (float64, :func:`_edge_variance`),
    else None.

    ``base`` is ``b(x)`` ``(B, in)``; ``base_w`` ``(in, out)`` and ``spline_w``
    ``(in, out, n)`` are the masked weights (:meth:`KANLayer.numeric_weights`).  The twin of
    the fused C layer: its recorded (``create_graph``) backward differentiates this.
    """
    basis = bspline_basis(x, table.knots, table.k, table)  # (B, in, n)
    batch, n_in, n = basis.shape
    w_flat = spline_w.permute(1, 0, 2).reshape(-1, n_in * n)  # (out, in*n)
    y = torch.addmm(F.linear(basis.reshape(batch, n_in * n), w_flat), base, base_w)  # (B, out)
    var = _edge_variance(base, basis, base_w, spline_w) if with_std else None
    return y, var


def _edge_variance(base: Tensor, basis: Tensor, base_w: Tensor, spline_w: Tensor) -> Tensor:
    """Per-edge variance over the batch of phi_ij(x_i) = w_ij . f_i(x), features
    f = (b(x), B_1..B_n): Var = w^T Cov_i w, Cov_i the (n+1)x(n+1) feature covariance of
    input i, ``(in, out)``.  In float64: Cov_i is singular (the centred B-splines sum to zero)
    and an edge's weights have a large component along that direction (its mean), so in
    float32 the quadratic form cancels to noise for near-constant edges (var <= 0 -> clamped,
    gradient lost) and the sparsity regulariser stops pruning them."""
    wide = torch.float64 if base.device.type != "mps" else base.dtype
    feats = torch.cat([base.unsqueeze(-1), basis], -1).transpose(0, 1).to(wide)
    feats = feats - feats.mean(1, keepdim=True)  # (in, B, n+1)
    cov = feats.transpose(1, 2) @ feats  # (in, n+1, n+1), times (B - 1)
    w = torch.cat([base_w.unsqueeze(-1), spline_w], -1).to(wide)  # (in, out, n+1)
    return ((w @ cov) * w).sum(-1) / max(base.shape[0] - 1, 1)


def _adaptive_grid(x_sorted: Tensor, num: int, grid_eps: float) -> Tensor:
    """Grid of ``num`` intervals at sample quantiles, mixed with a uniform one (pykan)."""
    batch = x_sorted.shape[0]
    ids = [int(batch / num * i) for i in range(num)] + [batch - 1]
    adaptive = x_sorted[ids, :].T  # (in, num+1)
    h = (adaptive[:, -1:] - adaptive[:, :1]) / num
    steps = torch.arange(num + 1, dtype=x_sorted.dtype, device=x_sorted.device)
    uniform = adaptive[:, :1] + h * steps
    grid = grid_eps * uniform + (1 - grid_eps) * adaptive
    # strictly increasing knots: push apart repeated quantiles (many equal samples)
    min_gap = 1e-6 * (1 + (adaptive[:, -1:] - adaptive[:, :1]).abs())
    gaps = torch.diff(grid, dim=1).clamp_min(min_gap)
    return torch.cat([grid[:, :1], grid[:, :1] + gaps.cumsum(1)], dim=1)


def _interp_rows(pos: Tensor, rows: Tensor) -> Tensor:
    """Linear interpolation of each row of ``rows`` (in, G+1) at fractional indices ``pos``."""
    lo = pos.floor().long().clamp(0, rows.shape[1] - 2)
    frac = (pos - lo.to(pos.dtype)).unsqueeze(0)
    return rows[:, lo] * (1 - frac) + rows[:, lo + 1] * frac


def _sparse_mask(in_dim: int, out_dim: int, dtype, device) -> Tensor:
    """Connect each node to its nearest counterpart(s) on the other side (pykan sparse_init)."""
    in_coord = torch.arange(in_dim) * (1 / in_dim) + 1 / (2 * in_dim)
    out_coord = torch.arange(out_dim) * (1 / out_dim) + 1 / (2 * out_dim)
    dist = (in_coord[:, None] - out_coord[None, :]).abs()
    mask = torch.zeros(in_dim, out_dim)
    mask[torch.arange(in_dim), dist.argmin(1)] = 1
    mask[dist.argmin(0), torch.arange(out_dim)] = 1
    return mask.to(dtype=dtype, device=device)


kernels.register_twins(layer=torch_layer)
