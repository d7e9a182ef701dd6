"""Candidates, their complexity, the Pareto front and the rule that picks ``best``.

Complexity is the number of nodes of the formula's sympy expression tree
(``len(list(sympy.preorder_traversal(expr)))``: every symbol, number, operator and function
counts once), so ``3*a*b**2/c`` scores 9 and ``a + b`` scores 3.

The front keeps a candidate when no other candidate is at most as complex *and* strictly more
accurate on the held-out split.  ``choose_best`` takes the simplest front candidate whose
held-out relative RMSE is within ``factor`` (1.5) of the lowest one or below the absolute floor
``exact`` (1e-6, where float32 labels already limit the error): among exact fits the
simplest wins, otherwise a simpler formula may cost at most 50% more error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

BEST_FACTOR = 1.5
EXACT_FLOOR = 1e-6


def complexity(expr: sympy.Expr) -> int:
    """Number of nodes of the sympy expression tree."""
    return len(list(sympy.preorder_traversal(expr)))


@dataclass
class Candidate:
    """A formula checked on held-out data.

    Attributes
    ----------
    formula : sympy expression in the discovery's variables
    complexity : node count of ``formula`` (see module docstring)
    test_rmse : RMSE on the held-out split (units of the target)
    r2 : 1 - SS_res / SS_tot on the held-out split
    rel_rmse : ``test_rmse / std(test target)``
    source : which strategy produced it (e.g. ``'power law'``, ``'sparse sum'``, ``'kan'``)
    universe : version id in ``Discovery.history`` of the KAN it came from, or None
    model : that KAN, or None
    """

    formula: sympy.Expr
    complexity: int
    test_rmse: float
    r2: float
    rel_rmse: float
    source: str
    universe: str | None = None
    model: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        where = f", universe={self.universe}" if self.universe else ""
        return (
            f"Candidate({self.formula}, complexity={self.complexity}, "
            f"test_rmse={self.test_rmse:.3g}, r2={self.r2:.6g}, source={self.source!r}{where})"
        )


def pareto_front(cands: list[Candidate]) -> list[Candidate]:
    """Non-dominated candidates, simplest first (ties: the more accurate kept)."""
    ordered = sorted(cands, key=lambda c: (c.complexity, c.test_rmse))
    front: list[Candidate] = []
    best = np.inf
    for c in ordered:
        if c.test_rmse < best:
            front.append(c)
            best = c.test_rmse
    return front


def choose_best(
    front: list[Candidate], factor: float = BEST_FACTOR, exact: float = EXACT_FLOOR
) -> Candidate:
    """The simplest front candidate with ``rel_rmse <= max(factor * min rel_rmse, exact)``."""
    if not front:
        raise ValueError("no candidate formula was found")
    lowest = min(c.rel_rmse for c in front)
    limit = max(factor * lowest, exact)
    return min((c for c in front if c.rel_rmse <= limit), key=lambda c: (c.complexity, c.rel_rmse))
