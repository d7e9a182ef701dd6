"""Second derivatives through KAN layers (``create_graph=True``): the basis backward must
itself be differentiable, on the torch path and on the C kernels (dense basis, fused layer).

A PDE loss on the Laplacian of a KAN (pykan's Example_6, KAN paper section 3.4) needs
d2y/dx2 and then the gradient of a loss on it with respect to the spline coefficients.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

from kanwidget.kan import kernels
from kanwidget.kan.kernels import layer as kernel_layer
from kanwidget.kan.layer import KANLayer
from kanwidget.kan.spline import bspline_basis, extend_grid

PATHS = ["torch", "dense", "fused"]
F64 = torch.float64


@contextlib.contextmanager
def on_path(path: str, monkeypatch):
    """Run the block on one implementation; yields a dict counting native calls."""
    if path != "torch" and kernels.load() is None:
        pytest.skip(f"no native kernel: {kernels.status()}")
    calls = {"dense": 0, "fused": 0}
    for kind, name in (("dense", "dense_basis"), ("fused", "fused_layer")):
        original = getattr(kernels, name)

        def counted(*args, _f=original, _n=kind, **kw):
            calls[_n] += 1
            return _f(*args, **kw)

        monkeypatch.setattr(kernels, name, counted)
    if path == "fused":
        monkeypatch.setattr(kernel_layer, "FUSED_MIN_POINTS", 0)
        monkeypatch.setattr(kernel_layer, "FUSED_MAX_OUT", 64)
    kernels.set_enabled(path != "torch")
    try:
        yield calls
    finally:
        kernels.set_enabled(True)


def _layers(seed: int = 0, nonuniform: bool = False) -> tuple[KANLayer, KANLayer]:
    g = torch.Generator().manual_seed(seed)
    first = KANLayer(2, 3, num=5, k=3, generator=g, dtype=F64)
    second = KANLayer(3, 1, num=4, k=3, generator=g, dtype=F64)
    with torch.no_grad():
        for layer in (first, second):
            layer.coef.normal_(generator=g)
        if nonuniform:  # grid points at quantiles, as after update_grid_from_samples
            first.update_grid_from_samples(torch.rand(40, 2, generator=g, dtype=F64) * 2 - 1)
            first.coef.normal_(generator=g)
    return first, second


def _points(n: int = 9, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=F64) * 1.6 - 0.8


def _laplacian(model, x: torch.Tensor, create_graph: bool = True):
    """First derivatives ``(B, 2)`` and Laplacian ``(B,)`` of ``model(x).sum()``."""
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).sum(), x, create_graph=True)
    lap = torch.zeros(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[1]):
        (h,) = torch.autograd.grad(grad[:, i].sum(), x, create_graph=create_graph,
                                   retain_graph=True)  # fmt: skip
        lap = lap + h[:, i]
    return grad, lap


def _fd_laplacian(model, x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Central differences of the (autograd) first derivatives."""
    lap = torch.zeros(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[1]):
        e = torch.zeros_like(x)
        e[:, i] = eps
        up, down = _laplacian(model, x + e, False)[0], _laplacian(model, x - e, False)[0]
        lap = lap + (up[:, i] - down[:, i]).detach() / (2 * eps)
    return lap


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("nonuniform", [False, True])
def test_basis_second_derivative_matches_finite_differences(k, nonuniform, monkeypatch):
    grid = torch.linspace(-1, 1, 6, dtype=F64).expand(2, 6).clone()
    if nonuniform:
        grid[:, 1:-1] += torch.tensor([0.1, -0.05, 0.07, -0.1], dtype=F64)
    knots = extend_grid(grid, k)
    w = torch.randn(2, 5 + k, generator=torch.Generator().manual_seed(k), dtype=F64)
    x = _points()
    for path in ("torch", "dense"):
        with on_path(path, monkeypatch):

            def curve(z, _knots=knots, _w=w, _k=k):
                return (bspline_basis(z, _knots, _k) * _w).sum(-1).sum(-1)

            grad, lap = _laplacian(curve, x)
            fd = _fd_laplacian(curve, x)
            torch.testing.assert_close(lap.detach(), fd, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("nonuniform", [False, True])
def test_layer_laplacian_matches_finite_differences(path, nonuniform, monkeypatch):
    first, second = _layers(nonuniform=nonuniform)
    x = _points()
    with on_path(path, monkeypatch) as calls:
        grad, lap = _laplacian(lambda z: second(first(z)), x)
        fd = _fd_laplacian(lambda z: second(first(z)), x)
    if path != "torch":
        assert calls[path] > 0  # the kernel under test ran
    assert float(lap.detach().abs().max()) > 1.0  # a curved function, not a vanishing one
    torch.testing.assert_close(lap.detach(), fd, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("path", PATHS)
def test_laplacian_loss_coef_gradient_matches_finite_differences(path, monkeypatch):
    first, second = _layers(seed=2)
    x = _points(seed=3)

    def loss() -> torch.Tensor:
        return (_laplacian(lambda z: second(first(z)), x)[1] ** 2).mean()

    with on_path(path, monkeypatch):
        (analytic,) = torch.autograd.grad(loss(), first.coef)
        eps = 1e-6
        for idx in [(0, 0, 2), (1, 2, 4), (0, 1, 7), (1, 0, 0)]:
            with torch.no_grad():
                first.coef[idx] += eps
            up = float(loss().detach())
            with torch.no_grad():
                first.coef[idx] -= 2 * eps
            down = float(loss().detach())
            with torch.no_grad():
                first.coef[idx] += eps
            fd = (up - down) / (2 * eps)
            assert abs(fd - float(analytic[idx])) <= 1e-6 * (1 + abs(fd)), (idx, fd)
    assert float(analytic.norm()) > 1.0


def test_fused_with_std_double_backward_matches_torch_path(monkeypatch):
    first, _ = _layers(seed=4)
    x = _points(seed=5)

    def run(path):
        with on_path(path, monkeypatch) as calls:
            z = x.clone().requires_grad_(True)
            y, std = first(z, with_std=True)
            (grad,) = torch.autograd.grad((y**2).sum() + std.sum(), z, create_graph=True)
            loss = (grad**2).sum()
            grads = torch.autograd.grad(loss, [first.coef, first.scale_base, first.scale_sp])
        return calls, [loss.detach(), *grads]

    calls, fused = run("fused")
    assert calls["fused"] > 0
    _, plain = run("torch")
    for a, b in zip(fused, plain):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9)


def test_layer_second_derivative_agrees_with_pykan(monkeypatch):
    kan_layer = pytest.importorskip("kan.KANLayer")
    ours = _layers(seed=6, nonuniform=True)
    twins = []
    for layer in ours:
        twin = kan_layer.KANLayer(layer.in_dim, layer.out_dim, num=layer.num, k=layer.k).double()
        pairs = [("grid", layer.knots), ("coef", layer.coef), ("scale_base", layer.scale_base),
                 ("scale_sp", layer.scale_sp), ("mask", layer.mask)]  # fmt: skip
        with torch.no_grad():
            for theirs_name, our in pairs:
                getattr(twin, theirs_name).copy_(our)
        twins.append(twin)
    x = _points(seed=7)
    _, lap_pykan = _laplacian(lambda z: twins[1](twins[0](z)[0])[0], x)
    for path in PATHS:
        with on_path(path, monkeypatch):
            _, lap = _laplacian(lambda z: ours[1](ours[0](z)), x)
        torch.testing.assert_close(lap.detach(), lap_pykan.detach(), atol=1e-9, rtol=1e-9)
