"""Generalised power-law separability: ``y = C * M1(x) * g(M2(x))``.

``M1`` and ``M2`` are monomials (products of input powers with small rational exponents)
and ``g`` is a one-dimensional function.  On positive inputs, with ``L = log x``,

    log|y| = log|C| + a . L + log|g(exp(b . L))|,

so the gradient of ``log|y|`` with respect to ``L`` is ``a + b h(b . L)``: the ``(N, n)``
matrix of gradients has affine rank <= 2 (rank 1 after centring), and its top right
singular vector is the direction ``b`` of ``M2`` (KAN 2.0, sec. 4.2 reads separability off
a model's gradients the same way; :func:`affine_direction`).

The search (:func:`separable_forms`) tests candidate directions exactly: for a direction
``b`` the law is in the family iff ``log|y|`` is a linear function of ``L`` plus a function
of ``s = b . L`` alone, which is a linear least-squares problem once that function is a
cubic B-spline in ``s`` (:func:`spline_residual`).  Candidates are every primitive integer
vector with entries in ``-2..2`` on a few inputs (exponents ``1/2`` are the same direction
as ``1``, rescaled), plus the snapped SVD direction of gradients estimated by local linear
fits on the log-log data (:func:`local_log_gradients`), which reaches exponents outside
that grid (refined by a short local search on the exact test's residual when its snap
fails the test, :func:`refine_direction`).  An input that takes non-positive values (an
angle around zero, a signed coordinate) can only be ``g``'s argument on its own
(``y = M1(x) g(theta)``).  Targets that change sign are fitted on the rows where ``|y|`` is
not small (the spline cannot follow ``log|g|`` into a zero; the misfit depends on ``s``
only, so ``a`` stays unbiased).

For the best directions, ``M1``'s exponents are snapped to multiples of 1/2 or 1/3 (the
gauge ``a + lambda b`` is fixed by zeroing one exponent, since ``g`` may absorb any power
of ``M2``), ``g``'s samples ``y / M1`` against ``u = M2`` go to the 1-D search of
:mod:`.onedim`, and ``M1 * g(M2)`` is returned with float constants for the caller's
refit, snap and verification.  Nothing here knows any particular law.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable

import numpy as np
import sympy

from . import clock
from .candidates import log_power_fit
from .onedim import search_1d

logger = logging.getLogger(__name__)
KNOTS = 8
ENTRIES = (1, -1, 2, -2)
ZERO_TOUCH = 1e-3  # min |y| / max |y| below which log|y| may have poles (zeros of g)
ZERO_LIMIT = 0.05  # spline misfit in y's scale that passes the screen (many periods)
ZERO_DIRECTIONS = 80  # grid directions tested in y's scale when y touches zero
REFINE_EVALS = 400  # spline fits of the local search for M2's direction


def spline_basis(s: np.ndarray, knots: int = KNOTS) -> np.ndarray:
    """Cubic B-spline design matrix ``(B, knots + 4)`` on ``s`` (B,), interior knots at
    quantiles of ``s``; the columns sum to one (the intercept is in their span)."""
    from scipy.interpolate import BSpline

    lo, hi = float(np.min(s)), float(np.max(s))
    inner = np.quantile(s, np.linspace(0, 1, knots + 2)[1:-1])
    t = np.concatenate([[lo] * 4, inner, [hi] * 4])
    return BSpline.design_matrix(np.clip(s, lo, hi), t, 3).toarray()


def spline_residual(ly: np.ndarray, lin: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray]:
    """Relative residual of ``ly ~ lin @ c + spline(s)`` and the coefficients ``c``.

    Parameters
    ----------
    ly : (B,) ``log|y|``; lin : (B, m) columns entering linearly; s : (B,) g's argument
    """
    if float(np.ptp(s)) == 0:
        return float("inf"), np.zeros(lin.shape[1])
    design = np.column_stack([lin, spline_basis(s)])
    coef, *_ = np.linalg.lstsq(design, ly, rcond=None)
    res = ly - design @ coef
    return float(np.sqrt(np.mean(res**2)) / (float(np.std(ly)) or 1.0)), coef[: lin.shape[1]]


def directions(n: int, max_support: int) -> np.ndarray:
    """Primitive integer vectors ``(D, n)``, entries in -2..2, at most ``max_support``
    non-zero, first non-zero entry positive (a direction and its negative are one ``M2``)."""
    out = []
    for k in range(1, min(n, max_support) + 1):
        for support in itertools.combinations(range(n), k):
            for vals in itertools.product(ENTRIES, repeat=k):
                if vals[0] < 0 or math.gcd(*[abs(v) for v in vals]) != 1:
                    continue
                b = np.zeros(n)
                b[list(support)] = vals
                out.append(b)
    return np.array(out).reshape(-1, n)


def local_log_gradients(lx: np.ndarray, ly: np.ndarray, k: int | None = None) -> np.ndarray:
    """Gradients ``(B, n)`` of ``ly`` w.r.t. ``lx`` ``(B, n)`` by local linear least squares
    on each point's ``k`` nearest neighbours (inputs standardised for the neighbour search)."""
    from scipy.spatial import cKDTree

    b, n = lx.shape
    k = min(b, k or 3 * n + 4)
    sd = lx.std(axis=0)
    sd[sd == 0] = 1.0
    _, idx = cKDTree(lx / sd).query(lx / sd, k=k)
    d = lx[idx] - lx[:, None, :]  # (B, k, n)
    a = np.concatenate([np.ones((b, k, 1)), d], axis=2)
    ata = np.einsum("bki,bkj->bij", a, a) + 1e-9 * np.eye(n + 1)
    atb = np.einsum("bki,bk->bi", a, ly[idx])
    return np.linalg.solve(ata, atb[..., None])[:, 1:, 0]


def affine_direction(grads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top direction (unit vector, ``(n,)``) and singular values of the centred gradients.

    For ``y = M1 g(M2)`` the centred gradients of ``log|y|`` have rank <= 1 (second
    singular value ~ 0) and the direction is ``M2``'s exponent vector up to scale.
    """
    centred = grads - grads.mean(axis=0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    b = vt[0]
    j = int(np.argmax(np.abs(b)))
    return b * np.sign(b[j]), sv


def complement(b: np.ndarray) -> np.ndarray:
    """(n, n - 1) orthonormal basis of the complement of ``b`` (n,): ``M1``'s exponents off
    ``M2``'s direction (``g`` absorbs powers of ``M2``)."""
    q, _ = np.linalg.qr(np.column_stack([b, np.eye(len(b))]))
    return q[:, 1 : len(b)]


def direction_residual(ly: np.ndarray, lx: np.ndarray, b: np.ndarray) -> float:
    """:func:`spline_residual` of ``ly`` with ``g``'s argument ``s = lx @ b`` (``b`` any
    nonzero vector; the linear part spans its orthogonal complement)."""
    norm = float(np.linalg.norm(b))
    if not np.isfinite(norm) or norm == 0:
        return float("inf")
    b = b / norm
    return spline_residual(ly, lx @ complement(b), lx @ b)[0]


def refine_direction(
    ly: np.ndarray, lx: np.ndarray, b0: np.ndarray, max_evals: int = REFINE_EVALS
) -> np.ndarray:
    """The direction ``b`` (unit vector) near ``b0`` that minimises
    :func:`direction_residual` (Nelder-Mead, at most ``max_evals`` spline fits).

    Gradients from local fits are noisy with many inputs (an exponent vector with five
    entries comes out too rough to snap); the residual of the exact test is smooth in
    ``b`` near the true direction, so a short local search makes it snappable.
    """
    from scipy.optimize import minimize

    if len(b0) < 2:
        return b0
    with np.errstate(all="ignore"):
        sol = minimize(lambda b: direction_residual(ly, lx, b), b0, method="Nelder-Mead",
                       options={"maxfev": max_evals, "xatol": 1e-4, "fatol": 1e-10})  # fmt: skip
    b = sol.x / (float(np.linalg.norm(sol.x)) or 1.0)
    return b if np.all(np.isfinite(b)) else b0


def snap_direction(b: np.ndarray, tol: float = 0.15) -> np.ndarray | None:
    """The primitive integer vector (entries <= 4) parallel to ``b`` within ``tol``, or None."""
    best = None
    for scale in (1, 2, 3, 4):
        v = b / np.max(np.abs(b)) * scale
        r = np.round(v)
        if np.max(np.abs(v - r)) < tol * scale and np.any(r):
            g = math.gcd(*[int(abs(e)) for e in r])
            r = r / g
            first = r[np.nonzero(r)[0][0]]
            best = r * np.sign(first)
            break
    return best


def _monomial(symbols: list, cols: list[int], p: np.ndarray) -> sympy.Expr:
    out = sympy.Integer(1)
    for i, e in zip(cols, p, strict=True):
        if abs(e) > 1e-12:
            out *= symbols[i] ** sympy.Rational(float(e)).limit_denominator(6)
    return out


def refine_factor(
    lx: np.ndarray, y: np.ndarray, s: np.ndarray, a0: np.ndarray, knots: int = 12
) -> tuple[np.ndarray, float]:
    """Exponents ``a`` of ``y ~ exp(lx @ a) * spline(s)`` fitted in ``y``'s own scale, and
    the relative residual of that fit.

    The log-space estimate ``a0`` is biased by the spline's misfit of ``log|g|`` near zeros
    of ``g``; here the spline is linear in its coefficients (solved inside) and ``a`` is
    refined by Levenberg-Marquardt (variable projection): the residual is ~0 exactly for
    laws ``M1 g(s)``.  Returns ``(a0, inf)`` when the fit fails.
    """
    from scipy.optimize import least_squares

    basis = spline_basis(s, knots)
    scale = float(np.std(y)) or 1.0

    def residual(a: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            design = basis * np.exp(lx @ a)[:, None]
            coef, *_ = np.linalg.lstsq(design, y, rcond=None)
            r = (design @ coef - y) / scale
        return np.where(np.isfinite(r), r, 1e6)

    try:
        sol = least_squares(residual, a0, method="lm", max_nfev=40 * (len(a0) + 1))
    except (ValueError, np.linalg.LinAlgError):
        return a0, float("inf")
    if not np.all(np.isfinite(sol.x)):
        return a0, float("inf")
    return sol.x, float(np.sqrt(np.mean(sol.fun**2)))


def _gauges(a_perp: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Snapped ``a = a_perp + lambda b`` with one exponent zeroed (or lambda = 0)."""
    if a_perp.size == 0:  # no positive input besides g's argument: M1 is a constant
        return [a_perp]
    lams = [0.0] + [-a_perp[i] / b[i] for i in np.nonzero(b)[0]]
    out: list[np.ndarray] = []
    for lam in lams:
        a = a_perp + lam * b
        for step in (0.5, 1 / 3):
            q = np.round(a / step) * step
            if np.max(np.abs(a - q)) < 0.12 and not any(np.allclose(q, o) for o in out):
                out.append(q)
    out.sort(key=lambda q: (np.count_nonzero(q), float(np.sum(np.abs(q)))))
    return out


def separable_forms(
    x: np.ndarray,
    y: np.ndarray,
    symbols: list[sympy.Symbol],
    expired: Callable[[], bool] = lambda: False,
    keep: int = 8,
    budget: float = 20.0,
    n_dirs: int = 3,
) -> list[sympy.Expr]:
    """Candidates ``M1(x) * g(M2(x))`` (see the module docstring), best first.

    Parameters
    ----------
    x : (B, n) inputs; y : (B,) target; symbols : the n input symbols
    expired : returns True when the caller's search time is over
    keep : number of formulas returned; budget : seconds this search may take
    n_dirs : number of best directions (``M2``) handed to the 1-D search

    Returns
    -------
    list of sympy expressions with float constants (empty when the family does not apply:
    more than one non-positive input, too few rows, or a pure power law).
    """
    end = clock.now() + budget

    def late() -> bool:
        return expired() or clock.now() > end

    n = x.shape[1]
    pos = [i for i in range(n) if bool(np.all(x[:, i] > 0))]
    other = [i for i in range(n) if i not in pos]
    if len(other) > 1 or x.shape[0] < 40 or not np.all(np.isfinite(y)):
        return []
    ay = np.abs(y)
    rows = ay > (0 if np.all(y > 0) or np.all(y < 0) else np.quantile(ay, 0.2))
    rows &= ay > 0
    step = max(1, int(rows.sum()) // 300)  # screening on <= ~300 rows
    sub = np.nonzero(rows)[0][::step]
    ly, lx = np.log(ay[sub]), np.log(x[sub][:, pos])
    _, base = log_power_fit(lx, ay[sub])
    if base < 1e-9:
        return []  # a pure power law: power_laws has it
    # (score, M2 exponents over pos or None, raw argument column or None, a, M1's columns)
    scored: list[tuple[float, np.ndarray | None, int | None, np.ndarray, list[int]]] = []

    def one_input() -> None:
        # g of one input alone (an angle, a signed input; or a target that changes sign or
        # touches zero, where log|g| has poles): the factor is refitted in y's scale, an
        # exact test
        for j in other or pos:
            if late():
                break
            cols = [i for i in pos if i != j]
            lxj = np.log(x[sub][:, cols])
            _, a0 = spline_residual(ly, lxj, x[sub, j])
            a, err = refine_factor(lxj, y[sub], x[sub, j], a0, 24) if cols else (a0, 0.0)
            scored.append((err, None, j, a, cols))

    if other or not (np.all(y > 0) or np.all(y < 0)):
        one_input()
        limit = 1e-2
    else:
        cand = directions(len(pos), 4 if len(pos) <= 5 else 3)
        raw = affine_direction(local_log_gradients(lx, ly))[0]
        guess = snap_direction(raw)
        guess_err = None if guess is None else direction_residual(ly, lx, guess)
        if guess_err is None or guess_err > 0.01 * base:
            refined = snap_direction(refine_direction(ly, lx, raw))  # a noisy SVD direction
            if refined is not None and (
                guess_err is None or direction_residual(ly, lx, refined) < guess_err
            ):
                guess = refined
        if guess is not None:  # the SVD direction first (it may lie outside the grid)
            rest = [c for c in cand if not np.array_equal(c, guess)]
            cand = np.array([guess, *rest]).reshape(-1, len(pos))
        found_support = None  # support size of the first direction that explains the misfit
        for k, b in enumerate(cand):
            support = int(np.count_nonzero(b))
            if late() or (k == 1 and guess is not None and scored[0][0] < 0.01 * base):
                break  # the SVD direction already explains the misfit: no enumeration
            if found_support is not None and support > found_support:
                break  # directions come simplest first: a simpler M2 already fits
            perp = complement(b)
            err, coef = spline_residual(ly, lx @ perp, lx @ b)
            scored.append((err, b, None, perp @ coef, pos))
            if k > (guess is not None) - 1 and err < 0.01 * base and found_support is None:
                found_support = support
        limit = 0.05 * base  # M2 must explain nearly all of the power law's misfit
        if float(np.min(ay)) < ZERO_TOUCH * float(np.max(ay)) and not any(
            t[0] < limit for t in scored
        ):  # zeros of an oscillating g: no direction explains log|y|; tests in y's scale
            scored.clear()
            one_input()
            for b in directions(len(pos), 3)[:ZERO_DIRECTIONS]:
                if late() or min(t[0] for t in scored) < ZERO_LIMIT:
                    break  # simplest first: the first direction that passes the screen
                if np.count_nonzero(b) < 2:
                    continue  # g of one input: one_input has it
                perp = complement(b)
                c, err = refine_factor(lx @ perp, y[sub], lx @ b, np.zeros(len(pos) - 1), 36)
                scored.append((err, b, None, perp @ c, pos))
            limit = ZERO_LIMIT  # a screen: the 1-D search and the caller test exactly
    scored.sort(key=lambda t: t[0])
    logger.debug("power-law misfit %.3g; best arguments %s", base,
                 [(round(t[0], 5), t[1], t[2]) for t in scored[:3]])  # fmt: skip
    found: list[tuple[float, sympy.Expr]] = []
    for _, b, arg, a_fit, cols in [t for t in scored if t[0] < limit][:n_dirs]:
        if late():
            break
        if b is None and arg is not None:
            u, u_expr, gauges = x[:, arg], symbols[arg], _gauges(a_fit, 0 * a_fit)
        elif b is not None:
            u = np.exp(np.log(x[:, pos]) @ b)
            u_expr, gauges = _monomial(symbols, pos, b), _gauges(a_fit, b)
        else:
            continue
        for a in gauges[:2]:
            if late():
                break
            m1 = np.exp(np.log(x[:, cols]) @ a) if cols else np.ones(len(y))
            m1_expr = _monomial(symbols, cols, a)
            try:
                fits = search_1d(u, y / m1, u_expr, keep=2, deadline=end)
            except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
                logger.debug("1-D search on %s failed: %s", u_expr, exc)  # no candidate
                continue
            found.extend((err, m1_expr * g_expr) for err, g_expr in fits)
            if min(e for e, _ in found or [(1.0, 0)]) < 1e-9:
                break  # exact: the other gauge is the same law written differently
        if min(e for e, _ in found or [(1.0, 0)]) < 1e-7:
            break
    found.sort(key=lambda t: t[0])
    return [e for _, e in found[:keep]]
