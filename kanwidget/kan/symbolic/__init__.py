"""Symbolic regression for KAN edges: library, affine fit, ranking, formula parsing."""

from .fit import FitResult, fit_library, fit_params
from .formula import ex_round, round_numbers, symbolic_formula
from .library import (
    SymbolicFunction,
    add_symbolic,
    get_function,
    get_library,
    library_state,
    load_library_state,
    remove_symbolic,
)
from .ops import auto_symbolic, fix_symbolic, suggest_symbolic, unfix_symbolic
from .parse import parse_formula
from .suggest import Candidate, evaluate, suggest

__all__ = [
    "Candidate",
    "FitResult",
    "SymbolicFunction",
    "add_symbolic",
    "auto_symbolic",
    "evaluate",
    "ex_round",
    "fit_library",
    "fit_params",
    "fix_symbolic",
    "get_function",
    "get_library",
    "library_state",
    "load_library_state",
    "parse_formula",
    "remove_symbolic",
    "round_numbers",
    "suggest",
    "suggest_symbolic",
    "symbolic_formula",
    "unfix_symbolic",
]
