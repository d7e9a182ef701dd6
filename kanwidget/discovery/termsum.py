"""Sums of up to three power-law terms, each times a function of one input.

``y = sum_{t <= 3} c_t M_t(x) phi_t(x_k)`` (plus a constant when it is one of the chosen
terms), where ``M_t`` is a monomial of at most ``MAX_SUPPORT`` inputs with exponents in
``+-1/2, +-1, +-2`` (fractional and negative ones only on inputs that stay positive /
nonzero) and ``phi_t`` is 1, ``sin``, ``cos``, ``sin**2`` or ``cos**2`` of one input outside
``M_t``.  Given the terms, the coefficients are linear, so the search is over supports of
a column library:

1. every column is a first term (no greedy first choice: the dominant column of the data is
   often not a term of the law, e.g. ``a**2 + b**2 + a b cos(c)`` correlates best with
   ``a b``);
2. each support is extended by the ``BEAM`` columns that lower the least-squares residual
   most, computed for all columns at once from the Gram matrix of the unit-norm columns
   (a Schur complement per candidate column), keeping the ``KEEP`` best supports per level;
3. greedy extension misses a term that only matters once the other two are in (the
   ``sqrt(a b) cos(c)`` of ``a + b + 2 sqrt(a b) cos(c)``), so the first
   ``PAIR_WORK / K**2`` columns (at least 20) that fit best alone are also completed by
   the best *pair* of columns, all pairs at once (closed form of the two-column residual
   after projecting the first column out).

The supports are re-solved by least squares on the data and the ``TOP`` best returned as
sympy formulas (float coefficients) for the caller to refit, snap and verify.  The library
holds at most ``MAX_COLUMNS`` columns (inputs beyond that are left to the other families and
to the split reductions, whose smaller problems come back here).  Nothing here knows any
particular law.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy

from .candidates import Deadline
from .terms import TRIG_FACTORS

EXPONENTS = (1.0, 2.0, 0.5, -1.0, -0.5, -2.0)
PHIS = tuple(f for f in TRIG_FACTORS if f[0] != "sincos")  # sin, cos, sin**2, cos**2
POWERS = {e: sympy.Rational(e).limit_denominator(2) for e in EXPONENTS}
MAX_SUPPORT = 2
MAX_TERMS = 3
MAX_COLUMNS = 4000
SELECT_ROWS = 400  # rows of the Gram matrix used for the selection
BEAM, KEEP, TOP = 3, 300, 6
PAIR_WORK = 6e7  # Gram entries of the pair completions: first columns = this / K**2


def _allowed(col: np.ndarray, e: float) -> bool:
    if e != int(e):
        return bool(np.all(col > 0))
    return e > 0 or bool(np.all(np.abs(col) > 1e-12))


def library(x: np.ndarray, symbols: list[sympy.Symbol]) -> tuple[np.ndarray, list[sympy.Expr]]:
    """Columns ``(B, K)`` and their sympy terms: monomials times one-input functions."""
    n = x.shape[1]
    monos: list[tuple[tuple[int, ...], np.ndarray, sympy.Expr]] = [
        ((), np.ones(x.shape[0]), sympy.Integer(1))
    ]
    for k in range(1, MAX_SUPPORT + 1):
        for group in itertools.combinations(range(n), k):
            for exps in itertools.product(EXPONENTS, repeat=k):
                if not all(_allowed(x[:, i], e) for i, e in zip(group, exps, strict=True)):
                    continue
                v = np.prod([x[:, i] ** e for i, e in zip(group, exps, strict=True)], axis=0)
                term = sympy.Mul(*[symbols[i] ** POWERS[e] for i, e in zip(group, exps)])
                monos.append((group, v, term))
    cols, terms = [], []
    for group, mv, me in monos:  # phi on an input outside the monomial
        phis = [(mv, me)] + [
            (mv * fn(x[:, i]), me * sfn(symbols[i]))
            for i in range(n)
            if i not in group
            for _, fn, sfn in PHIS
        ]
        for v, e in phis:
            if np.all(np.isfinite(v)) and float(np.max(np.abs(v))) > 0:
                cols.append(v)
                terms.append(e)
        if len(cols) > MAX_COLUMNS:
            return np.empty((x.shape[0], 0)), []
    return np.column_stack(cols), terms


def _extend(m: np.ndarray, b: np.ndarray, sup: tuple[int, ...]) -> np.ndarray:
    """Residual reduction of adding each column to ``sup`` (Schur complements; -1 where the
    column is already in or collinear)."""
    s = list(sup)
    mss = m[np.ix_(s, s)]
    try:
        u = np.linalg.solve(mss, m[s])  # (s, K)
    except np.linalg.LinAlgError:
        return np.full(len(b), -1.0)
    schur = np.diag(m) - np.einsum("ik,ik->k", m[s], u)
    rho = b - u.T @ b[s]
    with np.errstate(all="ignore"):
        gain = np.where(schur > 1e-10, rho**2 / schur, -1.0)
    gain[s] = -1.0
    return gain


def _completions(m: np.ndarray, b: np.ndarray, yy: float, j: int, block: int = 512):
    """``(residual, (j, k, l))`` of the best two-column completions of column ``j``: every
    pair ``(k, l)`` at once, from the Gram matrix with ``j`` projected out."""
    nk2 = 1.0 - m[:, j] ** 2
    ok = nk2 > 1e-10
    ok[j] = False
    nk = np.sqrt(np.where(ok, nk2, 1.0))
    c = np.where(ok, (b - m[:, j] * b[j]) / nk, 0.0)
    rest = yy - float(b[j] ** 2)
    best: list[tuple[float, tuple[int, ...]]] = []
    for lo in range(0, len(b), block):
        hi = min(lo + block, len(b))
        g = (m[lo:hi] - np.outer(m[lo:hi, j], m[:, j])) / np.outer(nk[lo:hi], nk)
        with np.errstate(all="ignore"):
            num = c[lo:hi, None] ** 2 + c[None, :] ** 2 - 2 * g * np.outer(c[lo:hi], c)
            rr = rest - num / (1.0 - g**2)
        bad = ~(ok[lo:hi, None] & ok[None, :]) | (np.abs(g) > 1 - 1e-9) | ~np.isfinite(rr)
        rr[bad] = np.inf
        k = int(np.argmin(rr))
        r, (kk, ll) = float(rr.flat[k]), np.unravel_index(k, rr.shape)
        best.append((r, tuple(sorted((j, lo + int(kk), int(ll))))))
    best.sort()
    return best[:2]


def select(a: np.ndarray, y: np.ndarray, expired: Deadline) -> list[tuple[int, ...]]:
    """Supports of up to ``MAX_TERMS`` columns of ``a`` (B, K), lowest residual first per
    level: the beam of the module docstring, then exhaustive two-column completions of the
    columns that fit ``y`` best alone (a three-term law whose third term is
    invisible to a greedy choice)."""
    norms = np.linalg.norm(a, axis=0)
    an = a / norms
    m, b = an.T @ an, an.T @ y
    yy = float(y @ y)
    level = sorted((yy - float(b[j] ** 2), (j,)) for j in range(a.shape[1]))
    found = [sup for _, sup in level[:KEEP]]
    for depth in range(MAX_TERMS - 1):
        nxt: dict[tuple[int, ...], float] = {}
        for rr, sup in level if depth == 0 else level[:KEEP]:  # every column starts once
            if expired():
                return found
            gain = _extend(m, b, sup)
            for j in np.argsort(-gain)[:BEAM]:
                if gain[j] > 0:
                    nxt.setdefault(tuple(sorted(sup + (int(j),))), rr - float(gain[j]))
        level = sorted((v, k) for k, v in nxt.items())
        found += [sup for _, sup in level[:KEEP]]
        if not level or level[0][0] < 1e-24 * yy:
            return found
    triples: list[tuple[float, tuple[int, ...]]] = []
    first = max(20, min(len(b), int(PAIR_WORK / len(b) ** 2)))
    for _, (j,) in sorted((yy - float(b[j] ** 2), (j,)) for j in range(len(b)))[:first]:
        if expired():
            break
        triples += _completions(m, b, yy, j)
    found += [sup for _, sup in sorted(triples)[:KEEP]]
    return found


def term_sums(
    x: np.ndarray, y: np.ndarray, symbols: list[sympy.Symbol], expired: Deadline
) -> list[sympy.Expr]:
    """Candidates ``sum c_t M_t phi_t`` (see the module docstring), best first."""
    with np.errstate(all="ignore"):
        a, terms = library(x, symbols)
    if not terms or expired():
        return []
    rows = np.linspace(0, x.shape[0] - 1, min(SELECT_ROWS, x.shape[0])).astype(int)
    ystd = float(np.std(y)) or 1.0
    ranked = []
    for sup in select(a[rows], y[rows], expired):
        coef, *_ = np.linalg.lstsq(a[:, sup], y, rcond=None)
        err = float(np.sqrt(np.mean((a[:, sup] @ coef - y) ** 2))) / ystd
        ranked.append((max(err, 1e-13) * (1 + 0.05 * len(sup)), sup, coef))
    ranked.sort(key=lambda r: r[0])
    return [
        sympy.Add(*[sympy.Float(float(c)) * terms[j] for j, c in zip(sup, coef, strict=True)])
        for _, sup, coef in ranked[:TOP]
    ]
