"""Affine fit ``y ~ c f(a x + b) + d`` for every library function at once.

pykan sweeps a 101x101 (a, b) grid four times per function and scores with squared
correlation (~15 s per edge).  Here, per function:

1. x is mapped to [-1, 1] and y to unit scale, so one set of (a, b) grids fits all data;
2. a coarse (a, b) grid shaped by the function's ``fit_kind`` is scored in one batched
   tensor op, with c, d in closed form (least squares) for every grid point;
3. the best few grid points of *all* functions are refined together by Levenberg-Marquardt
   on (a, b) with c, d projected out (variable projection, Kaufman's Jacobian); for
   functions with a domain (sqrt, log, 1/x, arcsin, ...) only starts inside it are used and
   a step never leaves it (``domain.py``), so the formula equals the model on the data;
4. R^2 = 1 - SS_res / SS_tot (the true coefficient of determination), and the parameters
   are mapped back to raw units in a canonical form (a > 0 for even/odd functions, a = +-1
   for scale-free functions such as x^2 or log, b = 0 for exp, |b| <= pi/2 for sin/cos).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from .domain import edge_in_domain, in_bounds, in_domain, project_params, row_bounds
from .library import get_function

_DTYPE = torch.float64
_GRID_POINTS = 64  # samples used to score the coarse grid
_FIT_POINTS = 128  # samples used by Levenberg-Marquardt (final R^2 uses all)
_STARTS = 3  # grid points refined per function (plus as many best rows of equal a)
_LM_STEPS = 8


@dataclasses.dataclass
class FitResult:
    """Fitted parameters of several functions on one (x, y) sample.

    Attributes
    ----------
    names : function names, length F
    params : (F, 4) float64, rows (a, b, c, d) of ``c f(a x + b) + d`` in raw units
    r2 : (F,) float64, 1 - SS_res / SS_tot
    x_range : (min, max) of the finite x samples
    valid : (F,) bool, False where ``a x + b`` leaves the function's domain on the samples
        (the torch function is clamped there, so the sympy formula would differ)
    """

    names: list[str]
    params: Tensor
    r2: Tensor
    x_range: tuple[float, float]
    valid: Tensor


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
    with _one_thread(), torch.no_grad():
        return _fit_library(x, y, names)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run on one intra-op thread.  The fit's tensors are small (<= ~20k elements), but torch
    splits transcendental ops over threads above ~2k elements; while a training thread keeps
    the cores busy, each such split waits for a free core and a 20 ms fit takes seconds.
    OpenMP's thread count is per calling thread, so this leaves other threads alone."""
    previous = torch.get_num_threads()
    if previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _fit_library(x: Tensor, y: Tensor, names: Sequence[str]) -> FitResult:
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
        valid = torch.ones(n_fun, dtype=torch.bool)
        return FitResult(list(names), params, r2.to(_DTYPE), (lo, hi), valid)
    xt = (x - mid) / half  # (N,) in [-1, 1]
    yt = (y - y_mean) / y_scale  # (N,) mean 0, mean square 1
    unit = 10.0 ** round(-math.log10(half))  # scale-free functions use raw a = +-unit
    fit_ids = _spread(xt, _FIT_POINTS)
    grid_ids = _spread(xt, _GRID_POINTS)
    starts: list[Tensor] = []
    masks: list[Tensor] = []
    slices: list[tuple[int, int]] = []  # rows of each function in the batched refinement
    for name in names:
        a_grid, b_grid, mask = _grid(name, unit * half)
        best = _grid_search(name, a_grid, b_grid, xt[grid_ids], yt[grid_ids], _STARTS)
        first = slices[-1][1] if slices else 0
        slices.append((first, first + len(best)))
        starts.append(torch.stack([a_grid[best], b_grid[best]], -1))
        masks.append(torch.tensor(mask, dtype=_DTYPE).expand(len(best), 2))
    theta = torch.cat(starts)  # (M, 2) normalised (a, b)
    mask_t = torch.cat(masks)
    theta, ss = _levenberg_marquardt(names, slices, theta, mask_t, xt[fit_ids], yt[fit_ids])
    # best start per function, preferring those whose a x + b stays in the domain
    spread = theta[:, 0].abs()  # xt spans [-1, 1], so u spans theta_b -+ |theta_a|
    valid_rows = torch.cat([
        in_domain(n, theta[s0:s1, 1] - spread[s0:s1], theta[s0:s1, 1] + spread[s0:s1])
        for n, (s0, s1) in zip(names, slices, strict=True)
    ])  # fmt: skip
    penalised = torch.where(valid_rows, ss, ss + 1e300)
    best_rows = torch.tensor([s0 + int(penalised[s0:s1].argmin()) for s0, s1 in slices])
    theta = theta[best_rows].clone()  # (F, 2)
    for k, name in enumerate(names):  # a start that left the domain: nearest (a, b) inside
        if not bool(valid_rows[best_rows[k]]):
            a_k, b_k = project_params(name, float(theta[k, 0]), float(theta[k, 1]), -1.0, 1.0)
            theta[k, 0], theta[k, 1] = a_k, b_k
    # final closed-form c, d and R^2 on all samples
    f_all = _evaluate_groups(names, [(k, k + 1) for k in range(n_fun)], theta, xt)
    c, d, ss_res = _closed_form(f_all, yt)
    r2 = 1.0 - ss_res / yt.square().sum()
    a = theta[:, 0] / half
    b = theta[:, 1] - theta[:, 0] * mid / half
    params = torch.stack([a, b, c * y_scale, d * y_scale + y_mean], -1)
    for k, name in enumerate(names):
        params[k] = _canonical(name, params[k])
        if get_function(name).fit_kind == "step":
            params[k], r2[k] = _fit_step(x, y)
    valid = torch.tensor(
        [edge_in_domain(n, float(p[0]), float(p[1]), lo, hi) for n, p in zip(names, params)]
    )
    return FitResult(list(names), params, r2.clamp(max=1.0), (lo, hi), valid)


