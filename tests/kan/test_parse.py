"""Whitelist formula parser: builds the right sympy expression, refuses everything else."""

from __future__ import annotations

import pytest
import sympy

from kanwidget.kan.symbolic.parse import parse_formula

x0, x1, x, y = sympy.symbols("x0 x1 x y")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("exp(sin(pi*x0) + x1**2)", sympy.exp(sympy.sin(sympy.pi * x0) + x1**2)),
        ("x0 - 2*x1/3", x0 - sympy.Rational(2, 3) * x1),
        ("-x0**2 + +x1", -(x0**2) + x1),
        ("x0^3", x0**3),
        ("sqrt(x0)*log(x1)", sympy.sqrt(x0) * sympy.log(x1)),
        ("arcsin(x0) + asin(x1)", sympy.asin(x0) + sympy.asin(x1)),
        ("arctanh(x0)*atan(x1)", sympy.atanh(x0) * sympy.atan(x1)),
        ("abs(x0) + sgn(x1) + tanh(x0)", sympy.Abs(x0) + sympy.sign(x1) + sympy.tanh(x0)),
        ("E**x0 + 2.5", sympy.exp(x0) + sympy.Float(2.5)),
        ("cos(x0)/(1 + x1**2)", sympy.cos(x0) / (1 + x1**2)),
        ("gaussian(x0)", sympy.exp(-(x0**2))),
        ("x0**x1", x0**x1),
    ],
)
def test_parse_builds_expected_expression(text, expected):
    got = parse_formula(text, ["x0", "x1"])
    assert sympy.simplify(got - expected) == 0
    assert got.free_symbols <= {x0, x1}


def test_parse_uses_given_symbols():
    a = sympy.Symbol("a", positive=True)
    assert parse_formula("a**2 + 1", [a]) == a**2 + 1


def test_parse_without_variable_list_accepts_plain_identifiers():
    assert parse_formula("x*y + e") == x * y + sympy.E


def test_parse_variable_shadows_constant():
    e = sympy.Symbol("e")
    assert parse_formula("e + 1", ["e"]) == e + 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('x')", "not allowed"),
        ("x0.__class__", "attribute access is not allowed"),
        ("(lambda: 1)()", "not allowed"),
        ("x0[0]", "subscript is not allowed"),
        ("[x0 for x0 in (1,)]", "comprehension is not allowed"),
        ("'abc'", "only numbers"),
        ("open('f')", "function 'open' is not allowed"),
        ("eval('1')", "function 'eval' is not allowed"),
        ("sin(x0, x1)", "exactly one positional argument"),
        ("sin(x=x0)", "exactly one positional argument"),
        ("x0 if x1 else 1", "conditional expression is not allowed"),
        ("x0 < x1", "comparison is not allowed"),
        ("x0 and x1", "boolean operator is not allowed"),
        ("x0 // x1", "operator FloorDiv is not allowed"),
        ("x0 % 2", "operator Mod is not allowed"),
        ("(y := 2)", "assignment is not allowed"),
        ("z + 1", "unknown name 'z'"),
        ("sin + 1", "must be called"),
        ("9**9**9", "exponent .* too large"),
        ("x0 +", "not a valid expression"),
        ("", "empty"),
        ("x0 + " * 600 + "1", "characters long"),
        ("(" * 250 + "x0" + ")" * 250, "nested|not a valid"),
        ("-" * 300 + "x0", "nested"),
        ("sin(" * 250 + "x0" + ")" * 250, "nested|not a valid"),
        ("1/0", "division by zero"),
        ("True + x0", "only numbers"),
        ("1j*x0", "only numbers"),
        ("f'{x0}'", "f-string is not allowed"),
    ],
)
def test_parse_refuses_non_whitelisted_text(text, message):
    with pytest.raises(ValueError, match=message):
        parse_formula(text, ["x0", "x1"])


def test_parse_redundant_parentheses_are_harmless():
    assert parse_formula("(" * 100 + "x0" + ")" * 100, ["x0"]) == x0


def test_parse_refuses_non_string():
    with pytest.raises(ValueError, match="must be a string"):
        parse_formula(3, ["x0"])  # type: ignore[arg-type]


def test_parse_refuses_bad_variable_names():
    with pytest.raises(ValueError, match="letters, digits"):
        parse_formula("x", ["__x"])
    with pytest.raises(ValueError, match="clashes"):
        parse_formula("x", ["sin"])
