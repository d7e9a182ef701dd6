"""Runs of an L-BFGS optimiser on a function of one flat tensor, shared by the optimiser
tests (test_lbfgs, test_line_search)."""

from __future__ import annotations

from collections.abc import Callable

import torch

Fn = Callable[[torch.Tensor], torch.Tensor]


def lbfgs_run(
    opt_cls, fn: Fn, x0: torch.Tensor, steps: int, **kw
) -> list[tuple[float, torch.Tensor]]:
    """``steps`` steps of ``opt_cls`` (strong-Wolfe line search) on ``fn`` from ``x0``:
    (the loss each step returns, the parameters after it)."""
    p = x0.clone().requires_grad_(True)
    opt = opt_cls([p], line_search_fn="strong_wolfe", **kw)

    def closure():
        opt.zero_grad()
        v = fn(p)
        v.backward()
        return v

    return [(float(opt.step(closure).detach()), p.detach().clone()) for _ in range(steps)]


def value_and_grad(fn: Fn) -> Callable[[torch.Tensor], tuple[float, torch.Tensor]]:
    """``x -> (fn(x), grad fn(x))``: the objective the C engine's ``step`` takes."""

    def f(x):
        x = x.detach().clone().requires_grad_(True)
        v = fn(x)
        (g,) = torch.autograd.grad(v, x)
        return float(v.detach()), g

    return f
