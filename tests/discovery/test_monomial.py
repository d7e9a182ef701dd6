"""Generalised power-law separability ``y = M1(x) g(M2(x))`` (discovery/monomial.py, onedim.py).

Laws here are synthetic (names, ranges, exponents and constants chosen for these tests);
every found formula goes through the same refit/snap as ``discover``'s verification.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from kanwidget.discovery.constants import evaluate, rel_rmse
from kanwidget.discovery.monomial import (
    affine_direction,
    direction_residual,
    directions,
    local_log_gradients,
    refine_direction,
    separable_forms,
    snap_direction,
    spline_residual,
)
from kanwidget.discovery.onedim import search_1d
from tests.discovery.laws import SYMS, A, B, C, D, best_verified, law_data

# recovery tests give the family all the time it needs: a wall-clock budget would make them
# depend on the machine's load
UNTIMED = float("inf")


LAWS = [  # (truth, ranges): M1 g(M2) with g a shifted power, Moebius map, exp, tanh, cos
    (A**2 * sympy.sqrt(1 + B / C**2), [(1, 3), (0.5, 2), (1, 2)]),
    (3 * A / (1 + (B * C) ** 2), [(1, 2), (0.5, 1.5), (0.5, 1.5)]),
    (A * B / (sympy.exp(A * C / B) - 1), [(1, 3), (1, 2), (0.2, 2)]),
    (A * sympy.tanh(B / (2 * C)) / C, [(1, 4), (1, 5), (0.5, 2)]),
    (B * C**2 / (1 - A * C / 4), [(0.5, 1.5), (1, 2), (0.5, 2)]),
    (A**2 * sympy.cos(2 * D) / (B * C), [(1, 2), (1, 3), (1, 3), (0.5, 2)]),
]


@pytest.mark.parametrize("truth, ranges", LAWS, ids=[str(t) for t, _ in LAWS])
def test_separable_forms_recovers_unseen_laws(truth, ranges):
    syms = SYMS[: len(ranges)]
    x, y = law_data(truth, ranges, 1000, seed=1)
    xt, yt = law_data(truth, ranges, 1000, seed=2)
    exprs = separable_forms(x, y, syms, budget=UNTIMED)
    assert exprs, "no candidate for a law of the family"
    err, found = best_verified(exprs, syms, (x, y), (xt, yt))
    assert err < 1e-9
    xw, yw = law_data(truth, ranges, 1000, seed=3, widen=0.2)  # a law extrapolates
    ok = np.isfinite(yw)
    assert rel_rmse(evaluate(found, syms, xw[ok]), yw[ok]) < 1e-6


def _recover_exactly(truth, syms, ranges, seed):
    """separable_forms on 1000 points uniform in `ranges`; asserts the best candidate is
    within 1e-9 on 1000 more. Returns (that candidate, the generator for further points)."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.uniform(lo, hi, 2000) for lo, hi in ranges])
    y = evaluate(truth, syms, x)
    exprs = separable_forms(x[:1000], y[:1000], syms, budget=UNTIMED)
    assert exprs, "no candidate for a law of the family"
    err, found = best_verified(exprs, syms, (x[:1000], y[:1000]), (x[1000:], y[1000:]))
    assert err < 1e-9
    return found, rng


U = list(sympy.symbols("u1:7"))
WIDE_LAWS = [  # M2 on five inputs: beyond the enumerated grid, found by refining the SVD one
    (U[0] * sympy.exp(-U[1] * U[2] * U[3] / (U[4] * U[5]) / 4), [(1, 5)] * 6),
    (U[5] ** 2 * sympy.tanh(U[0] * U[2] / (U[1] * U[3] * U[4])), [(1, 3)] * 6),
]


@pytest.mark.parametrize("truth, ranges", WIDE_LAWS, ids=[str(t) for t, _ in WIDE_LAWS])
def test_separable_forms_argument_of_five_inputs(truth, ranges):
    found, _ = _recover_exactly(truth, U, ranges, seed=4)
    assert sympy.simplify(found - truth) == 0


P, Q, R = sympy.symbols("p q r")
ZERO_LAWS = [  # g with zeros in the range (log|y| has poles) and a hyperbolic g
    (3 * P * (1 - sympy.cos(Q)), [P, Q], [(1, 3), (1, 12)]),
    (P**2 * sympy.sin(2 * Q) ** 2, [P, Q], [(1, 3), (1, 6)]),
    (P / (sympy.exp(Q / R) + sympy.exp(-Q / R)), [P, Q, R], [(1, 3), (1, 4), (1, 3)]),
    (P * Q / sympy.cosh(2 * Q * R), [P, Q, R], [(1, 3), (0.2, 1), (0.5, 1)]),
    (2 * P * (1 - sympy.cos(Q * R)), [P, Q, R], [(1, 5), (1, 5), (1, 5)]),  # zeros, M2 = q r
    (sympy.sin(P * Q / R) ** 2, [P, Q, R], [(1, 2), (1, 2), (0.3, 1)]),
]


