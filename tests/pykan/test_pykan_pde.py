"""A PDE loss through a whole KAN (pykan's Example_6, KAN paper section 3.4): the Laplacian
of the output and the gradient of a loss on it, against pykan 0.2.8 on the same parameters."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from kanwidget import KAN

from .conftest import to_pykan


def _laplacian(model, x: torch.Tensor) -> torch.Tensor:
    """``sum_i d2 y / dx_i^2`` of ``model(x).sum()``, ``(B,)``, differentiable."""
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).sum(), x, create_graph=True)
    lap = torch.zeros(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[1]):
        (h,) = torch.autograd.grad(grad[:, i].sum(), x, create_graph=True)
        lap = lap + h[:, i]
    return lap


@pytest.mark.parametrize("width", [[2, 2, 1], [2, [1, 1], 1]], ids=["sum", "mult"])
def test_pde_loss_and_its_gradient_equal_pykans(width):
    model = KAN(width, grid=5, k=3, seed=1)
    with torch.no_grad():  # curved splines, not the near-zero initial noise
        for layer in model.layers:
            layer.coef.normal_(generator=torch.Generator().manual_seed(2))
    twin = to_pykan(model)
    x = torch.rand(64, 2, generator=torch.Generator().manual_seed(3)) * 2 - 1
    source = -2 * torch.pi**2 * torch.sin(torch.pi * x[:, 0]) * torch.sin(torch.pi * x[:, 1])

    ours_lap = _laplacian(model, x)
    theirs_lap = _laplacian(lambda z: twin(z), x)
    assert_close(ours_lap.detach(), theirs_lap.detach(), rtol=1e-4, atol=1e-4)
    assert float(ours_lap.detach().abs().max()) > 1.0

    ours = torch.autograd.grad(((ours_lap - source) ** 2).mean(), model.layers[0].coef)[0]
    theirs = torch.autograd.grad(((theirs_lap - source) ** 2).mean(), twin.act_fun[0].coef)[0]
    assert_close(ours, theirs, rtol=1e-3, atol=1e-3 * float(theirs.abs().max()))
    assert float(theirs.norm()) > 1.0
