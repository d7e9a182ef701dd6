"""The C layer kernels (kanwidget/kan/kernels/) against the pure torch path and closed forms."""

from __future__ import annotations

import contextlib
import os

import pytest
import torch

from kanwidget.kan import kernels
from kanwidget.kan.kernels import build
from kanwidget.kan.kernels import layer as kernel_layer
from kanwidget.kan.layer import KANLayer
from kanwidget.kan.spline import BasisTable, bspline_basis, extend_grid, uniform_grid

if kernels.load() is None and os.environ.get("KANWIDGET_REQUIRE_NATIVE"):  # CI: must build
    raise RuntimeError(f"the native kernel did not load: {kernels.status()}")
pytestmark = pytest.mark.skipif(
    kernels.load() is None, reason=f"no native kernel: {kernels.status()}"
)


@contextlib.contextmanager
def torch_path():
    """Run the block on the pure torch implementation."""
    kernels.set_enabled(False)
    try:
        yield
    finally:
        kernels.set_enabled(True)


@contextlib.contextmanager
def fused_limits(plain: int, with_std: int):
    old = kernel_layer.FUSED_MAX_OUT, kernel_layer.FUSED_MAX_OUT_STD, kernel_layer.FUSED_MIN_POINTS
    kernel_layer.FUSED_MAX_OUT, kernel_layer.FUSED_MAX_OUT_STD = plain, with_std
    kernel_layer.FUSED_MIN_POINTS = 0
    try:
        yield
    finally:
        (
            kernel_layer.FUSED_MAX_OUT,
            kernel_layer.FUSED_MAX_OUT_STD,
            kernel_layer.FUSED_MIN_POINTS,
        ) = old


def random_knots(n_in, num, k, generator, uniform):
    if uniform:
        grid = uniform_grid(n_in, num, (-1.0, 1.0), dtype=torch.float64)
    else:
        pts = torch.rand(n_in, num - 1, generator=generator, dtype=torch.float64) * 2 - 1
        ends = torch.tensor([-1.0, 1.0], dtype=torch.float64).expand(n_in, 2)
        grid = torch.sort(torch.cat([pts, ends], 1), dim=1).values
    return extend_grid(grid, k)


def cox_de_boor(x: float, t: list[float], a: int, k: int) -> float:
    """Textbook recursion for one basis function B_{a,k} (half-open intervals)."""
    if k == 0:
        return 1.0 if t[a] <= x < t[a + 1] else 0.0
    left = (x - t[a]) / (t[a + k] - t[a]) * cox_de_boor(x, t, a, k - 1)
    right = (t[a + k + 1] - x) / (t[a + k + 1] - t[a + 1]) * cox_de_boor(x, t, a + 1, k - 1)
    return left + right


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("uniform", [True, False])
def test_basis_matches_cox_de_boor_and_torch_path(k, uniform):
    g = torch.Generator().manual_seed(k)
    knots = random_knots(2, 6, k, g, uniform)
    table = BasisTable(knots, k)
    assert table.uniform == uniform
    x = torch.rand(40, 2, generator=g, dtype=torch.float64) * 3.2 - 1.6  # some outside
    values, _ = kernels.basis_reference(x, table)
    for b in range(0, 40, 7):
        for i in range(2):
            t = knots[i].tolist()
            expect = [cox_de_boor(float(x[b, i]), t, a, k) for a in range(values.shape[-1])]
            assert values[b, i].tolist() == pytest.approx(expect, abs=1e-12)
    with torch_path():
        ref = bspline_basis(x, knots, k, BasisTable(knots, k))
    assert torch.allclose(values, ref, atol=1e-13)
    assert torch.allclose(bspline_basis(x, knots, k, table), ref, atol=1e-13)  # native dense path


@pytest.mark.parametrize("uniform", [True, False])
def test_basis_slopes_match_finite_differences(uniform):
    g = torch.Generator().manual_seed(7)
    knots = random_knots(3, 5, 3, g, uniform)
    table = BasisTable(knots, 3)
    x = torch.rand(64, 3, generator=g, dtype=torch.float64) * 2.4 - 1.2
    _, slopes = kernels.basis_reference(x, table)
    eps = 1e-6
    up, _ = kernels.basis_reference(x + eps, table)
    down, _ = kernels.basis_reference(x - eps, table)
    assert torch.allclose((up - down) / (2 * eps), slopes, atol=1e-6)


def _layer_inputs(n_in, n_out, batch, g):
    x = (torch.rand(batch, n_in, generator=g, dtype=torch.float64) * 2.6 - 1.3).requires_grad_()
    base = torch.nn.functional.silu(x.detach()).requires_grad_()
    wb = torch.randn(n_in, n_out, generator=g, dtype=torch.float64).requires_grad_()
    ws = torch.randn(n_in, 8, n_out, generator=g, dtype=torch.float64).requires_grad_()
    return x, base, wb, ws