def _fit_step(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Exact least-squares ``c sign(x - t) + d``: the best split of the sorted samples.

    Returns (a, b, c, d) = (1, -t, c, d) and R^2.
    """
    order = torch.argsort(x)
    xs, ys = x[order], y[order]
    n = xs.numel()
    ys = ys - ys.mean()
    left = torch.cumsum(ys, 0)[:-1]  # sums of the first k = 1..n-1 samples
    k = torch.arange(1, n, dtype=_DTYPE)
    gain = left.square() / k + left.square() / (n - k)  # right sum = -left (ys has mean 0)
    gain = torch.where(xs[1:] > xs[:-1], gain, -1.0)  # only split between distinct x
    best = int(torch.argmax(gain))
    ss_tot = ys.square().sum()
    if float(gain[best]) <= 0:  # all x equal: no split
        return torch.tensor([1.0, 0.0, 0.0, float(y.mean())], dtype=_DTYPE), ys.new_zeros(())
    threshold = float(xs[best] + xs[best + 1]) / 2
    mean_left = float(left[best]) / (best + 1)
    mean_right = -float(left[best]) / (n - best - 1)
    c, d = (mean_right - mean_left) / 2, (mean_right + mean_left) / 2 + float(y.mean())
    r2 = 1 - (ss_tot - gain[best]) / ss_tot
    return torch.tensor([1.0, -threshold, c, d], dtype=_DTYPE), r2


def _spread(xt: Tensor, count: int) -> Tensor:
    """Indices of at most ``count`` samples evenly spread over the x order."""
    if xt.numel() <= count:
        return torch.arange(xt.numel())
    order = torch.argsort(xt)
    return order[torch.linspace(0, xt.numel() - 1, count).round().long()]


def _grid(name: str, unit_a: float) -> tuple[Tensor, Tensor, tuple[float, float]]:
    """Flattened (a, b) start grid in normalised x (in [-1, 1]) and the free-parameter mask."""
    fn = get_function(name)
    return _grid_for(fn.fit_kind, fn.parity, unit_a if fn.fit_kind == "shift" else 0.0)


@functools.lru_cache(maxsize=256)
def _grid_for(kind: str, parity: int, unit_a: float) -> tuple[Tensor, Tensor, tuple[float, float]]:
    signs = [1.0] if parity else [1.0, -1.0]

    def mesh(a_vals: Tensor, b_vals: Tensor) -> tuple[Tensor, Tensor]:
        a_vals = torch.cat([s * a_vals for s in signs]).to(_DTYPE)
        a_m, b_m = torch.meshgrid(a_vals, b_vals.to(_DTYPE), indexing="ij")
        return a_m.reshape(-1), b_m.reshape(-1)

    one = torch.ones(1, dtype=_DTYPE)
    if kind in ("zero", "affine", "step"):  # a, b redundant or fit exactly (step)
        return one, one * 0, (0.0, 0.0)
    if kind == "shift":  # f(+-unit (x - x0)): search the shift x0 only, densely near the
        # data's ends where poles and branch points of 1/x, log, sqrt sit
        outside = 1 + torch.logspace(-3, math.log10(5), 14, dtype=_DTYPE)
        x0 = torch.cat([torch.linspace(-1, 1, 21, dtype=_DTYPE), outside, -outside])
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
    a_vals = torch.logspace(-1, 1, 16 if parity else 12)
    return (*mesh(a_vals, torch.linspace(-5, 5, 41)), (1.0, 1.0))


def _periodic_b() -> Tensor:
    return torch.arange(12, dtype=_DTYPE) * (2 * math.pi / 12) - math.pi


def _grid_search(
    name: str, a_grid: Tensor, b_grid: Tensor, xt: Tensor, yt: Tensor, starts: int
) -> Tensor:
    """Start points for the refinement: the ``starts`` grid points with the smallest SS_res
    (c, d in closed form), plus the best point of the ``starts`` best rows of equal a, so
    that starts also cover other scales/frequencies than the best basin's."""
    fn = get_function(name).torch_fn
    if get_function(name).fit_kind in ("zero", "affine", "step"):
        return torch.zeros(1, dtype=torch.long)
    f = torch.nan_to_num(fn(a_grid[:, None] * xt[None, :] + b_grid[:, None]))  # (G, n)
    _, _, ss_res = _closed_form(f, yt)
    # xt spans [-1, 1]: u spans b -+ |a|; only starts inside the domain (if there are any)
    inside = in_domain(name, b_grid - a_grid.abs(), b_grid + a_grid.abs())
    if bool(inside.any()):
        ss_res = torch.where(inside, ss_res, torch.inf)
    best = torch.topk(ss_res, min(starts, ss_res.numel()), largest=False).indices
    _, counts = torch.unique_consecutive(a_grid, return_counts=True)
    if counts.numel() > 1 and bool((counts == counts[0]).all()):  # an (a, b) mesh, a-major
        row_best = ss_res.view(counts.numel(), -1).argmin(1)
        row_best = row_best + torch.arange(counts.numel()) * counts[0]
        top_rows = torch.topk(ss_res[row_best], min(starts, counts.numel()), largest=False)
        best = torch.unique(torch.cat([best, row_best[top_rows.indices]]))
    return best


def _closed_form(f: Tensor, yt: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Least-squares c, d of ``yt ~ c f + d`` per row of ``f`` (R, n); yt has mean 0.

    Returns c (R,), d (R,), SS_res (R,).  Rows with (numerically) constant f get c = 0.
    """
    f_mean = f.mean(-1)
    fc = f - f_mean[:, None]
    s_ff = fc.square().sum(-1)
    s_fy = (fc * yt).sum(-1)  # elementwise + sum: no BLAS call (and no BLAS threads)
    ok = s_ff > 1e-14 * f.square().sum(-1) + 1e-300
    c = torch.where(ok, s_fy / torch.where(ok, s_ff, 1.0), 0.0)
    d = -c * f_mean
    ss_res = (yt.square().sum() - c * s_fy).clamp(min=0.0)
    return c, d, ss_res


def _evaluate_groups(
    names: Sequence[str], slices: list[tuple[int, int]], theta: Tensor, xt: Tensor
) -> Tensor:
    u = theta[:, :1] * xt[None, :] + theta[:, 1:]  # (M, n)
    parts = [get_function(n).torch_fn(u[s0:s1]) for n, (s0, s1) in zip(names, slices, strict=True)]
    return torch.nan_to_num(torch.cat(parts))


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

    fns = [get_function(n).torch_fn for n in names]

    def evaluate_all(th: Tensor) -> tuple[Tensor, Tensor]:
        """f(u) and f'(u) (central differences; the functions are elementwise), (M, n)."""
        u = th[:, :1] * xt[None, :] + th[:, 1:]
        h = 1e-6 * (1.0 + u.abs())
        stacked = torch.stack([u, u + h, u - h])  # (3, M, n)
        vals_list = [fn(stacked[:, s0:s1]) for fn, (s0, s1) in zip(fns, slices, strict=True)]
        vals = torch.cat(vals_list, 1)
        vals = torch.nan_to_num(vals)
        return vals[0], (vals[1] - vals[2]) / (2 * h)

    bounds = row_bounds([n for n, (s0, s1) in zip(names, slices) for _ in range(s0, s1)])

    def inside(th: Tensor) -> Tensor:
        """(M,) whether each row's u = a xt + b (xt in [-1, 1]) stays in its domain."""
        spread = th[:, 0].abs()
        return in_bounds(bounds, th[:, 1] - spread, th[:, 1] + spread)

    f, slope = evaluate_all(theta)
    c, _, ss = _closed_form(f, yt)
    was_inside = inside(theta)
    damping = torch.full_like(ss, 1e-3)
    done = torch.zeros_like(ss, dtype=torch.bool)
    for _ in range(_LM_STEPS):
        fc = f - f.mean(-1, keepdim=True)
        s_ff = fc.square().sum(-1).clamp(min=1e-300)
        g = c[:, None] * slope  # d(c f(u))/du, (M, n)
        # Kaufman's Jacobian: columns d/da, d/db of c f(a x + b), projected off span{1, f}.
        # Written with elementwise ops and sums only: tiny BLAS/LAPACK calls (bmm, solve)
        # cost milliseconds each when other threads keep the CPU busy.
        cols = []
        for k, col in enumerate((g * xt[None, :], g)):
            col = (col - col.mean(-1, keepdim=True)) * mask[:, k : k + 1]
            cols.append(col - fc * ((fc * col).sum(-1, keepdim=True) / s_ff[:, None]))
        resid = yt[None, :] - c[:, None] * fc  # (M, n), orthogonal to span{1, f}
        j_aa, j_bb = cols[0].square().sum(-1), cols[1].square().sum(-1)
        j_ab = (cols[0] * cols[1]).sum(-1)
        r_a, r_b = (cols[0] * resid).sum(-1), (cols[1] * resid).sum(-1)
        # damped 2x2 normal equations (LM), solved in closed form; masked entries get 1
        l_aa = j_aa * (1 + damping) + 1e-12 + (1 - mask[:, 0])
        l_bb = j_bb * (1 + damping) + 1e-12 + (1 - mask[:, 1])
        det = l_aa * l_bb - j_ab.square()
        step = torch.stack([l_bb * r_a - j_ab * r_b, l_aa * r_b - j_ab * r_a], -1)
        step = step / det[:, None] * mask
        trial = theta + step
        f_new, slope_new = evaluate_all(trial)
        c_new, _, ss_new = _closed_form(f_new, yt)
        # a row inside its domain stays inside (a constrained fit, not a clamp exploit)
        better = torch.isfinite(ss_new) & (ss_new < ss) & (inside(trial) | ~was_inside)
        tiny = better & (ss - ss_new <= 1e-10 * (ss + 1e-12))
        theta = torch.where(better[:, None], trial, theta)
        f = torch.where(better[:, None], f_new, f)
        slope = torch.where(better[:, None], slope_new, slope)
        c = torch.where(better, c_new, c)
        ss = torch.where(better, ss_new, ss)
        damping = torch.where(better, damping * 0.3, damping * 10.0).clamp(1e-9, 1e9)
        done = done | tiny | (damping > 1e5)  # converged, or stuck at a (local) minimum
        if bool(done.all()):
            break
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
