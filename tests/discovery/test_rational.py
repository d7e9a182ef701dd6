"""Rational forms ``P / Q`` from ``y Q = P`` (linear in the coefficients), on unseen laws."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from kanwidget.discovery.constants import evaluate, refit, rel_rmse, snap
from kanwidget.discovery.rational import DEGREES, fit_ratio, monomial_exponents, rational_forms


def _data(fn, n, lo=1.0, hi=4.0, rows=600, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, (rows, n))
    return x, fn(*x.T)


def _exact(expr, symbols, x, y):
    """Refit and snap on the first half, verify on the second (as discover does)."""
    h = len(y) // 2
    fitted = refit(expr, symbols, x[:h], y[:h])
    return snap(fitted, symbols, (x[:h], y[:h]), (x[h:], y[h:]))


def test_monomial_exponents_counts_and_order():
    exps = monomial_exponents(3, 2)
    assert len(exps) == 10  # 1 + 3 + 6
    assert exps[0] == (0, 0, 0) and all(sum(e) <= 2 for e in exps)
    assert [sum(e) for e in exps] == sorted(sum(e) for e in exps)


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("(2*x1*x3 + x2)/(x3 + x2)", 3),  # a weighted mean with other roles and weights
        ("x1*x2/(x1 + x2)", 2),  # resistors in parallel
        ("(x2 - 3*x4)/(1 + x1*x3)", 4),  # a Moebius-like ratio of four inputs
        ("(x1 - 2*x2)/(1 - x1*x2/x3**2)", 3),  # degrees (3, 2) once x3**2 is cleared
        ("x2*x3**2/(x1**2*x3 + 5*x2)", 3),  # degrees (3, 3)
    ],
)
def test_rational_forms_recover_unseen_ratios_exactly(text, n):
    symbols = list(sympy.symbols(f"x1:{n + 1}"))
    truth = sympy.sympify(text, locals={str(s): s for s in symbols})
    x, y = _data(sympy.lambdify(symbols, truth, "numpy"), n)
    found = rational_forms(x[:300], y[:300], symbols, lambda: False)
    assert found
    best, err = min((_exact(e, symbols, x, y) for e in found), key=lambda t: t[1])
    assert err < 1e-12
    assert sympy.simplify(best - truth) == 0


def test_fit_ratio_singular_value_separates_exact_from_not():
    exps = monomial_exponents(2, 1)
    x, y = _data(lambda a, b: (a + 2 * b) / (3 + b), 2)
    p, q, sv = fit_ratio(x, y, exps, exps)
    assert sv < 1e-12
    basis = np.column_stack([x[:, 0] ** e0 * x[:, 1] ** e1 for e0, e1 in exps])
    pred = (basis @ p) / (basis @ q)
    assert rel_rmse(pred, y) < 1e-10
    x, y = _data(lambda a, b: np.exp(a) / b, 2)
    assert fit_ratio(x, y, exps, exps)[2] > 1e-6  # no rational relation of degree 1


def test_rational_forms_make_no_exact_claim_for_a_non_rational_law():
    symbols = list(sympy.symbols("a b"))
    x, y = _data(lambda a, b: np.exp(a) * np.sin(b), 2)
    found = rational_forms(x, y, symbols, lambda: False)
    errs = [rel_rmse(evaluate(e, symbols, x), y) for e in found]
    assert len(found) == len(DEGREES) and min(errs) > 1e-4  # every degree pair tried, none exact


def test_rational_forms_stop_when_expired():
    x, y = _data(lambda a, b: a / b, 2)
    assert rational_forms(x, y, list(sympy.symbols("a b")), lambda: True) == []


def test_discover_finds_a_weighted_mean_in_the_quick_phase():
    """discover: an unseen weighted mean is exact after the quick forms, so the regression
    and the KAN universes are skipped (recorded in ``phases``)."""
    import torch

    from kanwidget import discover

    names = ["w1", "w2", "v1", "v2"]
    x, y = _data(lambda w1, w2, v1, v2: (3 * w1 * v2 + w2 * v1) / (3 * w1 + w2), 4, rows=800)
    t = torch.tensor
    ds = {"train_input": t(x[:400]), "train_label": t(y[:400, None]),
          "test_input": t(x[400:]), "test_label": t(y[400:, None])}  # fmt: skip
    d = discover(ds, variables=names, budget=60, n_jobs=1, progress=False)
    w1, w2, v1, v2 = sympy.symbols(names)
    assert sympy.simplify(d.best.formula - (3 * w1 * v2 + w2 * v1) / (3 * w1 + w2)) == 0
    assert d.best.source == "rational"
    status = {ph.name: ph.status for ph in d.phases}
    assert status["regression"] == "skipped" and status["kan universes"] == "skipped"


def test_rational_forms_keep_no_spurious_terms_with_unequal_scales():
    """Inputs on very different scales (a degree pair above the law's, (2, 1) and up, is
    tried only if (1, 1) fails): the exact ratio comes back with the law's terms only."""
    symbols = list(sympy.symbols("p q r"))
    truth = (symbols[0] * symbols[1] + 3 * symbols[2]) / (symbols[0] + 20)
    rng = np.random.default_rng(3)
    x = np.column_stack(
        [rng.uniform(50, 400, 600), rng.uniform(0.5, 2, 600), rng.uniform(1, 4, 600)]
    )
    y = evaluate(truth, symbols, x)
    found = rational_forms(x[:300], y[:300], symbols, lambda: False)
    _, err = min((_exact(e, symbols, x, y) for e in found), key=lambda t: t[1])
    assert err < 1e-12
    num, den = sympy.fraction(sympy.together(found[-1]))
    assert len(sympy.Add.make_args(sympy.expand(num))) == 2
    assert len(sympy.Add.make_args(sympy.expand(den))) == 2
