"""Symbolic edges stay inside their functions' domains, so ``symbolic_formula()`` equals
``model(x)`` on the data's range after ``fix_symbolic`` and after training (issue 10)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch

from kanwidget import KAN
from kanwidget.kan.symbolic import get_library
from kanwidget.kan.symbolic.domain import (
    domain_of,
    edge_in_domain,
    project_params,
    project_to_domain,
)

from .state import differences, model_state

X = torch.linspace(-1, 1, 201)[:, None]
Y = torch.sin(3 * X) + X
DATA = {"train_input": X, "train_label": Y, "test_input": X, "test_label": Y}
RESTRICTED = [name for name in get_library() if domain_of(name) is not None]


def formula_error(model: KAN, x: torch.Tensor) -> float:
    """max |formula(x) - model(x)| over the rows of ``x``, relative to 1 + max |model(x)|;
    a complex formula value counts with its imaginary part."""
    formulas, variables = model.symbolic_formula()
    fn = sympy.lambdify(variables, formulas[0], "numpy")
    columns = [x[:, k].double().numpy() for k in range(x.shape[1])]
    with np.errstate(all="ignore"):
        ours = np.asarray(fn(*columns), dtype=complex) * np.ones(x.shape[0])
    with torch.no_grad():
        theirs = model(x)[:, 0].double().numpy()
    return float(np.abs(ours - theirs).max() / (1 + np.abs(theirs).max()))


def edge_inside(model: KAN, l: int, i: int, j: int, x: torch.Tensor) -> bool:
    a, b = (float(v) for v in model.layers[l].sym_params.detach()[i, j, :2])
    xs = model.forward_cache(x).inputs[l][:, i]
    return edge_in_domain(model.layers[l].sym_names[i][j], a, b, float(xs.min()), float(xs.max()))


def test_domain_library_has_the_restricted_functions():
    assert {"sqrt", "log", "1/x", "1/sqrt(x)", "arcsin", "arccos", "arctanh", "tan"} <= set(
        RESTRICTED
    )


@pytest.mark.parametrize("name", RESTRICTED)
def test_domain_formula_equals_model_after_fix_and_fit(name):
    model = KAN([1, 1], grid=5, k=3, seed=0)
    model(X)
    model.fix_symbolic(0, 0, 0, name)
    assert edge_inside(model, 0, 0, 0, X)
    assert formula_error(model, X) < 1e-5
    inside = []

    def record_inside(step: int, record: dict) -> None:
        inside.append(edge_inside(model, 0, 0, 0, X))

    model.fit(DATA, steps=15, opt="Adam", lr=0.05, update_grid=False, progress=False,
              callback=record_inside)  # fmt: skip
    assert all(inside) and len(inside) == 15  # at every step, not only at the end
    assert formula_error(model, X) < 1e-5


def test_domain_sqrt_issue_example_stays_real():
    """The issue's example: sqrt was fitted as sqrt(x + 0.59), complex for x < -0.59."""
    model = KAN([1, 1], grid=5, k=3, seed=0)
    model(X)
    model.fix_symbolic(0, 0, 0, "sqrt")
    a, b = (float(v) for v in model.layers[0].sym_params.detach()[0, 0, :2])
    assert min(a * -1 + b, a * 1 + b) > 0
    formulas, variables = model.symbolic_formula()
    values = [complex(formulas[0].subs(variables[0], v)) for v in (-1.0, -0.8, 0.0, 1.0)]
    assert all(v.imag == 0 for v in values)
    assert all(candidate.valid for candidate in model.suggest_symbolic(0, 0, 0, lib=RESTRICTED))


def test_domain_fix_symbolic_refuses_params_outside_and_changes_nothing():
    model = KAN([1, 1], grid=5, k=3, seed=0)
    model(X)
    before = model_state(model)
    with pytest.raises(ValueError, match="leaves the domain of log"):
        model.fix_symbolic(0, 0, 0, "log", False, params=(1.0, 0.0, 1.0, 0.0))
    assert differences(before, model_state(model)) == []


def test_domain_projection_undoes_a_clamp_exploit():
    """(a, b) = (1e-9, 3e-10) for log: a x + b < 0 for x < -0.3 (the torch log clamps
    there); projection moves it inside and the formula matches the model again."""
    model = KAN([1, 1], grid=5, k=3, seed=0)
    model(X)
    model.fix_symbolic(0, 0, 0, "log")
    with torch.no_grad():
        model.layers[0].sym_params[0, 0, :2] = torch.tensor([1e-9, 3e-10])
    assert not edge_inside(model, 0, 0, 0, X)
    assert project_to_domain(model, X) == 1
    assert edge_inside(model, 0, 0, 0, X)
    assert formula_error(model, X) < 1e-5
    assert project_to_domain(model, X) == 0  # idempotent


@pytest.mark.parametrize(
    ("name", "a", "b"),
    [("sqrt", 1.0, 0.5), ("log", -2.0, 0.1), ("1/x", 1.0, 0.2), ("1/x^3", 1.0, -0.1),
     ("arcsin", 3.0, 0.5), ("arctanh", 0.5, 0.9), ("tan", 2.0, 0.0), ("exp", 30.0, 20.0)],
)  # fmt: skip
def test_domain_project_params_lands_inside_with_least_change(name, a, b):
    new_a, new_b = project_params(name, a, b, -1.0, 1.0)
    assert edge_in_domain(name, new_a, new_b, -1.0, 1.0)
    if abs(a) * 2 < 1.9:  # the range fits: only b moves
        assert new_a == a
    assert project_params(name, new_a, new_b, -1.0, 1.0) == (new_a, new_b)


def test_domain_hidden_layer_edge_follows_its_inputs():
    """A log edge in layer 1 sees the hidden node's values, not the data's range."""
    torch.manual_seed(0)
    x = torch.rand(128, 2) * 2 - 1
    y = torch.log(2 + x[:, :1] + x[:, 1:] ** 2)
    data = {"train_input": x, "train_label": y, "test_input": x, "test_label": y}
    model = KAN([2, 2, 1], grid=5, seed=0)
    model.fit(data, steps=5, progress=False)
    model.auto_symbolic(lib=["x", "x^2", "log", "sqrt"])
    model.fit(data, steps=10, opt="Adam", lr=0.02, update_grid=False, progress=False)
    for l, layer in enumerate(model.layers):
        for i in range(layer.in_dim):
            for j in range(layer.out_dim):
                assert edge_inside(model, l, i, j, x), (l, i, j, layer.sym_names[i][j])
    assert formula_error(model, x) < 1e-4
