"""Symbolic library: pykan names, safe torch functions, exact sympy counterparts, user functions."""

from __future__ import annotations

import math

import pytest
import sympy
import torch

from kanwidget.kan.symbolic import library as lib_module
from kanwidget.kan.symbolic.library import (
    BUILTIN_NAMES,
    add_symbolic,
    get_function,
    get_library,
    library_state,
    load_library_state,
    remove_symbolic,
    sympy_to_torch,
)

PYKAN_NAMES = [
    "x", "x^2", "x^3", "x^4", "x^5", "1/x", "1/x^2", "1/x^3", "1/x^4", "1/x^5", "sqrt",
    "x^0.5", "x^1.5", "1/sqrt(x)", "1/x^0.5", "exp", "log", "abs", "sin", "cos", "tan",
    "tanh", "sgn", "arcsin", "arccos", "arctan", "arctanh", "0", "gaussian",
]  # fmt: skip

# (low, high) where the torch function must equal the exact sympy one
DOMAINS = {
    "1/x": (0.01, 5.0), "1/x^2": (0.02, 5.0), "1/x^3": (0.05, 5.0), "1/x^4": (0.1, 5.0),
    "1/x^5": (0.1, 5.0), "sqrt": (0.0, 9.0), "x^0.5": (0.0, 9.0), "x^1.5": (0.0, 9.0),
    "1/sqrt(x)": (1e-3, 9.0), "1/x^0.5": (1e-3, 9.0), "log": (1e-6, 50.0),
    "tan": (-1.5, 1.5), "arcsin": (-0.999, 0.999), "arccos": (-0.999, 0.999),
    "arctanh": (-0.999, 0.999), "exp": (-20.0, 20.0),
}  # fmt: skip


@pytest.fixture
def clean_library():
    """Remove user functions registered by a test."""
    yield
    for name in list(get_library()):
        if name not in BUILTIN_NAMES:
            remove_symbolic(name)


def test_library_has_pykan_names_and_complexities():
    from kan.utils import SYMBOLIC_LIB  # pykan 0.2.8, the reference

    assert set(PYKAN_NAMES) == set(SYMBOLIC_LIB)
    library = get_library()
    for name in PYKAN_NAMES:
        assert library[name].complexity == SYMBOLIC_LIB[name][2], name


@pytest.mark.parametrize("name", PYKAN_NAMES)
def test_library_torch_matches_sympy_on_domain(name):
    low, high = DOMAINS.get(name, (-3.0, 3.0))
    xs = torch.linspace(low, high, 301, dtype=torch.float64)
    fn = get_function(name)
    x = sympy.Symbol("x")
    exact = sympy.lambdify(x, fn.sympy_fn(x), "math")
    expected = torch.tensor([float(exact(float(v))) for v in xs], dtype=torch.float64)
    torch.testing.assert_close(fn.torch_fn(xs), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", PYKAN_NAMES)
def test_library_torch_finite_with_finite_gradients(name, dtype):
    big = torch.finfo(dtype).max / 4
    special = [0.0, -0.0, 1.0, -1.0, math.pi / 2, -math.pi / 2, 1e-30, -1e-30, 1e-7, 1e6, -1e6]
    values = torch.tensor(special + [1e30, -1e30, big, -big], dtype=dtype)
    values = torch.cat([values, torch.linspace(-10, 10, 2001, dtype=dtype)])
    xs = values.clone().requires_grad_(True)
    out = get_function(name).torch_fn(xs)
    assert torch.isfinite(out).all(), xs[~torch.isfinite(out)]
    (grad,) = torch.autograd.grad(out.sum(), xs)
    assert torch.isfinite(grad).all(), xs[~torch.isfinite(grad)]


def test_library_unknown_name_lists_available():
    with pytest.raises(ValueError, match=r"unknown symbolic function 'foo'; available: x, x\^2"):
        get_function("foo")


def test_library_add_symbolic_from_callables(clean_library):
    add_symbolic("sinc2", lambda u: torch.sin(2 * u) / 2, lambda x: sympy.sin(2 * x) / 2, 3)
    fn = get_function("sinc2")
    x = sympy.Symbol("x")
    assert sympy.simplify(fn.sympy_fn(x) - sympy.sin(2 * x) / 2) == 0
    assert fn.complexity == 3
    assert library_state() == [{"name": "sinc2", "expr": "sin(2*x)/2", "complexity": 3.0}]


def test_library_state_round_trip_rebuilds_torch_fn(clean_library):
    add_symbolic("bump", None, "exp(-x**2)*cos(3*x) + sqrt(abs(x))", 4)
    state = library_state()
    xs = torch.linspace(-2, 2, 101, dtype=torch.float64)
    before = get_function("bump").torch_fn(xs)
    remove_symbolic("bump")
    with pytest.raises(ValueError):
        get_function("bump")
    load_library_state(state)
    after = get_function("bump").torch_fn(xs)
    expected = torch.exp(-(xs**2)) * torch.cos(3 * xs) + torch.sqrt(xs.abs())
    torch.testing.assert_close(after, expected)
    torch.testing.assert_close(before, expected)
    assert get_function("bump").complexity == 4


def test_library_add_symbolic_rejects_bad_input(clean_library):
    with pytest.raises(ValueError, match="built-in"):
        add_symbolic("sin", torch.sin, sympy.sin, 2)
    with pytest.raises(ValueError, match="x only"):
        add_symbolic("two", None, lambda x: x + sympy.Symbol("y"), 2)
    with pytest.raises(ValueError, match="not allowed"):
        add_symbolic("evil", None, "__import__('os').system('true')", 1)


def test_library_sympy_to_torch_matches_lambdify():
    x, y = sympy.symbols("x y")
    expr = sympy.exp(sympy.sin(sympy.pi * x) + y**2) / (1 + sympy.Abs(x)) - sympy.atan(3 * y)
    fn = sympy_to_torch(expr, x, y)
    xs = torch.linspace(-1, 1, 50, dtype=torch.float64)
    ys = torch.linspace(-2, 1, 50, dtype=torch.float64)
    ref = sympy.lambdify((x, y), expr, "math")
    expected = torch.tensor(
        [ref(float(a), float(b)) for a, b in zip(xs, ys, strict=True)], dtype=torch.float64
    )
    torch.testing.assert_close(fn(xs, ys), expected)


def test_library_sympy_to_torch_refuses_unknown_function():
    x = sympy.Symbol("x")
    with pytest.raises(ValueError, match="cannot evaluate"):
        sympy_to_torch(sympy.gamma(x), x)


def test_library_module_keeps_builtins_first():
    assert list(lib_module.get_library())[: len(PYKAN_NAMES)] == list(BUILTIN_NAMES)


def test_library_add_symbolic_accepts_pykan_keyword_and_refuses_missing_sympy(clean_library):
    entry = add_symbolic("cube", lambda u: u**3, lambda x: x**3, c=2)
    assert entry.complexity == 2
    with pytest.raises(ValueError, match="needs sympy_fn"):
        add_symbolic("J0", torch.special.bessel_j0, c=1)
    with pytest.raises(ValueError, match="not allowed"):
        add_symbolic("J0", torch.special.bessel_j0, lambda x: sympy.besselj(0, x), 1)
