"""A small one-dimensional symbolic search: ``g(u)`` from samples ``(u, g)``.

Used by :mod:`.monomial` once a law ``y = M1(x) * g(M2(x))`` has been reduced to one
argument ``u = M2(x)``.  Two families, both searched exhaustively over small rational
exponents with the linear coefficients solved by least squares (float64):

* **rational powers**: ``g = sign * (u**s * (c0 + c1 u**q) / (1 + gamma u**q))**p`` for
  ``p`` in +-1, +-2, +-1/2 and ``q, s`` small rationals.  Raising ``g`` to ``1/p`` makes the
  problem linear: ``g**(1/p) = c0 u**s + c1 u**(s+q) - gamma u**q g**(1/p)``.  This covers
  shifted powers ``(a u**q + b)**p`` (``1/sqrt(1 - u**2)``, ``sqrt(1 - u**2)``,
  ``(1 - u**-2)**-2``), Moebius maps ``(1 + a u)/(1 + b u)`` and their powers.
* **transcendental**: ``g**p = u**s * (c1 f(alpha u**q + beta) + c0)`` for ``p = +-1`` and
  ``f`` in exp, tanh, cosh, sin, cos, log, asin: ``exp(u) - 1``, ``1/(exp(u) - 1)``,
  ``u/(exp(u) - 1)``,
  ``tanh(u)``, ``sin(2 u)``...  ``(alpha, beta)`` are screened on a grid with ``beta = 0``
  (vectorised 2x2 normal equations) and the best few are polished by Levenberg-Marquardt
  with ``c0, c1`` solved inside (variable projection).

The constants returned are floats; the caller refits and snaps the full formula
(:mod:`.constants`).  Errors are relative RMSE on ``g`` (RMSE / std(g)).  This is the
"1-D symbolic regression on an auxiliary variable" step of KAN 2.0 (sec. 4.2), done by
regression instead of an edge's spline.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable

import numpy as np
import sympy

from . import clock
from .wrapped import screen

POWERS_P = (1.0, -1.0, 0.5, -0.5, 2.0, -2.0)
POWERS_Q = (1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0)
POWERS_S = (0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0)
TRANSCENDENTAL: list[tuple[str, Callable, Callable]] = [
    ("exp", np.exp, sympy.exp),
    ("tanh", np.tanh, sympy.tanh),
    ("cosh", np.cosh, sympy.cosh),
    ("sin", np.sin, sympy.sin),
    ("cos", np.cos, sympy.cos),
    ("log", np.log, sympy.log),
    ("asin", np.arcsin, sympy.asin),
]


def _rel(pred: np.ndarray, g: np.ndarray) -> float:
    if pred.shape != g.shape or not np.all(np.isfinite(pred)):
        return float("inf")
    return float(np.sqrt(np.mean((pred - g) ** 2)) / (float(np.std(g)) or 1.0))


def _rat(v: float) -> sympy.Expr:
    return sympy.Rational(v).limit_denominator(6)


def _pow_ok(u: np.ndarray, e: float, positive: bool) -> bool:
    return positive or float(e).is_integer() and (e >= 0 or bool(np.all(np.abs(u) > 1e-12)))


def rational_powers(
    u: np.ndarray, g: np.ndarray, u_expr: sympy.Expr, positive: bool
) -> list[tuple[float, tuple]]:
    """``(error, parameters)`` of the rational-power family (module docstring), best first.

    Parameters
    ----------
    u, g : (B,) samples of the argument and of the function
    u_expr : sympy expression of ``u`` (a monomial or a symbol)
    positive : whether ``u > 0`` everywhere (fractional and negative powers allowed)
    """
    one_signed = bool(np.all(g > 0) or np.all(g < 0))
    sign = 1.0 if not one_signed or g[0] > 0 else -1.0
    out: list[tuple[float, tuple]] = []
    for p in POWERS_P:
        if not one_signed and p not in (1.0, -1.0):
            continue
        with np.errstate(all="ignore"):
            h = np.abs(g) ** (1 / p) if one_signed else g ** (1 / p)
        if not np.all(np.isfinite(h)):
            continue
        with np.errstate(all="ignore"):  # residual in h, weighted to approximate the one in g
            w = np.abs(h) ** (p - 1)
            w = w / (float(np.mean(w)) or 1.0)
        if not np.all(np.isfinite(w)):
            continue
        for q, s in itertools.product(POWERS_Q, POWERS_S):
            if not (_pow_ok(u, q, positive) and _pow_ok(u, s, positive)):
                continue
            with np.errstate(all="ignore"):
                us, uq = u**s, u**q
                cols = [us, us * uq]
            for moebius in (False, True):
                a = np.column_stack(cols + [-uq * h] if moebius else cols)
                if not np.all(np.isfinite(a)):
                    continue
                coef, *_ = np.linalg.lstsq(a * w[:, None], h * w, rcond=None)
                gamma = coef[2] if moebius else 0.0
                with np.errstate(all="ignore"):
                    base = (coef[0] * us + coef[1] * us * uq) / (1 + gamma * uq)
                    pred = sign * base**p if one_signed else base**p
                err = _rel(pred, g)
                if not np.isfinite(err):
                    continue
                out.append((err, ("power", p, q, s, sign, tuple(float(c) for c in coef), moebius)))
    out.sort(key=lambda t: t[0])
    return out


def _power_expr(u_expr, p, q, s, sign, coef, moebius) -> sympy.Expr:
    """``sign * C * (u**s (k0 + k1 u**q) / (1 + gamma u**q))**p`` with the larger of
    ``|c0|, |c1|`` taken out as ``C = |c|**p`` (so ``k0, k1`` are often +-1)."""
    c0, c1 = float(coef[0]), float(coef[1])
    big = c0 if abs(c0) >= abs(c1) else c1
    k0, k1 = sympy.Float(c0 / abs(big)), sympy.Float(c1 / abs(big))
    body = u_expr ** _rat(s) * (k0 + k1 * u_expr ** _rat(q))
    if moebius:
        body = body / (1 + sympy.Float(float(coef[2])) * u_expr ** _rat(q))
    return int(sign) * sympy.Float(abs(big) ** p) * body ** _rat(p)


def _transcendental_expr(u_expr, p, q, s, fi, ab, coef) -> sympy.Expr:
    name, _, fs = TRANSCENDENTAL[fi]
    arg = sympy.Float(float(ab[0])) * u_expr ** _rat(q)
    if name == "log":
        arg = u_expr ** _rat(q) + sympy.Float(float(ab[1]))
    elif name != "exp":
        arg = arg + sympy.Float(float(ab[1]))
    expr = u_expr ** _rat(s) * (sympy.Float(float(coef[0])) * fs(arg) + sympy.Float(float(coef[1])))
    return expr if p == 1 else 1 / expr


def _varpro(t, m, v, f, a0, free=(True, True)):
    """LM over the ``free`` ones of ``(alpha, beta)`` of ``t ~ m (c1 f(alpha v + beta) + c0)``
    (for exp, ``beta`` only rescales ``c1``; for log, ``alpha`` only shifts ``c0``)."""
    from scipy.optimize import least_squares

    start = np.array([a0, 0.0 if free[0] else 1.0 / a0])
    idx = [i for i in range(2) if free[i]]

    def full(z):
        ab = start.copy()
        ab[idx] = z
        return ab

    mm, mt = float(m @ m), float(m @ t)

    def solve(ab):  # the 2x2 normal equations of t ~ c1 m z + c0 m
        with np.errstate(all="ignore"):
            mz = m * f(ab[0] * v + ab[1])
            a11, a12, b1 = float(mz @ mz), float(mz @ m), float(mz @ t)
            det = a11 * mm - a12 * a12
        if not (np.isfinite(det) and det > 1e-12 * abs(a11 * mm)):
            return np.full_like(t, 1e6), np.zeros(2)
        coef = np.array([(b1 * mm - a12 * mt) / det, (a11 * mt - a12 * b1) / det])
        res = coef[0] * mz + coef[1] * m - t
        if not np.all(np.isfinite(res)):
            return np.full_like(t, 1e6), np.zeros(2)
        return res, coef

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        sol = least_squares(lambda z: solve(full(z))[0], start[idx], method="lm", max_nfev=50)
    ab = full(sol.x)
    if not free[0]:  # log(alpha v + beta) = log(alpha) + log(v + beta / alpha)
        ab = np.array([1.0, ab[1] / a0])
        with np.errstate(all="ignore"):
            basis = np.column_stack([m * f(v + ab[1]), m])
        if not np.all(np.isfinite(basis)):
            return ab, np.full(2, np.nan)
        coef, *_ = np.linalg.lstsq(basis, t, rcond=None)
        return ab, coef
    return ab, solve(ab)[1]


FREE = {"exp": (True, False), "log": (False, True)}
GOOD_MORE = 6


def transcendental(
    u: np.ndarray,
    g: np.ndarray,
    u_expr: sympy.Expr,
    positive: bool,
    polish: int = 16,
    deadline: float = float("inf"),
    good: float = 1e-9,
) -> list[tuple[float, tuple]]:
    """``(error, parameters)`` of the transcendental family (module docstring), best first;
    the polish stops ``GOOD_MORE`` candidates after the first within ``good`` (simplest
    shapes come first; a near-approximant such as ``tanh`` for ``exp`` may come first)."""
    targets = []
    for p in (1.0, -1.0):  # for 1/g, rows weighted by g**2: the residual approximates g's
        with np.errstate(all="ignore"):
            t, w = (g, np.ones_like(g)) if p == 1 else (1 / g, g**2 / float(np.mean(g**2)))
        if np.all(np.isfinite(t)) and np.all(np.isfinite(w)):
            targets.append((p, t, w))
    shapes = [(q, s) for q in (1.0, -1.0, 2.0, -2.0) for s in (0.0, 1.0, -1.0)]
    shapes = [(q, s) for q, s in shapes if _pow_ok(u, q, positive) and _pow_ok(u, s, positive)]
    ranked: list[tuple[float, tuple]] = []
    for q, s in shapes:
        with np.errstate(all="ignore"):
            v, m = u**q, u**s
        vmax = float(np.max(np.abs(v))) or 1.0
        width = float(np.ptp(v)) or 1.0
        for fi, (name, f, _) in enumerate(TRANSCENDENTAL):
            if name in ("sin", "cos"):  # periods that fit a few times in the range
                alphas = [k / width for k in (0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32)]
            elif name == "asin":  # inside its domain
                alphas = [sg * k / vmax for k in (0.3, 0.6, 0.9, 1.0) for sg in (1, -1)]
            elif name == "exp":  # dynamic range exp(alpha * max|v|)
                alphas = [sg * k / vmax for k in (0.1, 0.3, 1, 3, 10, 30) for sg in (1, -1)]
            else:
                alphas = [k / vmax for k in (0.1, 0.3, 1, 3, 10, 30)]
            zs: list[np.ndarray] = []
            keys: list[tuple[int, float]] = []
            for alpha in alphas:
                with np.errstate(all="ignore"):
                    z = f(alpha * v)
                if np.all(np.isfinite(z)) and float(np.std(z)) > 0:
                    zs.append(z)
                    keys.append((fi, alpha))
            if not zs:
                continue
            zmat = np.column_stack(zs)
            for p, t, w in targets:
                errs = screen(t * w, m * w, zmat) / (float(np.std(t * w)) or 1.0)
                for k in np.argsort(errs)[:2]:
                    if np.isfinite(errs[k]):
                        ranked.append((float(errs[k]), (p, t * w, q, s, v, m * w, m) + keys[k]))
    ranked.sort(key=lambda r: r[0])
    chosen: list = []
    per_group: dict[tuple, int] = {}  # the best of every (function, p, shape), then the rest
    for r in ranked:
        group = (r[1][7], r[1][0], r[1][2], r[1][3])
        if per_group.get(group, 0) < 1:
            per_group[group] = per_group.get(group, 0) + 1
            chosen.append(r)
    # simplest shapes first (no u**s factor, argument u, g itself), so that a deadline
    # cuts the unlikely ones: sorted stably by that count, then by the screened error
    chosen.sort(key=lambda r: (r[1][3] != 0) + (r[1][2] != 1) + (r[1][0] != 1))
    taken = {id(r) for r in chosen}
    rest = [r for r in ranked if id(r) not in taken]
    ranked = chosen + rest[: max(0, polish - len(chosen))]
    out: list[tuple[float, tuple]] = []
    more = len(ranked)  # candidates still polished once one is within ``good``
    for _, (p, t, q, s, v, m, m_raw, fi, alpha) in ranked:
        if more <= 0:
            break
        more -= 1
        name, f, _ = TRANSCENDENTAL[fi]
        ab, coef = _varpro(t, m, v, f, alpha, FREE.get(name, (True, True)))
        with np.errstate(all="ignore"):
            body = m_raw * (coef[0] * f(ab[0] * v + ab[1]) + coef[1])
            pred = body if p == 1 else 1 / body
        err = _rel(pred, g)
        if not np.isfinite(err):
            continue
        out.append((err, ("transcendental", p, q, s, fi, tuple(ab), tuple(coef))))
        if err < 1e-9 or clock.now() > deadline:  # exact: the rest cannot beat it
            break
        if err < good:  # good to the samples' accuracy: a few more may fit as well
            more = min(more, GOOD_MORE)
    out.sort(key=lambda t: t[0])
    return out


def _size(params: tuple) -> int:
    """A rough complexity order of a candidate (fewer non-zero exponents and terms first)."""
    if params[0] == "power":
        _, p, q, s, _, coef, moebius = params
        return int(moebius) * 3 + int(s != 0) + int(p != 1) + int(abs(coef[0]) > 1e-9)
    return 2 + int(params[3] != 0) + int(params[1] != 1)


def search_1d(
    u: np.ndarray,
    g: np.ndarray,
    u_expr: sympy.Expr,
    keep: int = 3,
    deadline: float = float("inf"),
    rows: int = 250,
    good: float = 1e-9,
) -> list[tuple[float, sympy.Expr]]:
    """The ``keep`` best ``(relative RMSE on g, g(u_expr))`` over both families.

    Parameters
    ----------
    u, g : (B,) float64 samples; ``u`` need not be positive (then only integer powers)
    u_expr : sympy expression that ``u`` was computed from
    deadline : ``clock.now()`` after which the (slower) transcendental family is skipped
    rows : the search uses at most this many samples (evenly spaced); errors are on all
    good : a rational power within this error skips the transcendental family (samples
        that are themselves approximations, e.g. a fitted spline's, are never exact)

    Returns
    -------
    list of (error, sympy expression), best first; empty if nothing could be fitted.
    """
    step = max(1, len(u) // rows)
    us, gs = u[::step], g[::step]
    positive = bool(np.all(u > 0))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = rational_powers(us, gs, u_expr, positive)
        if clock.now() < deadline and not (found and min(f[0] for f in found) < good):
            found += transcendental(us, gs, u_expr, positive, deadline=deadline, good=good)
    found.sort(key=lambda t: (max(t[0], 1e-12), _size(t[1])))  # exact ties: simplest first
    out: list[tuple[float, sympy.Expr]] = []
    seen: set[tuple] = set()
    for err, params in found:
        if params in seen:
            continue
        seen.add(params)
        build = _power_expr if params[0] == "power" else _transcendental_expr
        out.append((err, build(u_expr, *params[1:])))
        if len(out) >= keep:
            break
    return out
