"""Symbolic regression for KAN edges: library, affine fit, ranking, formula parsing."""

from .fit import FitResult, fit_library, fit_params
from .library import (
    SymbolicFunction,
    add_symbolic,
    get_function,
    get_library,
    library_state,
    load_library_state,
    remove_symbolic,
)
from .parse import parse_formula
from .suggest import Candidate, evaluate, suggest

__all__ = [
    "Candidate",
    "FitResult",
    "SymbolicFunction",
    "add_symbolic",
    "evaluate",
    "fit_library",
    "fit_params",
    "get_function",
    "get_library",
    "library_state",
    "load_library_state",
    "parse_formula",
    "remove_symbolic",
    "suggest",
]
