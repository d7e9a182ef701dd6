"""Rational forms ``y = P(x) / Q(x)``: ratios of two sums of monomial terms.

For chosen monomial bases (integer exponents, total degree ``<= d``) of the numerator and
the denominator, ``y Q(x) = P(x)`` is *linear* in the coefficients of ``P`` and ``Q``:
``[B_P, -y B_Q] c = 0``.  The coefficients are the right singular vector of the smallest
singular value of that matrix (columns scaled to unit norm; total least squares, which
fixes the common scale of ``P`` and ``Q``).  Degrees are tried lowest first,
``(deg P, deg Q) = (1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (2, 3), (3, 3)`` (pairs whose
system is wider than ``MAX_COLUMNS`` are skipped); the first pair whose smallest singular
value is at the rounding level (the data satisfy the relation exactly) ends the search,
because a higher pair would only repeat it times a common factor.  Coefficients below
``SPARSE`` of the largest are dropped and the rest re-solved on that support with the
denominator's largest coefficient fixed to 1, so ``(2 a + 3 b) / (a + b)`` comes back with
coefficients near 2, 3, 1, 1 for the caller to refit, snap and verify (:mod:`.constants`).

Covers weighted means (``(m1 r1 + m2 r2) / (m1 + m2)``), resistances in parallel,
Michaelis-Menten-like and Moebius forms, and cubic ones such as ``a / (1 + a b / c**2)`` =
``a c**2 / (c**2 + a b)``, degrees (3, 2); nothing here knows any particular law.
Inputs that cross zero are fine (no logarithms are taken).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy

from .candidates import Deadline

DEGREES = ((1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (2, 3), (3, 3))
SPARSE = 1e-7  # relative size below which a coefficient is dropped
EXACT_SV = 1e-9  # smallest / largest singular value of an exact relation
MAX_COLUMNS = 60  # skip degree pairs with wider systems (many inputs)


def monomial_exponents(n: int, degree: int) -> list[tuple[int, ...]]:
    """Exponent tuples of every monomial of ``n`` inputs with total degree ``<= degree``,
    lowest degree first (the constant ``(0, ..., 0)`` first)."""
    out = [
        e
        for d in range(degree + 1)
        for e in itertools.product(range(d + 1), repeat=n)
        if sum(e) == d
    ]
    return out


def _basis(x: np.ndarray, exps: list[tuple[int, ...]]) -> np.ndarray:
    return np.column_stack([np.prod(x ** np.asarray(e), axis=1) for e in exps])


def _poly(symbols, exps, coef) -> sympy.Expr:
    return sympy.Add(
        *[
            sympy.Float(float(c)) * sympy.Mul(*[s**k for s, k in zip(symbols, e, strict=True)])
            for e, c in zip(exps, coef, strict=True)
            if c != 0
        ]
    )


def fit_ratio(
    x: np.ndarray, y: np.ndarray, exps_p: list, exps_q: list
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Coefficients ``(p, q)`` of ``y Q = P`` on the given bases and the relative smallest
    singular value (0 for an exact relation); None if the system is degenerate."""
    bp, bq = _basis(x, exps_p), _basis(x, exps_q)
    a = np.column_stack([bp, -y[:, None] * bq])
    norms = np.linalg.norm(a, axis=0)
    if not np.all(np.isfinite(a)) or np.any(norms == 0):
        return None
    _, s, vt = np.linalg.svd(a / norms, full_matrices=False)
    c = vt[-1] / norms
    sv = float(s[-1] / s[0])
    c = np.where(np.abs(c) > SPARSE * float(np.max(np.abs(c))), c, 0.0)
    q = c[len(exps_p) :]
    if not np.any(q):
        return None
    # re-solve on the support with the largest denominator coefficient fixed to 1
    lead = int(np.argmax(np.abs(q)))
    cols = [k for k in np.flatnonzero(c) if k != len(exps_p) + lead]
    sol, *_ = np.linalg.lstsq(a[:, cols], -a[:, len(exps_p) + lead], rcond=None)
    full = np.zeros_like(c)
    full[cols] = sol
    full[len(exps_p) + lead] = 1.0
    return full[: len(exps_p)], full[len(exps_p) :], sv


def rational_forms(
    x: np.ndarray, y: np.ndarray, symbols: list[sympy.Symbol], expired: Deadline
) -> list[sympy.Expr]:
    """Candidates ``P / Q`` (see the module docstring), lowest degrees first."""
    n = x.shape[1]
    out: list[sympy.Expr] = []
    for dp, dq in DEGREES:
        if expired():
            break
        ep, eq = monomial_exponents(n, dp), monomial_exponents(n, dq)
        if len(ep) + len(eq) > MAX_COLUMNS:
            continue
        with np.errstate(all="ignore"):
            fitted = fit_ratio(x, y, ep, eq)
        if fitted is None:
            continue
        p, q, sv = fitted
        if not np.any(q[1:]):  # a constant denominator: a polynomial, not a ratio
            continue
        out.append(_poly(symbols, ep, p) / _poly(symbols, eq, q))
        if sv < EXACT_SV:
            break
    return out
