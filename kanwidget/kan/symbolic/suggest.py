"""``suggest``: rank library functions for one edge's samples and package the answers.

Each :class:`Candidate` carries what the widget's symbolic panel shows: the name, true
R^2, complexity, (a, b, c, d), a sympy formula and the fitted curve sampled over the data
range.  The fit is :func:`fit.fit_library`; the order is :func:`rank.rank_candidates`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sympy
import torch
from torch import Tensor

from .fit import fit_library
from .library import get_function, resolve_names
from .rank import rank_candidates

_X = sympy.Symbol("x")
CURVE_POINTS = 64


@dataclasses.dataclass
class Candidate:
    """One suggestion for an edge: ``c * f(a x + b) + d`` with its quality.

    Attributes
    ----------
    name : library function name
    r2 : 1 - SS_res / SS_tot on the samples
    complexity : library complexity of ``name``
    params : (a, b, c, d)
    formula : sympy expression in ``x``
    curve_x, curve_y : (64,) float64 curve over the data range, for plotting
    pareto : True if no other candidate is at least as simple and more accurate
    eligible : True if its R^2 is within the ranking tolerance of the best one
    valid : False if ``a x + b`` leaves the function's domain on the samples (e.g. log of a
        negative number: the torch function clamps, the formula would not match)
    """

    name: str
    r2: float
    complexity: float
    params: tuple[float, float, float, float]
    formula: sympy.Expr
    curve_x: Tensor
    curve_y: Tensor
    pareto: bool = False
    eligible: bool = False
    valid: bool = True

    def curve(self, xs: Tensor) -> Tensor:
        """``c f(a xs + b) + d`` with the library's torch function, shape of ``xs``."""
        return evaluate(self.name, self.params, xs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (floats, lists, formula text)."""
        return {
            "name": self.name,
            "r2": self.r2,
            "complexity": self.complexity,
            "params": list(self.params),
            "formula": str(self.formula),
            "pareto": self.pareto,
            "eligible": self.eligible,
            "valid": self.valid,
        }


def evaluate(name: str, params: Sequence[float] | Tensor, xs: Tensor) -> Tensor:
    """``c f(a xs + b) + d`` for library function ``name``; same shape and dtype as ``xs``."""
    a, b, c, d = (float(p) for p in params)
    return c * get_function(name).torch_fn(a * xs + b) + d


def affine_formula(name: str, params: Sequence[float], var: sympy.Symbol = _X) -> sympy.Expr:
    """sympy ``c f(a var + b) + d`` (factors of exactly 1 and terms of exactly 0 omitted)."""
    a, b, c, d = (float(p) for p in params)
    arg = _scaled(a, var) + (sympy.Float(b) if b != 0 else 0)
    inner = get_function(name).sympy_fn(arg)
    return _scaled(c, inner) + (sympy.Float(d) if d != 0 else 0)


def _scaled(factor: float, expr: Any) -> Any:
    if factor == 1:
        return expr
    if factor == -1:
        return -expr
    return sympy.Float(factor) * expr


def suggest(
    x: Tensor,
    y: Tensor,
    lib: Any = None,
    topk: int = 5,
    weight_simple: float = 0.8,
) -> list[Candidate]:
    """Rank library functions for the samples ``y ~ c f(a x + b) + d``.

    Parameters
    ----------
    x, y : (N,) samples of one edge (non-finite pairs are dropped)
    lib : None (all functions except aliases), a name or a list of names
    topk : number of candidates returned
    weight_simple : 0 = rank purely by R^2; larger values accept a simpler function whose
        unexplained variance ``1 - R^2`` is at most ``1 / (1 - weight_simple)`` times the
        best one's (1 = always the simplest); see :func:`rank.rank_candidates`

    Returns
    -------
    list of :class:`Candidate`, best first.
    """
    names = resolve_names(lib)
    result = fit_library(x, y, names)
    complexity = [float(get_function(n).complexity) for n in names]
    r2 = result.r2.tolist()
    valid = result.valid.tolist()
    order, pareto, eligible = rank_candidates(r2, complexity, weight_simple, valid)
    lo, hi = result.x_range
    curve_x = torch.linspace(lo, hi, CURVE_POINTS, dtype=torch.float64)
    out = []
    for k in order[: max(int(topk), 1)]:
        params = tuple(float(p) for p in result.params[k])
        assert len(params) == 4
        out.append(
            Candidate(
                name=names[k],
                r2=r2[k],
                complexity=complexity[k],
                params=params,  # type: ignore[arg-type]
                formula=affine_formula(names[k], params),
                curve_x=curve_x,
                curve_y=evaluate(names[k], params, curve_x),
                pareto=pareto[k],
                eligible=eligible[k],
                valid=valid[k],
            )
        )
    return out
