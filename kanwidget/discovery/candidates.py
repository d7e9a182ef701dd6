"""Direct regression over candidate forms: cheap, honest structure search without a KAN.

Three families, each solved by (mostly linear) least squares in float64:

* ``power_laws``: ``C * prod x_i**p_i`` from a linear fit of ``log|y|`` on ``log x_i``
  (inputs that stay positive), exponents snapped to multiples of 1/2 and 1/3 (the
  unsnapped fit is kept as a candidate too).
* ``sparse_sums``: ``T(y) = M0 * sum_k c_k phi_k(x)`` for target transforms ``T`` in
  ``y, 1/y, y**2, 1/y**2, log|y|, sin(y)``; ``M0`` a common power-law factor (none, or the
  snapped log fit of ``T(y)``); ``phi_k`` products over at most two (three for n <= 5)
  inputs of factors ``x**e`` (e in +-1/2, +-1, +-2), ``sin x``, ``cos x``, ``log x``; the
  terms are chosen by orthogonal matching pursuit with a small beam (at most 4 terms).
* ``wrapped_forms`` (in :mod:`.wrapped`): ``T(y) = M1 * (c1 * g(a * M2 + b) + c2)``.
* ``monomial_terms`` (in :mod:`.terms`): one or two power-law terms, each possibly times a
  function of one input, plus an optional constant.
* the reductions of :func:`.split.solve`: symmetry / separability tests on a KAN surrogate
  that reduce the problem, solved recursively with the families above.

Every function returns sympy expressions in the given symbols with float constants; the
caller refits and snaps them (``constants.py``) and verifies them on held-out data.
Nothing here knows any particular law.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import sympy

Deadline = Callable[[], bool]


@dataclass(frozen=True)
class Transform:
    """``t = forward(y)``; ``y = inverse(t_expr, sign)`` (sympy) or ``inverse_np``;
    ``ok(y)`` says if it applies."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[sympy.Expr, int], sympy.Expr]
    ok: Callable[[np.ndarray], bool]
    inverse_np: Callable[[np.ndarray, int], np.ndarray]


def _one_sign(y: np.ndarray) -> bool:
    return bool(np.all(y > 0) or np.all(y < 0))


TRANSFORMS = [
    Transform("y", lambda y: y, lambda t, s: t, lambda y: True, lambda t, s: t),
    Transform("1/y", lambda y: 1 / y, lambda t, s: 1 / t, _one_sign, lambda t, s: 1 / t),
    Transform(
        "y^2",
        lambda y: y**2,
        lambda t, s: s * sympy.sqrt(t),
        _one_sign,
        lambda t, s: s * np.sqrt(t),
    ),
    Transform(
        "1/y^2",
        lambda y: 1 / y**2,
        lambda t, s: s / sympy.sqrt(t),
        _one_sign,
        lambda t, s: s / np.sqrt(t),
    ),
    Transform(
        "log|y|",
        lambda y: np.log(np.abs(y)),
        lambda t, s: s * sympy.exp(t),
        _one_sign,
        lambda t, s: s * np.exp(t),
    ),
    Transform(
        "sin(y)",
        np.sin,
        lambda t, s: sympy.asin(t),
        lambda y: bool(np.max(np.abs(y)) < 1.5),
        lambda t, s: np.arcsin(t),
    ),
]


def positive_columns(x: np.ndarray) -> list[int]:
    return [i for i in range(x.shape[1]) if bool(np.all(x[:, i] > 0))]


def _snap_exponents(p: np.ndarray, step: float) -> np.ndarray:
    return np.round(p / step) * step


def _monomial(symbols: list[sympy.Symbol], cols: list[int], p: np.ndarray) -> sympy.Expr:
    out = sympy.Integer(1)
    for i, e in zip(cols, p, strict=True):
        if abs(e) > 1e-12:
            r = sympy.Rational(float(e)).limit_denominator(12)
            out *= symbols[i] ** (r if abs(float(r) - e) < 1e-12 else sympy.Float(float(e)))
    return out


