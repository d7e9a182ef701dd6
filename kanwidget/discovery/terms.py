"""Sums of power-law terms with free exponents: ``y = c0 + c1 M1 phi1 + c2 M2 phi2``.

``M_t = prod_i x_i**p_ti`` over the inputs that stay positive, with real exponents ``p``
fitted by Levenberg-Marquardt; ``phi_t`` is 1 or a simple function of one input ``x_k``
(``sin``, ``cos``, ``sin*cos``, ``sin**2``, ``cos**2``; and ``x_k``, ``x_k**2`` for an input
that changes sign, which a power law cannot hold).  For given exponents the coefficients
``c`` are linear and solved inside the residual (variable projection), so LM only sees the
exponents.  Shapes tried:

* one term plus a constant: ``c0 + c1 M1 phi1`` (``c0`` may come out 0);
* two terms: ``c1 M1 phi1 + c2 M2 phi2`` with ``phi2`` 1 or a function of the same input.

Exponents start from the log-fit of ``|y / phi1|`` (the dominant term) and, for the second
term, from the log-fit of the first term's residual.  The fitted exponents are returned as
they are and snapped to multiples of 1/2 (coefficients re-solved); the caller refits,
snaps and verifies.  This holds products of many inputs (``q v B sin(theta)``) and sums
of two such products, which the fixed factor library of :func:`.candidates.sparse_sums`
(at most two or three inputs per term) cannot.  Nothing here knows any particular law.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import sympy

from .candidates import Deadline, _monomial, _one_sign, log_power_fit, positive_columns

Phi = tuple[str, int, Callable[[np.ndarray], np.ndarray], Callable[[sympy.Expr], sympy.Expr]]

# the trigonometric one-input factors ``(name, numpy fn, sympy fn)``, shared with :mod:`.termsum`
TRIG_FACTORS: tuple[
    tuple[str, Callable[[np.ndarray], np.ndarray], Callable[[sympy.Expr], sympy.Expr]], ...
] = (
    ("sin", np.sin, sympy.sin),
    ("cos", np.cos, sympy.cos),
    ("sincos", lambda v: np.sin(v) * np.cos(v), lambda s: sympy.sin(s) * sympy.cos(s)),
    ("sin2", lambda v: np.sin(v) ** 2, lambda s: sympy.sin(s) ** 2),
    ("cos2", lambda v: np.cos(v) ** 2, lambda s: sympy.cos(s) ** 2),
)


def _phis(x: np.ndarray) -> list[Phi]:
    """``(name, input, numpy fn, sympy fn)`` of the one-input factors."""
    out: list[Phi] = []
    pos = set(positive_columns(x))
    for k in range(x.shape[1]):
        out += [(name, k, fn, sfn) for name, fn, sfn in TRIG_FACTORS]
        if k not in pos:
            out += [("x", k, lambda v: v, lambda s: s), ("x2", k, lambda v: v**2, lambda s: s**2)]
    return out


def _log_fit(logs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Exponents of the dominant power law of ``t`` (``|t|`` when it changes sign)."""
    return log_power_fit(logs, t if _one_sign(t) else np.abs(t) + 1e-300)[0][1:]


