"""The strong-Wolfe line search of L-BFGS, safe where the objective is not finite.

This is torch's :func:`torch.optim.lbfgs._strong_wolfe` (Nocedal & Wright, Numerical
Optimization, alg. 3.5/3.6; the same constants, brackets and cubic interpolation) with one
change.  A trial step whose loss or directional derivative is NaN or inf (a symbolic edge
``c*f(a*x+b)+d`` pushed into a pole of ``1/x``, below 0 for ``log``/``sqrt``, or ``exp``
overflowing float32) is treated as a step that went too far: its loss counts as ``+inf``, it
becomes the bracket's upper end, and the next trial bisects the bracket instead of
interpolating through a non-finite value.  Torch's version interpolates through it, gets
``t = nan`` and returns NaN parameters (pykan's copy does the same).  Where every trial is
finite the iterates are torch's, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["strong_wolfe"]

Objective = Callable[[list[Tensor], float, Tensor], tuple[float, Tensor]]


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clipped to ``bounds``
    (torch's); the bounds' midpoint (bisection) where an input or the cubic's minimiser is
    not finite (e.g. ``d1**2`` overflowing float32 for a loss near 1e22)."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    middle = (xmin_bound + xmax_bound) / 2.0
    if not all(math.isfinite(float(v)) for v in (f1, g1, f2, g2)):
        return middle
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound) if math.isfinite(min_pos) else middle
    return middle


def _evaluate(obj_func: Objective, x, t, d) -> tuple[float, Tensor, Tensor]:
    """Loss, gradient and directional derivative at step ``t``; a non-finite trial reads
    as loss ``+inf`` (too far: the Armijo test fails and it bounds the bracket)."""
    f_new, g_new = obj_func(x, t, d)
    gtd_new = g_new.dot(d)
    if not (math.isfinite(f_new) and bool(torch.isfinite(gtd_new))):
        f_new, gtd_new = math.inf, gtd_new.new_tensor(math.inf)
    return f_new, g_new, gtd_new


def strong_wolfe(
    obj_func: Objective,
    x: list[Tensor],
    t: float,
    d: Tensor,
    f: float,
    g: Tensor,
    gtd: Tensor,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Tensor, float, int]:
    """Step length along ``d`` from the flat parameters ``x`` (loss ``f``, gradient ``g``,
    ``gtd = g . d < 0``) meeting the strong Wolfe conditions, tried first at ``t``.

    Returns ``(loss, gradient, t, evaluations)`` at the step taken: the best finite point
    found, ``t = 0`` (no move, the start's loss and gradient) if none is better.
    """
    d_norm = d.abs().max()
    g = g.clone(memory_format=torch.contiguous_format)
    f_new, g_new, gtd_new = _evaluate(obj_func, x, t, d)
    ls_func_evals = 1

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[Tensor] = []
    bracket_gtd: list[Tensor] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, gtd_prev = tmp, f_new, gtd_new
        g_prev = g_new.clone(memory_format=torch.contiguous_format)
        f_new, g_new, gtd_new = _evaluate(obj_func, x, t, d)
        ls_func_evals += 1
        ls_iter += 1

    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: refine the bracket until a point meets the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # too close to an end: move 0.1 of the bracket's length away from it
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new, gtd_new = _evaluate(obj_func, x, t, d)
        ls_func_evals += 1
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not met, or not lower than the lowest point
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # Wolfe conditions met
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # old high becomes new low
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[low_pos] = gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals
