"""Sums of monomials, each times its own function of one group: ``y = sum_k m_k(x) g_k(u)``.

``u`` is one *group* of the inputs: a monomial ``M2 = prod x_i**b_i`` of the inputs that
stay positive (a dimensionless ratio such as ``a / b`` or ``a b**2``; entries of ``b`` in
``+-1, +-2`` on at most two inputs), one input that takes any sign (an angle), or the
difference or sum of two inputs (a phase difference ``t1 - t2``).  The
``m_k`` are monomials of the other inputs: one input of the group (the *pivot*, exponent
``+-1`` in ``b``) is replaced by ``u``, so every monomial of the original inputs is a
monomial of the rest times a power of ``u``, which ``g_k`` absorbs.  The family holds a
polynomial or a sum of a few power-law terms times a function of a ratio,
``(a - b c) / sqrt(1 - b**2 / d**2)`` = ``a g_1(b/d) - (c d) g_2(b/d)``, and sums whose
terms depend on the group differently, ``a cos(t) + b sin(t)**2``, and (fitted to ``y**2``)
``sqrt(a**2 + b**2 - 2 a b cos(t1 - t2))``; ``M1 g(M2)``
(:mod:`.monomial`) is its one-term case.

Search, for every group (simplest first), all linear least squares in float64:

1. **screen**: ``y`` (and ``y**2``, ``1/y``, ``1/y**2``: roots and reciprocals of such
   sums) against the tensor-product columns ``m_j(x) B_l(s)`` of a monomial
   basis of the other inputs (constant, ``x**+-1``, ``x**+-2``, products of two
   ``x**+-1``) and a cubic B-spline basis in ``s = log u`` (``u`` itself for a signed
   input).  Since ``u`` and the other inputs are independent coordinates, these columns
   are linearly independent and the fit is exact (up to the spline's approximation of the
   ``g_k``) iff the law is in the family with that group;
2. **terms**: for the best groups, the monomials with a non-zero function are chosen among
   supports of at most ``MAX_TERMS`` column groups (one group = one ``m_j`` with all its
   spline columns): every single one and pair, and the best pairs with a third, ranked
   on the screen's spline and the best refitted with a finer one (:func:`select_terms`);
3. **functions**: each ``g_k``'s samples (its fitted spline on the data) go to the 1-D
   search of :mod:`.onedim`; the coefficients of ``m_k g_k(u)`` are re-solved by least
   squares for the best combinations of the 1-D candidates.

Formulas are returned with float constants (inside the ``g_k`` too) for the caller's
refit, snap and verification.  Nothing here knows any particular law.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

import numpy as np
import sympy

from . import clock
from .candidates import TRANSFORMS, positive_columns
from .constants import evaluate, refit, rel_rmse
from .monomial import _monomial, directions, spline_basis
from .onedim import search_1d

logger = logging.getLogger(__name__)
KNOTS = 5  # interior knots of the spline in s: KNOTS + 4 columns per monomial
MAX_TERMS = 3
SCREEN = 1e-2  # relative residual of the screen below which a group is examined
GROUPS_KEPT = 3  # groups examined (best screens first)
PAIRS = 10  # best pairs extended by a third term
REFIT = 4  # best supports of each size fitted with the fine spline
GOOD = 1e-4  # a fit this close ends the search over groups (the spline's accuracy)
TARGETS = ("y", "y^2", "1/y", "1/y^2")  # target transforms (square roots, reciprocals)
OWN_REFIT = 2  # best formulas refitted here (LM) when they are close
REFIT_BELOW = 1e-2  # relative error below which they are
EDGE = 0.03  # quantile of u cut off at each end for the 1-D search
ONE_D_SECONDS = 3.0  # per function: the transcendental 1-D family is skipped after it
FINE_KNOTS = 24  # interior knots of the spline for the chosen terms
ROW_FACTOR = 1.5  # rows >= this * columns for the screen's least squares
MAX_MONOMIALS = 45  # monomials of the screen (the simplest first): bounds its cost
PAIR_GROUPS = 6  # monomial groups of two inputs only with at most this many positive inputs
Group = tuple[np.ndarray, np.ndarray, sympy.Expr, int]  # (u, s, u_expr, pivot)


def groups(x: np.ndarray, symbols: list[sympy.Symbol]) -> list[Group]:
    """Candidate groups ``(u (B,), s (B,), u_expr, pivot)``, simplest first: monomials of
    the positive inputs (support <= 2, entries ``+-1, +-2``; support 1 beyond
    ``PAIR_GROUPS`` positive inputs), each signed input, then the differences and sums of
    two inputs."""
    pos = positive_columns(x)
    out: list[Group] = []
    if pos:
        lx = np.log(x[:, pos])
        for b in directions(len(pos), 2 if len(pos) <= PAIR_GROUPS else 1):
            pivot = pos[int(np.nonzero(np.abs(b) == 1)[0][0])]
            s = lx @ b
            out.append((np.exp(s), s, _monomial(symbols, pos, b), pivot))
    for j in range(x.shape[1]):
        if j not in pos and float(np.ptp(x[:, j])) > 0:
            out.append((x[:, j], x[:, j], symbols[j], j))
    for sign in (-1, 1):  # differences, then sums, of two inputs (angles, shifted inputs)
        for i, j in itertools.combinations(range(x.shape[1]), 2):
            u = x[:, i] + sign * x[:, j]
            if float(np.ptp(u)) > 0:
                out.append((u, u, symbols[i] + sign * symbols[j], i))
    return out


def monomial_basis(
    x: np.ndarray, symbols: list[sympy.Symbol], others: list[int], max_columns: int
) -> tuple[np.ndarray, list[sympy.Expr]]:
    """Columns ``(B, M)`` and sympy monomials of the other inputs: 1, ``x**e`` (``e`` in
    ``+-1, +-2``; negative only for inputs of one sign), then products of two ``x**+-1``
    while there are at most ``max_columns`` columns."""
    cols, exprs = [np.ones(x.shape[0])], [sympy.Integer(1)]

    def powers(i: int, exps: tuple[int, ...]) -> list[tuple[np.ndarray, sympy.Expr]]:
        one_sign = bool(np.all(x[:, i] > 0) or np.all(x[:, i] < 0))  # no pole in the range
        return [(x[:, i] ** float(e), symbols[i] ** e) for e in exps if e > 0 or one_sign]

    for i in others:
        for v, e in powers(i, (1, -1, 2, -2)):
            cols.append(v)
            exprs.append(e)
    for i, j in itertools.combinations(others, 2):
        for (vi, ei), (vj, ej) in itertools.product(powers(i, (1, -1)), powers(j, (1, -1))):
            if len(cols) >= max_columns:
                break
            cols.append(vi * vj)
            exprs.append(ei * ej)
    return np.column_stack(cols)[:, :max_columns], exprs[:max_columns]


def _design(mono: np.ndarray, spl: np.ndarray, terms: list[int]) -> np.ndarray:
    return (mono[:, terms, None] * spl[:, None, :]).reshape(len(mono), -1)


def _unit_columns(a: np.ndarray) -> np.ndarray:
    """``a`` with every non-zero column scaled to unit norm (for normal equations)."""
    norms = np.linalg.norm(a, axis=0)
    norms[norms == 0] = 1.0
    return a / norms


def _lstsq_rel(a: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Least squares (SVD, LAPACK gelsd) and its relative residual."""
    coef = np.linalg.lstsq(a, y, rcond=None)[0]
    r = y - a @ coef
    return float(np.sqrt(np.mean(r**2)) / (float(np.std(y)) or 1.0)), coef


def select_terms(
    mono: np.ndarray, spl: np.ndarray, fine: np.ndarray, y: np.ndarray, max_terms: int = MAX_TERMS
) -> list[tuple[float, list[int]]]:
    """Supports (monomial indices) ``(relative residual, support)``: those within a factor 3
    of the best fewest terms first, then the rest by residual.

    Every single monomial, every pair, and the ``PAIRS`` best pairs extended by a third
    are fitted on the screen's spline ``spl`` (normal equations of unit-norm columns: a
    small solve per support; the terms of a law often fit badly alone, so pairs are not
    grown greedily); the ``REFIT`` best of each size are fitted again with the finer spline
    ``fine`` (the coarse one cannot tell a law's two terms from three approximate ones)."""
    k, m = spl.shape[1], mono.shape[1]
    d = _unit_columns(_design(mono, spl, list(range(m))))
    gram, dy, yy = d.T @ d, d.T @ y, float(y @ y)
    scale = float(np.std(y)) * np.sqrt(len(y)) or 1.0

    def coarse(sup: tuple[int, ...]) -> float:
        idx = np.concatenate([np.arange(j * k, (j + 1) * k) for j in sup])
        g = gram[np.ix_(idx, idx)] + 1e-12 * np.eye(len(idx))
        try:
            c = np.linalg.solve(g, dy[idx])
        except np.linalg.LinAlgError:
            return float("inf")
        return float(np.sqrt(max(yy - float(dy[idx] @ c), 0.0))) / scale

    by_size: list[list[tuple[float, tuple[int, ...]]]] = [
        sorted((coarse((j,)), (j,)) for j in range(m)),
        sorted((coarse(p), p) for p in itertools.combinations(range(m), 2)),
    ]
    if max_terms >= 3:
        triples = {
            tuple(sorted(p + (j,))) for _, p in by_size[1][:PAIRS] for j in range(m) if j not in p
        }
        by_size.append(sorted((coarse(t), t) for t in triples))
    found = []
    for ranked in by_size[:max_terms]:
        for _, sup in ranked[:REFIT]:
            found.append((_lstsq_rel(_design(mono, fine, list(sup)), y)[0], list(sup)))
    floor = 3 * max(min(e for e, _ in found), 1e-10)
    found.sort(key=lambda t: (t[0] > floor, len(t[1]) if t[0] <= floor else 0, t[0]))
    return found


