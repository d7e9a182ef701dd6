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
* additive separability is not used to split: its parts cannot be isolated from
  scattered data without surrogate values (the sparse sums already hold sums of terms).

Notes of inner levels name the reduced problem's variables (``_u<depth>_<i>_<j>``).

A reduced problem's formulas are mapped back (``u -> x_i - x_j``, ``y = M_A * h``) and
returned as candidates; the caller refits, snaps and verifies them on the original data,
so a wrong reduction costs time, never a false claim.  Recursion stops at ``depth``, at the
deadline, or when a family fits exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy

from . import clock
from .candidates import _monomial, _one_sign, log_fit, positive_columns
from .constants import evaluate, rel_rmse

Family = tuple[str, Callable[..., list[sympy.Expr]]]
SYMMETRY_SCORE = 0.12
MUL_THRESHOLD = 2e-2
EXACT = 1e-7
REDUCE_SHARE = 0.5
REDUCE_WEIGHT = 2  # the reductions count as this many families in the fair shares
MIN_STEPS = 100  # LBFGS steps of the surrogate (all of them) unless its hard deadline passes
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


def train_surrogate(
    x: np.ndarray, y: np.ndarray, end: float, seed: int = 0, hard_end: float | None = None
):
    """A float64 KAN ``[n, 5, 1]`` fitted to the standardised ``y`` until ``end`` (a
    ``clock.now()``) or 100 LBFGS steps; returns ``f(x) -> y`` in original units (torch).

    The tests read derivatives off the surrogate, so an under-trained one steers nothing:
    training goes on past ``end`` until ``MIN_STEPS`` steps are done (all 100 by default),
    but never past ``hard_end`` (default ``end``).  On a loaded machine a step takes
    several times longer, and a wall-clock share alone would leave the surrogate too rough
    to test."""
    import torch

    from kanwidget.kan import KAN

    mean, std = float(np.mean(y)), float(np.std(y)) or 1.0
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor((y - mean) / std, dtype=torch.float64)[:, None]
    data = {"train_input": xt, "train_label": yt, "test_input": xt, "test_label": yt}
    model = KAN([x.shape[1], 5, 1], grid=5, k=3, seed=seed, dtype=torch.float64)
    hard = end if hard_end is None else max(end, hard_end)

    def going(step: int, record: dict) -> bool:
        now = clock.now()
        return now < end or (step < MIN_STEPS and now < hard)

    model.fit(data, steps=100, progress=False, callback=going)

    def f(z: torch.Tensor) -> torch.Tensor:
        return model._forward(z)[0][:, 0] * std + mean

    return f


def solve(
    x: np.ndarray,
    y: np.ndarray,
    symbols: Sequence[sympy.Symbol],
    families: Sequence[Family],
    end: float,
    depth: int = 2,
    notes: list[str] | None = None,
    quick: int = 1,
    direct: int | None = None,
    done: int = 0,
) -> list[tuple[sympy.Expr, str]]:
    """All candidates for ``y(x)``: the first ``direct`` families (the quick ones and the
    fast direct ones), then the reductions the tests suggest (at most ``REDUCE_SHARE`` of
    the time left; smaller problems are faster to solve), then the other families.  Every
    family gets a fair share of the time left, counted over the families still to run
    (the reductions count as ``REDUCE_WEIGHT`` families), so a family that solves the law
    alone in seconds is not starved by a reduction that uses up the time under load.  With
    two inputs every family runs first (they are fast there) and reductions come last.
    Stops early when a formula fits the training data exactly.

    Parameters
    ----------
    x : (B, n), y : (B,), symbols : n symbols
    families : ``(name, fn(x, y, symbols, expired))``; the first ``quick`` are the quick ones
        the first ``direct`` (default ``quick``) those run before the reductions of the
        given problem (a reduced problem runs only the quick ones before its own: the
        time of a deep split goes to the smaller problems)
    end : deadline (a ``clock.now()``)
    depth : levels of reduction
    notes : if given, one line per hypothesis that held and the reduction it led to, e.g.
        ``'x1 - x2: pair symmetry (score 0.021); reduced problem solved exactly'``
    done : the first ``done`` families already ran on this problem (the caller's quick
        phase): not run again at the top level

    Returns
    -------
    ``(formula, source)`` pairs; ``source`` is the family's name, prefixed by ``split``
    when the formula comes from a reduced problem.
    """
    first = quick if direct is None else direct
    return _solve(x, y, list(symbols), families, end, depth, notes, quick, first, done)[0]