class _Shape:
    """One shape: the factors ``phi_t`` (arrays or None for 1) and whether a constant is in."""

    def __init__(self, logs, y, phis, offset):
        self.logs, self.y, self.phis, self.offset = logs, y, phis, offset
        self.scale = float(np.std(y)) or 1.0

    def basis(self, p: np.ndarray) -> np.ndarray:
        m = self.logs.shape[1]
        cols = [np.ones(len(self.y))] if self.offset else []
        for t, phi in enumerate(self.phis):
            with np.errstate(all="ignore"):
                v = np.exp(self.logs @ p[t * m : (t + 1) * m])
            cols.append(v if phi is None else v * phi)
        return np.column_stack(cols)

    def solve(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = self.basis(p)
        if not np.all(np.isfinite(b)):
            return np.full(len(self.y), 1e3), np.zeros(b.shape[1])
        coef, *_ = np.linalg.lstsq(b, self.y, rcond=None)
        return (b @ coef - self.y) / self.scale, coef

    def jac(self, p: np.ndarray) -> np.ndarray:
        """Kaufman's variable-projection Jacobian: ``d(B c)/dp`` with ``c`` held, projected
        off the span of the basis (columns of the exponents of term t: ``c_t B_t log x_i``)."""
        b = self.basis(p)
        if not np.all(np.isfinite(b)):
            return np.zeros((len(self.y), len(p)))
        coef, *_ = np.linalg.lstsq(b, self.y, rcond=None)
        first = 1 if self.offset else 0
        blocks = [
            (coef[first + t] * b[:, first + t])[:, None] * self.logs for t in range(len(self.phis))
        ]
        d = np.concatenate(blocks, axis=1)
        q, _ = np.linalg.qr(b)
        return (d - q @ (q.T @ d)) / self.scale

    def fit(self, p0: np.ndarray, max_nfev: int) -> tuple[float, np.ndarray, np.ndarray]:
        from scipy.optimize import least_squares

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                sol = least_squares(
                    lambda p: self.solve(p)[0], p0, jac=self.jac, method="lm", max_nfev=max_nfev
                )
                p = sol.x
            except (ValueError, np.linalg.LinAlgError):
                p = p0
        res, coef = self.solve(p)
        return float(np.sqrt(np.mean(res**2))), p, coef


def _starts(shape: _Shape, phis_np: list) -> list[np.ndarray]:
    """Initial exponents: log-fit of the dominant term, then of the residual."""
    y, logs = shape.y, shape.logs
    with np.errstate(all="ignore"):
        first = _log_fit(logs, y if phis_np[0] is None else y / np.where(phis_np[0] == 0, 1e-12,
                                                                           phis_np[0]))  # fmt: skip
    if len(phis_np) == 1:
        return [first, np.zeros_like(first)]
    one = _Shape(logs, y, phis_np[:1], False)
    res, _ = one.solve(first)
    second = _log_fit(logs, res * one.scale)
    return [np.concatenate([first, second]), np.concatenate([first, first - 1.0])]


def monomial_terms(
    x: np.ndarray,
    y: np.ndarray,
    symbols: list[sympy.Symbol],
    expired: Deadline,
    keep: int = 6,
    max_nfev: int = 60,
) -> list[sympy.Expr]:
    """Candidates ``c0 + c1 M1 phi1`` and ``c1 M1 phi1 + c2 M2 phi2`` (module docstring).

    Parameters
    ----------
    x : (B, n) inputs; y : (B,) target; symbols : n sympy symbols
    expired : returns True once the caller's deadline has passed (checked between fits)

    Returns
    -------
    list of sympy expressions (best first, at most ``2 * keep``); empty when no input stays
    positive.
    """
    cols = positive_columns(x)
    if not cols:
        return []
    logs = np.log(x[:, cols])
    phis = [None] + _phis(x)
    shapes: list[tuple[list, bool]] = [([None], True), ([None, None], False)]  # no factors
    shapes += [([phi], True) for phi in phis[1:]]
    shapes += [([phi, None], False) for phi in phis[1:]]  # the second term without factor
    pairs = [  # two terms with factors of the same input; a function and its square first
        ([phi, q], False) for phi in phis[1:] for q in phis[1:] if q[1] == phi[1] and q is not phi
    ]
    shapes += sorted(pairs, key=lambda s: s[0][1][0] != s[0][0][0] + "2")
    scored: list[tuple[float, list, bool, np.ndarray, np.ndarray]] = []
    for factors, offset in shapes:
        if expired():
            break
        arrays = [None if f is None else f[2](x[:, f[1]]) for f in factors]
        shape = _Shape(logs, y, arrays, offset)
        for p0 in _starts(shape, arrays):
            err, p, coef = shape.fit(p0, max_nfev)
            if np.isfinite(err):
                scored.append((err * (1 + 0.02 * len(factors)), factors, offset, p, coef))
                if err < 1e-9:
                    break
        if scored and min(s[0] for s in scored) < 1e-9:
            break
    scored.sort(key=lambda s: s[0])
    out: list[sympy.Expr] = []
    for _, factors, offset, p, coef in scored[:keep]:
        arrays = [None if f is None else f[2](x[:, f[1]]) for f in factors]
        shape = _Shape(logs, y, arrays, offset)
        snapped = np.round(p * 2) / 2
        _, coef_s = shape.solve(snapped)
        for q, c in ((snapped, coef_s), (p, coef)):
            out.append(_expr(symbols, cols, factors, offset, q, c))
    return out


def _expr(symbols, cols, factors, offset, p, coef) -> sympy.Expr:
    m = len(cols)
    terms = [sympy.Float(float(coef[0]))] if offset else []
    for t, f in enumerate(factors):
        mono = _monomial(symbols, cols, p[t * m : (t + 1) * m])
        if f is not None:
            mono = mono * f[3](symbols[f[1]])
        terms.append(sympy.Float(float(coef[len(terms)])) * mono)
    return sympy.Add(*terms)
