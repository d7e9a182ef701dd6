"""Ranking symbolic candidates: the simplest function that fits about as well as the best.

pykan ranks by ``w * complexity + (1 - w) * log2(1 - R^2)``.  With its default w = 0.8 the
constant ``'0'`` (complexity 0, R^2 = 0, loss 0) beats a sine with R^2 = 0.99
(0.8 * 2 + 0.2 * log2(0.01) = 0.27), so an active edge gets zeroed.  Here the accuracy
test is *relative to the best candidate* instead:

- ``u_i = 1 - R^2_i`` is candidate i's unexplained variance, ``u* = min_i u_i``;
- candidate i is *eligible* if ``u_i <= u* / (1 - w) + w * 1e-6`` (``w = weight_simple``;
  1e-6 treats R^2 values closer than that as equal);
- eligible candidates come first, simplest first (ties: unexplained variance in factor-2
  buckets relative to the best, then library order);
  the others follow by decreasing R^2; fits that leave their function's domain come last.

So w = 0 is pure accuracy, w = 0.8 accepts a simpler function that leaves at most 5x the
best unexplained variance, and w = 1 always prefers the simplest.  ``'0'`` (u = 1) can
only win at w = 0.8 if no function explains more than 80 % of the variance.  ``pareto``
marks the Pareto front of (complexity, R^2): no other candidate is at least as simple and
more accurate (or simpler and at least as accurate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

R2_RESOLUTION = 1e-6


def rank_candidates(
    r2: Sequence[float],
    complexity: Sequence[float],
    weight_simple: float = 0.8,
    valid: Sequence[bool] | None = None,
) -> tuple[list[int], list[bool], list[bool]]:
    """Order candidates best first.

    Parameters
    ----------
    r2 : (F,) R^2 per candidate
    complexity : (F,) complexity per candidate
    weight_simple : in [0, 1]; see the module docstring
    valid : (F,) False for fits that leave their function's domain: ranked last, never
        eligible, not on the Pareto front

    Returns
    -------
    order : candidate indices, best first
    pareto : (F,) whether each candidate is on the complexity/R^2 Pareto front
    eligible : (F,) whether each candidate is within the accuracy tolerance of the best
    """
    if not 0.0 <= weight_simple <= 1.0:
        raise ValueError(f"weight_simple must be in [0, 1], got {weight_simple}")
    if len(r2) != len(complexity):
        raise ValueError("r2 and complexity must have the same length")
    n = len(r2)
    ok = [True] * n if valid is None else [bool(v) for v in valid]
    unexplained = [max(1.0 - float(v), 0.0) if v == v else 1.0 for v in r2]
    best = min((u for u, v in zip(unexplained, ok, strict=True) if v), default=1.0)
    if weight_simple >= 1.0:
        eligible = list(ok)
    else:
        limit = best / (1.0 - weight_simple) + weight_simple * R2_RESOLUTION
        eligible = [u <= limit and v for u, v in zip(unexplained, ok, strict=True)]
    pareto = [
        ok[i]
        and not any(
            complexity[j] <= complexity[i]
            and unexplained[j] <= unexplained[i]
            and (complexity[j] < complexity[i] or unexplained[j] < unexplained[i])
            for j in range(n)
            if ok[j]
        )
        for i in range(n)
    ]

    def key(i: int) -> tuple[int, float, float, int]:
        if eligible[i]:
            # among equally simple eligible candidates, unexplained variance within a factor 2
            # is a tie broken by library order: a sine bent into a parabola by its four free
            # parameters must not beat x^2 on a parabola-shaped edge (pykan's order does this)
            ratio = unexplained[i] / max(best, 1e-12)
            bucket = float(math.floor(math.log2(ratio))) if ratio > 1 else 0.0
            return (0, float(complexity[i]), bucket, i)
        # R^2 differences below ~1e-9 of the best are noise: library order breaks the tie
        return (1 if ok[i] else 2, 0.0, round(unexplained[i] / (best * 1e-6 + 1e-12)), i)

    return sorted(range(n), key=key), pareto, eligible
