"""Sums of monomials each times a function of one group (discovery/groupterms.py), and the
order of the families around the split's reductions (discovery/split.py).

Laws here are synthetic (names, ranges and constants chosen for these tests); every found
formula goes through the same refit/snap as ``discover``'s verification.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy

from kanwidget.discovery import candidates as forms
from kanwidget.discovery import split
from kanwidget.discovery.constants import evaluate, rel_rmse
from kanwidget.discovery.groupterms import (
    GROUPS_KEPT,
    _screen_rel,
    group_terms,
    groups,
    monomial_basis,
    select_terms,
)
from kanwidget.discovery.monomial import spline_basis
from kanwidget.discovery.threads import one_blas_thread
from tests.discovery.laws import SYMS, A, B, C, D, best_verified, law_data

LAWS = [  # (truth, ranges): a polynomial or sum of monomials times function(s) of a group
    ((A * C - B) / (1 + (B / D) ** 2), [(1, 3), (0.5, 2), (1, 2), (1, 3)]),
    ((2 * A + C**2) * sympy.exp(-B / D), [(1, 3), (1, 2), (1, 2), (1, 3)]),
    ((A + B * C) * sympy.sqrt(1 - C**2 / D**2), [(1, 4), (1, 2), (0.5, 1.5), (2, 5)]),
    (A * sympy.cos(D) + B * C * sympy.sin(D) ** 2, [(1, 3), (1, 2), (1, 2), (-2, 2)]),
    (sympy.sqrt(A**2 + B**2 + A * B * sympy.cos(C)), [(1, 4), (1, 4), (-3, 3)]),  # y**2
    (sympy.sqrt(A**2 + 4 * B**2 + 3 * A * B * sympy.cos(C - D)), [(1, 3), (1, 2), (0, 4), (0, 4)]),
    (A * B / sympy.sqrt(A**2 + B**2 - A * B * sympy.cos(C + D)), [(1, 3), (1, 2), (0, 2), (0, 2)]),
]


@pytest.mark.parametrize("truth, ranges", LAWS, ids=[str(t) for t, _ in LAWS])
def test_group_terms_recovers_unseen_laws(truth, ranges):
    syms = SYMS[: len(ranges)]
    x, y = law_data(truth, ranges, seed=1)
    xt, yt = law_data(truth, ranges, seed=2)
    exprs = group_terms(x, y, syms)  # BLAS on one thread (conftest), as in discover
    assert exprs, "no candidate for a law of the family"
    err, found = best_verified(exprs, syms, (x, y), (xt, yt), top=3)
    assert err < 1e-9
    xw, yw = law_data(truth, ranges, seed=3, widen=0.2)  # a law extrapolates
    ok = np.isfinite(yw)
    assert rel_rmse(evaluate(found, syms, xw[ok]), yw[ok]) < 1e-6


def _group(x, name):
    return next(g for g in groups(x, SYMS[: x.shape[1]]) if str(g[2]) == name)


def test_screen_ranks_the_law_group_first_and_select_terms_finds_its_monomials():
    truth = (A - B * C) * sympy.exp(B / D)  # terms a and c d (pivot b of the group b / d)
    x, y = law_data(truth, [(1, 3), (1, 2), (1, 2), (2, 4)], seed=4)
    scores = {}
    for g in groups(x, SYMS):
        others = [i for i in range(4) if i != g[3]]
        mono, _ = monomial_basis(x, SYMS, others, 60)
        spl = spline_basis(g[1], 5)
        design = (mono[:, :, None] * spl[:, None, :]).reshape(len(y), -1)
        scores[str(g[2])] = float(_screen_rel(design, y[:, None])[0])
    assert "b/d" in sorted(scores, key=scores.get)[:GROUPS_KEPT]  # examined further
    assert scores["b/d"] < 1e-3 < scores["a"]  # a function of a alone cannot hold the law
    u, s, _, pivot = _group(x, "b/d")
    assert SYMS[pivot] == B
    mono, exprs = monomial_basis(x, SYMS, [0, 2, 3], 60)
    err, sup = select_terms(mono, spline_basis(s, 5), spline_basis(s, 24), y)[0]
    assert {exprs[j] for j in sup} == {A, C * D}
    assert err < 1e-5


def test_monomial_basis_keeps_negative_powers_away_from_zero():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(1, 2, 50), rng.uniform(-1, 1, 50)])
    mono, exprs = monomial_basis(x, SYMS[:2], [0, 1], 100)
    assert A**-1 in exprs and B in exprs and B**2 in exprs
    assert B**-1 not in exprs and B**-2 not in exprs
    k = exprs.index(A * B)
    np.testing.assert_allclose(mono[:, k], x[:, 0] * x[:, 1])
    assert monomial_basis(x, SYMS[:2], [0, 1], 3)[0].shape == (50, 3)


def test_group_terms_declines_too_few_rows_or_one_input():
    x, y = law_data(A * B, [(1, 2), (1, 2)], n=30)
    assert group_terms(x, y, SYMS[:2]) == []
    x, y = law_data(A**2, [(1, 2)])
    assert group_terms(x, y, SYMS[:1]) == []


def test_solve_runs_direct_families_before_the_reductions(monkeypatch):
    """The first ``direct`` families run before the split's reductions, each with a fair
    share that counts the families still to come; the rest after."""
    order = []

    def family(name):
        def fn(x, y, symbols, expired):
            order.append(name)
            return []

        return (name, fn)

    def reduce(*args, **kwargs):
        order.append("reduce")
        return []

    monkeypatch.setattr(split, "_reduce", reduce)
    x, y = law_data(sympy.sin(A * B) + C, [(1, 2)] * 3)
    fams = [("power law", forms.power_laws)] + [family(n) for n in ("d1", "d2", "late")]
    split.solve(x, y, SYMS[:3], fams, time.time() + 30, depth=1, quick=1, direct=3)
    assert order == ["d1", "d2", "reduce", "late"]
    order.clear()
    split.solve(x, y, SYMS[:3], fams, time.time() + 30, depth=1, quick=1)  # default: quick
    assert order == ["reduce", "d1", "d2", "late"]
    order.clear()
    split.solve(x, y, SYMS[:3], fams, time.time() + 30, depth=1, quick=1, direct=3, done=2)
    assert order == ["d2", "reduce", "late"]  # the caller ran the first two already


def test_one_blas_thread_limits_blas_and_restores_it():
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(2, user_api="blas"):  # (the conftest's limit lifted)
        _limited_and_restored(threadpool_info)


def _limited_and_restored(threadpool_info):
    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    with one_blas_thread():
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    assert [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] == before
