"""Wrapped forms ``T^-1(M1 * (c1 * g(a * M2 + b) + c2))`` (see :mod:`.candidates`).

``g`` in exp, sin, cos, tanh, log; ``M2`` a product of at most two inputs' powers; ``(a, b)``
by LM with ``c1, c2`` solved linearly inside (variable projection); ``M1`` the snapped
power-law factor of the inputs outside ``M2`` (or all inputs).  Nothing here knows any law.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable

import numpy as np
import sympy

from .candidates import TRANSFORMS, Deadline, _monomial, positive_columns, power_factors

_WRAPS: list[tuple[str, Callable[[np.ndarray], np.ndarray], Callable[[sympy.Expr], sympy.Expr]]] = [
    ("exp", np.exp, sympy.exp),
    ("sin", np.sin, sympy.sin),
    ("cos", np.cos, sympy.cos),
    ("tanh", np.tanh, sympy.tanh),
    ("log", np.log, sympy.log),
]


def _inner_monomials(
    x: np.ndarray, symbols: list[sympy.Symbol]
) -> list[tuple[np.ndarray, sympy.Expr, set[int]]]:
    cols = positive_columns(x)
    out = []
    for i in range(x.shape[1]):
        for e in (1, 2, -1, -2, 0.5, -0.5):
            if (e < 0 or e != int(e)) and i not in cols:
                continue
            out.append((x[:, i] ** e, symbols[i] ** sympy.nsimplify(e), {i}))
    for i, j in itertools.combinations(cols, 2):
        for ei, ej in itertools.product((1, 2, -1, -2), repeat=2):
            out.append((x[:, i] ** ei * x[:, j] ** ej, symbols[i] ** ei * symbols[j] ** ej, {i, j}))
    return out


def _varpro(t: np.ndarray, m1: np.ndarray, u: np.ndarray, g: Callable, a0: float, b0: float):
    from scipy.optimize import least_squares

    def solve(ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            z = g(ab[0] * u + ab[1])
        basis = np.column_stack([m1 * z, m1])
        if not np.all(np.isfinite(basis)):
            return np.full_like(t, 1e6), np.zeros(2)
        coef, *_ = np.linalg.lstsq(basis, t, rcond=None)
        return basis @ coef - t, coef

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = least_squares(lambda ab: solve(ab)[0], np.array([a0, b0]), method="lm", max_nfev=60)
    res, coef = solve(sol.x)
    return float(np.sqrt(np.mean(res**2))), sol.x, coef


def screen(t: np.ndarray, m1: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residual RMS of ``t ~ c1 m1 z_k + c2 m1`` for every column ``z_k`` of ``z`` (B, K),
    from the 2x2 normal equations (vectorised over k)."""
    with np.errstate(all="ignore"):
        w = m1 * m1
        s11, s1t, stt = w.sum(), (m1 * t).sum(), (t * t).sum()
        szz, sz1, szt = w @ (z * z), w @ z, (m1 * t) @ z
        det = szz * s11 - sz1**2
        c1 = (szt * s11 - s1t * sz1) / det
        c2 = (szz * s1t - sz1 * szt) / det
        sse = stt - c1 * szt - c2 * s1t
        sse = np.where(np.isfinite(sse) & (det > 1e-12 * szz * s11), np.maximum(sse, 0), np.inf)
    return np.sqrt(sse / len(t))


def wrapped_forms(
    x: np.ndarray,
    y: np.ndarray,
    symbols: list[sympy.Symbol],
    expired: Deadline,
    keep: int = 4,
    polish: int = 12,
) -> list[sympy.Expr]:
    """Candidates ``T^-1(M1 * (c1 g(a M2 + b) + c2))`` (see the module docstring).

    Every (transform, M2, M1, g, a) is screened with ``b = 0`` and the linear coefficients
    solved exactly (vectorised); the ``polish`` best are refined by LM over ``(a, b)``.
    """
    cols = positive_columns(x)
    sign = 1 if np.all(y > 0) else -1
    inner = _inner_monomials(x, symbols)
    grid = (0.3, 1.0, 3.0, -0.3, -1.0, -3.0)
    zs, keys = [], []
    with np.errstate(all="ignore"):
        for k, (u, _, _) in enumerate(inner):
            if expired():
                break
            us = float(np.median(np.abs(u))) or 1.0
            for gi, (_, g, _) in enumerate(_WRAPS):
                for a0 in grid:
                    z = g(a0 / us * u)
                    if np.all(np.isfinite(z)) and float(np.std(z)) > 0:
                        zs.append(z)
                        keys.append((k, gi, a0 / us))
    if not zs:
        return []
    zmat = np.column_stack(zs)
    screened: list[tuple[float, tuple]] = []
    for tr in TRANSFORMS[:2]:
        if not tr.ok(y) or expired():
            continue
        with np.errstate(all="ignore"):
            t = tr.forward(y)
        if not np.all(np.isfinite(t)):
            continue
        scale = float(np.std(t)) or 1.0
        options = [([], np.zeros(0))] + [(cols, q) for q in power_factors(x, t, cols)[:1]]
        for cset, q in options:
            if expired():
                break
            m1 = (
                np.prod([x[:, i] ** e for i, e in zip(cset, q, strict=True)], axis=0)
                if len(q)
                else np.ones(len(t))
            )
            m1 = np.broadcast_to(m1, t.shape).astype(np.float64)
            errs = screen(t, m1, zmat) / scale
            for idx in np.argsort(errs)[:polish]:
                if not np.isfinite(errs[idx]):
                    continue
                screened.append((float(errs[idx]), (tr, t, scale, cset, q, m1, keys[idx])))
                outside = [
                    i for i in cols if i not in inner[keys[idx][0]][2]
                ]  # M1 without M2's inputs
                for q2 in power_factors(x, t, outside)[:1]:
                    m2 = np.prod([x[:, i] ** e for i, e in zip(outside, q2, strict=True)], axis=0)
                    screened.append((float(errs[idx]), (tr, t, scale, outside, q2, m2, keys[idx])))
    screened.sort(key=lambda z: z[0])
    scored: list[tuple[float, sympy.Expr]] = []
    for _, (tr, t, scale, cset, q, m1, (k, gi, a0)) in screened[: 2 * polish]:
        if expired():
            break
        u, ue, _ = inner[k]
        _, g, gs = _WRAPS[gi]
        err, ab, coef = _varpro(t, m1, u, g, a0, 0.0)
        if not np.isfinite(err):
            continue
        m1e = _monomial(symbols, cset, q) if len(q) else sympy.Integer(1)
        body = sympy.Float(coef[0]) * gs(
            sympy.Float(ab[0]) * ue + sympy.Float(ab[1])
        ) + sympy.Float(coef[1])
        scored.append((err / scale, tr.inverse(m1e * body, sign)))
    scored.sort(key=lambda z: z[0])
    return [e for _, e in scored[:keep]]