def log_power_fit(logs: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares power law on logarithms: ``log|t| ~ c0 + logs @ p``.

    Parameters
    ----------
    logs : (B, k) logarithms of the (positive) inputs; t : (B,) target, nonzero

    Returns
    -------
    coef : (k + 1,) ``[c0, p_1, ..., p_k]``
    residual : std of the misfit over std of ``log|t|`` (0 for an exact power law)
    """
    ly = np.log(np.abs(t))
    a = np.column_stack([np.ones(len(t)), logs])
    coef, *_ = np.linalg.lstsq(a, ly, rcond=None)
    return coef, float(np.std(ly - a @ coef) / (np.std(ly) or 1.0))


def log_fit(x: np.ndarray, t: np.ndarray, cols: list[int]) -> np.ndarray | None:
    """Exponents ``p`` of ``log|t| ~ a + sum p_i log x_i`` over ``cols`` (or None when
    ``cols`` is empty or ``t`` changes sign)."""
    if not cols or not _one_sign(t):
        return None
    return log_power_fit(np.log(x[:, cols]), t)[0][1:]


def power_factors(x: np.ndarray, t: np.ndarray, cols: list[int]) -> list[np.ndarray]:
    """Snapped exponent vectors (over ``cols``) of a common power-law factor of ``t``."""
    p = log_fit(x, t, cols)
    if p is None:
        return []
    out = []
    for step in (1.0, 0.5, 1.0 / 3):
        q = _snap_exponents(p, step)
        if not any(np.array_equal(q, o) for o in out):
            out.append(q)
    return out


def power_laws(
    x: np.ndarray, y: np.ndarray, symbols: list[sympy.Symbol], expired: Deadline | None = None
) -> list[sympy.Expr]:
    """``C * prod x_i**p_i`` candidates (snapped and raw exponents)."""
    cols = positive_columns(x)
    p = log_fit(x, y, cols)
    if p is None:
        return []
    out = []
    for q in power_factors(x, y, cols) + [p]:
        m = np.prod([x[:, i] ** e for i, e in zip(cols, q, strict=True)], axis=0)
        c = float(np.dot(m, y) / np.dot(m, m))
        out.append(sympy.Float(c) * _monomial(symbols, cols, q))
    return out


# ----------------------------------------------------------------------------- sparse sums
def _factors(
    x: np.ndarray, i: int, symbols: list[sympy.Symbol]
) -> Iterator[tuple[np.ndarray, sympy.Expr]]:
    xi, s = x[:, i], symbols[i]
    pos = bool(np.all(xi > 0))
    nonzero = bool(np.all(np.abs(xi) > 1e-12))
    for e in (1, 2, -1, -2, 0.5, -0.5):
        if (e < 0 and not nonzero) or (e != int(e) and not pos):
            continue
        yield xi**e, s ** sympy.nsimplify(e)
    yield np.sin(xi), sympy.sin(s)
    yield np.cos(xi), sympy.cos(s)
    if pos:
        yield np.log(xi), sympy.log(s)


def term_library(
    x: np.ndarray, symbols: list[sympy.Symbol], max_vars: int
) -> tuple[np.ndarray, list[tuple]]:
    """Columns ``(B, K)`` and each column's sympy factors (their product is the term; built
    only for chosen terms, as sympy is slow): 1 and products of factors of <= max_vars inputs."""
    n = x.shape[1]
    per = [list(_factors(x, i, symbols)) for i in range(n)]
    cols: list[np.ndarray] = [np.ones(x.shape[0])]
    exprs: list[tuple] = [()]
    for k in range(1, max_vars + 1):
        for group in itertools.combinations(range(n), k):
            for combo in itertools.product(*[per[i] for i in group]):
                v = np.prod([c[0] for c in combo], axis=0)
                if np.all(np.isfinite(v)) and float(np.std(v)) > 0:
                    cols.append(v)
                    exprs.append(tuple(c[1] for c in combo))
    return np.column_stack(cols), exprs


def omp(a: np.ndarray, t: np.ndarray, max_terms: int = 4, beam: int = 4) -> list[list[int]]:
    """Supports (column index lists) by forward stepwise least squares with a beam.

    Column 0 (the constant, or the common factor ``M0``) is in every support.  Each support
    in the beam is extended by the ``beam`` columns that reduce its least-squares residual
    most (exactly: the residual's projection on each column's part orthogonal to the
    support, for all columns at once), and the ``beam`` best extensions go on.
    """
    frontier: list[tuple[float, tuple[int, ...]]] = [(0.0, (0,))]
    found: list[list[int]] = []
    tnorm = float(np.sum((t - t.mean()) ** 2)) or 1.0
    for _ in range(max_terms):
        nxt: dict[tuple[int, ...], float] = {}
        for _, sup in frontier:
            q, _ = np.linalg.qr(a[:, sup])
            r = t - q @ (q.T @ t)
            c = a - q @ (q.T @ a)
            cc = np.einsum("ij,ij->j", c, c)
            with np.errstate(all="ignore"):
                gain = np.where(cc > 1e-12 * np.einsum("ij,ij->j", a, a), (c.T @ r) ** 2 / cc, -1.0)
            gain[list(sup)] = -1
            rr = float(r @ r)
            for j in np.argsort(-gain)[:beam]:
                new = tuple(sorted(sup + (int(j),)))
                if new not in nxt and gain[j] > 0:
                    nxt[new] = max(rr - float(gain[j]), 0.0)
        frontier = sorted(((v, k) for k, v in nxt.items()), key=lambda z: z[0])[:beam]
        found.extend(list(k) for _, k in frontier)
        if not frontier or frontier[0][0] < 1e-20 * tnorm:
            break
    return found


def sparse_sums(
    x: np.ndarray, y: np.ndarray, symbols: list[sympy.Symbol], expired: Deadline, keep: int = 10
) -> list[sympy.Expr]:
    """Candidates ``T^-1(M0 * sum c_k phi_k)`` (see the module docstring)."""
    n = x.shape[1]
    max_vars = 3 if n <= 4 else 2
    lib_a, lib_e = term_library(x, symbols, max_vars)
    bounds = [sum(1 for e in lib_e if len(e) <= k) for k in range(1, max_vars + 1)]
    cols = positive_columns(x)
    sign = 1 if np.all(y > 0) else -1
    ranked: list[tuple[float, Transform, np.ndarray, list[int], np.ndarray]] = []
    ystd = float(np.std(y)) or 1.0
    exact = False  # an exact fit ends the search: the libraries are tried simplest first
    for tr in TRANSFORMS:
        if expired() or exact:
            break
        if not tr.ok(y):
            continue
        with np.errstate(all="ignore"):
            t = tr.forward(y)
        if not np.all(np.isfinite(t)) or float(np.std(t)) == 0:
            continue
        for q in [np.zeros(len(cols))] + power_factors(x, t, cols):
            if expired() or exact:
                break
            m0 = (
                np.prod([x[:, i] ** e for i, e in zip(cols, q, strict=True)], axis=0)
                if cols
                else 1.0
            )
            a = lib_a * np.reshape(m0, (-1, 1)) if cols else lib_a
            for k in sorted(set(bounds)):
                for sup in omp(a[:, :k], t):
                    coef, *_ = np.linalg.lstsq(a[:, sup], t, rcond=None)
                    with np.errstate(all="ignore"):
                        pred = tr.inverse_np(a[:, sup] @ coef, sign)
                    err = float(np.sqrt(np.mean((pred - y) ** 2))) / ystd
                    if np.isfinite(err):
                        ranked.append((max(err, 1e-12) * (1 + 0.05 * len(sup)), tr, q, sup, coef))
                        exact = exact or err < 1e-10
                if exact:
                    break
    ranked.sort(key=lambda z: z[0])
    out: list[sympy.Expr] = []
    for _, tr, q, sup, coef in ranked[:keep]:  # sympy only for the best few (it is slow)
        tiny = 1e-9 * float(np.max(np.abs(coef)))
        terms = [(j, c) for j, c in zip(sup, coef, strict=True) if j != 0 or abs(c) > tiny]
        body = sympy.Add(*[sympy.Float(float(c)) * sympy.Mul(*lib_e[j]) for j, c in terms])
        m0e = _monomial(symbols, cols, q) if cols else sympy.Integer(1)
        out.append(tr.inverse(m0e * body, sign))
    return out
