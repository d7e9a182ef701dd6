"""Sums of up to three monomial terms, each times a function of one input (unseen laws)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from kanwidget.discovery.constants import evaluate, refit, rel_rmse, snap
from kanwidget.discovery.termsum import library, select, term_sums


def _data(fn, n, lo=1.0, hi=4.0, rows=600, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, (rows, n))
    return x, fn(*x.T)


def _best_term_sum(symbols, x, y):
    """The term sum (fitted on the first 300 points, snapped) closest on the rest: (expr, err)."""
    found = term_sums(x[:300], y[:300], symbols, lambda: False)
    results = []
    for expr in found:
        fitted = refit(expr, symbols, x[:300], y[:300])
        results.append(snap(fitted, symbols, (x[:300], y[:300]), (x[300:], y[300:])))
    return min(results, key=lambda t: t[1])


@pytest.mark.parametrize(
    "text",
    [
        "u**2 + v**2 + u*v*cos(w)",  # a law of cosines with other roles and sign
        "3*u*sin(w)**2 - sqrt(u*v)",  # two terms: one-input factor and a half power
        "v/u + 2*sqrt(u)*cos(w) + 1",  # three terms and a constant
    ],
)
def test_term_sums_recover_unseen_sums_exactly(text):
    symbols = list(sympy.symbols("u v w", positive=True))  # the data's range
    truth = sympy.sympify(text, locals={str(s): s for s in symbols})
    x, y = _data(sympy.lambdify(symbols, truth, "numpy"), 3)
    best, err = _best_term_sum(symbols, x, y)
    assert err < 1e-12
    assert sympy.simplify(best - truth) == 0


@pytest.mark.parametrize(
    "text",
    [
        "sqrt(u**2 + 4*v**2 + 3*u*v*sin(w))",  # a square root of a three-term sum
        "1/sqrt(u*v + w**2)",  # a reciprocal square root (1/y**2 is the sum)
        "2/(u + v*cos(w)**2)",  # a reciprocal of a sum
    ],
)
def test_term_sums_recover_roots_and_reciprocals_of_sums(text):
    symbols = list(sympy.symbols("u v w", positive=True))
    truth = sympy.sympify(text, locals={str(s): s for s in symbols})
    x, y = _data(sympy.lambdify(symbols, truth, "numpy"), 3, lo=2.0)
    best, err = _best_term_sum(symbols, x, y)
    assert err < 1e-12
    fresh, y_fresh = _data(sympy.lambdify(symbols, truth, "numpy"), 3, lo=2.0, seed=9)
    assert rel_rmse(evaluate(best, symbols, fresh), y_fresh) < 1e-12


def test_library_columns_match_their_terms():
    symbols = list(sympy.symbols("a b"))
    x, _ = _data(lambda a, b: a, 2, rows=50)
    a, terms = library(x, symbols)
    assert a.shape == (50, len(terms))
    for k in (0, 7, len(terms) // 2, len(terms) - 1):
        np.testing.assert_allclose(a[:, k], evaluate(terms[k], symbols, x), rtol=1e-12)
    assert sympy.sqrt(symbols[0]) * sympy.cos(symbols[1]) in terms
    assert sympy.sin(symbols[0]) * symbols[0] not in terms  # phi is on another input


def test_select_finds_a_term_a_greedy_choice_misses():
    """``a + b + 2 sqrt(a b) cos(c)``: the third term only helps once the others are in."""
    symbols = list(sympy.symbols("a b c"))
    x, y = _data(lambda a, b, c: a + b + 2 * np.sqrt(a * b) * np.cos(c), 3, hi=5.0)
    a, terms = library(x, symbols)
    third = sympy.sqrt(symbols[0]) * sympy.sqrt(symbols[1]) * sympy.cos(symbols[2])
    want = tuple(sorted(terms.index(t) for t in (symbols[0], symbols[1], third)))
    assert want in select(a, y, lambda: False)


def test_term_sums_no_exact_claim_and_deadline():
    symbols = list(sympy.symbols("a b"))
    x, y = _data(lambda a, b: np.exp(a * b) / (1 + a), 2)
    found = term_sums(x, y, symbols, lambda: False)
    assert found and min(rel_rmse(evaluate(e, symbols, x), y) for e in found) > 1e-4
    assert term_sums(x, y, symbols, lambda: True) == []


@pytest.mark.slow
def test_discover_recovers_a_law_of_cosines_with_other_roles():
    import torch

    from kanwidget import discover

    names = ["p", "q", "phi"]
    x, y = _data(lambda p, q, phi: p**2 + q**2 - p * q * np.cos(phi), 3, rows=800)
    t = torch.tensor
    ds = {"train_input": t(x[:400]), "train_label": t(y[:400, None]),
          "test_input": t(x[400:]), "test_label": t(y[400:, None])}  # fmt: skip
    d = discover(ds, variables=names, budget=60, n_jobs=1, progress=False)
    p, q, phi = sympy.symbols(names)
    assert sympy.simplify(d.best.formula - (p**2 + q**2 - p * q * sympy.cos(phi))) == 0
    assert d.best.rel_rmse < 1e-9
