"""Constants of a candidate formula: evaluate, refit in float64, snap to simple numbers.

A structure found by regression or read off a KAN carries constants that are only
approximately right (a KAN edge's ``(a, b, c, d)`` are fitted in float32 to a spline; a
regression's coefficients absorb noise).  ``refit`` treats every ``sympy.Float`` of the
expression as a free parameter and minimises the float64 residual on the training data with
Levenberg-Marquardt (``scipy.optimize.least_squares(method='lm')``).  ``snap`` then tries to
replace each constant by a simple number (a rational ``p/q`` with ``q <= 12``, optionally
times ``pi`` or ``1/pi`` or their squares) and keeps a replacement only when the error on the
*held-out* split does not get worse by more than a factor ``1.1`` plus a relative floor
(``1e-8``): snapping a constant that the data pins down to ``0.33334`` makes the formula
exact, snapping an approximant's ``0.3`` to ``1/3`` makes it worse and is refused.

Errors are relative RMSE: ``RMSE / std(y)`` (dimensionless; 0 for an exact law).
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from . import clock

SNAP_FLOOR = 1e-8
SNAP_FACTOR = 1.1


def rel_rmse(pred: np.ndarray, y: np.ndarray) -> float:
    """``sqrt(mean((pred - y)^2)) / std(y)``; ``inf`` if ``pred`` is not finite everywhere."""
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != y.shape:
        pred = np.broadcast_to(pred, y.shape)
    if not np.all(np.isfinite(pred)):
        return float("inf")
    scale = float(np.std(y)) or 1.0
    return float(np.sqrt(np.mean((pred - y) ** 2)) / scale)


def evaluate(expr: sympy.Expr, symbols: list[sympy.Symbol], x: np.ndarray) -> np.ndarray:
    """Values ``(B,)`` of ``expr`` at the rows of ``x`` ``(B, n)`` (float64, numpy).

    Non-finite results stay non-finite (callers treat them as a failed candidate).
    """
    try:
        fn = sympy.lambdify(symbols, expr, modules="numpy")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(*[x[:, i] for i in range(x.shape[1])])
    except (ArithmeticError, ValueError, TypeError, NameError):  # not evaluable in numpy
        return np.full(x.shape[0], np.nan)
    out = np.asarray(out, dtype=np.complex128 if np.iscomplexobj(out) else np.float64)
    if np.iscomplexobj(out):
        if np.any(np.abs(out.imag) > 1e-12 * (1 + np.abs(out.real))):
            return np.full(x.shape[0], np.nan)
        out = out.real
    return np.broadcast_to(out, (x.shape[0],)).astype(np.float64)


def _parametrise(expr: sympy.Expr) -> tuple[sympy.Expr, list[sympy.Symbol], list[float]]:
    floats = sorted(expr.atoms(sympy.Float), key=lambda f: sympy.default_sort_key(f))
    params = [sympy.Symbol(f"_c{k}") for k in range(len(floats))]
    templ = expr.xreplace(dict(zip(floats, params, strict=True)))
    return templ, params, [float(f) for f in floats]


class _OutOfTime(Exception):
    pass


def refit(
    expr: sympy.Expr,
    symbols: list[sympy.Symbol],
    x: np.ndarray,
    y: np.ndarray,
    max_nfev: int = 100,
    deadline: float = float("inf"),
) -> sympy.Expr:
    """Return ``expr`` with its float constants refitted to ``(x, y)`` by LM in float64.

    The structure is kept; if the fit fails, does not improve the training error or is
    still running at ``deadline`` (a ``clock.now()``), the input expression is returned.
    """
    from scipy.optimize import least_squares

    templ, params, p0 = _parametrise(expr)
    if not params or len(params) >= x.shape[0]:
        return expr
    fn = sympy.lambdify(params + symbols, templ, modules="numpy")
    cols = [x[:, i] for i in range(x.shape[1])]
    scale = float(np.std(y)) or 1.0

    def residual(p: np.ndarray) -> np.ndarray:
        if clock.now() > deadline:
            raise _OutOfTime
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(fn(*p, *cols))
        if np.iscomplexobj(out):
            out = out.real
        r = (np.broadcast_to(out, y.shape) - y) / scale
        return np.where(np.isfinite(r), r, 1e6)

    try:
        r0 = residual(np.asarray(p0))
        if not np.all(np.isfinite(r0)):
            return expr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = least_squares(
                residual, np.asarray(p0), method="lm", max_nfev=max_nfev * (len(p0) + 1)
            )
    except (ArithmeticError, ValueError, TypeError, _OutOfTime):  # a form that cannot be fitted
        return expr
    if not np.all(np.isfinite(sol.x)) or float(np.sum(sol.fun**2)) > float(np.sum(r0**2)):
        return expr
    return templ.xreplace(
        {p: sympy.Float(float(v), 17) for p, v in zip(params, sol.x, strict=True)}
    )


def simple_numbers(value: float) -> list[sympy.Expr]:
    """Simple exact numbers near ``value``, closest first: ``p/q`` (``q <= 12``), and
    ``p/q * pi**k`` for ``k in (-2, -1, 1, 2)``."""
    out: list[tuple[float, sympy.Expr]] = []
    if not np.isfinite(value):
        return []
    for k in (0, 1, -1, 2, -2):
        base = float(np.pi) ** k
        frac = Fraction(value / base).limit_denominator(12)
        if frac.numerator == 0 or abs(frac.numerator) > 1000:
            continue
        approx = float(frac) * base
        rel = abs(approx - value) / max(abs(value), 1e-300)
        if rel < 2e-2:
            out.append(
                (
                    rel + 1e-6 * abs(k),
                    sympy.Rational(frac.numerator, frac.denominator) * sympy.pi**k,
                )
            )
    if abs(value) < 1e-8:
        out.append((0.0, sympy.Integer(0)))
    out.sort(key=lambda t: t[0])
    return [e for _, e in out]


def snap(
    expr: sympy.Expr,
    symbols: list[sympy.Symbol],
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    deadline: float = float("inf"),
) -> tuple[sympy.Expr, float]:
    """Snap constants one at a time (largest first) when the held-out error allows it.

    A snap is tried as is, then (for formulas with at most 6 constants) with the other
    constants refitted on ``train``.  Stops at ``deadline`` (a ``clock.now()``).
    Returns the expression and its held-out relative RMSE.
    """
    xt, yt = test
    best = expr
    err = rel_rmse(evaluate(best, symbols, xt), yt)
    limit = SNAP_FACTOR * err + SNAP_FLOOR  # against the unsnapped error: no creeping
    for _ in range(12):
        floats = sorted(best.atoms(sympy.Float), key=lambda f: -abs(float(f)))
        changed = False
        for f in floats:
            for number in simple_numbers(float(f))[:3]:
                if clock.now() > deadline:
                    return best, err
                trial = best.xreplace({f: number})
                trial_err = rel_rmse(evaluate(trial, symbols, xt), yt)
                if trial_err > limit and 0 < len(trial.atoms(sympy.Float)) <= 6:
                    trial = refit(trial, symbols, *train, deadline=deadline)
                    trial_err = rel_rmse(evaluate(trial, symbols, xt), yt)
                if trial_err <= limit:
                    best, err, changed = trial, trial_err, True
                    break
            if changed:
                break
        if not changed:
            break
    return best, err


def tidy(expr: Any) -> sympy.Expr:
    """Integer-valued floats become integers (``3.0*a`` -> ``3*a``) and powers are merged;
    the other constants keep their fitted values."""
    expr = sympy.sympify(expr)
    ints = {
        f: sympy.Integer(int(round(float(f))))
        for f in expr.atoms(sympy.Float)
        if float(f) == round(float(f))
    }
    return sympy.powsimp(expr.xreplace(ints))
