"""B-spline basis: values vs a reference Cox-de Boor, partition of unity, gradients."""

import pytest
import torch
from torch.testing import assert_close

from kanwidget.kan.spline import (
    BasisTable,
    bspline_basis,
    coef_to_curve,
    curve_to_coef,
    extend_grid,
)


def cox_de_boor(x, knots, k):
    """Textbook recursion on the full knot vector (dense, slow, obviously right)."""
    x = x.unsqueeze(-1)
    basis = ((x >= knots[:, :-1]) & (x < knots[:, 1:])).to(x.dtype)
    for p in range(1, k + 1):
        left = (x - knots[:, : -(p + 1)]) / (knots[:, p:-1] - knots[:, : -(p + 1)])
        right = (knots[:, p + 1 :] - x) / (knots[:, p + 1 :] - knots[:, 1:-p])
        basis = left * basis[..., :-1] + right * basis[..., 1:]
    return basis


def random_grid(n_in, n_points, gen):
    return torch.sort(
        torch.rand(n_in, n_points, generator=gen, dtype=torch.float64) * 2 - 1, 1
    ).values


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_basis_matches_cox_de_boor_on_nonuniform_knots(k):
    gen = torch.Generator().manual_seed(k)
    grid = random_grid(3, 7, gen)
    knots = extend_grid(grid, k)
    x = torch.rand(400, 3, generator=gen, dtype=torch.float64) * 4 - 2  # also outside the span
    assert_close(bspline_basis(x, knots, k), cox_de_boor(x, knots, k), atol=1e-12, rtol=0)


def test_basis_partition_of_unity_inside_grid():
    gen = torch.Generator().manual_seed(0)
    grid = random_grid(4, 6, gen)
    knots = extend_grid(grid, 3)
    u = torch.rand(1000, 4, generator=gen, dtype=torch.float64)
    x = grid[:, 0] + u * (grid[:, -1] - grid[:, 0])
    assert_close(bspline_basis(x, knots, 3).sum(-1), torch.ones(1000, 4, dtype=torch.float64))


def test_basis_zero_outside_knot_span():
    knots = extend_grid(torch.linspace(-1, 1, 6, dtype=torch.float64)[None], 3)
    x = torch.tensor([[-5.0], [5.0]], dtype=torch.float64)
    assert torch.count_nonzero(bspline_basis(x, knots, 3)) == 0


@pytest.mark.parametrize("k", [1, 2, 3])
def test_basis_gradient_matches_finite_differences(k):
    gen = torch.Generator().manual_seed(1)
    knots = extend_grid(random_grid(2, 6, gen), k)
    x = (torch.rand(30, 2, generator=gen, dtype=torch.float64) * 1.6 - 0.8).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: bspline_basis(t, knots, k), (x,))


def test_curve_to_coef_round_trip():
    gen = torch.Generator().manual_seed(2)
    knots = extend_grid(random_grid(2, 8, gen), 3)
    coef = torch.randn(2, 3, 10, generator=gen, dtype=torch.float64)
    x = torch.rand(500, 2, generator=gen, dtype=torch.float64) * 1.8 - 0.9
    y = coef_to_curve(x, knots, coef, 3)
    fitted = curve_to_coef(x, y, knots, 3)
    assert_close(coef_to_curve(x, knots, fitted, 3), y, atol=1e-5, rtol=0)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_basis_uniform_fast_path_matches_cox_de_boor(k):
    grid = torch.linspace(-1.5, 2.0, 8, dtype=torch.float64).expand(2, 8).contiguous()
    knots = extend_grid(grid, k)
    table = BasisTable(knots, k)
    assert table.uniform
    x = (torch.rand(300, 2, dtype=torch.float64) * 7 - 3).requires_grad_()
    assert_close(
        bspline_basis(x, knots, k, table), cox_de_boor(x.detach(), knots, k), atol=1e-12, rtol=0
    )
    assert torch.autograd.gradcheck(
        lambda t: bspline_basis(t, knots, k, table), (x[:40].detach().requires_grad_(),)
    )


@pytest.mark.parametrize("k", [1, 3])
def test_basis_uniform_interior_points_match_cox_de_boor(k):
    # all points inside the grid range take the unmasked path
    grid = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).expand(3, 6).contiguous()
    knots = extend_grid(grid, k)
    table = BasisTable(knots, k)
    gen = torch.Generator().manual_seed(k)
    x = (torch.rand(200, 3, generator=gen, dtype=torch.float64) * 1.98 - 0.99).requires_grad_()
    expected = cox_de_boor(x.detach(), knots, k)
    assert_close(bspline_basis(x, knots, k, table), expected, atol=1e-12, rtol=0)
    assert torch.autograd.gradcheck(
        lambda t: bspline_basis(t, knots, k, table), (x[:30].detach().requires_grad_(),)
    )
