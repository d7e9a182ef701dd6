"""kanpiler: a sympy expression -> a MultKAN that computes it exactly (KAN 2.0, section 3.3).

The expression tree is turned into nodes of a MultKAN, read top-down from the output:

- a sum becomes one subnode whose incoming edges are the terms (numbers go to its bias);
- a term ``c * f(a * u + b)`` with ``f`` in the symbolic library becomes one symbolic edge
  with parameters (a, b, c, 0) from the node computing ``u``;
- a product of k non-constant factors becomes a multiplication node of arity k, each factor
  a subnode (so ``a / b`` is ``a * (1/x)(b)``); an integer power beyond the library's
  ``x^5`` is a product of library powers, ``u**(m/2)`` a product with ``sqrt``, and
  other powers ``u**v`` are ``exp(v * log(u))``;
- a variable is an input node; when it is used higher up, identity edges (``x`` with
  (1, 0, 1, 0)) carry it up layer by layer, as pykan's kanpiler pads shallow branches.

Every used edge is symbolic (``sym_mask`` 1, numeric ``mask`` 0); every other edge has both
masks 0.  The model's history is 0.0 (init) and 0.1 (kanpiler).  ``expand_width``,
``expand_depth`` and ``perturb`` (in :mod:`.expansion`) make a compiled model trainable.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import sympy
import torch

from .expansion import expand_depth, expand_width, perturb
from .symbolic.parse import parse_formula

if TYPE_CHECKING:
    from .layer import KANLayer
    from .network import KAN

__all__ = ["expand_depth", "expand_width", "expr2kan", "kanpiler", "perturb"]

# sympy function -> symbolic library name
_FUNCTIONS: dict[Any, str] = {
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.exp: "exp",
    sympy.log: "log", sympy.tanh: "tanh", sympy.Abs: "abs", sympy.sign: "sgn",
    sympy.asin: "arcsin", sympy.acos: "arccos", sympy.atan: "arctan", sympy.atanh: "arctanh",
}  # fmt: skip
# rational exponent -> library power
_POWERS: dict[sympy.Rational, str] = {
    sympy.Integer(2): "x^2", sympy.Integer(3): "x^3", sympy.Integer(4): "x^4",
    sympy.Integer(5): "x^5", sympy.Integer(-1): "1/x", sympy.Integer(-2): "1/x^2",
    sympy.Integer(-3): "1/x^3", sympy.Integer(-4): "1/x^4", sympy.Integer(-5): "1/x^5",
    sympy.Rational(1, 2): "sqrt", sympy.Rational(-1, 2): "1/sqrt(x)",
    sympy.Rational(3, 2): "x^1.5",
}  # fmt: skip
# functions outside the library, rewritten exactly in terms of library functions
_REWRITES: dict[Any, Any] = {
    sympy.sinh: lambda u: (sympy.exp(u) - sympy.exp(-u)) / 2,
    sympy.cosh: lambda u: (sympy.exp(u) + sympy.exp(-u)) / 2,
    sympy.asinh: lambda u: sympy.log(u + sympy.sqrt(u**2 + 1)),
    sympy.acosh: lambda u: sympy.log(u + sympy.sqrt(u**2 - 1)),
    sympy.cot: lambda u: 1 / sympy.tan(u),
    sympy.sec: lambda u: 1 / sympy.cos(u),
    sympy.csc: lambda u: 1 / sympy.sin(u),
}


@dataclasses.dataclass
class _Term:
    """Edge ``c * name(a * child + b)``; ``child`` is a node or an input index."""

    name: str
    a: float
    b: float
    c: float
    child: _Node | int


@dataclasses.dataclass
class _Subnode:
    terms: list[_Term] = dataclasses.field(default_factory=list)
    bias: float = 0.0


@dataclasses.dataclass(eq=False)
class _Node:
    """A sum node (one subnode) or a multiplication node (one subnode per factor)."""

    subnodes: list[_Subnode]
    mult: bool = False
    index: int = -1  # position in its KAN node layer, set by the layout


def kanpiler(
    variables: Sequence[str | sympy.Symbol] | None,
    expr: str | sympy.Expr | Sequence[str | sympy.Expr],
    grid: int = 5,
    k: int = 3,
    *,
    model_class: type[KAN] | None = None,
    **kan_args: Any,
) -> KAN:
    """Compile a formula into a KAN whose edges are symbolic and compute it exactly.

    Parameters
    ----------
    variables : input variables (sympy symbols or names), in input-column order; None takes
        the formula's free symbols sorted by name
    expr : a sympy expression, formula text (parsed by the whitelist parser, never
        evaluated), or a list of them for several outputs
    grid, k : spline grid and order of the (switched off) numeric branch
    model_class : the class built, :class:`KAN` (default) or a subclass such as
        ``kanwidget.pykan.KAN``
    kan_args : passed to :class:`KAN` (``grid_range``, ``base_fun``, ``seed``, ...; pykan's
        ``auto_save`` is accepted and ignored); ``dtype`` defaults to float64 so the model
        matches the formula to ~1e-12

    Returns
    -------
    KAN of width ``[n_vars, ..., n_outputs]``; ``model(x)`` with ``x`` (B, n_vars) gives the
    formula's values (B, n_outputs) wherever the formula is real and finite.

    Raises
    ------
    ValueError
        for text outside the parser's whitelist, symbols missing from ``variables``,
        functions with no exact library form, or constants that are not finite reals.
    """
    from .network import KAN

    single = isinstance(expr, (str, sympy.Basic, int, float))
    exprs = [expr] if single else list(cast("Sequence[Any]", expr))
    if not exprs:
        raise ValueError("expr is empty: give at least one formula")
    symbols = _symbols(variables, exprs)
    parsed = [_as_expression(e, symbols) for e in exprs]
    builder = _Builder({s.name: n for n, s in enumerate(symbols)})
    roots = [_Node([builder.subnode(_rewrite(e))]) for e in parsed]
    depth = max(_height(r) for r in roots)
    node_layers: list[list[_Node]] = [[] for _ in range(depth + 1)]
    for root in roots:
        _place(root, depth, node_layers)
    width: list[Any] = [len(symbols)]
    arity: list[list[int]] = [[]]
    for nodes in node_layers[1:]:
        sums, mults = [n for n in nodes if not n.mult], [n for n in nodes if n.mult]
        for index, node in enumerate(sums + mults):
            node.index = index
        width.append([len(sums), len(mults)])
        arity.append([len(n.subnodes) for n in mults])
    kan_args.setdefault("dtype", torch.float64)
    model = (model_class or KAN)(width, grid=grid, k=k, mult_arity=arity, **kan_args)
    arguments = {"variables": [s.name for s in symbols], "expr": [str(e) for e in parsed]}
    with model.operation("kanpiler", arguments):
        model.input_names = [s.name for s in symbols]
        _write(model, node_layers)
    return model


expr2kan = kanpiler  # pykan's other name


# ---------------------------------------------------------------------- parsing
def _symbols(
    variables: Sequence[str | sympy.Symbol] | None, exprs: list[Any]
) -> list[sympy.Symbol]:
    if variables is None:
        found: set[sympy.Symbol] = set()
        for e in exprs:
            found |= parse_formula(e).free_symbols if isinstance(e, str) else e.free_symbols
        variables = sorted(found, key=str)
    if isinstance(variables, (str, sympy.Basic)):
        raise ValueError("variables must be a list of names or sympy symbols, e.g. ['x', 'y']")
    symbols = []
    for v in variables:
        if isinstance(v, sympy.Symbol):
            symbols.append(v)
        else:  # a plain identifier, checked by the whitelist parser
            symbol = parse_formula(str(v), [str(v)])
            if not isinstance(symbol, sympy.Symbol):
                raise ValueError(f"variable {v!r} must be a plain name")
            symbols.append(symbol)
    names = [s.name for s in symbols]
    if not symbols or len(set(names)) != len(names):
        raise ValueError(f"variables must be distinct and at least one, got {names}")
    return symbols


def _as_expression(expr: Any, symbols: list[sympy.Symbol]) -> sympy.Expr:
    if isinstance(expr, str):
        return parse_formula(expr, symbols)
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return sympy.Float(expr) if isinstance(expr, float) else sympy.Integer(expr)
    if not isinstance(expr, sympy.Expr):
        raise ValueError(f"expr must be a sympy expression or formula text, got {expr!r}")
    names = {s.name for s in symbols}
    extra = sorted(s.name for s in expr.free_symbols if s.name not in names)  # type: ignore[attr-defined]
    if extra:
        raise ValueError(f"formula uses {extra} which are not in variables {sorted(names)}")
    return expr


def _rewrite(expr: sympy.Expr) -> sympy.Expr:
    for func, form in _REWRITES.items():
        expr = expr.replace(func, form)
    return expr


def _number(value: sympy.Expr) -> float:
    try:
        number = float(value)
    except TypeError:
        raise ValueError(f"constant {value} is not a real number") from None
    if not math.isfinite(number):
        raise ValueError(f"constant {value} is not finite")
    return number


def _split_coefficient(expr: sympy.Expr) -> tuple[float, sympy.Expr]:
    """``expr = k * rest`` with k the product of the constant factors of a product."""
    if not isinstance(expr, sympy.Mul):
        return 1.0, expr
    const = [f for f in expr.args if not f.free_symbols]
    if not const:
        return 1.0, expr
    rest = sympy.Mul(*[f for f in expr.args if f.free_symbols])
    return _number(sympy.Mul(*const)), rest


# ---------------------------------------------------------------------- expression tree
class _Builder:
    """Turns sympy expressions into :class:`_Node` trees (inputs are column indices)."""

    def __init__(self, index: dict[str, int]):
        self.index = index

    def subnode(self, expr: sympy.Expr) -> _Subnode:
        """A sum of edges (plus a bias) computing ``expr``."""
        sub = _Subnode()
        self._collect(expr, 1.0, sub)
        return sub

    def _collect(self, expr: sympy.Expr, coef: float, sub: _Subnode) -> None:
        if not expr.free_symbols:
            sub.bias += coef * _number(expr)
        elif isinstance(expr, sympy.Add):
            for arg in expr.args:
                self._collect(arg, coef, sub)
        else:
            k, rest = _split_coefficient(expr)
            if rest is not expr:
                self._collect(rest, coef * k, sub)
            else:
                name, a, b, child = self._unary(expr)
                sub.terms.append(_Term(name, a, b, coef, child))

    def _unary(self, expr: sympy.Expr) -> tuple[str, float, float, _Node | int]:
        """``expr`` (no constant coefficient) as ``name(a * child + b)``."""
        if isinstance(expr, sympy.Symbol):
            return "x", 1.0, 0.0, self.index[expr.name]
        if isinstance(expr, sympy.Mul):
            return "x", 1.0, 0.0, _Node([self.subnode(f) for f in expr.args], mult=True)
        if isinstance(expr, sympy.Pow):
            return self._power(*expr.as_base_exp())
        if expr.func in _FUNCTIONS and len(expr.args) == 1:
            return self._function(_FUNCTIONS[expr.func], expr.args[0])
        raise ValueError(
            f"cannot compile {expr}: {expr.func} has no exact form in the symbolic library"
        )

    def _function(self, name: str, arg: sympy.Expr) -> tuple[str, float, float, _Node | int]:
        """``name(arg)`` with ``arg = a * u + b`` split so the edge carries a and b."""
        if not arg.free_symbols:
            raise ValueError(f"internal: constant argument {arg} of {name}")
        b = 0.0
        if isinstance(arg, sympy.Add):
            b = _number(sympy.Add(*[t for t in arg.args if not t.free_symbols]))
            arg = sympy.Add(*[t for t in arg.args if t.free_symbols])
        a, u = _split_coefficient(arg)
        return name, a, b, self._node(u)

    def _node(self, u: sympy.Expr) -> _Node | int:
        if isinstance(u, sympy.Symbol):
            return self.index[u.name]
        if isinstance(u, sympy.Mul):
            return _Node([self.subnode(f) for f in u.args], mult=True)
        return _Node([self.subnode(u)])

    def _power(self, base: sympy.Expr, exponent: sympy.Expr) -> tuple[str, float, float, Any]:
        if not base.free_symbols:  # c**v = exp(log(c) * v)
            if _number(base) <= 0:
                raise ValueError(f"cannot compile {base}**({exponent}): base must be positive")
            return self._function("exp", sympy.log(base) * exponent)
        if exponent.free_symbols or not isinstance(exponent, sympy.Rational):
            if not exponent.free_symbols and float(exponent).is_integer():
                exponent = sympy.Integer(int(float(exponent)))
            elif not exponent.free_symbols and (2 * float(exponent)).is_integer():
                exponent = sympy.Rational(int(2 * float(exponent)), 2)
            else:  # u**v = exp(v log u), exact where u**v is real (u > 0)
                return self._function("exp", exponent * sympy.log(base))
        exponent = cast(sympy.Rational, exponent)
        if exponent in _POWERS:
            return self._function(_POWERS[exponent], base)
        if exponent.q not in (1, 2):  # e.g. u**(1/3) = exp(log(u) / 3)
            return self._function("exp", sympy.log(base) * exponent)
        # a product of library powers: u**7 = u**5 * u**2, u**(5/2) = u**2 * sqrt(u)
        sign = 1 if exponent > 0 else -1
        whole = int(abs(exponent))
        factors = [sympy.Integer(5 * sign)] * (whole // 5)
        if whole % 5:
            factors.append(sympy.Integer(whole % 5 * sign))
        if exponent.q == 2:
            factors.append(sympy.Rational(sign, 2))
        subnodes = []
        for power in factors:  # each factor gets its own copy of the base's node
            name, a, b, child = self._function(_POWERS[power], base)
            subnodes.append(_Subnode([_Term(name, a, b, 1.0, child)]))
        return "x", 1.0, 0.0, _Node(subnodes, mult=True)


# ---------------------------------------------------------------------- layout
def _height(node: _Node) -> int:
    """Layers needed below and including ``node``.  A subnode may take a given input only
    once from layer 0 (one edge per input-subnode pair), so a subnode using one variable
    in two terms needs its leaves carried up one layer by identity edges."""
    height = 1
    for sub in node.subnodes:
        leaves = [t.child for t in sub.terms if isinstance(t.child, int)]
        if len(leaves) != len(set(leaves)):
            height = 2
        for t in sub.terms:
            if isinstance(t.child, _Node):
                height = max(height, 1 + _height(t.child))
    return height


def _place(node: _Node, layer: int, node_layers: list[list[_Node]]) -> None:
    """Put ``node`` in node layer ``layer`` and its children right below, padding
    variables used above layer 1 with chains of identity nodes."""
    node_layers[layer].append(node)
    for sub in node.subnodes:
        for term in sub.terms:
            if isinstance(term.child, int) and layer > 1:
                term.child = _Node([_Subnode([_Term("x", 1.0, 0.0, 1.0, term.child)])])
            if isinstance(term.child, _Node):
                _place(term.child, layer - 1, node_layers)


def _write(model: KAN, node_layers: list[list[_Node]]) -> None:
    """Set masks, symbolic functions and subnode biases of a fresh model from the layout."""
    layers = cast("list[KANLayer]", list(model.layers))
    with torch.no_grad():
        for layer in layers:
            layer.mask.zero_()
            layer.sym_mask.zero_()
            layer.sym_params.copy_(torch.tensor([1.0, 0.0, 1.0, 0.0]).expand_as(layer.sym_params))
            layer.sym_names = [["0"] * layer.out_dim for _ in range(layer.in_dim)]
        for l, nodes in enumerate(node_layers[1:]):  # KAN layer l feeds node layer l + 1
            layer, n_sum = layers[l], model.width[l + 1][0]
            for node in nodes:
                first = node.index  # first subnode: a mult node's come after the sums'
                if node.mult:
                    first = n_sum + sum(model.mult_arity[l + 1][: node.index - n_sum])
                for offset, sub in enumerate(node.subnodes):
                    j = first + offset
                    model.subnode_bias[l][j] = sub.bias
                    for term in sub.terms:
                        i = term.child if isinstance(term.child, int) else term.child.index
                        if layer.sym_names[i][j] != "0":
                            raise RuntimeError(f"internal: edge ({l}, {i}, {j}) used twice")
                        layer.sym_names[i][j] = term.name
                        params = [term.a, term.b, term.c, 0.0]
                        layer.sym_params[i, j] = torch.tensor(params, dtype=layer.sym_params.dtype)
                        layer.sym_mask[i, j] = 1.0
        for layer in layers:
            layer.symbolic_changed()
