"""Symbolic verbs on a model: suggest / fix / unfix / auto, and symbolic_formula == model(x)."""

from __future__ import annotations

import math

import pytest
import sympy
import torch

from kanwidget import KAN, create_dataset
from kanwidget.kan.symbolic.formula import round_numbers, symbolic_formula
from kanwidget.kan.symbolic.library import add_symbolic, get_function, remove_symbolic
from kanwidget.kan.symbolic.ops import (
    auto_symbolic,
    fix_symbolic,
    suggest_symbolic,
    unfix_symbolic,
)

# functions real and finite for any real argument, so formulas can be evaluated anywhere
SAFE = ["x", "x^2", "x^3", "sin", "cos", "tanh", "arctan", "gaussian", "abs", "exp"]


def _fully_symbolic(width, mult_arity, seed=0):
    """A float64 model whose every edge is a random SAFE function with random (a, b, c, d),
    and whose subnode/node affine maps are random too."""
    gen = torch.Generator().manual_seed(seed)
    model = KAN(width, grid=3, mult_arity=mult_arity, dtype=torch.float64, seed=seed)
    with torch.no_grad():
        for group in (model.subnode_scale, model.subnode_bias, model.node_scale, model.node_bias):
            for p in group:
                p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) + 0.5)
    for l, layer in enumerate(model.layers):
        for i in range(layer.in_dim):
            for j in range(layer.out_dim):
                name = SAFE[int(torch.randint(len(SAFE), (1,), generator=gen))]
                a, b, c, d = (torch.rand(4, generator=gen, dtype=torch.float64) - 0.5).tolist()
                params = (a * 1.5, b, c, d) if name == "exp" else (3 * a, 2 * b, 2 * c, d)
                fix_symbolic(model, l, i, j, name, fit_params=False, params=params)
    return model


def _assert_formula_matches(model, n_points=50, seed=1):
    formulas, variables = symbolic_formula(model)
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n_points, model.width[0][0], generator=gen, dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        y = model(x)
    for k, expr in enumerate(formulas):
        fn = sympy.lambdify(variables, expr, "math")
        expected = torch.tensor([fn(*row) for row in x.tolist()], dtype=torch.float64)
        torch.testing.assert_close(expected, y[:, k], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("width", "mult_arity"),
    [
        ([2, 3, 1], 2),
        ([2, [1, 1], 1], 2),
        ([3, [1, 1], 2], 3),  # arity 3: pykan 0.2.8 multiplies the wrong subnodes
        ([2, [1, 2], [1, 1], 1], [[], [3, 2], [4], []]),  # mixed arities, two mult layers
    ],
)
def test_pykan_defect_formula_equals_model_for_any_arity(width, mult_arity):
    model = _fully_symbolic(width, mult_arity)
    _assert_formula_matches(model)


def test_formula_variables_rounding_and_numeric_edges():
    model = _fully_symbolic([2, 2, 1], 2)
    x, y = sympy.symbols("x y")
    formulas, variables = symbolic_formula(model, var=["x", "y"], round_digits=2)
    assert variables == [x, y] and formulas[0].free_symbols <= {x, y}
    for number in formulas[0].atoms(sympy.Float):
        assert float(number) == round(float(number), 2)
    unfix_symbolic(model, 0, 1, 0)
    (expr,), _ = symbolic_formula(model)
    assert any(str(f.func) == "phi_0_1_0" for f in expr.atoms(sympy.Function))
    with pytest.raises(ValueError, match="2 inputs"):
        symbolic_formula(model, var=["x"])


def test_formula_round_numbers():
    x = sympy.Symbol("x")
    expr = sympy.Float(3.14159) * sympy.sin(sympy.Float(2.71828) * x) + 2
    assert round_numbers(expr, 2) == sympy.Float(3.14) * sympy.sin(sympy.Float(2.72) * x) + 2


