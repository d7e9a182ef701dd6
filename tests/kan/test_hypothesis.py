"""Separability and symmetry tests (kanwidget/kan/hypothesis.py) on closed forms and KANs."""

from __future__ import annotations

import math

import pytest
import torch

import kanwidget.kan.hypothesis as hyp
from kanwidget import KAN, kanpiler

f64 = torch.float64


def samples(n_var, n=400, seed=0, dtype=f64):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, n_var, generator=gen, dtype=dtype) * 2 - 1


def test_hessian_of_a_polynomial_is_exact_to_differencing_error():
    x = samples(3)
    y, g, h = hyp.derivatives(lambda v: v[:, 0] ** 2 * v[:, 1] + v[:, 2] ** 3, x)
    x0, x1, x2 = x.T
    assert torch.allclose(y, x0**2 * x1 + x2**3)
    assert torch.allclose(g, torch.stack([2 * x0 * x1, x0**2, 3 * x2**2], 1), atol=1e-12)
    want = torch.zeros(len(x), 3, 3, dtype=f64)
    want[:, 0, 0], want[:, 0, 1], want[:, 1, 0], want[:, 2, 2] = 2 * x1, 2 * x0, 2 * x0, 6 * x2
    assert torch.allclose(h, want, atol=1e-8)


def test_interaction_scores_closed_form():
    """f = x0^2 + sin(x1) + x2 x3: only (2, 3) interacts, with H_23 = 1 everywhere, so its
    score is std_2 std_3 / std_f."""
    x = samples(4)

    def f(v):
        return v[:, 0] ** 2 + torch.sin(v[:, 1]) + v[:, 2] * v[:, 3]

    scores = hyp.interaction_scores(f, x)
    std = x.std(0)
    expected = float(std[2] * std[3] / f(x).std())
    assert float(scores[2, 3]) == pytest.approx(expected, rel=1e-6)
    assert float(scores[3, 2]) == pytest.approx(expected, rel=1e-6)
    off = scores.clone()
    off[2, 3] = off[3, 2] = 0
    assert float(off.abs().max()) < 1e-7
    assert hyp.detect_separability(f, x) == [[0], [1], [2, 3]]
    assert hyp.test_separability(f, x, [[0, 1], [2, 3]])
    assert hyp.test_separability(f, x, [[0], [1], [2, 3]])
    assert not hyp.test_separability(f, x, [[0, 2], [1, 3]])


def test_multiplicative_separability():
    x = samples(3, seed=1)

    def f(v):
        return (1 + v[:, 0] ** 2) * torch.exp(v[:, 1]) * (2 + torch.sin(3 * v[:, 2]))

    assert hyp.test_separability(f, x, [[0], [1], [2]], mode="mul")
    assert not hyp.test_separability(f, x, [[0], [1, 2]], mode="add")
    assert hyp.detect_separability(f, x, mode="mul") == [[0], [1], [2]]
    with pytest.raises(ValueError, match="bias"):  # log|f| of a function crossing zero... at 0
        hyp.interaction_scores(lambda v: v[:, 0] * 0, x, mode="mul")


def test_symmetry_and_general_separability():
    x = samples(3, seed=2)

    def sym(v):  # pykan's example: symmetric in (x1, x2) through x1 + x2
        return v[:, 0] ** 2 * (v[:, 1] + v[:, 2])

    assert hyp.test_symmetry(sym, x, [1, 2])
    assert not hyp.test_symmetry(sym, x, [0, 2])
    assert float(hyp.dependence_scores(sym, x, [1, 2]).max()) < 1e-8
    assert float(hyp.dependence_scores(sym, x, [0, 2]).max()) > 0.1

    def gen(v):  # F(g(x0), h(x1, x2)) with h = x1^2 + x2^2
        return v[:, 0] ** 2 * (v[:, 1] ** 2 + v[:, 2] ** 2) ** 2

    assert hyp.test_general_separability(gen, x, [[0], [1, 2]])
    assert not hyp.test_general_separability(gen, x, [[1], [0, 2]])
    assert hyp.test_symmetry(gen, x, [0]) and hyp.test_symmetry(gen, x, [0, 1, 2])


