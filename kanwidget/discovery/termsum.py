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

The sum is fitted to ``y`` and then to ``y**2``, ``1/y``, ``1/y**2`` (``TARGETS``: square
roots and reciprocals of such sums, e.g. a law of cosines), until one fits exactly.
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

from .candidates import TRANSFORMS, Deadline
from .terms import TRIG_FACTORS

EXPONENTS = (1.0, 2.0, 0.5, -1.0, -0.5, -2.0)
PHIS = tuple(f for f in TRIG_FACTORS if f[0] != "sincos")  # sin, cos, sin**2, cos**2
POWERS = {e: sympy.Rational(e).limit_denominator(2) for e in EXPONENTS}
MAX_SUPPORT = 2
MAX_TERMS = 3
MAX_COLUMNS = 4000
SELECT_ROWS = 400  # rows of the Gram matrix used for the selection
BEAM, KEEP, TOP = 3, 300, 6
TARGETS = ("y", "y^2", "1/y", "1/y^2")  # target transforms, in order
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


def select(
    a: np.ndarray, y: np.ndarray, expired: Deadline, pair_work: float = PAIR_WORK
) -> list[tuple[int, ...]]:
    """Supports of up to ``MAX_TERMS`` columns of ``a`` (B, K), lowest residual first per
    level: the beam of the module docstring, then exhaustive two-column completions of the
    columns that fit ``y`` best alone (a three-term law whose third term is
    invisible to a greedy choice); ``pair_work`` bounds the Gram entries of those
    completions (first columns = ``pair_work / K**2``, at least 20)."""
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
    first = max(20, min(len(b), int(pair_work / len(b) ** 2)))
    for _, (j,) in sorted((yy - float(b[j] ** 2), (j,)) for j in range(len(b)))[:first]:
        if expired():
            break
        triples += _completions(m, b, yy, j)
    found += [sup for _, sup in sorted(triples)[:KEEP]]
    return found


def term_sums(
    x: np.ndarray, y: np.ndarray, symbols: list[sympy.Symbol], expired: Deadline
) -> list[sympy.Expr]:
    """Candidates ``T^-1(sum c_t M_t phi_t)`` (see the module docstring), best first.

    The sum is fitted to ``T(y)`` for the target transforms ``TARGETS`` in turn (``y`` first;
    ``y**2`` and ``1/y**2`` hold square roots of sums, e.g. a distance from a law of
    cosines, ``1/y`` reciprocals of sums); an exact fit ends the loop.  Errors are ranked in
    ``y``'s own units.
    """
    with np.errstate(all="ignore"):
        a, terms = library(x, symbols)
    if not terms or expired():
        return []
    rows = np.linspace(0, x.shape[0] - 1, min(SELECT_ROWS, x.shape[0])).astype(int)
    ystd = float(np.std(y)) or 1.0
    sign = 1 if np.all(y > 0) else -1
    ranked = []
    for tr in [t for t in TRANSFORMS if t.name in TARGETS]:
        if expired() or (ranked and min(r[0] for r in ranked) < 1e-11):
            break
        if not tr.ok(y):
            continue
        with np.errstate(all="ignore"):
            t = tr.forward(y)
        if not np.all(np.isfinite(t)):
            continue
        work = PAIR_WORK if tr.name == "y" else PAIR_WORK / 4  # the transforms: a quarter
        for sup in select(a[rows], t[rows], expired, work):
            coef, *_ = np.linalg.lstsq(a[:, sup], t, rcond=None)
            with np.errstate(all="ignore"):
                pred = tr.inverse_np(a[:, sup] @ coef, sign)
            err = float(np.sqrt(np.mean((pred - y) ** 2))) / ystd
            if np.isfinite(err):
                ranked.append((max(err, 1e-13) * (1 + 0.05 * len(sup)), tr, sup, coef))
    ranked.sort(key=lambda r: r[0])
    return [
        tr.inverse(
            sympy.Add(*[sympy.Float(float(c)) * terms[j] for j, c in zip(sup, coef, strict=True)]),
            sign,
        )
        for _, tr, sup, coef in ranked[:TOP]
    ]