# ------------------------------------------------------------------------------ ops
def _model_with_data(seed=0):
    model = KAN([2, 3, 1], grid=5, dtype=torch.float64, seed=seed)
    x = torch.rand(300, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    model(x * 2 - 1)
    return model


def test_pykan_defect_suggest_keeps_symbolic_edge_and_model():
    model = _model_with_data()
    fix_symbolic(model, 0, 1, 2, "sin", fit_params=False, params=(2.0, 0.5, 1.5, -0.3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    versions = len(list(model.history))
    candidates = suggest_symbolic(model, 0, 1, 2, topk=3)
    assert candidates[0].name == "sin" and candidates[0].r2 > 0.999999
    assert candidates[0].params == pytest.approx((2.0, 0.5, 1.5, -0.3), abs=1e-6)
    assert len(candidates) == 3
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.layers[0].sym_names[1][2] == "sin" and len(list(model.history)) == versions


def test_fix_symbolic_sets_edge_and_returns_r2():
    model = _model_with_data()
    x, edge_y = model.forward_cache().inputs[0][:, 0], model.forward_cache().edge_acts[0][:, 1, 0]
    version = model.version
    r2 = fix_symbolic(model, 0, 0, 1, "x^2")
    layer = model.layers[0]
    assert 0.0 <= r2 <= 1.0
    assert layer.sym_names[0][1] == "x^2"
    assert float(layer.sym_mask[0, 1]) == 1.0 and float(layer.mask[0, 1]) == 0.0
    assert model.version != version
    a, b, c, d = layer.sym_params[0, 1].tolist()
    fitted = c * (a * x + b) ** 2 + d
    by_hand = 1 - ((edge_y - fitted) ** 2).sum() / ((edge_y - edge_y.mean()) ** 2).sum()
    assert r2 == pytest.approx(float(by_hand), abs=1e-9)
    # the edge activation is now the fitted curve
    torch.testing.assert_close(model.forward_cache().edge_acts[0][:, 1, 0], fitted)
    unfix_symbolic(model, 0, 0, 1)
    assert float(layer.sym_mask[0, 1]) == 0.0 and float(layer.mask[0, 1]) == 1.0
    assert layer.sym_names[0][1] == "0"


def test_fix_symbolic_rejects_bad_edge_and_name():
    model = _model_with_data()
    with pytest.raises(ValueError, match=r"edge \(0, 2, 1\) does not exist: layer 0 has 2 inputs"):
        fix_symbolic(model, 0, 2, 1, "sin")
    with pytest.raises(ValueError, match="unknown symbolic function 'sine'"):
        fix_symbolic(model, 0, 1, 1, "sine")
    with pytest.raises(ValueError, match="the model has 2 layers"):
        suggest_symbolic(model, 2, 0, 0)


def test_auto_symbolic_fixes_active_edges_in_one_version():
    torch.manual_seed(0)
    dataset = create_dataset(
        lambda x: torch.sin(math.pi * x[:, [0]]) + x[:, [1]] ** 2, n_var=2, train_num=200
    )
    model = KAN([2, 1], grid=5, seed=0)
    model.fit(dataset, steps=20, progress=False)
    versions = len(list(model.history))
    assert model.auto_symbolic() is model
    assert len(list(model.history)) == versions + 1
    layer = model.layers[0]
    assert {layer.sym_names[0][0], layer.sym_names[1][0]} == {"sin", "x^2"} or (
        layer.sym_names[0][0] in ("sin", "cos") and layer.sym_names[1][0] == "x^2"
    )
    assert float(layer.mask.sum()) == 0.0
    (expr,), (x1, x2) = symbolic_formula(model, round_digits=3)
    pred = sympy.lambdify((x1, x2), expr, "math")
    test_x = dataset["test_input"][:20].double()
    truth = torch.sin(math.pi * test_x[:, 0]) + test_x[:, 1] ** 2
    got = torch.tensor([pred(*row) for row in test_x.tolist()], dtype=torch.float64)
    assert float((got - truth).abs().max()) < 0.05


def test_auto_symbolic_respects_threshold_and_skips_pruned_edges():
    model = _model_with_data()
    model.layers[0].mask[1, 2] = 0.0
    auto_symbolic(model, r2_threshold=1.01)  # nothing fits that well: all edges stay numeric
    assert all(n == "0" for layer in model.layers for row in layer.sym_names for n in row)
    auto_symbolic(model, lib=["x", "x^2", "sin"])
    layer = model.layers[0]
    assert layer.sym_names[1][2] == "0" and float(layer.sym_mask[1, 2]) == 0.0
    assert {n for row in layer.sym_names for n in row} <= {"0", "x", "x^2", "sin"}


class _Bar:
    """Stands in for tqdm: records its arguments and updates."""

    made: list[_Bar] = []

    def __init__(self, **kwargs):
        self.kwargs, self.n, self.closed = kwargs, 0, False
        _Bar.made.append(self)

    def update(self, n=1):
        self.n += n

    def close(self):
        self.closed = True


def test_auto_symbolic_progress_bar_counts_the_edges_it_fits(monkeypatch):
    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", _Bar)
    _Bar.made = []
    model = _model_with_data()
    model.layers[0].mask[1, 2] = 0.0  # pruned: not fitted, not counted
    numeric = sum(int((layer.mask > 0).sum()) for layer in model.layers)
    model.auto_symbolic(lib=["x", "sin"])
    (bar,) = _Bar.made
    assert bar.kwargs["total"] == numeric == bar.n and bar.closed
    assert bar.kwargs["unit"] == "edge" and bar.kwargs["delay"] > 0  # silent when quick
    assert bar.kwargs["disable"] is False
    model.auto_symbolic(lib=["x"], progress=False)
    assert _Bar.made[-1].kwargs["disable"] is True


def test_model_methods_are_pykan_compatible():
    model = _model_with_data()
    candidates = model.suggest_symbolic(0, 0, 0, topk=2, verbose=False)
    assert len(candidates) == 2
    r2 = model.fix_symbolic(0, 0, 0, candidates[0].name, verbose=False)
    assert r2 == pytest.approx(candidates[0].r2, abs=1e-9)
    assert model.fix_symbolic(0, 0, 1, "sin", fit_params_bool=False) is None
    assert model.layers[0].sym_params[0, 1].tolist() == [1.0, 0.0, 1.0, 0.0]
    formulas, variables = model.symbolic_formula()
    assert [str(v) for v in variables] == ["x_1", "x_2"] and len(formulas) == 1
    assert model.unfix_symbolic(0, 0, 1) is model


def test_pykan_defect_custom_symbolic_function_reloads(tmp_path):
    add_symbolic("sinexp", None, "sin(x)*exp(-x**2)", 3)
    try:
        model = _model_with_data()
        fix_symbolic(model, 0, 1, 0, "sinexp", fit_params=False, params=(1.5, 0.2, 2.0, 0.1))
        x = torch.rand(20, 2, dtype=torch.float64)
        expected = model(x)
        model.save(tmp_path / "model.pt")
        remove_symbolic("sinexp")  # as in a fresh session
        loaded = KAN.load(tmp_path / "model.pt")
        assert get_function("sinexp").complexity == 3
        torch.testing.assert_close(loaded(x), expected)
        (expr,), (x1, x2) = symbolic_formula(loaded)
        assert expr.has(sympy.sin) and expr.has(sympy.exp)
    finally:
        remove_symbolic("sinexp")


TRAINED_CASES = {
    "sin": lambda x: 1.5 * torch.sin(2 * x + 0.5) - 0.3,
    "exp": lambda x: 0.5 * torch.exp(1.3 * x) + 0.1,
    "x^2": lambda x: 0.8 * (x + 0.2) ** 2 - 0.5,
    "1/x": lambda x: 0.5 / (x + 1.6),
    "sqrt": lambda x: torch.sqrt(x + 1.3),
    "tanh": lambda x: torch.tanh(3 * x - 0.5),
}


@pytest.mark.parametrize("name", list(TRAINED_CASES))
def test_suggest_symbolic_on_trained_edge(name):
    f = TRAINED_CASES[name]
    dataset = create_dataset(lambda x: f(x[:, [0]]), n_var=1, train_num=500, test_num=100, seed=0)
    model = KAN([1, 1], grid=10, seed=0)
    model.fit(dataset, steps=30, progress=False)
    model(dataset["train_input"])
    best = model.suggest_symbolic(0, 0, 0)[0]
    assert best.name == name and best.r2 > 0.999


def test_fix_symbolic_both_mode_keeps_numeric_residual_branch():
    data = create_dataset(lambda x: torch.sin(2 * x[:, 0]) + 0.1 * x[:, 0] ** 3, 1, train_num=300)
    both = KAN([1, 1], grid=5, seed=0)
    both.fit(data, steps=20, progress=False)
    only = both.copy()
    only.fix_symbolic(0, 0, 0, "sin")
    both.fix_symbolic(0, 0, 0, "sin", mode="both")
    layer = both.layers[0]
    assert layer.mask[0, 0] == 1 and layer.sym_mask[0, 0] == 1
    x, y = data["test_input"], data["test_label"]
    with torch.no_grad():
        torch.testing.assert_close(both(x), only(x))  # the residual starts at zero
        before = float(torch.sqrt(((both(x) - y) ** 2).mean()))
    both.fit(data, steps=10, progress=False, update_grid=False)
    with torch.no_grad():
        after = float(torch.sqrt(((both(x) - y) ** 2).mean()))
        assert after < before and layer.coef[0, 0].abs().sum() > 0


def test_fix_symbolic_bad_mode_refused():
    model = KAN([1, 1], grid=3)
    with pytest.raises(ValueError, match="mode"):
        model.fix_symbolic(0, 0, 0, "sin", fit_params_bool=False, mode="half")
    assert len(model.history) == 1