def _solve(
    x, y, symbols, families, end, depth, notes=None, quick=1, first=None, done=0
) -> tuple[list[tuple[sympy.Expr, str]], float]:
    out: list[tuple[sympy.Expr, str]] = []
    best = np.inf

    def add(found: list[tuple[sympy.Expr, str]]) -> None:
        nonlocal best
        best = min([best] + [rel_rmse(evaluate(e, symbols, x), y) for e, _ in found])
        out.extend(found)

    def run(fams: Sequence[Family], after: float = 0) -> None:
        for k, (name, fn) in enumerate(fams):
            if clock.now() > end or best < EXACT:
                return
            cap = clock.now() + max(0.0, end - clock.now()) / (len(fams) - k + after)
            with np.errstate(all="ignore"):
                found = fn(x, y, symbols, lambda: clock.now() > cap)  # noqa: B023
            add([(e, name) for e in found])

    small = x.shape[1] <= 2  # two inputs: every family is fast; reduce only if they fail
    first = quick if first is None else max(first, quick)
    if small:
        run(families[done:])
    else:
        run(families[done:first], after=len(families) - first + REDUCE_WEIGHT)
    if best >= EXACT and depth > 0 and clock.now() < end and x.shape[1] >= 2:
        cap = clock.now() + (1.0 if small else REDUCE_SHARE) * (end - clock.now())
        add(_reduce(x, y, symbols, families, cap, depth, notes, quick))
    if not small:
        run(families[max(first, done) :])
    return out, best


def _note(notes: list[str] | None, what: str, err: float) -> None:
    if notes is not None:
        how = "solved exactly" if err < EXACT else f"best relative error {err:.2g}"
        notes.append(f"{what}; reduced problem {how}")


def _reduce(
    x, y, symbols, families, end, depth, notes=None, quick=1
) -> list[tuple[sympy.Expr, str]]:
    import torch

    from kanwidget.kan.hypothesis import derivatives, detect_separability

    n = x.shape[1]
    left = end - clock.now()
    try:
        soft = clock.now() + min(max(0.2 * left, 2.0), 3.0 + 1.5 * n)
        f = train_surrogate(x, y, soft, hard_end=clock.now() + 0.5 * left)
        probe = torch.tensor(x[: min(300, len(x))], dtype=torch.float64)
        _, grad, _ = derivatives(f, probe)
    except (RuntimeError, ValueError):  # a surrogate that cannot be trained steers nothing
        return []
    out: list[tuple[sympy.Expr, str]] = []
    scores = symmetry_scores(grad.numpy(), x[: probe.shape[0]])
    tried = 0
    for score, i, j, op in scores:
        if score > SYMMETRY_SCORE or tried >= 3 or clock.now() > end:
            break
        tried += 1
        u = sympy.Symbol(f"_u{depth}_{i}_{j}")
        rest = [k for k in range(n) if k not in (i, j)]
        with np.errstate(all="ignore"):
            xu = np.column_stack([OPS[op](x[:, i], x[:, j])] + [x[:, k] for k in rest])
        if not np.all(np.isfinite(xu)):
            continue
        sub = [u] + [symbols[k] for k in rest]
        found, err = _solve(xu, y, sub, families, end, depth - 1, notes, quick)
        back = {u: OPS[op](symbols[i], symbols[j])}
        _note(notes, f"{back[u]}: pair symmetry (score {score:.2g})", err)
        out += [(e.xreplace(back), "split " + src.removeprefix("split ")) for e, src in found]
        if err < EXACT:
            return out
    if not _one_sign(y) or clock.now() > end:
        return out
    try:
        groups = detect_separability(f, probe, "mul", threshold=MUL_THRESHOLD)
    except ValueError:
        return out
    pos = set(positive_columns(x))
    for group in sorted(groups, key=len) if len(groups) > 1 else []:
        if clock.now() > end or not set(group) <= pos:
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
        sub = [symbols[k] for k in rest]
        found, err = _solve(x[:, rest], h, sub, families, end, depth - 1, notes, quick)
        mono = _monomial(symbols, group, q)
        _note(notes, f"{mono} * f({', '.join(map(str, sub))}): multiplicative separability", err)
        out += [(mono * e, "split " + src.removeprefix("split ")) for e, src in found]
        if err < EXACT:
            return out
    return out
