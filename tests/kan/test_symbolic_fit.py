"""Affine fit y ~ c f(a x + b) + d, R^2, ranking, and the vectorised symbolic branch."""

from __future__ import annotations

import pytest
import sympy
import torch

from kanwidget.kan.symbolic.branch import SymbolicGroups, symbolic_edge_acts, symbolic_forward
from kanwidget.kan.symbolic.fit import fit_library, fit_params
from kanwidget.kan.symbolic.library import get_function
from kanwidget.kan.symbolic.rank import rank_candidates
from kanwidget.kan.symbolic.suggest import evaluate, suggest

X = torch.linspace(-1, 1, 1000, dtype=torch.float64)

# canonical parameters (a > 0 for odd/even functions, a = 1 for scale-free ones, b = 0 for
# exp, |b| < pi/2 for sin), so each is the unique answer
CASES = [
    ("sin", (2.0, 0.5, 1.5, -0.3)),
    ("sin", (4.5, -1.2, -0.7, 2.0)),
    ("exp", (1.3, 0.0, 2.0, 0.1)),
    ("exp", (-2.2, 0.0, 0.5, -1.0)),
    ("x^2", (1.0, 0.2, 3.0, -1.0)),
    ("1/x", (1.0, 1.5, 0.5, 1.0)),
    ("1/x", (1.0, -1.3, -2.0, 0.0)),
    ("sqrt", (1.0, 1.2, 2.0, -1.0)),
    ("sqrt", (-1.0, 1.1, 1.0, 0.5)),
    ("tanh", (3.0, -0.5, 1.2, 0.2)),
    ("tanh", (1.7, 0.8, -2.0, 0.0)),
]


def _assert_params_close(got, expected, atol=1e-3):
    got_t, expected_t = (torch.tensor(p, dtype=torch.float64) for p in (got, expected))
    torch.testing.assert_close(got_t, expected_t, atol=atol, rtol=0)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_fit_recovers_function_and_parameters(name, params):
    y = evaluate(name, params, X)
    best = suggest(X, y)[0]
    assert best.name == name
    assert best.r2 > 0.999
    _assert_params_close(best.params, params)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fit_accepts_float32_and_unsorted_samples(dtype):
    gen = torch.Generator().manual_seed(3)
    x = (torch.rand(500, generator=gen, dtype=torch.float64) * 4 - 2).to(dtype)
    y = 0.8 * torch.sin(1.5 * x + 0.3) + 0.2
    best = suggest(x, y)[0]
    assert best.name == "sin" and best.r2 > 0.999
    _assert_params_close(best.params, (1.5, 0.3, 0.8, 0.2))


def test_fit_r2_is_one_minus_ss_res_over_ss_tot():
    gen = torch.Generator().manual_seed(1)
    y = torch.exp(0.7 * X) + 0.3 * torch.randn(X.shape, generator=gen, dtype=torch.float64)
    result = fit_library(X, y, ["exp", "sin", "x^2", "0", "x"])
    for k, name in enumerate(result.names):
        pred = evaluate(name, result.params[k].tolist(), X)
        by_hand = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
        assert abs(float(result.r2[k]) - float(by_hand)) < 1e-9, name
    assert float(result.r2[result.names.index("0")]) == pytest.approx(0.0, abs=1e-12)


def test_pykan_defect_r2_is_true_r2_for_small_activations():
    # pykan divides by (SS + 1e-4): tiny edges get a tiny "r2"; R^2 is scale-invariant
    y = evaluate("sin", (2.0, 0.5, 1.5, -0.3), X)
    noise = 0.05 * torch.randn(X.shape, generator=torch.Generator().manual_seed(4), dtype=X.dtype)
    big = fit_library(X, y + noise, ["sin", "x^2"]).r2
    small = fit_library(X, 1e-4 * (y + noise), ["sin", "x^2"]).r2
    torch.testing.assert_close(big, small, atol=1e-9, rtol=0)
    assert 0.98 < float(big[0]) < 0.999


def test_fit_affine_and_zero_are_closed_form():
    (a, b, c, d), r2 = fit_params(X, 3 * X - 2, "x")
    assert (a, b) == (1.0, 0.0) and c == pytest.approx(3) and d == pytest.approx(-2)
    assert r2 == pytest.approx(1.0)
    (a, b, c, d), r2 = fit_params(X, torch.sin(5 * X) + 4, "0")
    assert c == 0 and d == pytest.approx(4.0) and r2 == pytest.approx(0.0, abs=1e-12)


def test_pykan_defect_zero_does_not_beat_noisy_sine():
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(X.shape, generator=gen, dtype=torch.float64)
    y = torch.sin(3 * X) + 0.07 * noise  # R^2 about 0.99
    candidates = suggest(X, y, weight_simple=0.8)
    assert candidates[0].name == "sin"
    assert 0.985 < candidates[0].r2 < 0.995
    ranked = [c.name for c in suggest(X, y, topk=30)]
    assert ranked.index("0") > ranked.index("sin")