@pytest.mark.parametrize("truth, syms, ranges", ZERO_LAWS, ids=[str(t) for t, _, _ in ZERO_LAWS])
def test_separable_forms_zeros_of_g_and_hyperbolic_g(truth, syms, ranges):
    found, rng = _recover_exactly(truth, syms, ranges, seed=6)
    xw = np.column_stack([rng.uniform(lo - 0.1 * (hi - lo), hi, 1000) for lo, hi in ranges])
    assert rel_rmse(evaluate(found, syms, xw), evaluate(truth, syms, xw)) < 1e-6


def test_refine_direction_reaches_the_true_direction_from_a_rough_one():
    rng = np.random.default_rng(5)
    lx = np.log(rng.uniform(1, 4, (400, 4)))
    true = np.array([1.0, -1.0, 2.0, 1.0])
    ly = 0.5 * lx[:, 0] + np.log1p(np.exp(lx @ true) / 3)  # y = sqrt(x0) (1 + M2 / 3)
    rough = true / np.linalg.norm(true) + np.array([0.15, 0.1, -0.12, 0.08])
    assert not np.array_equal(snap_direction(rough / np.linalg.norm(rough)), true)
    refined = refine_direction(ly, lx, rough / np.linalg.norm(rough))
    np.testing.assert_array_equal(snap_direction(refined), true)
    assert direction_residual(ly, lx, refined) < 0.1 * direction_residual(ly, lx, rough)


def test_separable_forms_snaps_to_the_exact_formula():
    truth = A * B / sympy.sqrt(1 - B**2 / C**2)
    ranges = [(1, 4), (0.5, 1.5), (2, 6)]
    x, y = law_data(truth, ranges, 1000, seed=4)
    xt, yt = law_data(truth, ranges, 1000, seed=5)
    _, found = best_verified(
        separable_forms(x, y, SYMS[:3], budget=UNTIMED), SYMS[:3], (x, y), (xt, yt)
    )
    assert not found.atoms(sympy.Float)
    assert _same_law(found, truth)


def test_separable_forms_angle_that_changes_sign():
    """An input that is not positive (here an angle around zero) is g's argument alone."""
    truth = B * sympy.sin(3 * A) / C**2
    ranges = [(-2, 2), (1, 3), (1, 2)]
    x, y = law_data(truth, ranges, 1000, seed=6)
    xt, yt = law_data(truth, ranges, 1000, seed=7)
    err, found = best_verified(
        separable_forms(x, y, SYMS[:3], budget=UNTIMED), SYMS[:3], (x, y), (xt, yt)
    )
    assert err < 1e-9
    assert _same_law(found, truth, positive=[B, C])


def test_separable_forms_no_false_exact_claim_outside_the_family():
    truth = A + B * C + sympy.sin(A * C)
    ranges = [(1, 3), (1, 3), (1, 3)]
    x, y = law_data(truth, ranges, 1000, seed=8)
    xt, yt = law_data(truth, ranges, 1000, seed=9)
    exprs = separable_forms(x, y, SYMS[:3], budget=6.0)
    err, _ = best_verified(exprs, SYMS[:3], (x, y), (xt, yt))
    assert not err < 1e-3  # an approximant at best (inf when nothing was proposed)


def test_separable_forms_not_applicable():
    x, y = law_data(A * B, [(-1, 1), (-1, 1)], 200)
    assert separable_forms(x, y, SYMS[:2]) == []  # two inputs that change sign
    x, y = law_data(A**2 / B, [(1, 2), (1, 2)], 200)
    assert separable_forms(x, y, SYMS[:2]) == []  # a pure power law is power_laws' job


def _same_law(found, truth, positive=SYMS):
    """Exact sympy equality, the ``positive`` symbols declared positive (their ranges are)."""
    pos = {s: sympy.Symbol(s.name, positive=True) for s in positive}
    diff = (found - truth).xreplace(pos)
    return sympy.simplify(diff) == 0 or sympy.simplify(diff.rewrite(sympy.exp)) == 0


def _log_gradients(expr, syms, x):
    """Closed-form d log|y| / d log x_i = x_i * d(log|y|)/dx_i, (B, n)."""
    ly = sympy.log(expr)
    return np.column_stack([evaluate(s * sympy.diff(ly, s), syms, x) for s in syms])


