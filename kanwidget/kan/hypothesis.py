"""Hypothesis tests on a learned function (KAN 2.0, section 4): is it separable, and which
inputs enter only through one combination?

All tests read derivatives of ``f`` on samples ``x``: the gradient by autograd and the
Hessian by central differences of that gradient (the spline kernels give first
derivatives; differences of them are accurate to ~1e-5 relative in float32, ~1e-10 in
float64).  Scores are dimensionless: inputs are measured in units of their sample std and
the output in units of its own, so thresholds mean the same thing for every data set.

- ``interaction_scores``: ``median |d2f / dx_i dx_j| std_i std_j / std_f`` per pair; zero
  for every pair across the groups of an additively separable ``f = g(x_A) + h(x_B)``
  (``mode='mul'``: the same on ``log|f + bias|``, so ``f = g(x_A) h(x_B)``).
- ``test_separability``, ``detect_separability`` (groups = connected components of the
  pairs that interact).
- ``dependence_scores`` / ``test_symmetry(group)``: does the direction of the gradient
  within ``group`` depend on the other inputs?  No exactly when ``f = F(g(x_group), rest)``,
  e.g. ``x0**2 * (x1 + x2)`` is symmetric in ``[1, 2]``.
- ``test_general_separability(groups)``: ``f = F(g_1(x_G1), g_2(x_G2), ...)``, i.e. every
  group passes ``test_symmetry``.
- ``symmetry_tree`` / ``describe_tree``: the nesting of such groups, e.g. ``*(x0, F(x1, x2))``
  (a tree converter in the spirit of pykan's ``plot_tree``, as text).

``fn`` is a KAN (evaluated without touching its cached input or history) or any callable
``(B, n) -> (B,)`` or ``(B, m)`` (pick a column with ``output``).  pykan's names and
argument order are kept; its scores are not normalised by the output's std.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from .names import input_name

Fn = Callable[[Tensor], Tensor] | Any


def _scalar_fn(fn: Fn, output: int | None) -> Callable[[Tensor], Tensor]:
    from .network import KAN

    call = (lambda x: fn._forward(x)[0]) if isinstance(fn, KAN) else fn

    def f(x: Tensor) -> Tensor:
        y = call(x)
        if not isinstance(y, Tensor) or y.shape[0] != x.shape[0]:
            raise ValueError("fn must map (B, n) inputs to a (B,) or (B, m) tensor")
        if y.dim() == 1:
            return y
        if y.dim() != 2:
            raise ValueError(f"fn returned shape {tuple(y.shape)}; expected (B,) or (B, m)")
        if output is None:
            if y.shape[1] != 1:
                raise ValueError(f"fn has {y.shape[1]} outputs; choose one with output=j")
            return y[:, 0]
        if not 0 <= output < y.shape[1]:
            raise ValueError(f"output {output} out of range for {y.shape[1]} outputs")
        return y[:, output]

    return f


def _check_x(fn: Fn, x: Tensor) -> Tensor:
    from .network import KAN

    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[0] < 2:
        raise ValueError("x must be a (B, n) tensor of samples with B >= 2")
    if not torch.is_floating_point(x) or not bool(torch.isfinite(x).all()):
        raise ValueError("x must be floating point without NaN/inf")
    if isinstance(fn, KAN):
        x = fn.check_input(x)
    return x.detach()


def _check_groups(groups: Sequence[Sequence[int]], n: int) -> list[list[int]]:
    seen: set[int] = set()
    out = []
    for g in groups:
        g = [int(i) for i in g]
        if not g:
            raise ValueError("groups must not be empty")
        for i in g:
            if not 0 <= i < n:
                raise ValueError(f"input index {i} out of range for {n} inputs")
            if i in seen:
                raise ValueError(f"input {i} appears in more than one group")
            seen.add(i)
        out.append(g)
    return out


def derivatives(fn: Fn, x: Tensor, output: int | None = None):
    """``(f (B,), grad (B, n), hessian (B, n, n))`` of ``fn`` at the samples ``x``."""
    x = _check_x(fn, x)
    f = _scalar_fn(fn, output)

    def grad_at(z: Tensor) -> tuple[Tensor, Tensor]:
        z = z.clone().requires_grad_(True)
        with torch.enable_grad():
            y = f(z)
            (g,) = torch.autograd.grad(y.sum(), z)
        return y.detach(), g.detach()

    y, g = grad_at(x)
    n = x.shape[1]
    # step per input: cbrt(eps) in units of the input's spread balances truncation (h^2)
    # against rounding (eps / h)
    scale = x.std(0).clamp_min(1e-3 * (x.abs().amax(0) + 1))
    h = torch.finfo(x.dtype).eps ** (1 / 3) * scale
    hess = x.new_empty(x.shape[0], n, n)
    for i in range(n):
        e = torch.zeros_like(x)
        e[:, i] = h[i]
        hess[:, :, i] = (grad_at(x + e)[1] - grad_at(x - e)[1]) / (2 * h[i])
    return y, g, 0.5 * (hess + hess.transpose(1, 2))


def _log_abs(fn: Fn, output: int | None, bias: float) -> Callable[[Tensor], Tensor]:
    f = _scalar_fn(fn, output)
    return lambda x: torch.log(torch.abs(f(x) + bias))


def interaction_scores(
    fn: Fn, x: Tensor, mode: str = "add", bias: float = 0.0, output: int | None = None
) -> Tensor:
    """``(n, n)`` dimensionless interaction of each pair of inputs (diagonal: zero):
    ``median_b |H_ij| std_i std_j / std(f)``; on ``log|f + bias|`` for ``mode='mul'``."""
    if mode not in ("add", "mul"):
        raise ValueError(f"mode must be 'add' or 'mul', got {mode!r}")
    target = fn if mode == "add" else _log_abs(fn, output, bias)
    y, _, hess = derivatives(target, x, output if mode == "add" else None)
    return _interaction(y, hess, x.detach().std(0))


def _interaction(y: Tensor, hess: Tensor, std: Tensor) -> Tensor:
    if not bool(torch.isfinite(hess).all()):
        raise ValueError("the function (or log|f + bias|) is not finite on x; for mode='mul' "
                         "choose a bias that keeps f + bias away from 0")  # fmt: skip
    spread = y.std().clamp_min(torch.finfo(y.dtype).tiny)
    scores = hess.abs().median(0).values * std[:, None] * std[None, :] / spread
    scores.fill_diagonal_(0)
    return scores


def _separable(scores: Tensor, groups: list[list[int]], threshold: float) -> bool:
    """Every pair of inputs in different groups scores below ``threshold``."""
    for a, ga in enumerate(groups):
        for gb in groups[a + 1 :]:
            if bool((scores[ga][:, gb] >= threshold).any()):
                return False
    return True


def test_separability(
    fn: Fn,
    x: Tensor,
    groups: Sequence[Sequence[int]],
    mode: str = "add",
    threshold: float = 1e-2,
    bias: float = 0.0,
    output: int | None = None,
) -> bool:
    """Whether ``f = g_1(x_G1) + g_2(x_G2) + ...`` (``mode='mul'``: a product): every pair
    of inputs in different groups scores below ``threshold`` (inputs in no group are free)."""
    groups = _check_groups(groups, x.shape[1])
    return _separable(interaction_scores(fn, x, mode, bias, output), groups, threshold)


def detect_separability(
    fn: Fn,
    x: Tensor,
    mode: str = "add",
    threshold: float = 1e-2,
    bias: float = 0.0,
    output: int | None = None,
) -> list[list[int]]:
    """The finest split into separable groups: connected components of the graph whose
    edges are the pairs scoring at least ``threshold``."""
    scores = interaction_scores(fn, x, mode, bias, output)
    n = scores.shape[0]
    linked = (scores >= threshold).tolist()
    group_of = [-1] * n
    groups: list[list[int]] = []
    for start in range(n):
        if group_of[start] >= 0:
            continue
        stack, members = [start], []
        group_of[start] = len(groups)
        while stack:
            i = stack.pop()
            members.append(i)
            for j in range(n):
                if linked[i][j] and group_of[j] < 0:
                    group_of[j] = len(groups)
                    stack.append(j)
        groups.append(sorted(members))
    return groups


def dependence_scores(fn: Fn, x: Tensor, group: Sequence[int], output: int | None = None):
    """``(len(group), n - len(group))``: how much the direction of the gradient within
    ``group`` (inputs in std units) moves with each other input, ``median |du_i / dz_j|``."""
    (group,) = _check_groups([group], x.shape[1])
    _, grad, hess = derivatives(fn, x, output)
    return _dependence(grad, hess, x.detach().std(0), group)


def _dependence(grad: Tensor, hess: Tensor, std: Tensor, group: list[int]) -> Tensor:
    rest = [j for j in range(grad.shape[1]) if j not in group]
    g = grad[:, group] * std[group]  # gradient in std units, (B, |A|)
    norm = g.norm(dim=1, keepdim=True).clamp_min(torch.finfo(g.dtype).tiny)
    u = g / norm
    # d g_a / d z_j = H_aj std_a std_j; du/dz = (dg - u (u . dg)) / |g|
    dg = hess[:, group][:, :, rest] * std[group][None, :, None] * std[rest][None, None, :]
    du = (dg - u[:, :, None] * (u[:, :, None] * dg).sum(1, keepdim=True)) / norm[:, :, None]
    return du.abs().median(0).values


def test_symmetry(
    fn: Fn, x: Tensor, group: Sequence[int], threshold: float = 1e-3, output: int | None = None
) -> bool:
    """Whether ``f = F(g(x_group), other inputs)``: the gradient's direction within
    ``group`` does not depend on the other inputs.  A single input or all inputs: True."""
    (group,) = _check_groups([group], x.shape[1])
    if len(group) in (1, x.shape[1]):
        return True
    return bool((dependence_scores(fn, x, group, output) < threshold).all())


def test_general_separability(
    fn: Fn,
    x: Tensor,
    groups: Sequence[Sequence[int]],
    threshold: float = 1e-2,
    output: int | None = None,
) -> bool:
    """Whether ``f = F(g_1(x_G1), g_2(x_G2), ...)``: each group enters through one function
    (every group passes :func:`test_symmetry` at ``threshold``)."""
    groups = _check_groups(groups, x.shape[1])
    return all(test_symmetry(fn, x, g, threshold, output) for g in groups)


Tree = int | list  # an input index, or a list of subtrees


SYMMETRY_THRESHOLD = 1e-3  # default of symmetry_tree (and of describe_tree's tree)


def symmetry_tree(
    fn: Fn, x: Tensor, threshold: float = SYMMETRY_THRESHOLD, output: int | None = None
) -> list[Tree]:
    """How the inputs combine: nested groups, each entering ``f`` through one function of its
    members (a group that passes :func:`test_symmetry`), e.g. ``[0, [1, 2]]`` for
    ``exp(x0) * (1 + (x1 + x2)**2)`` and ``[[0, 1], [2, 3]]`` for
    ``(x0**2 + x1**2)**2 + (x2**2 + x3**2)**2``.

    Built bottom-up from single inputs: repeatedly merge the two groups whose union is the
    smallest symmetric group (ties: the lowest input index), until only groups remain
    whose pairwise unions are not symmetric; those are the root's children.  One pass of
    derivatives serves every test.  (pykan's ``plot_tree`` draws a similar hierarchy.)
    """
    x = _check_x(fn, x)
    _, grad, hess = derivatives(fn, x, output)
    return _tree(grad, hess, x.std(0), threshold)


def _tree(grad: Tensor, hess: Tensor, std: Tensor, threshold: float) -> list[Tree]:
    nodes: list[tuple[list[int], Tree]] = [([i], i) for i in range(grad.shape[1])]
    while len(nodes) > 2:
        best = None
        for a in range(len(nodes)):
            for b in range(a + 1, len(nodes)):
                members = sorted(nodes[a][0] + nodes[b][0])
                if float(_dependence(grad, hess, std, members).max()) < threshold:
                    key = (len(members), min(members), a, b)
                    best = key if best is None or key < best else best
        if best is None:
            break
        _, _, a, b = best
        first, second = sorted((nodes[a], nodes[b]), key=lambda node: node[0][0])
        merged = (sorted(first[0] + second[0]), [first[1], second[1]])
        nodes = [node for k, node in enumerate(nodes) if k not in (a, b)] + [merged]
    nodes.sort(key=lambda node: node[0][0])
    return [node[1] for node in nodes]


def _members(tree: Tree) -> list[int]:
    return [tree] if isinstance(tree, int) else [i for t in tree for i in _members(t)]


def describe_tree(
    fn: Fn,
    x: Tensor,
    tree: list[Tree] | None = None,
    names: Sequence[str] | None = None,
    threshold: float = 1e-2,
    output: int | None = None,
) -> str:
    """The tree as text, the root labelled by how its children combine: ``+`` (additively
    separable), ``*`` (multiplicatively) or ``F`` (neither), e.g. ``*(x_1, F(x_2, x_3))``;
    inner groups are ``F(...)``: one function of their members."""
    x = _check_x(fn, x)
    names = [input_name(i) for i in range(x.shape[1])] if names is None else list(names)
    if len(names) != x.shape[1]:
        raise ValueError(f"names has {len(names)} entries for {x.shape[1]} inputs")
    y, grad, hess = derivatives(fn, x, output)  # for the tree and the additive test
    std = x.std(0)
    tree = _tree(grad, hess, std, SYMMETRY_THRESHOLD) if tree is None else tree

    def text(t: Tree) -> str:
        return names[t] if isinstance(t, int) else "F(" + ", ".join(text(c) for c in t) + ")"

    groups = [_members(t) for t in tree]
    label = "F"
    if len(groups) > 1:
        if _separable(_interaction(y, hess, std), groups, threshold):
            label = "+"
        else:
            try:
                if test_separability(fn, x, groups, "mul", threshold, output=output):
                    label = "*"
            except ValueError:  # f is 0 at a sample: log|f| undefined there
                pass
    return label + "(" + ", ".join(text(c) for c in tree) + ")"


# pytest would collect these as tests wherever they are imported by name
for _f in (test_separability, test_symmetry, test_general_separability):
    _f.__test__ = False  # type: ignore[union-attr]
