"""Symbolic regression for KAN edges: library, affine fit, ranking, formula parsing."""

from .fit import Candidate, FitResult, fit_library, fit_params, suggest
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

__all__ = [
    "Candidate",
    "FitResult",
    "SymbolicFunction",
    "add_symbolic",
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