def test_affine_direction_rank_one_on_closed_forms():
    truth = A * B**2 * sympy.tanh(B * C / D)
    x, _ = law_data(truth, [(1, 2), (1, 3), (1, 3), (1, 2)], 500)
    b, sv = affine_direction(_log_gradients(truth, SYMS, x))
    assert sv[1] < 1e-10 * sv[0]  # a + b h(u): rank 1 once centred
    np.testing.assert_allclose(b, np.array([0, 1, 1, -1]) / np.sqrt(3), atol=1e-10)
    np.testing.assert_array_equal(snap_direction(b), [0, 1, 1, -1])
    other = A + B + C * D  # not M1 g(M2): the second singular value is not small
    _, sv2 = affine_direction(_log_gradients(other, SYMS, x))
    assert sv2[1] > 1e-2 * sv2[0]


def test_local_log_gradients_find_the_direction():
    truth = A / (sympy.exp(A * B / C**2) - 1)
    x, y = law_data(truth, [(1, 2), (1, 2), (1, 2)], 1000, seed=3)
    lx = np.log(x)
    est = local_log_gradients(lx, np.log(y))
    exact = _log_gradients(truth, SYMS[:3], x)
    assert np.median(np.abs(est - exact)) < 0.05 * np.median(np.abs(exact))
    np.testing.assert_array_equal(snap_direction(affine_direction(est)[0]), [1, 1, -2])


def test_spline_residual_separates_true_and_wrong_directions():
    truth = A * sympy.sqrt(1 + (B / C) ** 2)
    x, y = law_data(truth, [(1, 2), (1, 3), (1, 3)], 800, seed=4)
    lx, ly = np.log(x), np.log(y)
    good, coef = spline_residual(ly, lx[:, [0]], lx[:, 1] - lx[:, 2])
    bad, _ = spline_residual(ly, lx[:, [0]], lx[:, 1] + lx[:, 2])
    assert good < 1e-4 < 1e-2 < bad
    assert coef[0] == pytest.approx(1.0, abs=1e-4)


def test_directions_primitive_and_unique():
    dirs = directions(4, 3)
    assert len({tuple(d) for d in dirs}) == len(dirs)
    for d in dirs:
        nz = d[np.nonzero(d)]
        assert 1 <= len(nz) <= 3 and nz[0] > 0
        assert np.gcd.reduce(np.abs(nz).astype(int)) == 1


@pytest.mark.parametrize(
    "g",
    [
        lambda u: 2 / sympy.sqrt(1 - u**2 / 4),
        lambda u: (1 + u / 2) / (1 - u / 5),
        lambda u: u / (sympy.exp(u / 3) - 1),
        lambda u: 1 - sympy.exp(-2 * u),
        lambda u: 5 * sympy.cos(u / 2 + 1),
    ],
    ids=["shifted-power", "moebius", "u-over-expm1", "one-minus-exp", "cos"],
)
def test_search_1d_fits_closed_forms(g):
    u_sym = sympy.Symbol("u")
    truth = g(u_sym)
    rng = np.random.default_rng(0)
    u = rng.uniform(0.2, 1.8, 500)
    vals = evaluate(truth, [u_sym], u[:, None])
    found = search_1d(u, vals, u_sym)
    assert found and found[0][0] < 1e-8
    fresh = rng.uniform(0.1, 1.9, 300)
    np.testing.assert_allclose(
        evaluate(found[0][1], [u_sym], fresh[:, None]),
        evaluate(truth, [u_sym], fresh[:, None]),
        rtol=1e-6,
    )


def test_separable_forms_single_input():
    truth = 2 / (sympy.exp(A / 2) + 1)
    x, y = law_data(truth, [(0.5, 3)], 500, seed=10)
    xt, yt = law_data(truth, [(0.5, 3)], 500, seed=11)
    err, found = best_verified(separable_forms(x, y, [A], budget=UNTIMED), [A], (x, y), (xt, yt))
    assert err < 1e-9
    assert _same_law(found, truth)


@pytest.mark.slow
def test_discover_returns_a_separable_law_exactly():
    """Through discover (refit, snap, verify, Pareto rule): a law of the family comes back."""
    import torch

    from kanwidget import discover

    truth = 2 * A * B / (sympy.exp(B * C / A) - 1)
    ranges = [(1, 3), (1, 2), (0.5, 3)]
    x, y = law_data(truth, ranges, 800, seed=12)
    t = torch.tensor
    ds = {"train_input": t(x[:400]), "train_label": t(y[:400, None]),
          "test_input": t(x[400:]), "test_label": t(y[400:, None])}  # fmt: skip
    d = discover(ds, variables=["a", "b", "c"], budget=40, n_jobs=2, progress=False)
    xw, yw = law_data(truth, ranges, 1000, seed=13, widen=0.2)
    assert rel_rmse(evaluate(d.best.formula, SYMS[:3], xw), yw) < 1e-6
