"""Hypothesis tests that steer a recursive split of the problem (KAN 2.0, sec. 4; AI Feynman).

When no form family fits the data exactly, a KAN surrogate is trained on them (float64,
a few seconds) and KAN 2.0's tests are read off its derivatives:

* **pair symmetries**: ``f`` depends on ``x_i, x_j`` only through ``u = x_i - x_j``
  (``df/dx_i + df/dx_j = 0``), ``x_i + x_j`` (``df/dx_i = df/dx_j``), ``x_i / x_j``
  (``x_i df/dx_i + x_j df/dx_j = 0``) or ``x_i x_j`` (``x_i df/dx_i = x_j df/dx_j``).  The
  score is the median over samples of ``|lhs - rhs| / (|lhs| + |rhs|)`` (0 when it holds,
  ~0.5 for unrelated terms).  A pair that scores below ``SYMMETRY_SCORE`` is replaced by
  one new input ``u`` computed exactly from the data (no surrogate values are used) and
  the smaller problem is solved recursively;
* **multiplicative separability** (``hypothesis.interaction_scores(mode='mul')``): when
  ``f = g(x_A) h(x_B)`` and ``x_A`` stay positive, ``g`` is tried as a power law: the
  snapped log-fit of ``|y|`` on ``log x_A`` is divided out of the data and ``h`` is solved
  recursively on ``x_B`` alone (again exact data, not surrogate values);
* **additive separability** (``mode='add'``): when ``f = g(x_A) + h(x_B)`` and ``g`` is
  a power law, ``c M_A`` is fitted together with a smooth model of ``h``... is *not* done
  here (the parts cannot be isolated from scattered data without surrogate values); the
  additive groups are only reported in the tree.

A reduced problem's formulas are mapped back (``u -> x_i - x_j``, ``y = M_A * h``) and
returned as candidates; the caller refits, snaps and verifies them on the original data,
so a wrong reduction costs time, never a false claim.  Recursion stops at ``depth``, at the
deadline, or when a family fits exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import sympy

from .candidates import Deadline, _monomial, _one_sign, log_fit, positive_columns
from .constants import evaluate, rel_rmse

Family = tuple[str, Callable[..., list[sympy.Expr]]]
SYMMETRY_SCORE = 0.12
MUL_THRESHOLD = 2e-2
EXACT = 1e-7
FAMILY_SHARE = 0.5
OPS: dict[str, Callable] = {
    "-": lambda a, b: a - b,
    "+": lambda a, b: a + b,
    "/": lambda a, b: a / b,
    "*": lambda a, b: a * b,
}


def symmetry_scores(grad: np.ndarray, x: np.ndarray) -> list[tuple[float, int, int, str]]:
    """``(score, i, j, op)`` for every pair and op, lowest (most symmetric) first.

    ``grad`` (B, n) is ``df/dx`` at the rows of ``x`` (B, n); ``op`` in ``- + / *``.
    """
    out = []
    n = x.shape[1]
    for i in range(n):
        for j in range(i + 1, n):
            gi, gj = grad[:, i], grad[:, j]
            pairs = {"-": (gi, -gj), "+": (gi, gj), "/": (x[:, i] * gi, -x[:, j] * gj),
                     "*": (x[:, i] * gi, x[:, j] * gj)}  # fmt: skip
            for op, (a, b) in pairs.items():
                if op == "/" and not bool(np.all(np.abs(x[:, j]) > 1e-12)):
                    continue
                den = np.abs(a) + np.abs(b)
                ok = den > 1e-12 * (float(np.max(den)) or 1.0)
                if int(ok.sum()) < 10:
                    continue
                out.append((float(np.median(np.abs(a[ok] - b[ok]) / den[ok])), i, j, op))
    out.sort(key=lambda s: s[0])
    return out


def train_surrogate(x: np.ndarray, y: np.ndarray, end: float, seed: int = 0):
    """A float64 KAN ``[n, 5, 1]`` fitted to the standardised ``y`` until ``end`` (a
    ``time.time()``) or 100 LBFGS steps; returns ``f(x) -> y`` in original units (torch)."""
    import torch

    from kanwidget.kan import KAN

    mean, std = float(np.mean(y)), float(np.std(y)) or 1.0
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor((y - mean) / std, dtype=torch.float64)[:, None]
    data = {"train_input": xt, "train_label": yt, "test_input": xt, "test_label": yt}
    model = KAN([x.shape[1], 5, 1], grid=5, k=3, seed=seed, dtype=torch.float64)
    model.fit(data, steps=100, progress=False, callback=lambda step, rec: time.time() < end)

    def f(z: torch.Tensor) -> torch.Tensor:
        return model._forward(z)[0][:, 0] * std + mean

    return f


def split_forms(
    x: np.ndarray,
    y: np.ndarray,
    symbols: Sequence[sympy.Symbol],
    expired: Deadline,
    families: Sequence[Family],
    depth: int = 2,
    solved: bool = False,
    end: float | None = None,
) -> list[sympy.Expr]:
    """Candidates from recursive splits steered by hypothesis tests (module docstring).

    Parameters
    ----------
    x : (B, n), y : (B,), symbols : n symbols
    expired : the caller's deadline; ``end`` the same as a ``time.time()`` (for the
        surrogate's share), default: 30 s from now
    families : ``(name, fn(x, y, symbols, expired))`` solvers tried on every reduced problem;
        the first is the quick one, tried before the problem is reduced further
    depth : levels of reduction
    solved : True when the caller already found an exact fit (nothing to do)
    """
    if solved or depth <= 0 or expired() or x.shape[1] < 2:
        return []
    end = time.time() + 30 if end is None else end
    return _reduce(x, y, list(symbols), expired, families, depth, end)


def _solve(x, y, symbols, expired, families, depth, end) -> tuple[list[sympy.Expr], float]:
    """The first (quick) family, then the reductions the tests suggest (smaller problems
    are faster to solve), then the other families; returns candidates and the best
    training error."""
    out: list[sympy.Expr] = []
    best = np.inf

    def run(fams) -> None:
        nonlocal best, out
        for _, fn in fams:
            if expired() or best < EXACT:
                return
            cap = time.time() + FAMILY_SHARE * max(0.0, end - time.time())
            with np.errstate(all="ignore"):  # each family leaves time to the next ones
                found = fn(x, y, symbols, lambda: expired() or time.time() > cap)  # noqa: B023
            best = min([best] + [rel_rmse(evaluate(e, symbols, x), y) for e in found])
            out += found

    run(families[:1])
    if best >= EXACT and depth > 0 and not expired() and x.shape[1] >= 2:
        more = _reduce(x, y, symbols, expired, families, depth, end)
        best = min([best] + [rel_rmse(evaluate(e, symbols, x), y) for e in more])
        out += more
    run(families[1:])
    return out, best


def _reduce(x, y, symbols, expired, families, depth, end) -> list[sympy.Expr]:
    import torch

    from kanwidget.kan.hypothesis import derivatives, detect_separability

    n = x.shape[1]
    left = end - time.time()
    try:
        f = train_surrogate(x, y, time.time() + min(0.15 * left, 3.0 + 1.5 * n))
        probe = torch.tensor(x[: min(300, len(x))], dtype=torch.float64)
        _, grad, _ = derivatives(f, probe)
    except (RuntimeError, ValueError):  # a surrogate that cannot be trained steers nothing
        return []
    out: list[sympy.Expr] = []
    scores = symmetry_scores(grad.numpy(), x[: probe.shape[0]])
    tried = 0
    for score, i, j, op in scores:
        if score > SYMMETRY_SCORE or tried >= 3 or expired():
            break
        tried += 1
        u = sympy.Symbol(f"_u{depth}_{i}_{j}")
        rest = [k for k in range(n) if k not in (i, j)]
        with np.errstate(all="ignore"):
            xu = np.column_stack([OPS[op](x[:, i], x[:, j])] + [x[:, k] for k in rest])
        if not np.all(np.isfinite(xu)):
            continue
        sub = [u] + [symbols[k] for k in rest]
        found, err = _solve(xu, y, sub, expired, families, depth - 1, end)
        back = {u: OPS[op](symbols[i], symbols[j])}
        out += [e.xreplace(back) for e in found]
        if err < EXACT:
            return out
    if not _one_sign(y) or expired():
        return out
    try:
        groups = detect_separability(f, probe, "mul", threshold=MUL_THRESHOLD)
    except ValueError:
        return out
    pos = set(positive_columns(x))
    for group in sorted(groups, key=len) if len(groups) > 1 else []:
        if expired() or not set(group) <= pos:
            continue
        rest = [k for k in range(n) if k not in group]
        p = log_fit(x, y, group)
        if p is None:
            continue
        q = np.round(p * 2) / 2
        with np.errstate(all="ignore"):
            m = np.prod([x[:, k] ** e for k, e in zip(group, q, strict=True)], axis=0)
            h = y / m
        if not np.all(np.isfinite(h)):
            continue
        found, err = _solve(
            x[:, rest], h, [symbols[k] for k in rest], expired, families, depth - 1, end
        )
        mono = _monomial(symbols, group, q)
        out += [mono * e for e in found]
        if err < EXACT:
            return out
    return out
