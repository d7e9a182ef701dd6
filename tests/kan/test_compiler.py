"""kanpiler (KAN 2.0, section 3.3): formulas compile into KANs that compute them exactly;
expand_width / expand_depth keep the function; perturb opens the model for fine-tuning.

Reference values come from hand-written numpy code, independent of sympy and the parser.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch

import kanwidget
from kanwidget import KAN, create_dataset, kanpiler
from kanwidget.kan.compiler import expand_depth, expand_width, perturb
from kanwidget.kan.symbolic.formula import symbolic_formula
from kanwidget.kan.symbolic.parse import parse_formula

# (id, variables, formula text, one (low, high) per variable, numpy reference)
# fmt: off
CASES = [
    ("x*y", "x y", "x*y", [(-1, 1)] * 2, lambda x, y: x * y),
    ("toy", "x y", "exp(sin(pi*x) + y**2)", [(-1, 1)] * 2,
     lambda x, y: np.exp(np.sin(np.pi * x) + y**2)),
    ("sin_gauss", "x y", "sin(x)*exp(-y**2)", [(-3, 3), (-1, 1)],
     lambda x, y: np.sin(x) * np.exp(-y**2)),
    ("sqrt1px2", "x", "sqrt(1 + x**2)", [(-2, 2)], lambda x: np.sqrt(1 + x**2)),
    ("same_var_sum", "x", "sin(x) + x**2", [(-2, 2)], lambda x: np.sin(x) + x**2),
    ("I.6.2a", "theta", "exp(-theta**2/2)/sqrt(2*pi)", [(-3, 3)],
     lambda t: np.exp(-t**2 / 2) / np.sqrt(2 * np.pi)),
    ("I.6.2", "sigma theta", "exp(-(theta/sigma)**2/2)/(sqrt(2*pi)*sigma)", [(1, 3)] * 2,
     lambda s, t: np.exp(-(t / s) ** 2 / 2) / (np.sqrt(2 * np.pi) * s)),
    ("I.6.2b", "sigma theta theta1", "exp(-((theta-theta1)/sigma)**2/2)/(sqrt(2*pi)*sigma)",
     [(1, 3)] * 3, lambda s, t, t1: np.exp(-((t - t1) / s) ** 2 / 2) / (np.sqrt(2 * np.pi) * s)),
    ("I.8.14", "x1 x2 y1 y2", "sqrt((x2-x1)**2+(y2-y1)**2)", [(1, 5)] * 4,
     lambda x1, x2, y1, y2: np.sqrt((x2 - x1) ** 2 + (y2 - y1) ** 2)),
    ("I.9.18", "m1 m2 G x1 x2 y1 y2 z1 z2", "G*m1*m2/((x2-x1)**2+(y2-y1)**2+(z2-z1)**2)",
     [(1, 2)] * 3 + [(3, 4), (1, 2)] * 3,
     lambda m1, m2, G, x1, x2, y1, y2, z1, z2:
         G * m1 * m2 / ((x2 - x1) ** 2 + (y2 - y1) ** 2 + (z2 - z1) ** 2)),
    ("I.10.7", "m0 v c", "m0/sqrt(1-v**2/c**2)", [(1, 5), (1, 2), (3, 10)],
     lambda m0, v, c: m0 / np.sqrt(1 - v**2 / c**2)),
    ("I.11.19", "x1 x2 x3 y1 y2 y3", "x1*y1+x2*y2+x3*y3", [(1, 5)] * 6,
     lambda x1, x2, x3, y1, y2, y3: x1 * y1 + x2 * y2 + x3 * y3),
    ("I.12.2", "q1 q2 epsilon r", "q1*q2/(4*pi*epsilon*r**2)", [(1, 5)] * 4,
     lambda q1, q2, e, r: q1 * q2 / (4 * np.pi * e * r**2)),
    ("I.12.11", "q Ef B v theta", "q*(Ef+B*v*sin(theta))", [(1, 5)] * 5,
     lambda q, Ef, B, v, t: q * (Ef + B * v * np.sin(t))),
    ("I.13.12", "m1 m2 r1 r2 G", "G*m1*m2*(1/r2-1/r1)", [(1, 5)] * 5,
     lambda m1, m2, r1, r2, G: G * m1 * m2 * (1 / r2 - 1 / r1)),
    ("I.14.3", "m g z", "m*g*z", [(1, 5)] * 3, lambda m, g, z: m * g * z),
    ("I.15.3x", "x u c t", "(x-u*t)/sqrt(1-u**2/c**2)", [(5, 10), (1, 2), (3, 20), (1, 2)],
     lambda x, u, c, t: (x - u * t) / np.sqrt(1 - u**2 / c**2)),
    ("I.16.6", "c v u", "(u+v)/(1+u*v/c**2)", [(1, 5)] * 3,
     lambda c, v, u: (u + v) / (1 + u * v / c**2)),
    ("I.18.4", "m1 m2 r1 r2", "(m1*r1+m2*r2)/(m1+m2)", [(1, 5)] * 4,
     lambda m1, m2, r1, r2: (m1 * r1 + m2 * r2) / (m1 + m2)),
    ("I.24.6", "m omega omega_0 x", "1/2*m*(omega**2+omega_0**2)*1/2*x**2", [(1, 3)] * 4,
     lambda m, w, w0, x: 0.25 * m * (w**2 + w0**2) * x**2),
    ("I.25.13", "q C", "q/C", [(1, 5)] * 2, lambda q, C: q / C),
    ("I.26.2", "n theta2", "arcsin(n*sin(theta2))", [(0, 1), (1, 5)],
     lambda n, t: np.arcsin(n * np.sin(t))),
    ("I.29.4", "omega c", "omega/c", [(1, 10)] * 2, lambda w, c: w / c),
    ("I.30.3", "Int_0 theta n", "Int_0*sin(n*theta/2)**2/sin(theta/2)**2", [(1, 5)] * 3,
     lambda I0, t, n: I0 * np.sin(n * t / 2) ** 2 / np.sin(t / 2) ** 2),
    ("I.34.27", "omega h", "h*omega/(2*pi)", [(1, 5)] * 2, lambda w, h: h * w / (2 * np.pi)),
    ("I.39.22", "n kb T V", "n*kb*T/V", [(1, 5)] * 4, lambda n, kb, T, V: n * kb * T / V),
    ("I.40.1", "n_0 m x T g kb", "n_0*exp(-m*g*x/(kb*T))", [(1, 5)] * 6,
     lambda n0, m, x, T, g, kb: n0 * np.exp(-m * g * x / (kb * T))),
    ("I.41.16", "omega T h kb c", "h/(2*pi)*omega**3/(pi**2*c**2*(exp(h*omega/(2*pi*kb*T))-1))",
     [(1, 5)] * 5, lambda w, T, h, kb, c:
         h / (2 * np.pi) * w**3 / (np.pi**2 * c**2 * (np.exp(h * w / (2 * np.pi * kb * T)) - 1))),
    ("II.35.18", "n_0 kb T mom B", "n_0/(exp(mom*B/(kb*T))+exp(-mom*B/(kb*T)))", [(1, 5)] * 5,
     lambda n0, kb, T, mom, B: n0 / (np.exp(mom * B / (kb * T)) + np.exp(-mom * B / (kb * T)))),
    ("powers", "x y", "x**7 - 2*y**(5/2) + x**(-6)", [(0.5, 2)] * 2,
     lambda x, y: x**7 - 2 * y**2.5 + x**-6.0),
    ("exp_log_pow", "x y", "x**y + 2**y", [(0.5, 2), (-1, 1)], lambda x, y: x**y + 2**y),
    ("hyperbolic", "x y", "sinh(x) + cosh(y) + tanh(x*y) + atan(y)", [(-1, 1)] * 2,
     lambda x, y: np.sinh(x) + np.cosh(y) + np.tanh(x * y) + np.arctan(y)),
    ("abs_sign_log", "x y", "abs(x)*sign(y) + log(1 + x**2)", [(-1, 1)] * 2,
     lambda x, y: np.abs(x) * np.sign(y) + np.log(1 + x**2)),
    ("arity3_nested", "x y z", "x*y*z + cos(x*y + z)", [(-1, 1)] * 3,
     lambda x, y, z: x * y * z + np.cos(x * y + z)),
]
# fmt: on
IDS = [case[0] for case in CASES]
# exp(y*log(x)) is x**y only for x > 0 and log(2) is not among nsimplify's constants here
NUMERIC_ONLY = {"exp_log_pow"}


def _points(ranges, n=200, seed=0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    cols = [torch.rand(n, generator=gen, dtype=torch.float64) * (hi - lo) + lo for lo, hi in ranges]
    return torch.stack(cols, 1)


def _assert_computes(model, reference, ranges, n_out=0):
    x = _points(ranges)
    with torch.no_grad():
        got = model(x)[:, n_out]
    expected = torch.as_tensor(np.broadcast_to(reference(*x.T.numpy()), (x.shape[0],)).copy())
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def _exact(expr: sympy.Expr) -> sympy.Expr:
    """Floats of a formula back to exact numbers (pi-multiples included)."""
    floats = expr.atoms(sympy.Float)
    return expr.xreplace({f: sympy.nsimplify(f, [sympy.pi], tolerance=1e-12) for f in floats})


def _assert_numerically_equal(a, b, variables, ranges, tol=1e-8):
    x = _points(ranges, n=50, seed=3).T.numpy()
    fa, fb = (sympy.lambdify(variables, e, "numpy") for e in (a, b))
    np.testing.assert_allclose(fa(*x), fb(*x), rtol=tol, atol=tol)


@pytest.mark.parametrize(("name", "names", "text", "ranges", "reference"), CASES, ids=IDS)
def test_kanpiler_computes_formula(name, names, text, ranges, reference):
    model = kanpiler(names.split(), text)
    assert model.dtype == torch.float64
    _assert_computes(model, reference, ranges)
    for layer in model.layers:  # every used edge is symbolic, every other edge off
        assert float(layer.mask.abs().sum()) == 0
        used = torch.tensor(
            [[n != "0" for n in row] for row in layer.sym_names], dtype=torch.float64
        )
        torch.testing.assert_close(layer.sym_mask, used)
    assert [v.operation for v in model.history] == ["init", "kanpiler"]
    assert model.version == "0.1"


@pytest.mark.parametrize(("name", "names", "text", "ranges", "reference"), CASES, ids=IDS)
def test_kanpiler_formula_simplifies_back(name, names, text, ranges, reference):
    variables = names.split()
    model = kanpiler(variables, text)
    (formula,), symbols = symbolic_formula(model, variables)
    expr = parse_formula(text, symbols)
    if name in NUMERIC_ONLY:
        _assert_numerically_equal(formula, expr, symbols, ranges)
    else:
        assert sympy.simplify(_exact(formula) - expr) == 0


def test_kanpiler_accepts_sympy_expressions_and_several_outputs():
    x, y = sympy.symbols("x y", positive=True)
    model = kanwidget.kanpiler([x, y], [x * sympy.sin(y) + 1, sympy.sqrt(x) / y])
    assert model.width[-1] == [2, 0]
    _assert_computes(model, lambda a, b: a * np.sin(b) + 1, [(1, 2), (1, 2)], n_out=0)
    _assert_computes(model, lambda a, b: np.sqrt(a) / b, [(1, 2), (1, 2)], n_out=1)


def test_kanpiler_unused_variable_and_constant():
    model = kanpiler(["x", "y"], "3*y - 0.5")
    _assert_computes(model, lambda x, y: 3 * y - 0.5, [(-1, 1)] * 2)
    assert float(model.layers[0].sym_mask[0].sum()) == 0  # x has no edge
    constant = kanpiler(["x"], "2.5")
    _assert_computes(constant, lambda x: np.full_like(x, 2.5), [(-1, 1)])
    assert constant.n_edges() == 0


def test_kanpiler_mult_arity_follows_the_product():
    model = kanpiler(["a", "b", "c", "d"], "a*b*c*d + a*b")
    assert sorted(a for layer in model.mult_arity for a in layer) == [2, 4]
    _assert_computes(model, lambda a, b, c, d: a * b * c * d + a * b, [(-1, 1)] * 4)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('x')",
        "().__class__.__bases__[0].__subclasses__()",
        "x.__class__",
        "exec('import os')",
        "open('/etc/passwd')",
        "lambda: 0",
        "[x for x in ()]",
        "'x'",
    ],
)
def test_kanpiler_refuses_malicious_text_before_building(text, monkeypatch):
    import os

    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)

    def no_model(*args, **kwargs):
        raise AssertionError("a model was built for refused text")

    monkeypatch.setattr(KAN, "__init__", no_model)
    with pytest.raises(ValueError):
        kanpiler(["x"], text)
    assert calls == []


@pytest.mark.parametrize(
    ("variables", "expr", "message"),
    [
        (["x"], sympy.besselj(0, sympy.Symbol("x")), "no exact form"),
        (["x"], sympy.Symbol("x") + sympy.Symbol("y"), "not in variables"),
        (["x"], "x + y", "unknown name"),
        (["x"], sympy.sqrt(-2) * sympy.Symbol("x"), "not a real number"),
        (["x"], (-2) ** sympy.Symbol("x"), "base must be positive"),
        ("x", "x", "list of names"),
        (["x", "x"], "x", "distinct"),
        (["x"], [], "empty"),
    ],
)
def test_kanpiler_rejects_what_it_cannot_compile(variables, expr, message):
    with pytest.raises(ValueError, match=message):
        kanpiler(variables, expr)


def test_kanpiler_without_variables_sorts_free_symbols():
    model = kanpiler(None, "b - a**2")
    _assert_computes(model, lambda a, b: b - a**2, [(-1, 1)] * 2)


# ---------------------------------------------------------------------- expand / perturb
def _compiled():
    return kanpiler(["x", "y"], "x*y + sin(pi*x)"), lambda x, y: x * y + np.sin(np.pi * x)


@pytest.mark.parametrize(("sum_bool", "arity"), [(True, 2), (False, 2), (False, 3)])
def test_expand_width_keeps_function(sum_bool, arity):
    model, reference = _compiled()
    x = _points([(-1, 1)] * 2)
    before = model(x).detach()
    width = [list(w) for w in model.width]
    out = model.expand_width(1, 2, sum_bool=sum_bool, mult_arity=arity)
    assert out is model and model.history.current.operation == "expand_width"
    width[1][0 if sum_bool else 1] += 2
    assert model.width == width
    if not sum_bool:
        assert model.mult_arity[1][-2:] == [arity, arity]
    torch.testing.assert_close(model(x).detach(), before, rtol=0, atol=1e-14)
    (formula,), symbols = symbolic_formula(model, ["x", "y"])
    assert sympy.simplify(_exact(formula) - parse_formula("x*y + sin(pi*x)", symbols)) == 0
    n_new = 2 if sum_bool else 2 * arity
    new = slice(width[1][0] - 2, width[1][0]) if sum_bool else slice(-n_new, None)
    assert float(model.layers[0].sym_mask[:, new].sum() + model.layers[0].mask[:, new].sum()) == 0


def test_expand_width_rejects_input_and_output_layers():
    model, _ = _compiled()
    for l in (0, model.depth):
        with pytest.raises(ValueError, match="hidden node layer"):
            expand_width(model, l, 1)
    assert [v.operation for v in model.history] == ["init", "kanpiler"]


def test_expand_depth_keeps_function():
    model, reference = _compiled()
    depth = model.depth
    assert expand_depth(model) is model
    assert model.depth == depth + 1 and model.width[-1] == model.width[-2] == [1, 0]
    _assert_computes(model, reference, [(-1, 1)] * 2)
    assert model.layers[-1].sym_names == [["x"]]
    assert model.history.current.operation == "expand_depth"


def test_perturb_changes_function_but_keeps_structure():
    model, reference = _compiled()
    x = _points([(-1, 1)] * 2)
    before = model(x).detach()
    names = [[list(r) for r in layer.sym_names] for layer in model.layers]
    sym_masks = [layer.sym_mask.clone() for layer in model.layers]
    perturb(model, mag=0.5, mode="all")
    assert not torch.allclose(model(x).detach(), before)
    assert [layer.sym_names for layer in model.layers] == names
    for layer, sym_mask in zip(model.layers, sym_masks):
        torch.testing.assert_close(layer.sym_mask, sym_mask)
        assert bool((layer.mask == 0.5).all())
    assert model.history.current.operation == "perturb"


def test_perturb_minimal_only_touches_active_edges():
    model, _ = _compiled()
    model.perturb(mag=1.0, mode="minimal")
    for layer in model.layers:
        torch.testing.assert_close(layer.mask, layer.sym_mask)


def test_perturb_non_intrusive_after_expand_width_keeps_function():
    model, reference = _compiled()
    model.expand_width(1, 3).perturb(mode="non-intrusive")
    _assert_computes(model, reference, [(-1, 1)] * 2)
    first, last = model.layers[0], model.layers[-1]
    n_sum = model.width[1][0]  # new sum nodes come after the old sum nodes
    assert bool((first.mask[:, n_sum - 3 : n_sum] == 1).all())  # active inputs -> idle nodes
    assert float(first.mask[:, : n_sum - 3].sum() + first.mask[:, n_sum:].sum()) == 0
    assert bool((last.mask == 1).all()) and float(last.scale_sp.detach().abs().sum()) == 0
    with pytest.raises(ValueError, match="mode"):
        model.perturb(mode="intrusive")


def test_compiled_model_fine_tunes(in_tmp_dir):
    model = kanpiler(["x", "y"], "x*y")
    data = create_dataset(lambda t: t[:, [0]] * t[:, [1]] + 0.2 * t[:, [0]] ** 2, 2, train_num=200,
                          test_num=200, dtype=torch.float64)  # fmt: skip
    model.expand_width(1, 1).perturb(mode="non-intrusive")
    result = model.fit(data, steps=10, progress=False)
    assert result["train_loss"][-1] < 0.5 * result["train_loss"][0]
    ops = [v.operation for v in model.history]
    assert ops == ["init", "kanpiler", "expand_width", "perturb", "fit"]


def test_compiled_model_save_load_round_trip(tmp_path):
    model, reference = _compiled()
    model.expand_depth()
    model.save(tmp_path / "compiled.pt")
    loaded = KAN.load(tmp_path / "compiled.pt")
    _assert_computes(loaded, reference, [(-1, 1)] * 2)


def test_compiler_formula_keeps_pi_exact_and_variable_names():
    model = kanpiler(["x", "y"], "exp(sin(pi*x) + y**2)")
    (formula,), (x, y) = model.symbolic_formula()
    assert (x.name, y.name) == ("x", "y")  # the names given to kanpiler, not x_1, x_2
    assert formula.has(sympy.pi)
    assert sympy.simplify(formula - sympy.exp(sympy.sin(sympy.pi * x) + y**2)) == 0
