"""Shared helpers of the family tests: samples of a synthetic law, and the best of a
family's candidates after discover's own refit and snap."""

from __future__ import annotations

import numpy as np
import sympy

from kanwidget.discovery.constants import evaluate, refit, snap

A, B, C, D = SYMS = list(sympy.symbols("a b c d"))


def law_data(expr, ranges, n=1000, seed=0, widen=0.0):
    """``n`` points uniform in ``ranges`` (each widened by ``widen`` of its length on both
    sides) and ``expr`` at them, over the symbols ``a, b, c, d``: ``(x (n, k), y (n,))``."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [rng.uniform(lo - widen * (hi - lo), hi + widen * (hi - lo), n) for lo, hi in ranges]
    )
    return x, evaluate(expr, SYMS[: len(ranges)], x)


def best_verified(exprs, symbols, train, test, top=4):
    """Refit and snap each of the first ``top`` candidates as discover does; the most
    accurate on ``test`` as ``(relative RMSE, formula)`` (``(inf, None)`` for none)."""
    best = (np.inf, None)
    for e in exprs[:top]:
        snapped, err = snap(refit(e, symbols, *train), symbols, train, test)
        if err < best[0]:
            best = (err, snapped)
    return best
