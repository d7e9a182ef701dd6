"""kanwidget.pykan: pykan 0.2.8's namespace and utilities, checked against the installed pykan."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import sympy
import torch

kan = pytest.importorskip("kan")  # pykan 0.2.8 (dev dependency)

from kanwidget import pykan as kp  # noqa: E402
from kanwidget.pykan import utils as ku  # noqa: E402

# pykan's private singularity-avoiding lambdas of its symbolic library (documented in
# kanwidget/pykan/__init__.py as not provided)
EXCLUDED = {f"f_{n}" for n in ("arccos arcsin arctanh exp inv inv2 inv3 inv4 inv5 invsqrt log "
                               "power1d5 sqrt tan").split()}  # fmt: skip


def test_pykan_namespace_star_exports_match_pykan():
    theirs = {n for n in vars(kan) if not n.startswith("_")}
    ours = set(kp.__all__)
    assert theirs - ours == EXCLUDED
    namespace: dict = {}
    exec("from kanwidget.pykan import *", namespace)  # the star import a notebook runs
    assert theirs - EXCLUDED <= set(namespace)
    assert namespace["KAN"] is namespace["MultKAN"]
    assert namespace["torch"] is torch and namespace["sympy"] is sympy


@pytest.mark.parametrize(
    "module",
    [
        "utils",
        "MultKAN",
        "KANLayer",
        "Symbolic_KANLayer",
        "spline",
        "hypothesis",
        "compiler",
        "LBFGS",
        "feynman",
        "experiment",
        "MLP",
    ],  # fmt: skip
)
def test_pykan_namespace_submodules_mirror_pykan(module):
    ours = importlib.import_module(f"kanwidget.pykan.{module}")
    theirs = importlib.import_module(f"kan.{module}")
    # (not identifiers: pykan's kanpiler writes e.g. 'self.node_bias_0' into its globals)
    public = {n for n in vars(theirs) if not n.startswith("_") and n.isidentifier()} - EXCLUDED
    # pykan's private helpers of hypothesis/experiment (tree internals, training script)
    # and the globals pykan's fit writes (`global train_loss, reg_`) once another test ran it
    internal = {"batch_grad_normgrad", "get_molecule", "get_tree_node", "runner1",
                "next_nontrivial_operation", "train_loss", "reg_"}  # fmt: skip
    missing = public - set(dir(ours)) - internal
    assert not missing, f"kanwidget.pykan.{module} lacks {sorted(missing)}"


def test_pykan_namespace_kanwidget_top_level_stays_small():
    import kanwidget

    assert set(kanwidget.__all__) <= {"KAN", "KANWidget", "MultKAN", "StopTraining",
                                       "create_dataset", "kanpiler", "sweep", "discover",
                                       "Discovery"}  # fmt: skip
    assert not hasattr(kanwidget, "np") and not hasattr(kanwidget, "sin")


@pytest.mark.parametrize("n_var, ranges", [(2, [-1, 1]), (3, [[0, 1], [0, 0.9], [1.1, 2]])])
def test_create_dataset_draws_pykans_points(n_var, ranges):
    def f(x):
        return x[:, [0]] * x[:, [1]] + x[:, [0]] ** 2

    ours = ku.create_dataset(f, n_var=n_var, ranges=ranges, train_num=300, test_num=200, seed=7)
    state = torch.random.get_rng_state()
    theirs = kan.utils.create_dataset(f, n_var=n_var, ranges=ranges, train_num=300, test_num=200,
                                      seed=7)  # fmt: skip
    torch.random.set_rng_state(state)
    for key in ("train_input", "test_input", "train_label", "test_label"):
        assert torch.equal(ours[key], theirs[key]), key


def test_create_dataset_leaves_global_rng_alone_and_f_mode_row():
    state = torch.random.get_rng_state()
    by_col = ku.create_dataset(lambda x: x[:, 0] - x[:, 1], n_var=2, train_num=50, test_num=10)
    by_row = ku.create_dataset(lambda x: x[0] - x[1], n_var=2, f_mode="row", train_num=50,
                               test_num=10)  # fmt: skip
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(by_col["train_label"], by_row["train_label"])
    with pytest.raises(ValueError, match="f_mode"):
        ku.create_dataset(lambda x: x[:, 0], n_var=1, f_mode="diagonal")


def test_augment_input_columns_equal_sympy_values():
    m0, v, c = sympy.symbols("m0 v c")
    aux = (v / c, 1 / sympy.sqrt(1 - (v / c) ** 2))
    data = ku.create_dataset(lambda x: x[:, [0]], n_var=3, ranges=[[0, 1], [0, 0.9], [1.1, 2]],
                             train_num=40, test_num=30, dtype=torch.float64)  # fmt: skip
    out = ku.augment_input((m0, v, c), aux, data)
    assert data["train_input"].shape == (40, 3)  # the caller's dict is left alone
    for split in ("train", "test"):
        x = data[f"{split}_input"]
        got = out[f"{split}_input"]
        assert got.shape == (x.shape[0], 5)
        torch.testing.assert_close(got[:, 2:], x)  # pykan's order: auxiliary columns first
        for k, expr in enumerate(aux):
            want = [float(expr.subs({m0: r[0], v: r[1], c: r[2]})) for r in x.tolist()]
            torch.testing.assert_close(got[:, k], torch.tensor(want, dtype=torch.float64))
        assert torch.equal(out[f"{split}_label"], data[f"{split}_label"])


def test_create_dataset_from_data_splits_every_row_once():
    x = torch.arange(50.0)[:, None]
    data = ku.create_dataset_from_data(x, 2 * x, train_ratio=0.8)
    rows = torch.cat([data["train_input"], data["test_input"]])[:, 0]
    assert len(data["train_input"]) == 40 and sorted(rows.tolist()) == x[:, 0].tolist()
    torch.testing.assert_close(data["test_label"], 2 * data["test_input"])


def test_create_dataset_from_data_takes_numpy_arrays_as_tensors():
    x = np.linspace(-1, 1, 20)[:, None]
    data = ku.create_dataset_from_data(x, x**2, train_ratio=0.5)
    ref = ku.create_dataset_from_data(torch.from_numpy(x), torch.from_numpy(x**2), 0.5)
    for key, value in ref.items():
        assert torch.equal(data[key], value)


def test_add_symbolic_pykan_signature_without_sympy_function():
    from kanwidget.kan.symbolic.library import remove_symbolic

    ku.add_symbolic("J0", torch.special.bessel_j0, c=1)
    try:
        model = kp.KAN([1, 1], grid=5, seed=0)
        x = torch.linspace(-1, 1, 200)[:, None]
        model(x)
        r2 = model.fix_symbolic(0, 0, 0, "J0")
        assert r2 > 0.5
        (formula,), (x1,) = model.symbolic_formula()
        assert formula.has(sympy.Function("J0"))
        entry = ku.SYMBOLIC_LIB["J0"]
        torch.testing.assert_close(entry[0](x), torch.special.bessel_j0(x))
        assert entry[2] == 1
    finally:
        remove_symbolic("J0")
    assert "J0" not in ku.SYMBOLIC_LIB


def test_batch_jacobian_and_hessian_closed_forms():
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def f(z):
        return z[:, [0]] ** 2 * z[:, [1]]

    jac = ku.batch_jacobian(f, x)
    torch.testing.assert_close(jac, torch.stack([2 * x[:, 0] * x[:, 1], x[:, 0] ** 2], 1))
    hess = ku.batch_hessian(f, x)
    zero = torch.zeros(20, dtype=x.dtype)
    want = torch.stack(
        [torch.stack([2 * x[:, 1], 2 * x[:, 0]], 1), torch.stack([2 * x[:, 0], zero], 1)], 1
    )
    torch.testing.assert_close(hess, want)
    torch.testing.assert_close(hess, kan.utils.batch_hessian(f, x))
    vec = ku.batch_jacobian(lambda z: torch.cat([z, z**2], 1), x, mode="vector")
    assert vec.shape == (20, 4, 2)


def test_fit_params_recovers_affine_sine():
    x = torch.linspace(-1, 1, 300)
    y = 2.0 * torch.sin(3.0 * x + 0.5) - 1.0
    params, r2 = ku.fit_params(x, y, torch.sin)
    a, b, c, d = params.tolist()  # one of the equivalent (a, b, c, d) of a sine
    torch.testing.assert_close(c * torch.sin(a * x + b) + d, y, atol=2e-3, rtol=0)
    assert abs(abs(a) - 3.0) < 2e-3 and abs(abs(c) - 2.0) < 2e-3 and float(r2) > 1 - 1e-6


def test_get_derivative_hessian_of_linear_model_is_gram():
    lin = torch.nn.Linear(2, 1, bias=False)
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(1))
    y = torch.randn(30, 1, generator=torch.Generator().manual_seed(2))
    hess = ku.get_derivative(lin, x, y, derivative="hessian")
    torch.testing.assert_close(hess[0], 2 * x.T @ x / 30)  # d2 mean((xw - y)^2) / dw2
    assert ku.model2param(lin).shape == (2,)


def test_spline_b_batch_agrees_with_pykan():
    from kan.spline import B_batch as pykan_b_batch

    grid = kp.extend_grid(torch.linspace(-1, 1, 6)[None, :].expand(2, 6), k_extend=3)
    torch.testing.assert_close(grid, kan.spline.extend_grid(torch.linspace(-1, 1, 6)[None, :]
                                                            .expand(2, 6), k_extend=3))  # fmt: skip
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(3)) * 1.8 - 0.9
    torch.testing.assert_close(kp.B_batch(x, grid, k=3), pykan_b_batch(x, grid, k=3))


def test_hypothesis_pykan_forms():
    from kanwidget.pykan.hypothesis import detect_separability, test_symmetry_var

    x = torch.rand(200, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 0.5
    normal = torch.randn(200, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    res = detect_separability(lambda z: z[:, [0]] ** 2 + z[:, [1]] * z[:, [2]], x, "add")
    assert res["groups"] == [[0], [1, 2]] and res["n_groups"] == 2 and res["labels"] == [0, 1, 1]
    a, b, c = sympy.symbols("a b c")
    cos = test_symmetry_var(lambda z: z[:, [0]] * (z[:, [1]] + z[:, [2]]), x, (a, b, c), b + c)
    torch.testing.assert_close(cos, torch.ones(200, dtype=torch.float64))
    cos = test_symmetry_var(lambda z: z[:, [0]] * (z[:, [1]] + z[:, [2]]), normal, (a, b, c),
                            b * c)  # fmt: skip
    assert float((cos > 0.9).double().mean()) < 0.9


def test_pareto_frontier_pykan_rule():
    from kanwidget.pykan.experiment import pareto_frontier

    x, y = torch.tensor([1.0, 2.0, 3.0, 2.5]).numpy(), torch.tensor([3.0, 1.0, 0.5, 2.0]).numpy()
    xf, yf, ids = pareto_frontier(x, y)
    assert ids.tolist() == [0, 1, 2]
    assert pareto_frontier(x, y)[2].tolist() == kan.experiment.pareto_frontier(x, y)[2].tolist()


def test_mlp_fits_a_line():
    from kanwidget.pykan import MLP

    data = ku.create_dataset(lambda x: 2 * x[:, [0]] - x[:, [1]], n_var=2, train_num=200,
                             test_num=100)  # fmt: skip
    mlp = MLP([2, 8, 1], seed=0)
    results = mlp.fit(data, steps=20)
    assert results["test_loss"][-1] < 0.05 * results["test_loss"][0] + 1e-3
    assert mlp.feature_score[0] > mlp.feature_score[1]  # |2| std > |-1| std


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_sparse_init_mask_equals_pykans(shape):
    torch.testing.assert_close(ku.sparse_mask(*shape), kan.utils.sparse_mask(*shape))
    model = kp.KAN([shape[0], shape[1]], grid=3, sparse_init=True, seed=0)
    torch.testing.assert_close(model.layers[0].mask, kan.utils.sparse_mask(*shape))
