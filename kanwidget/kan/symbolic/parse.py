"""Whitelist parser: formula text -> sympy expression, without ``eval``/``sympify`` of text.

The text is parsed by Python's ``ast`` module and the tree is walked node by node; only
numbers, variables, whitelisted functions and constants, the operators ``+ - * / **`` (and
``^`` as power, like sympy's ``convert_xor``) and unary ``+``/``-`` are accepted.  Anything
else (attribute access, calls of other names, subscripts, lambdas, strings, keywords, ...)
raises ``ValueError`` naming the offending piece, so formula strings from notebooks or the
browser can be parsed safely.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from typing import Any

import sympy

MAX_LENGTH = 2000
MAX_DEPTH = 200
MAX_EXPONENT = 100  # numeric exponents beyond this are refused (9**9**9 would hang sympy)

FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "Abs": sympy.Abs,
    "sign": sympy.sign,
    "sgn": sympy.sign,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "arcsin": sympy.asin,
    "asin": sympy.asin,
    "arccos": sympy.acos,
    "acos": sympy.acos,
    "arctan": sympy.atan,
    "atan": sympy.atan,
    "arcsinh": sympy.asinh,
    "asinh": sympy.asinh,
    "arccosh": sympy.acosh,
    "acosh": sympy.acosh,
    "arctanh": sympy.atanh,
    "atanh": sympy.atanh,
    "gaussian": lambda x: sympy.exp(-(x**2)),
}
CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "E": sympy.E, "e": sympy.E}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def parse_formula(
    text: str,
    variables: Sequence[str | sympy.Symbol] | None = None,
) -> sympy.Expr:
    """Parse formula text into a sympy expression using a whitelist.

    Parameters
    ----------
    text : e.g. ``"exp(sin(pi*x0) + x1**2)"`` (at most 2000 characters)
    variables : allowed variable names (strings or sympy symbols).  None accepts any plain
        identifier that is not a function or constant name (letters, digits, ``_``; no
        leading underscore).  A variable named like a constant (e.g. ``e``) shadows it.

    Returns
    -------
    sympy expression; each variable becomes ``sympy.Symbol(name)`` (or the given symbol).

    Raises
    ------
    ValueError
        for anything outside the whitelist, unknown names, text longer than 2000
        characters, nesting deeper than 200 levels, or numeric exponents above 100.
    """
    if not isinstance(text, str):
        raise ValueError(f"formula must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula is {len(text)} characters long; at most {MAX_LENGTH} allowed")
    if not text.strip():
        raise ValueError("formula is empty")
    symbols = _variable_symbols(variables)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"formula {_short(text)} is not a valid expression: {exc}") from None
    builder = _Builder(symbols, allow_any=variables is None)
    try:
        return builder.build(tree.body, 0)
    except RecursionError:
        raise ValueError(f"formula {_short(text)} is nested too deeply") from None


def _variable_symbols(variables: Sequence[str | sympy.Symbol] | None) -> dict[str, sympy.Symbol]:
    symbols: dict[str, sympy.Symbol] = {}
    for v in variables or []:
        sym = v if isinstance(v, sympy.Symbol) else sympy.Symbol(str(v))
        name = sym.name
        if not _IDENTIFIER.match(name):
            raise ValueError(f"variable name {name!r} must be letters, digits and '_'")
        if name in FUNCTIONS:
            raise ValueError(f"variable name {name!r} clashes with the function {name}()")
        symbols[name] = sym
    return symbols


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


class _Builder:
    """Walks an ``ast`` expression tree and builds the sympy expression bottom-up."""

    def __init__(self, symbols: dict[str, sympy.Symbol], allow_any: bool):
        self.symbols = symbols
        self.allow_any = allow_any

    def build(self, node: ast.AST, depth: int) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise ValueError(f"formula is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return self._number(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self._binary(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        raise ValueError(f"{_describe(node)} is not allowed in a formula")

    def _number(self, value: object) -> sympy.Expr:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"only numbers are allowed as constants, got {value!r}")
        if isinstance(value, int):
            return sympy.Integer(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"constant {value!r} is not a finite number")
        return sympy.Float(value)

    def _name(self, name: str) -> sympy.Expr:
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise ValueError(f"function {name!r} must be called, e.g. {name}(x)")
        if self.allow_any and _IDENTIFIER.match(name):
            sym = sympy.Symbol(name)
            self.symbols[name] = sym
            return sym
        allowed = ", ".join(self.symbols) or "none"
        raise ValueError(f"unknown name {name!r} in formula; variables: {allowed}")

    def _binary(self, node: ast.BinOp, depth: int) -> sympy.Expr:
        left = self.build(node.left, depth + 1)
        right = self.build(node.right, depth + 1)
        op = node.op
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            if right == 0:
                raise ValueError("division by zero in formula")
            return left / right
        if isinstance(op, (ast.Pow, ast.BitXor)):
            if right.is_Number and abs(float(right)) > MAX_EXPONENT:
                raise ValueError(f"exponent {right} is too large (at most {MAX_EXPONENT})")
            if left == 0 and right.is_Number and float(right) < 0:
                raise ValueError("zero to a negative power in formula")
            return left**right
        raise ValueError(f"operator {type(op).__name__} is not allowed; use + - * / **")

    def _call(self, node: ast.Call, depth: int) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise ValueError(
                f"{_describe(node.func)} is not allowed in a formula; only whitelisted "
                "functions such as sin(x) can be called"
            )
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ValueError(f"function {name!r} is not allowed; allowed: {allowed}")
        if node.keywords or len(node.args) != 1:
            raise ValueError(f"{name}() takes exactly one positional argument")
        return FUNCTIONS[name](self.build(node.args[0], depth + 1))


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.ListComp: "comprehension",
        ast.GeneratorExp: "comprehension",
        ast.DictComp: "comprehension",
        ast.SetComp: "comprehension",
        ast.Compare: "comparison",
        ast.BoolOp: "boolean operator",
        ast.IfExp: "conditional expression",
        ast.NamedExpr: "assignment",
        ast.Starred: "starred expression",
        ast.JoinedStr: "f-string",
    }
    for kind, label in kinds.items():
        if isinstance(node, kind):
            return label
    return type(node).__name__