def test_dependence_closed_form():
    """f = x0 x2 + x1 x2: within (x0, x1) the gradient is (x2, x2) (direction fixed), but
    within (x0, x2) it is (x2, x0 + x1) whose direction moves with x1."""
    x = samples(3, seed=3)
    f = lambda v: v[:, 0] * v[:, 2] + v[:, 1] * v[:, 2]  # noqa: E731
    assert float(hyp.dependence_scores(f, x, [0, 1]).max()) < 1e-8
    dep = hyp.dependence_scores(f, x, [0, 2])  # (2 members, 1 other input)
    # u = (s0 x2, s2 (x0 + x1)) / |.|, z1 = x1 / s1: du_0/dz1 = -u0 u1^2 ... evaluated directly
    std = x.std(0)
    a = std[0] * x[:, 2]
    b = std[2] * (x[:, 0] + x[:, 1])
    r = torch.sqrt(a**2 + b**2)
    db = std[2] * std[1]  # d b / d z1
    du0 = -a * b * db / r**3
    du1 = a**2 * db / r**3
    assert float(dep[0, 0]) == pytest.approx(float(du0.abs().median()), rel=1e-6)
    assert float(dep[1, 0]) == pytest.approx(float(du1.abs().median()), rel=1e-6)


def test_on_kans_without_touching_them():
    # a one-layer KAN is a sum of one-input functions: exactly additive
    model = KAN([3, 1], grid=5, seed=0, dtype=f64)
    x = samples(3, seed=4)
    model(x[:10])
    cached = model._last_input.clone()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    n_versions = len(list(model.history))
    assert hyp.detect_separability(model, x) == [[0], [1], [2]]
    assert hyp.test_separability(model, x, [[0], [1], [2]], threshold=1e-6)
    assert torch.equal(model._last_input, cached)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert len(list(model.history)) == n_versions
    # a compiled formula: exp(x) + y*z separates into {x}, {y, z}; y*z is symmetric
    compiled = kanpiler(["x", "y", "z"], "exp(x) + y*z")
    xs = samples(3, seed=5).to(next(compiled.parameters()).dtype)
    assert hyp.detect_separability(compiled, xs) == [[0], [1, 2]]
    assert hyp.test_general_separability(compiled, xs, [[0], [1, 2]])
    # a float32 KAN with the spline kernels: first derivatives by autograd, Hessian by
    # differences, still clean enough for the default thresholds
    wide = KAN([2, 1], grid=5, seed=1)
    assert hyp.test_separability(wide, samples(2, dtype=torch.float32), [[0], [1]])


def test_bad_input_is_named():
    x = samples(3)
    f = lambda v: v.sum(1)  # noqa: E731
    with pytest.raises(ValueError, match="out of range"):
        hyp.test_separability(f, x, [[0], [3]])
    with pytest.raises(ValueError, match="more than one group"):
        hyp.test_separability(f, x, [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="NaN"):
        hyp.interaction_scores(f, torch.full((4, 3), math.nan))
    with pytest.raises(ValueError, match=r"\(B, n\)"):
        hyp.interaction_scores(f, torch.zeros(5))
    with pytest.raises(ValueError, match="choose one with output"):
        hyp.interaction_scores(lambda v: v[:, :2], x)
    assert hyp.interaction_scores(lambda v: v[:, :2] ** 2, x, output=1).abs().max() < 1e-7
    with pytest.raises(ValueError, match="mode"):
        hyp.interaction_scores(f, x, mode="sub")
    with pytest.raises(ValueError, match="expects 3 inputs|input width|3"):
        hyp.detect_separability(KAN([3, 1], grid=3, seed=0), torch.zeros(4, 2))


@pytest.mark.parametrize(
    ("f", "n", "tree", "text"),
    [
        (lambda v: (v[:, 0] ** 2 + v[:, 1] ** 2) ** 2 + (v[:, 2] ** 2 + v[:, 3] ** 2) ** 2, 4,
         [[0, 1], [2, 3]], "+(F(x_1, x_2), F(x_3, x_4))"),
        (lambda v: torch.exp(v[:, 0]) * (1 + (v[:, 1] + v[:, 2]) ** 2), 3,
         [0, [1, 2]], "*(x_1, F(x_2, x_3))"),
        (lambda v: torch.sin(v[:, 0] + v[:, 1] * v[:, 2]), 3, [0, [1, 2]], "F(x_1, F(x_2, x_3))"),
        (lambda v: v[:, 0] * v[:, 1] * v[:, 2] + v[:, 3], 4,  # any pair first: the lowest
         [[[0, 1], 2], 3], "+(F(F(x_1, x_2), x_3), x_4)"),
        (lambda v: torch.sin(v[:, 0]) * v[:, 1], 2, [0, 1], "*(x_1, x_2)"),
    ],
)  # fmt: skip
def test_symmetry_tree(f, n, tree, text):
    x = samples(n, seed=7)
    assert hyp.symmetry_tree(f, x) == tree
    assert hyp.describe_tree(f, x) == text
    names = [f"v_{i + 1}" for i in range(n)]
    assert hyp.describe_tree(f, x, names=names) == text.replace("x", "v")
    with pytest.raises(ValueError, match="names has"):
        hyp.describe_tree(f, x, names=names[:-1])
