"""Verification of raw formulas on held-out data: refit, snap, score, deduplicate.

Every raw formula (from a regression family or a KAN universe) is scored on the held-out
split; the most accurate are refitted in float64 and snapped (:mod:`.constants`) while time
is left, and each becomes a :class:`~kanwidget.discovery.pareto.Candidate`.

The phase is bounded: past ``end`` (by :func:`.clock.now`) scoring stops once one finite
candidate exists, the top ``LATE_TOP`` get at most ``LATE_SECONDS`` each of refitting and
snapping, and sympy's tidying (``powsimp``) is only done in time or on small formulas, so
the overrun is at most about ``2 * LATE_TOP * LATE_SECONDS`` plus one formula's evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from . import clock
from .constants import evaluate, refit, rel_rmse, snap, tidy
from .pareto import Candidate, complexity

LATE_SECONDS = 0.3  # refit/snap time of each of the top LATE_TOP when the budget is spent
LATE_TOP = 3
REFIT_TOP = 16  # candidates refitted and snapped when time allows
TIDY_LATE_NODES = 60  # past the deadline, only formulas this small are tidied


def score(raw: Sequence[tuple[Any, str, int | None]], symbols, test, end: float) -> list[tuple]:
    """``(held-out relative RMSE, formula, source, universe index)``, most accurate first.

    Formulas that are not sympy expressions or hold ``zoo``/``nan``/``oo`` are dropped; past
    ``end`` scoring stops once a finite one exists.
    """
    xt, yt = test
    scored = []
    for expr, source, k in raw:
        if not isinstance(expr, sympy.Expr) or expr.has(sympy.zoo, sympy.nan, sympy.oo):
            continue
        if clock.now() > end - 0.2 and any(np.isfinite(s[0]) for s in scored):
            break
        scored.append((rel_rmse(evaluate(expr, symbols, xt), yt), expr, source, k))
    scored.sort(key=lambda s: s[0])
    return scored


def verify(
    raw,
    symbols,
    train,
    test,
    end,
    models=None,
    ids=None,
    refit_top: int = REFIT_TOP,
    late: int = LATE_TOP,
) -> list[Candidate]:
    """Candidates from ``raw`` ``(formula, source, universe index or None)`` triples.

    Parameters
    ----------
    raw : the formulas, in ``symbols``
    train, test : ``(x (B, n), y (B,))`` float64 splits; constants are refitted on train,
        every error is measured on test
    end : deadline (a :func:`.clock.now` value); see the module docstring for the bound
    models : universe index -> KAN (or None), attached to its candidates
    ids : universe index -> version id in the discovery's history
    refit_top : how many of the most accurate are refitted and snapped (0: scored only)
    late : how many of the top may take their ``LATE_SECONDS`` past ``end`` (the final
        verification must return an answer; 0: ``end`` is a hard stop)

    Returns
    -------
    list of :class:`Candidate`, most accurate first, duplicates (same ``srepr``) removed;
    empty if no formula evaluates to finite values.
    """
    models, ids = models or {}, ids or {}
    yt = test[1]
    out: list[Candidate] = []
    seen: set[str] = set()
    std = float(np.std(yt)) or 1.0
    late_top = min(late, refit_top)
    for rank, (err, expr, source, k) in enumerate(score(raw, symbols, test, end)):
        if not np.isfinite(err):
            continue
        now = clock.now()
        if rank < late_top or (rank < refit_top and now < end - 0.3):
            stop = max(end - 0.3, now + LATE_SECONDS) if rank < late_top else end - 0.3
            fitted = refit(expr, symbols, *train, deadline=stop)
            fitted_err = rel_rmse(evaluate(fitted, symbols, test[0]), yt)
            if fitted_err <= err:
                expr, err = fitted, fitted_err
            stop = max(stop, clock.now() + LATE_SECONDS) if rank < late_top else stop
            expr, err = snap(expr, symbols, train, test, deadline=stop)
        size = complexity(expr)
        if clock.now() < end - 0.3 or (rank == 0 and size <= TIDY_LATE_NODES):
            expr = tidy(expr)  # sympy's tidying is costly on big formulas
            size = complexity(expr)
        key = sympy.srepr(expr)
        if key in seen or not np.isfinite(err):
            continue
        seen.add(key)
        out.append(
            Candidate(expr, size, err * std, 1.0 - err**2, err, source, ids.get(k), models.get(k))
        )
    out.sort(key=lambda c: c.rel_rmse)
    return out