@pytest.mark.parametrize("n_out", [1, 3, 11])  # literal-width copies and the general loop
@pytest.mark.parametrize("uniform", [True, False])
def test_fused_layer_values_and_gradcheck(n_out, uniform):
    g = torch.Generator().manual_seed(n_out)
    knots = random_knots(3, 5, 3, g, uniform)
    table = BasisTable(knots, 3)
    x, base, wb, ws = _layer_inputs(3, n_out, 30, g)
    y, var = kernels.fused_layer(x, base, wb, ws, table, stats=True)
    with torch_path():
        basis = bspline_basis(x.detach(), knots, 3)
    phi = base.detach()[:, :, None] * wb.detach() + torch.einsum("bia,iao->bio", basis, ws.detach())
    assert torch.allclose(y, phi.sum(1), atol=1e-12)
    assert var is not None and torch.allclose(var, phi.var(0), atol=1e-12)

    def fn(*args):
        y, var = kernels.fused_layer(*args, table, stats=True)
        return y, var

    assert torch.autograd.gradcheck(fn, (x, base, wb, ws))
    assert torch.autograd.gradcheck(
        lambda *a: kernels.fused_layer(*a, table, stats=False)[0], (x, base, wb, ws)
    )


@pytest.mark.parametrize("width", [(2, 5), (5, 1), (6, 40)])
@pytest.mark.parametrize("with_std", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_layer_same_outputs_and_grads_on_every_path(width, with_std, dtype):
    """Torch path, dense native basis + BLAS, and the fused kernel agree (forward, every
    gradient, the regulariser's std), also with edges masked off and an adapted grid."""
    n_in, n_out = width
    g = torch.Generator().manual_seed(n_in * 10 + n_out)
    layer = KANLayer(n_in, n_out, num=5, k=3, generator=g, dtype=dtype)
    layer.mask[0, 0] = 0
    x = torch.rand(200, n_in, generator=g, dtype=dtype) * 2.4 - 1.2
    layer.update_grid_from_samples(x[:150])  # non-uniform knots

    def run():
        layer.zero_grad()
        xx = x.clone().requires_grad_()
        out = layer(xx, with_std=with_std)
        y, std = out if with_std else (out, None)
        loss = (y**2).sum() + (std.sum() if std is not None else 0)
        loss.backward()
        grads = [xx.grad, layer.coef.grad, layer.scale_base.grad, layer.scale_sp.grad]
        return [y.detach(), *([std.detach()] if std is not None else []), *grads]

    with torch_path():
        ref = run()
    with fused_limits(0, 0):
        dense = run()
    with fused_limits(1000, 1000):
        fused = run()
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    for r, d, f in zip(ref, dense, fused, strict=True):
        scale = r.abs().max().clamp_min(1)
        assert ((d - r).abs().max() / scale) < tol
        assert ((f - r).abs().max() / scale) < tol


def test_use_fused_policy():
    assert kernels.use_fused(1, 1000 * 1000, with_std=False)  # big single-output layer
    assert not kernels.use_fused(1, 4096 * 32, with_std=False)  # small: dense basis + BLAS
    assert not kernels.use_fused(100, 10**7, with_std=False)  # wide: BLAS
    assert kernels.use_fused(32, 10, with_std=True) and not kernels.use_fused(1000, 10, True)


def test_two_threads_match_one():
    g = torch.Generator().manual_seed(3)
    knots = random_knots(4, 5, 3, g, False)
    table = BasisTable(knots, 3)
    x, base, wb, ws = _layer_inputs(4, 6, 501, g)
    old = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            y, var = kernels.fused_layer(x, base, wb, ws, table, stats=True)
            assert var is not None
            grads = torch.autograd.grad((y**2).sum() + var.sum(), (x, base, wb, ws))
            results.append([y, var, *grads])
    finally:
        torch.set_num_threads(old)
    for a, b in zip(*results, strict=True):
        assert torch.allclose(a, b, atol=1e-12)


def test_points_outside_the_grid_and_nan():
    table = BasisTable(extend_grid(uniform_grid(1, 5, (-1.0, 1.0), dtype=torch.float64), 3), 3)
    x = torch.tensor([[-5.0], [5.0], [float("nan")], [0.25]], dtype=torch.float64)
    values, slopes = kernels.basis_reference(x, table)
    assert values[:3].abs().sum() == 0 and slopes[:3].abs().sum() == 0
    assert values[3].sum().item() == pytest.approx(1.0)  # partition of unity inside


def test_failed_build_falls_back_to_torch(monkeypatch, tmp_path):
    monkeypatch.setenv("KANWIDGET_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "/nonexistent/cc")
    monkeypatch.setattr(build, "_compiler", lambda: None)
    build._STATE.update(lib=None, tried=False)
    try:
        assert kernels.load() is None
        assert "no C compiler" in kernels.status()
        assert not kernels.usable(torch.zeros(1))
        layer = KANLayer(2, 3)
        x = torch.rand(10, 2) * 2 - 1
        assert layer(x).shape == (10, 3)  # the torch path runs
    finally:
        monkeypatch.undo()
        kernels.set_enabled(True)
    assert kernels.load() is not None


def test_disable_by_environment(monkeypatch):
    monkeypatch.setenv("KANWIDGET_NATIVE", "0")
    build._STATE.update(lib=None, tried=False)
    try:
        assert kernels.load() is None
        assert "KANWIDGET_NATIVE=0" in kernels.status()
    finally:
        monkeypatch.undo()
        kernels.set_enabled(True)


@pytest.mark.parametrize("lamb", [0.0, 0.01])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_objective_matches_autograd_graph(lamb, dtype):
    """The one-node training objective (MSE + pykan regulariser) equals the per-op graph in
    value and in every parameter gradient, on a 3-layer model with an adapted grid and a
    masked edge; the reference is the torch path in float64 (in float32 the fused kernel,
    which accumulates the statistics in double, is the more accurate of the two)."""
    from kanwidget import KAN
    from kanwidget.kan import train
    from kanwidget.kan.train.objective import plain

    def objective(dtype, fused: bool):
        g = torch.Generator().manual_seed(5)
        model = KAN([3, 4, 2, 1], grid=5, k=3, seed=2).to(dtype)
        x = (torch.rand(300, 3, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
        y = torch.sin(3 * x[:, :1]) * x[:, 1:2] + x[:, 2:3] ** 2
        train.update_grid_from_samples(model, x)
        model.layers[1].mask[0, 1] = 0
        params = [p for p in model.parameters() if p.requires_grad]
        if fused:
            assert plain(model, x)
            weights = [w for layer in model.layers for w in layer.kernel_weights()]
            tables = [layer.basis_table() for layer in model.layers]
            obj, loss, reg = kernels.fused_objective(x, y, tables, weights, lamb, 1.0, 2.0)
        else:
            with torch_path():
                pred, stds = model._forward(x, with_std=lamb > 0)
                loss = ((pred - y) ** 2).mean()
                reg = train.regularization(stds, 1.0, 2.0) if lamb > 0 else loss * 0
                obj = loss + lamb * reg
        obj.backward()
        values = [obj.detach(), loss.detach(), reg.detach()]
        return [t.double() for t in values + [p.grad for p in params]]

    ref, got = objective(torch.float64, False), objective(dtype, True)
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    for r, f in zip(ref, got, strict=True):
        assert ((f - r).abs().max() / r.abs().max().clamp_min(1e-3)) < tol


def test_fused_objective_refuses_create_graph():
    """fit's C objective has a first-order backward only: a recorded backward (second
    derivatives) raises instead of returning a gradient that is silently constant."""
    from kanwidget import KAN

    model = KAN([2, 3, 1], grid=5, k=3, seed=0)
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1
    weights = [w for layer in model.layers for w in layer.kernel_weights()]
    tables = [layer.basis_table() for layer in model.layers]
    obj, _, _ = kernels.fused_objective(x, x[:, :1], tables, weights, 0.0, 1.0, 2.0)
    with pytest.raises(RuntimeError, match="first-order only"):
        torch.autograd.grad(obj, model.layers[0].coef, create_graph=True)
    (grad,) = torch.autograd.grad(obj, model.layers[0].coef)  # the first-order path still works
    assert grad.shape == model.layers[0].coef.shape and bool(grad.abs().sum() > 0)


def test_fused_objective_not_used_for_mult_nodes_or_symbolic():
    from kanwidget import KAN
    from kanwidget.kan.train.objective import plain

    x = torch.rand(50, 2) * 2 - 1
    assert plain(KAN([2, 3, 1], seed=0), x)
    assert not plain(KAN([2, [1, 1], 1], seed=0), x)
    sym = KAN([2, 3, 1], seed=0)
    sym.fix_symbolic(0, 0, 0, "sin", fit_params_bool=False)
    assert not plain(sym, x)


def test_build_falls_back_to_flags_without_openmp(monkeypatch, tmp_path):
    """A compiler that rejects -fopenmp (e.g. Apple clang) still gets a working kernel: the
    next flag set builds a single-threaded library that gives the same numbers."""
    g = torch.Generator().manual_seed(11)
    table = BasisTable(random_knots(3, 5, 3, g, False), 3)
    x, base, wb, ws = _layer_inputs(3, 4, 64, g)
    expect = kernels.fused_layer(x, base, wb, ws, table, stats=True)
    monkeypatch.setenv("KANWIDGET_CACHE", str(tmp_path))
    bad = ("-O3", "-fopenmp", "-fno-such-flag-kanwidget")
    monkeypatch.setattr(build, "FLAG_SETS", (bad, ("-O3",)))
    build._STATE.update(lib=None, tried=False)
    old_threads = torch.get_num_threads()
    try:
        assert kernels.load() is not None, kernels.status()
        assert build.library_path(("-O3",)).exists() and not build.library_path(bad).exists()
        torch.set_num_threads(2)  # ignored without OpenMP: one thread, same result
        got = kernels.fused_layer(x, base, wb, ws, table, stats=True)
        for a, b in zip(got, expect, strict=True):
            assert a is not None and b is not None and torch.allclose(a, b, atol=1e-12)
    finally:
        torch.set_num_threads(old_threads)
        monkeypatch.undo()
        kernels.set_enabled(True)
