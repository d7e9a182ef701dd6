"""Affine fit ``y ~ c f(a x + b) + d`` for every library function at once.

pykan sweeps a 101x101 (a, b) grid four times per function and scores with squared
correlation (~15 s per edge).  Here, per function:

1. x is mapped to [-1, 1] and y to unit scale, so one set of (a, b) grids fits all data;
2. a coarse (a, b) grid shaped by the function's ``fit_kind`` is scored in one batched
   tensor op, with c, d in closed form (least squares) for every grid point;
3. the best few grid points of *all* functions are refined together by Levenberg-Marquardt
   on (a, b) with c, d projected out (variable projection, Kaufman's Jacobian);
4. R^2 = 1 - SS_res / SS_tot (the true coefficient of determination), and the parameters
   are mapped back to raw units in a canonical form (a > 0 for even/odd functions, a = +-1
   for scale-free functions such as x^2 or log, b = 0 for exp, |b| <= pi/2 for sin/cos).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import sympy
import torch
from torch import Tensor

from .library import get_function, resolve_names
from .rank import rank_candidates

_DTYPE = torch.float64
_GRID_POINTS = 128  # samples used to score the coarse grid
_FIT_POINTS = 256  # samples used by Levenberg-Marquardt (final R^2 uses all)
_STARTS = 3  # grid points refined per function
_LM_STEPS = 12
_X = sympy.Symbol("x")


@dataclasses.dataclass
class FitResult:
    """Fitted parameters of several functions on one (x, y) sample.

    Attributes
    ----------
    names : function names, length F
    params : (F, 4) float64, rows (a, b, c, d) of ``c f(a x + b) + d`` in raw units
    r2 : (F,) float64, 1 - SS_res / SS_tot
    x_range : (min, max) of the finite x samples
    """

    names: list[str]
    params: Tensor
    r2: Tensor
    x_range: tuple[float, float]


@dataclasses.dataclass
class Candidate:
    """One suggestion for an edge: ``c * f(a x + b) + d`` with its quality.

    Attributes
    ----------
    name : library function name
    r2 : 1 - SS_res / SS_tot on the samples
    complexity : library complexity of ``name``
    params : (a, b, c, d)
    formula : sympy expression in ``x``
    curve_x, curve_y : (64,) float64 curve over the data range, for plotting
    pareto : True if no other candidate is at least as simple and more accurate
    eligible : True if its R^2 is within the ranking tolerance of the best one
    """

    name: str
    r2: float
    complexity: float
    params: tuple[float, float, float, float]
    formula: sympy.Expr
    curve_x: Tensor
    curve_y: Tensor
    pareto: bool = False
    eligible: bool = False

    def curve(self, xs: Tensor) -> Tensor:
        """``c f(a xs + b) + d`` with the library's torch function, shape of ``xs``."""
        return evaluate(self.name, self.params, xs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (floats, lists, formula text)."""
        return {
            "name": self.name,
            "r2": self.r2,
            "complexity": self.complexity,
            "params": list(self.params),
            "formula": str(self.formula),
            "pareto": self.pareto,
            "eligible": self.eligible,
        }


def evaluate(name: str, params: Sequence[float] | Tensor, xs: Tensor) -> Tensor:
    """``c f(a xs + b) + d`` for library function ``name``; same shape and dtype as ``xs``."""
    a, b, c, d = (float(p) for p in params)
    return c * get_function(name).torch_fn(a * xs + b) + d


def affine_formula(name: str, params: Sequence[float], var: sympy.Symbol = _X) -> sympy.Expr:
    """sympy ``c f(a var + b) + d`` (factors of exactly 1 and terms of exactly 0 omitted)."""
    a, b, c, d = (float(p) for p in params)
    arg = _scaled(a, var) + (sympy.Float(b) if b != 0 else 0)
    inner = get_function(name).sympy_fn(arg)
    return _scaled(c, inner) + (sympy.Float(d) if d != 0 else 0)


def _scaled(factor: float, expr: Any) -> Any:
    if factor == 1:
        return expr
    if factor == -1:
        return -expr
    return sympy.Float(factor) * expr


def suggest(
    x: Tensor,
    y: Tensor,
    lib: Any = None,
    topk: int = 5,
    weight_simple: float = 0.8,
) -> list[Candidate]:
    """Rank library functions for the samples ``y ~ c f(a x + b) + d``.

    Parameters
    ----------
    x, y : (N,) samples of one edge (non-finite pairs are dropped)
    lib : None (all functions except aliases), a name or a list of names
    topk : number of candidates returned
    weight_simple : 0 = rank purely by R^2; larger values accept a simpler function whose
        unexplained variance ``1 - R^2`` is at most ``1 / (1 - weight_simple)`` times the
        best one's (1 = always the simplest); see :func:`rank.rank_candidates`

    Returns
    -------
    list of :class:`Candidate`, best first.
    """
    names = resolve_names(lib)
    result = fit_library(x, y, names)
    complexity = [float(get_function(n).complexity) for n in names]
    r2 = result.r2.tolist()
    order, pareto, eligible = rank_candidates(r2, complexity, weight_simple)
    lo, hi = result.x_range
    curve_x = torch.linspace(lo, hi, 64, dtype=_DTYPE)
    out = []
    for k in order[: max(int(topk), 1)]:
        params = tuple(float(p) for p in result.params[k])
        assert len(params) == 4
        out.append(
            Candidate(
                name=names[k],
                r2=r2[k],
                complexity=complexity[k],
                params=params,  # type: ignore[arg-type]
                formula=affine_formula(names[k], params),
                curve_x=curve_x,
                curve_y=evaluate(names[k], params, curve_x),
                pareto=pareto[k],
                eligible=eligible[k],
            )
        )
    return out


def fit_params(x: Tensor, y: Tensor, name: str) -> tuple[tuple[float, float, float, float], float]:
    """Best ``(a, b, c, d)`` and R^2 for one function (used by ``fix_symbolic``)."""
    result = fit_library(x, y, [name])
    a, b, c, d = (float(p) for p in result.params[0])
    return (a, b, c, d), float(result.r2[0])


def fit_library(x: Tensor, y: Tensor, names: Sequence[str]) -> FitResult:
    """Fit ``c f(a x + b) + d`` for every function in ``names``; see the module docstring.

    Parameters
    ----------
    x, y : (N,) samples (any float dtype; computed in float64, non-finite pairs dropped)
    names : library names

    Returns
    -------
    :class:`FitResult` with params (F, 4) and r2 (F,).
    """
    x = torch.as_tensor(x).detach().reshape(-1).to(_DTYPE)
    y = torch.as_tensor(y).detach().reshape(-1).to(_DTYPE)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same number of samples: {x.shape} vs {y.shape}")
    keep = torch.isfinite(x) & torch.isfinite(y)
    x, y = x[keep], y[keep]
    n_fun = len(names)
    if x.numel() == 0:
        raise ValueError("no finite samples to fit")
    lo, hi = float(x.min()), float(x.max())
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    y_mean = float(y.mean())
    y_scale = float((y - y_mean).square().mean().sqrt())
    if half <= 1e-12 * (1 + abs(mid)) or y_scale <= 1e-12 * (1 + abs(y_mean)) or x.numel() < 3:
        # constant input or output: every function fits with c = 0, d = mean(y)
        params = torch.tensor([[1.0, 0.0, 0.0, y_mean]], dtype=_DTYPE).repeat(n_fun, 1)
        r2 = torch.full((n_fun,), 1.0 if y_scale <= 1e-12 * (1 + abs(y_mean)) else 0.0)
        return FitResult(list(names), params, r2.to(_DTYPE), (lo, hi))
    xt = (x - mid) / half  # (N,) in [-1, 1]
    yt = (y - y_mean) / y_scale  # (N,) mean 0, mean square 1
    unit = 10.0 ** round(-math.log10(half))  # scale-free functions use raw a = +-unit
    fit_ids = _spread(xt, _FIT_POINTS)
    grid_ids = _spread(xt, _GRID_POINTS)
    starts, masks, slices = [], [], []
    for name in names:
        a_grid, b_grid, mask = _grid(name, unit * half)
        best = _grid_search(name, a_grid, b_grid, xt[grid_ids], yt[grid_ids], _STARTS)
        slices.append((sum(len(s) for s in starts), sum(len(s) for s in starts) + len(best)))
        starts.append(torch.stack([a_grid[best], b_grid[best]], -1))
        masks.append(torch.tensor(mask, dtype=_DTYPE).expand(len(best), 2))
    theta = torch.cat(starts)  # (M, 2) normalised (a, b)
    mask_t = torch.cat(masks)
    theta, ss = _levenberg_marquardt(names, slices, theta, mask_t, xt[fit_ids], yt[fit_ids])
    best_rows = torch.tensor([s0 + int(ss[s0:s1].argmin()) for s0, s1 in slices])
    theta = theta[best_rows]  # (F, 2)
    # final closed-form c, d and R^2 on all samples
    f_all = _evaluate_groups(names, [(k, k + 1) for k in range(n_fun)], theta, xt)
    c, d, ss_res = _closed_form(f_all, yt)
    r2 = 1.0 - ss_res / yt.square().sum()
    a = theta[:, 0] / half
    b = theta[:, 1] - theta[:, 0] * mid / half
    params = torch.stack([a, b, c * y_scale, d * y_scale + y_mean], -1)
    for k, name in enumerate(names):
        params[k] = _canonical(name, params[k])
    return FitResult(list(names), params, r2.clamp(max=1.0), (lo, hi))


def _spread(xt: Tensor, count: int) -> Tensor:
    """Indices of at most ``count`` samples evenly spread over the x order."""
    if xt.numel() <= count:
        return torch.arange(xt.numel())
    order = torch.argsort(xt)
    return order[torch.linspace(0, xt.numel() - 1, count).round().long()]


def _grid(name: str, unit_a: float) -> tuple[Tensor, Tensor, tuple[float, float]]:
    """Flattened (a, b) start grid in normalised x (in [-1, 1]) and the free-parameter mask."""
    fn = get_function(name)
    kind, signs = fn.fit_kind, ([1.0] if fn.parity else [1.0, -1.0])

    def mesh(a_vals: Tensor, b_vals: Tensor) -> tuple[Tensor, Tensor]:
        a_vals = torch.cat([s * a_vals for s in signs]).to(_DTYPE)
        a_m, b_m = torch.meshgrid(a_vals, b_vals.to(_DTYPE), indexing="ij")
        return a_m.reshape(-1), b_m.reshape(-1)

    one = torch.ones(1, dtype=_DTYPE)
    if kind in ("zero", "affine"):  # a, b redundant (canonical form fixes them later)
        return one, one * 0, (0.0, 0.0)
    if kind == "shift":  # f(+-unit (x - x0)): search the shift x0 only
        x0 = torch.linspace(-4, 4, 41, dtype=_DTYPE)
        a_m, x0_m = mesh(torch.tensor([unit_a]), x0)
        return a_m, -a_m * x0_m, (0.0, 1.0)
    if kind == "exp":  # exp(a x + b) = e^b exp(a x): b is redundant
        a_vals = torch.linspace(0.25, 12, 24)
        a_m, b_m = mesh(a_vals, torch.zeros(1))
        return a_m, b_m, (1.0, 0.0)
    if kind == "periodic":
        return (*mesh(torch.linspace(0.25, 12, 24), _periodic_b()), (1.0, 1.0))
    if kind == "tan":
        return (*mesh(torch.linspace(0.05, 1.5, 10), torch.linspace(-1.5, 1.5, 13)), (1.0, 1.0))
    if kind == "bounded":
        return (*mesh(torch.linspace(0.05, 1.0, 12), torch.linspace(-0.95, 0.95, 13)), (1.0, 1.0))
    a_vals = torch.logspace(-1, 1, 16 if fn.parity else 12)
    return (*mesh(a_vals, torch.linspace(-5, 5, 21)), (1.0, 1.0))


def _periodic_b() -> Tensor:
    return torch.arange(12, dtype=_DTYPE) * (2 * math.pi / 12) - math.pi


def _grid_search(
    name: str, a_grid: Tensor, b_grid: Tensor, xt: Tensor, yt: Tensor, starts: int
) -> Tensor:
    """Indices of the ``starts`` grid points with the smallest SS_res (c, d closed form)."""
    fn = get_function(name).torch_fn
    if get_function(name).fit_kind in ("zero", "affine"):
        return torch.zeros(1, dtype=torch.long)
    f = torch.nan_to_num(fn(a_grid[:, None] * xt[None, :] + b_grid[:, None]))  # (G, n)
    _, _, ss_res = _closed_form(f, yt)
    return torch.topk(ss_res, min(starts, ss_res.numel()), largest=False).indices


def _closed_form(f: Tensor, yt: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Least-squares c, d of ``yt ~ c f + d`` per row of ``f`` (R, n); yt has mean 0.

    Returns c (R,), d (R,), SS_res (R,).  Rows with (numerically) constant f get c = 0.
    """
    f_mean = f.mean(-1)
    fc = f - f_mean[:, None]
    s_ff = fc.square().sum(-1)
    s_fy = fc @ yt
    ok = s_ff > 1e-14 * f.square().sum(-1) + 1e-300
    c = torch.where(ok, s_fy / torch.where(ok, s_ff, 1.0), 0.0)
    d = -c * f_mean
    ss_res = (yt.square().sum() - c * s_fy).clamp(min=0.0)
    return c, d, ss_res


def _fn_with_slope(name: str, u: Tensor) -> tuple[Tensor, Tensor]:
    """f(u) and f'(u) by central differences (elementwise functions; one call)."""
    h = 1e-6 * (1.0 + u.abs())
    vals = torch.nan_to_num(get_function(name).torch_fn(torch.stack([u, u + h, u - h])))
    return vals[0], (vals[1] - vals[2]) / (2 * h)


def _evaluate_groups(
    names: Sequence[str], slices: list[tuple[int, int]], theta: Tensor, xt: Tensor
) -> Tensor:
    u = theta[:, :1] * xt[None, :] + theta[:, 1:]  # (M, n)
    parts = [
        torch.nan_to_num(get_function(n).torch_fn(u[s0:s1])) for n, (s0, s1) in zip(names, slices)
    ]
    return torch.cat(parts)


def _levenberg_marquardt(
    names: Sequence[str],
    slices: list[tuple[int, int]],
    theta: Tensor,
    mask: Tensor,
    xt: Tensor,
    yt: Tensor,
) -> tuple[Tensor, Tensor]:
    """Refine (a, b) rows of ``theta`` (M, 2) for all functions at once; returns theta, SS_res.

    Variable projection: c, d are re-solved in closed form at every step, and the Jacobian of
    c f(a x + b) w.r.t. (a, b) is projected off span{1, f} (Kaufman's approximation).
    """
    free = mask.sum(0) > 0
    if not bool(free.any()):
        f = _evaluate_groups(names, slices, theta, xt)
        return theta, _closed_form(f, yt)[2]

    def evaluate_all(th: Tensor) -> tuple[Tensor, Tensor]:
        u = th[:, :1] * xt[None, :] + th[:, 1:]
        pairs = [_fn_with_slope(n, u[s0:s1]) for n, (s0, s1) in zip(names, slices)]
        return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])

    f, slope = evaluate_all(theta)
    c, _, ss = _closed_form(f, yt)
    damping = torch.full_like(ss, 1e-3)
    eye = torch.eye(2, dtype=_DTYPE)
    for _ in range(_LM_STEPS):
        fc = f - f.mean(-1, keepdim=True)
        s_ff = fc.square().sum(-1).clamp(min=1e-300)
        g = c[:, None] * slope  # d(c f(u))/du, (M, n)
        jac = torch.stack([g * xt[None, :], g], -1) * mask[:, None, :]  # (M, n, 2)
        jac = jac - jac.mean(1, keepdim=True)
        jac = jac - fc[..., None] * (torch.einsum("mn,mnk->mk", fc, jac) / s_ff[:, None])[:, None]
        resid = yt[None, :] - c[:, None] * fc  # (M, n), orthogonal to span{1, f}
        normal = jac.transpose(1, 2) @ jac  # (M, 2, 2)
        rhs = torch.einsum("mnk,mn->mk", jac, resid)
        diag = torch.diagonal(normal, dim1=1, dim2=2)
        lhs = normal + (damping[:, None] * diag + 1e-12 + (1 - mask))[:, :, None] * eye
        step = torch.linalg.solve(lhs, rhs) * mask
        trial = theta + step
        f_new, slope_new = evaluate_all(trial)
        c_new, _, ss_new = _closed_form(f_new, yt)
        better = torch.isfinite(ss_new) & (ss_new < ss)
        theta = torch.where(better[:, None], trial, theta)
        f = torch.where(better[:, None], f_new, f)
        slope = torch.where(better[:, None], slope_new, slope)
        c = torch.where(better, c_new, c)
        ss = torch.where(better, ss_new, ss)
        damping = torch.where(better, damping * 0.3, damping * 10.0).clamp(1e-9, 1e9)
    return theta, ss


def _canonical(name: str, p: Tensor) -> Tensor:
    """One representative of equivalent (a, b, c, d) (e.g. sin(-u) = -sin(u))."""
    fn = get_function(name)
    a, b, c, d = (float(v) for v in p)
    if fn.fit_kind == "zero":
        a, b, c = 1.0, 0.0, 0.0
    elif fn.fit_kind == "affine":  # c (a x + b) + d = (c a) x + (c b + d)
        a, b, c, d = 1.0, 0.0, c * a, c * b + d
    elif fn.fit_kind == "exp":
        c, b = c * math.exp(min(b, 700.0)), 0.0
    elif fn.parity and a < 0:
        a, b, c = (-a, -b, -c) if fn.parity < 0 else (-a, -b, c)
    if fn.fit_kind == "periodic":
        turns = round(b / math.pi)
        b, c = b - turns * math.pi, c * (-1.0) ** turns
    return torch.tensor([a, b, c, d], dtype=_DTYPE)