def group_terms(
    x: np.ndarray,
    y: np.ndarray,
    symbols: list[sympy.Symbol],
    expired: Callable[[], bool] = lambda: False,
    keep: int = 6,
) -> list[sympy.Expr]:
    """Candidates ``sum_k c_k m_k(x) g_k(u)`` (see the module docstring), best first.

    Parameters
    ----------
    x : (B, n) inputs; y : (B,) target; symbols : the n input symbols
    expired : returns True when the caller's search time is over
    keep : number of formulas returned

    Returns
    -------
    list of sympy expressions with float constants (empty when no group passes the screen,
    fewer than 2 inputs, or non-finite data).
    """
    n, rows = x.shape[1], x.shape[0]
    if n < 2 or rows < 40 or not np.all(np.isfinite(y)) or float(np.std(y)) == 0:
        return []
    k = KNOTS + 4
    max_mono = max(1, min(MAX_MONOMIALS, int(rows / ROW_FACTOR) // k))
    targets = []
    for tr in TRANSFORMS:
        if tr.name in TARGETS and tr.ok(y):
            with np.errstate(all="ignore"):
                t = tr.forward(y)
            if np.all(np.isfinite(t)) and float(np.std(t)) > 0:
                targets.append((tr, t))
    sign = 1 if np.all(y > 0) else -1
    screened: list[tuple[float, int, Group, np.ndarray, np.ndarray, list[sympy.Expr]]] = []
    for grp in groups(x, symbols):
        if expired():
            break
        others = [i for i in range(n) if i != grp[3]]
        mono, exprs = monomial_basis(x, symbols, others, max_mono)
        spl = spline_basis(grp[1], KNOTS)
        sub = slice(None, None, max(1, rows // (2 * k * mono.shape[1])))  # rows >= 2 columns
        design = _design(mono[sub], spl[sub], list(range(mono.shape[1])))
        with np.errstate(all="ignore"):
            errs = _screen_rel(design, np.column_stack([t[sub] for _, t in targets]))
        for ti, err in enumerate(errs):
            if np.isfinite(err):
                screened.append((float(err), ti, grp, mono, spl, exprs))
        if min([e[0] for e in screened] or [1.0]) < 1e-9:
            break  # simplest first: an exact group ends the screen
    screened.sort(key=lambda t: t[0])
    logger.debug("group screen: %s", [(round(e[0], 6), e[1], e[2][2]) for e in screened[:4]])
    found: list[tuple[float, sympy.Expr]] = []
    for err, ti, (u, s, u_expr, _), mono, spl, exprs in screened[:GROUPS_KEPT]:
        if expired() or err > min(SCREEN, max(10 * screened[0][0], 1e-6)):
            break  # the law's group screens far better than the others
        tr, t = targets[ti]
        fine = spline_basis(s, FINE_KNOTS)
        for fit, sup in select_terms(mono, spl, fine, t)[:2]:
            if expired():
                break
            terms = _functions(u, u_expr, mono, fine, exprs, sup, t, fit, expired)
            found += [(e, tr.inverse(f, sign)) for e, f in terms]
        if found and min(e for e, _ in found) < GOOD:
            break  # the law's terms and functions (to the spline's accuracy)
    found.sort(key=lambda t: t[0])
    out = [e for _, e in found[:keep]]
    for i, (err, expr) in enumerate(found[:OWN_REFIT]):
        if err < REFIT_BELOW and not expired():  # g's constants come from splines: refit
            fitted = refit(expr, symbols, x, y, deadline=clock.now() + 2.0)
            if rel_rmse(evaluate(fitted, symbols, x), y) < rel_rmse(evaluate(expr, symbols, x), y):
                out[i] = fitted  # the caller's early exit sees an exact fit at once
    return out


def _screen_rel(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Relative residuals ``(T,)`` of every column of ``y`` ``(B, T)`` fitted by ``a c``, from
    the normal equations of unit-norm columns with a tiny ridge (a screen: ~1e-8 relative
    accuracy, an order faster than the SVD)."""
    from scipy.linalg import cho_factor, cho_solve

    an = _unit_columns(a)
    g = an.T @ an
    g[np.diag_indices_from(g)] += 1e-10
    try:
        c = cho_solve(cho_factor(g, check_finite=False), an.T @ y, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return np.full(y.shape[1], np.inf)
    r = y - an @ c
    return np.sqrt(np.mean(r**2, axis=0)) / np.where(np.std(y, axis=0) > 0, np.std(y, axis=0), 1)


def _functions(u, u_expr, mono, spl, exprs, sup, y, fit, expired) -> list[tuple[float, sympy.Expr]]:
    """The 1-D search on each selected term's function (its spline, relative error about
    ``fit``), and the linear re-solve of the term coefficients for the best combinations;
    ``(relative error, formula)``."""
    _, coef = _lstsq_rel(_design(mono, spl, sup), y)
    per_term: list[list[tuple[np.ndarray, sympy.Expr]]] = []
    k = spl.shape[1]
    lo, hi = np.quantile(u, [EDGE, 1 - EDGE])
    inner = (u >= lo) & (u <= hi)  # the spline's ends rest on few points: left out
    for t, j in enumerate(sup):
        if expired():
            return []
        h = (spl @ coef[t * k : (t + 1) * k])[inner]
        # the spline's error in h's own units: the fit's misfit over the term's size
        noise = 30 * fit * float(np.std(y)) / (float(np.sqrt(np.mean(mono[:, j] ** 2))) or 1.0)
        constant = [(np.ones_like(u), sympy.Integer(1))]
        if float(np.std(h)) <= max(noise, 1e-9 * (float(np.max(np.abs(h))) or 1.0)):
            per_term.append(constant)  # a constant function (to the spline's accuracy)
            continue
        try:
            good = min(1e-4, max(1e-9, noise / float(np.std(h))))
            fits = search_1d(
                u[inner], h, _U, keep=2, deadline=clock.now() + ONE_D_SECONDS, good=good
            )
        except (ArithmeticError, ValueError, np.linalg.LinAlgError):
            return []
        opts = []
        for _, g_expr in fits:  # g of the placeholder _U; u_expr goes in at the end
            gv = evaluate(g_expr, [_U], u[:, None])
            if np.all(np.isfinite(gv)):
                opts.append((gv, g_expr.xreplace({_U: u_expr})))
        if not opts:
            return []
        per_term.append(opts + (constant if float(np.std(h)) < 10 * noise else []))
    out = []
    for combo in itertools.product(*per_term):
        a = np.column_stack([mono[:, j] * gv for j, (gv, _) in zip(sup, combo, strict=True)])
        err, c = _lstsq_rel(a, y)
        if not np.isfinite(err):
            continue
        expr = sympy.Add(
            *[sympy.Float(float(cj)) * exprs[j] * g for j, cj, (_, g) in zip(sup, c, combo)]
        )
        out.append((err, expr))
    out.sort(key=lambda t: t[0])
    return out[:4]


_U = sympy.Symbol("_u")
