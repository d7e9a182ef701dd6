"""Domains of the symbolic functions: keep ``a x + b`` where the formula equals the model.

The library's torch functions are singularity-safe: outside a function's domain they clamp
(``log`` of a negative number is ``log(1e-12)``), so training stays finite.  The sympy
formula does not clamp: where ``u = a x + b`` leaves the domain, ``symbolic_formula()`` is
complex or differs from ``model(x)`` (``sqrt(x + 0.59)`` for x in [-1, 1]; a ``log`` edge
trained into ``(a, b) = (1e-9, 3e-10)``).  The rule (issue 10) is that the formula equals
``model(x)`` on the data's range at all times, so:

* :func:`in_domain` says whether ``[u_min, u_max]`` lies in the *safe* region of a function
  (its real domain shrunk by a small margin, and away from where the torch version clamps);
* the affine fit (``fit.py``) only accepts (a, b) in that region, ``fix_symbolic`` refuses a
  fit outside it, and ``auto_symbolic`` never picks one;
* :func:`project_params` moves (a, b) back inside by the smallest change (shift b; shrink
  |a| only if the data's range cannot fit), and :func:`project_to_domain` does that for every
  symbolic edge of a model over the inputs each edge sees.  ``KAN.fit`` calls it after every
  optimiser step, so training cannot exploit a clamp (a projected-gradient method).

Regions (u = a x + b), margin ``_M = 1e-5``: ``sqrt``, ``x^1.5``: u >= _M; ``log``,
``1/sqrt(x)``: u >= _M; ``arcsin``, ``arccos``, ``arctanh``: |u| <= 1 - _M; ``exp``: u <= 40
(the clamp); ``1/x^n``: |u| >= r_n (the pole radius of the clamp, 1e-6 for 1/x ... 1e-2 for
1/x^5) on one side of 0; ``tan``: inside one branch, |cos u| >= _M.  Other built-ins and
user functions are unrestricted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from ..network import KAN

_M = 1e-5  # margin inside a domain's boundary: float32 rounding of a x + b stays inside
_INF = math.inf


@dataclass(frozen=True)
class Domain:
    """Safe region of ``u``: ``low <= u <= high``; with ``hole`` > 0 also ``|u| >= hole``
    on one side of 0; with ``periodic`` (tan) inside one branch ``(k - 1/2) pi .. (k + 1/2) pi``."""

    low: float = -_INF
    high: float = _INF
    hole: float = 0.0
    periodic: bool = False


def _pole_radius(n: float) -> float:  # as library._pole_radius (the clamp of 1/u**n)
    return 10.0 ** (-12.0 / (n + 1.0))


_DOMAINS: dict[str, Domain] = {
    "sqrt": Domain(low=_M), "x^0.5": Domain(low=_M), "x^1.5": Domain(low=_M),
    "log": Domain(low=_M), "1/sqrt(x)": Domain(low=_M), "1/x^0.5": Domain(low=_M),
    "arcsin": Domain(-1 + _M, 1 - _M), "arccos": Domain(-1 + _M, 1 - _M),
    "arctanh": Domain(-1 + _M, 1 - _M), "exp": Domain(high=40.0),
    "tan": Domain(periodic=True),
    **{f"1/x^{n}" if n > 1 else "1/x": Domain(hole=_pole_radius(n) * (1 + _M) + _M)
       for n in range(1, 6)},
}  # fmt: skip


def domain_of(name: str) -> Domain | None:
    """The safe region of library function ``name``, or None if it is unrestricted."""
    return _DOMAINS.get(name)


def in_domain(name: str, u_min: Tensor, u_max: Tensor) -> Tensor:
    """Whether ``[u_min, u_max]`` (same-shape tensors) lies in the safe region of ``name``."""
    dom = _DOMAINS.get(name)
    ok = torch.isfinite(u_min) & torch.isfinite(u_max)
    if dom is None:
        return ok
    ok = ok & (u_min >= dom.low) & (u_max <= dom.high)
    if dom.hole > 0:
        ok = ok & ((u_min >= dom.hole) | (u_max <= -dom.hole))
    if dom.periodic:  # one branch, |cos u| >= _M at both ends
        k_min = torch.floor((u_min + math.pi / 2) / math.pi)
        k_max = torch.floor((u_max + math.pi / 2) / math.pi)
        ok = ok & (k_min == k_max) & (torch.cos(u_min).abs() >= _M) & (torch.cos(u_max).abs() >= _M)
    return ok


def row_bounds(names: list[str], dtype: torch.dtype = torch.float64) -> Tensor:
    """Per-row ``(low, high, hole, periodic)`` of the functions ``names``, (R, 4)."""
    rows = []
    for name in names:
        dom = _DOMAINS.get(name) or Domain()
        rows.append((dom.low, dom.high, dom.hole, float(dom.periodic)))
    return torch.tensor(rows, dtype=dtype).reshape(-1, 4)


def in_bounds(bounds: Tensor, u_min: Tensor, u_max: Tensor) -> Tensor:
    """:func:`in_domain` for many rows at once: ``bounds`` from :func:`row_bounds` (R, 4),
    ``u_min``, ``u_max`` (R,)."""
    low, high, hole, periodic = bounds.unbind(-1)
    ok = torch.isfinite(u_min) & torch.isfinite(u_max) & (u_min >= low) & (u_max <= high)
    ok = ok & ((hole == 0) | (u_min >= hole) | (u_max <= -hole))
    k_min = torch.floor((u_min + math.pi / 2) / math.pi)
    k_max = torch.floor((u_max + math.pi / 2) / math.pi)
    branch = (k_min == k_max) & (torch.cos(u_min).abs() >= _M) & (torch.cos(u_max).abs() >= _M)
    return ok & ((periodic == 0) | branch)


def edge_in_domain(name: str, a: float, b: float, x_min: float, x_max: float) -> bool:
    """Whether ``a x + b`` stays in the safe region of ``name`` for x in [x_min, x_max]."""
    lo, hi = sorted((a * x_min + b, a * x_max + b))
    dom = _DOMAINS.get(name)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    if dom is None:
        return True
    if lo < dom.low or hi > dom.high:
        return False
    if dom.hole > 0 and not (lo >= dom.hole or hi <= -dom.hole):
        return False
    if dom.periodic:
        same = math.floor((lo + math.pi / 2) / math.pi) == math.floor((hi + math.pi / 2) / math.pi)
        return same and abs(math.cos(lo)) >= _M and abs(math.cos(hi)) >= _M
    return True


def project_params(
    name: str, a: float, b: float, x_min: float, x_max: float
) -> tuple[float, float]:
    """The (a, b) nearest to the given one (b shifted; |a| shrunk only when the range of
    ``a x`` is wider than the region) such that ``a x + b`` stays in the safe region of
    ``name`` for x in [x_min, x_max].  Unchanged if already inside or unrestricted."""
    dom = _DOMAINS.get(name)
    if dom is None or not (math.isfinite(a) and math.isfinite(b)):
        return a, b
    if edge_in_domain(name, a, b, x_min, x_max):
        return a, b
    low, high = dom.low, dom.high
    lo_u, hi_u = sorted((a * x_min + b, a * x_max + b))
    if dom.hole > 0:  # the side of 0 where the range's centre is
        if (lo_u + hi_u) / 2 >= 0:
            low = max(low, dom.hole)
        else:
            high = min(high, -dom.hole)
    if dom.periodic:  # the branch holding the range's centre
        k = math.floor(((lo_u + hi_u) / 2 + math.pi / 2) / math.pi)
        low, high = (k - 0.5) * math.pi + 2 * _M, (k + 0.5) * math.pi - 2 * _M
    span = abs(a) * (x_max - x_min)
    if math.isfinite(high - low) and span > (high - low) * (1 - 1e-6):
        a *= (high - low) * (1 - 1e-6) / span  # the widest range that fits, centred
        return a, (low + high) / 2 - a * (x_min + x_max) / 2
    slack = 1e-6 * (1 + abs(low if math.isfinite(low) else high))  # lands strictly inside
    if lo_u < low:
        b += low - lo_u + slack
    elif hi_u > high:
        b -= hi_u - high + slack
    return a, b


def restricted_edges(model: KAN) -> list[tuple[int, int, int, str]]:
    """Symbolic edges ``(l, i, j, name)`` that are on and whose function has a domain."""
    edges = []
    for l, layer in enumerate(model.layers):
        if not layer.has_symbolic:
            continue
        for i, row in enumerate(layer.sym_names):
            for j, name in enumerate(row):
                if name in _DOMAINS and float(layer.sym_mask[i, j]) != 0:
                    edges.append((l, i, j, name))
    return edges


def project_to_domain(model: KAN, x: Tensor | None = None) -> int:
    """Move every restricted symbolic edge's (a, b) into its safe region over the inputs
    the edge sees on ``x`` (default: the last fit's training input, else the cached input).

    Layers are done in order, each on the inputs produced by the already projected layers
    before it.  Call after each optimiser step (``KAN.fit`` does) so that ``model(x)`` and
    ``symbolic_formula()`` agree on the data at every step.

    Returns
    -------
    the number of edges moved (0 if every edge was inside, or there is no data).
    """
    edges = restricted_edges(model)
    if not edges:
        return 0
    if x is None:
        data = model._fit_data
        x = data["train_input"] if data is not None else model._last_input
        if x is None:
            return 0
        x = model._own_columns(x) if x.shape[1] != model.width[0][0] else x
        if x is None:
            return 0
    moved = 0
    with torch.no_grad():
        x = x.to(model.dtype)
        for l, layer in enumerate(model.layers):
            lo, hi = x.min(0).values, x.max(0).values
            for el, i, j, name in edges:
                if el != l:
                    continue
                a, b = (float(v) for v in layer.sym_params[i, j, :2])
                new = project_params(name, a, b, float(lo[i]), float(hi[i]))
                if new != (a, b):
                    layer.sym_params[i, j, 0] = new[0]
                    layer.sym_params[i, j, 1] = new[1]
                    moved += 1
            y = layer(x) * model.subnode_scale[l] + model.subnode_bias[l]
            x = model._multiply(l + 1, y) * model.node_scale[l] + model.node_bias[l]
    return moved


def domain_guard(model: KAN, callback=None):
    """A ``fit`` callback that projects the symbolic edges into their domains after each
    optimiser step (:func:`project_to_domain`), then calls ``callback`` (if any)."""

    def guarded(step: int, record: dict):
        project_to_domain(model)
        return None if callback is None else callback(step, record)

    return guarded