def test_fit_constant_data_prefers_zero():
    best = suggest(X, torch.full_like(X, 2.5))[0]
    assert best.name == "0" and best.params[2:] == (0.0, 2.5)


def test_fit_candidate_curve_and_formula_match_params():
    y = evaluate("tanh", (3.0, -0.5, 1.2, 0.2), X)
    best = suggest(X, y, topk=3)[0]
    assert len(suggest(X, y, topk=3)) == 3
    torch.testing.assert_close(best.curve(best.curve_x), best.curve_y)
    assert best.curve_x.shape == (64,) and float(best.curve_x[0]) == -1.0
    x = sympy.Symbol("x")
    f = sympy.lambdify(x, best.formula, "math")
    assert f(0.3) == pytest.approx(float(evaluate("tanh", best.params, torch.tensor(0.3))))
    assert best.to_dict()["name"] == "tanh"


def test_fit_lib_subset_and_unknown_name():
    y = X**3
    assert [c.name for c in suggest(X, y, lib=["sin", "x^3"], topk=5)] == ["x^3", "sin"]
    with pytest.raises(ValueError, match="unknown symbolic function 'nope'"):
        suggest(X, y, lib=["nope"])


# ----------------------------------------------------------------------------- ranking
def test_rank_zero_never_beats_good_sine():
    order, pareto, eligible = rank_candidates([0.0, 0.99, 0.5], [0, 2, 1], weight_simple=0.8)
    assert order[0] == 1 and eligible == [False, True, False]
    assert pareto == [True, True, True]


def test_rank_weight_simple_extremes():
    r2, cx = [0.0, 0.95, 0.999], [0, 1, 3]
    assert rank_candidates(r2, cx, weight_simple=0.0)[0][0] == 2
    assert rank_candidates(r2, cx, weight_simple=0.99)[0][0] == 1  # 0.05 <= 100 * 0.001
    assert rank_candidates(r2, cx, weight_simple=1.0)[0][0] == 0
    with pytest.raises(ValueError, match="weight_simple"):
        rank_candidates(r2, cx, weight_simple=1.5)


def test_rank_zero_wins_when_nothing_fits():
    order, _, _ = rank_candidates([0.0, 0.1, 0.15], [0, 2, 3], weight_simple=0.8)
    assert order[0] == 0


# ------------------------------------------------------------------------------ branch
NAMES = [["sin", "0", "x^2"], ["exp", "sin", "tanh"], ["1/x", "sqrt", "0"]]


def _branch_inputs():
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(16, 3, generator=gen, dtype=torch.float64) * 2 - 1
    params = torch.randn(3, 3, 4, generator=gen, dtype=torch.float64)
    params[..., 1] += 2.5  # keep 1/x and sqrt away from their singularity
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    return x, params, mask


def _loop_reference(x, names, params, mask):
    out = torch.zeros(x.shape[0], len(names[0]), len(names), dtype=x.dtype)
    for i, row in enumerate(names):
        for j, name in enumerate(row):
            a, b, c, d = params[i, j]
            f = get_function(name).torch_fn(a * x[:, i] + b)
            out[:, j, i] = mask[i, j] * (c * f + d)
    return out


def test_branch_acts_equal_per_edge_loop():
    x, params, mask = _branch_inputs()
    groups = SymbolicGroups.from_names(NAMES)
    acts = symbolic_edge_acts(x, groups, params, mask)
    torch.testing.assert_close(acts, _loop_reference(x, NAMES, params, mask))
    torch.testing.assert_close(symbolic_forward(x, NAMES, params, mask), acts.sum(-1))


def test_branch_is_differentiable():
    x, params, mask = _branch_inputs()
    x.requires_grad_(True)
    params.requires_grad_(True)
    groups = SymbolicGroups.from_names(NAMES)
    assert torch.autograd.gradcheck(
        lambda xx, pp: symbolic_forward(xx, groups, pp, mask), (x, params)
    )


def test_branch_rejects_unknown_name_and_bad_shape():
    with pytest.raises(ValueError, match="unknown symbolic function 'nope'"):
        SymbolicGroups.from_names([["nope"]])
    x, params, mask = _branch_inputs()
    with pytest.raises(ValueError, match="shape mismatch"):
        symbolic_edge_acts(x[:, :2], NAMES, params, mask)


def test_rank_parabola_shaped_edge_prefers_x2_over_bent_sine():
    # a learned parabola is never exact: a sine's four parameters can bend it to fit the
    # wiggle slightly better, yet x^2 (as simple, about as accurate) must come first
    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(-1, 1, 400, dtype=torch.float64)
    y = 0.8 * x**2 - 0.1 + 1e-3 * torch.randn(400, generator=gen, dtype=torch.float64)
    candidates = suggest(x, y, topk=3)
    by_name = {c.name: c for c in candidates}
    assert by_name["sin"].r2 > by_name["x^2"].r2  # the sine does fit the noise a bit better
    assert candidates[0].name == "x^2"
