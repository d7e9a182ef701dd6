"""kanpiler: a sympy expression -> a MultKAN in symbolic mode that computes it exactly
(KAN 2.0, section 3.3).

The expression tree maps onto node layers: a sum ``t1 + t2 + ...`` becomes a sum node whose
incoming edges compute the terms, a product of n factors a multiplication node of arity n,
and each unary function ``f(alpha u + beta)`` (including powers such as ``u**2``, ``1/u``,
``sqrt(u)``) an edge ``c f(a u + b) + d`` from the node computing ``u``.  Numeric factors
and constants are folded into the edges' (a, b, c, d).  Sources more than one layer below a
node are carried up by identity edges; two terms of one sum that come from the same node
(``x + sin(x)``) go through separate intermediate nodes, since a KAN has one edge per pair.
Functions missing from the library (e.g. ``sinh``, ``u**3.5``) are registered with
``add_symbolic`` from their sympy form, so the model can still be saved and reloaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sympy
import torch

from .network import KAN
from .symbolic.library import add_symbolic, get_library
from .symbolic.ops import layers_of
from .symbolic.parse import parse_formula

_FUNCTIONS = {
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.tanh: "tanh",
    sympy.exp: "exp", sympy.log: "log", sympy.Abs: "abs", sympy.sign: "sgn",
    sympy.asin: "arcsin", sympy.acos: "arccos", sympy.atan: "arctan", sympy.atanh: "arctanh",
}  # fmt: skip
_POWERS = {
    2: "x^2", 3: "x^3", 4: "x^4", 5: "x^5", -1: "1/x", -2: "1/x^2", -3: "1/x^3",
    -4: "1/x^4", -5: "1/x^5", sympy.Rational(1, 2): "sqrt", sympy.Rational(3, 2): "x^1.5",
    sympy.Rational(-1, 2): "1/sqrt(x)",
}  # fmt: skip
_X = sympy.Symbol("x")


@dataclasses.dataclass(eq=False)
class _Node:
    """A node of the compiled graph; ``subnodes`` holds each subnode's incoming edges."""

    level: int
    kind: str  # 'input', 'sum' or 'mult'
    subnodes: list[list[_Edge]] = dataclasses.field(default_factory=list)
    index: int = -1  # position within its node layer, set when laid out


@dataclasses.dataclass(eq=False)
class _Edge:
    """``c f(a * source + b) + d`` with f a library name."""

    name: str
    params: list[float]
    source: _Node


def kanpiler(
    variables: Sequence[str | sympy.Symbol],
    expr: sympy.Expr | str,
    dtype: torch.dtype | None = torch.float64,
    grid: int = 5,
    k: int = 3,
) -> KAN:
    """Build a KAN that computes ``expr`` of ``variables`` exactly with symbolic edges.

    Parameters
    ----------
    variables : input names or symbols, in input order
    expr : sympy expression, or formula text (parsed with the whitelist parser)
    dtype : model dtype (float64 by default, so the model matches the formula to ~1e-12)
    grid, k : spline grid of the (switched-off) numeric branch, for later fine-tuning

    Returns
    -------
    KAN of width ``[n_vars, ..., 1]`` whose every edge is symbolic.
    """
    symbols = [v if isinstance(v, sympy.Symbol) else sympy.Symbol(str(v)) for v in variables]
    if isinstance(expr, str):
        expr = parse_formula(expr, symbols)
    expr = sympy.sympify(expr)
    unknown = expr.free_symbols - set(symbols)
    if unknown:
        raise ValueError(f"expr uses {sorted(map(str, unknown))}, not among the variables")
    inputs = {s: _Node(0, "input") for s in symbols}
    builder = _Builder(inputs)
    output = builder.node(expr)
    depth = max(output.level, 1)
    output = builder.lift(output, depth)
    layers = builder.layout(list(inputs.values()), output, depth)
    width = [[sum(n.kind != "mult" for n in nodes), sum(n.kind == "mult" for n in nodes)]
             for nodes in layers]  # fmt: skip
    width[0] = [len(inputs), 0]
    arity = [[len(n.subnodes) for n in nodes if n.kind == "mult"] for nodes in layers]
    model = KAN(width, grid=grid, k=k, mult_arity=arity, dtype=dtype, noise_scale=0.0)
    with model.operation("kanpiler", {"variables": [str(s) for s in symbols], "expr": str(expr)}):
        _write_edges(model, layers)
    return model


def _write_edges(model: KAN, layers: list[list[_Node]]) -> None:
    """Symbolic edges on, every numeric edge off."""
    for l, layer in enumerate(layers_of(model)):
        with torch.no_grad():
            layer.mask.zero_()
            layer.sym_mask.zero_()
        subnode = 0
        for node in layers[l + 1]:
            for edges in node.subnodes:
                for edge in edges:
                    i = edge.source.index
                    with torch.no_grad():
                        layer.sym_params[i, subnode] = torch.tensor(edge.params)
                        layer.sym_mask[i, subnode] = 1.0
                    layer.sym_names[i][subnode] = edge.name
                subnode += 1
        layer.symbolic_changed()


class _Builder:
    """Turns sympy sub-expressions into nodes (memoised, so shared sub-terms are shared)."""

    def __init__(self, inputs: dict[sympy.Symbol, _Node]):
        self.inputs = inputs
        self.memo: dict[sympy.Expr, _Node] = {}
        self.lifted: dict[tuple[int, int], _Node] = {}

    def node(self, e: sympy.Expr) -> _Node:
        """A node whose value is exactly ``e``."""
        if e in self.inputs:
            return self.inputs[e]
        if e not in self.memo:
            self.memo[e] = self._make_node(e)
        return self.memo[e]

    def _make_node(self, e: sympy.Expr) -> _Node:
        if e.is_Number:
            # a constant: a '0' edge from the first input carries it as its d
            anchor = next(iter(self.inputs.values()))
            return self._sum_node([_Edge("0", [1.0, 0.0, 0.0, float(e)], anchor)])
        if isinstance(e, sympy.Add):
            const, terms = e.as_coeff_add()
            edges = [self.edge(t) for t in terms]
            edges[0].params[3] += float(const)
            return self._sum_node(edges)
        if isinstance(e, sympy.Mul):
            coeff, factors = e.as_coeff_mul()
            if len(factors) >= 2:
                edges = [self.edge(f) for f in factors]
                edges[0].params[2] *= float(coeff)
                edges[0].params[3] *= float(coeff)
                level = 1 + max(ed.source.level for ed in edges)
                subnodes = [[self._at(ed, level)] for ed in edges]
                return _Node(level, "mult", subnodes)
        return self._sum_node([self.edge(e)])

    def _sum_node(self, edges: list[_Edge]) -> _Node:
        # one KAN edge per (source, subnode): route repeated sources through their own nodes
        seen: set[int] = set()
        for n, edge in enumerate(edges):
            if id(edge.source) in seen:
                own = _Node(edge.source.level + 1, "sum", [[edge]])
                edges[n] = _Edge("x", [1.0, 0.0, 1.0, 0.0], own)
            seen.add(id(edges[n].source))
        level = 1 + max(edge.source.level for edge in edges)
        return _Node(level, "sum", [[self._at(edge, level) for edge in edges]])

    def edge(self, e: sympy.Expr) -> _Edge:
        """``e`` as ``c f(a u + b) + d`` with u a node."""
        coeff, rest = e.as_coeff_Mul()
        if coeff != 1 and not rest.is_Number:
            edge = self.edge(rest)
            edge.params[2] *= float(coeff)
            edge.params[3] *= float(coeff)
            return edge
        name, argument = _unary(e)
        if name is None:
            return _Edge("x", [1.0, 0.0, 1.0, 0.0], self.node(e))
        beta, terms = argument.as_coeff_add()
        if len(terms) == 1:
            alpha, inner = terms[0].as_coeff_Mul()
        else:
            alpha, inner = sympy.Integer(1), sympy.Add(*terms)
        return _Edge(name, [float(alpha), float(beta), 1.0, 0.0], self.node(inner))

    def _at(self, edge: _Edge, level: int) -> _Edge:
        """The same edge, its source carried up to ``level - 1`` by identity edges."""
        edge.source = self.lift(edge.source, level - 1)
        return edge

    def lift(self, node: _Node, level: int) -> _Node:
        """A node at ``level`` equal to ``node`` (identity sum nodes in between)."""
        if node.level == level:
            return node
        key = (id(node), level)
        if key not in self.lifted:
            below = self.lift(node, level - 1)
            self.lifted[key] = _Node(level, "sum", [[_Edge("x", [1.0, 0.0, 1.0, 0.0], below)]])
        return self.lifted[key]

    def layout(self, inputs: list[_Node], output: _Node, depth: int) -> list[list[_Node]]:
        """Node layers 0..depth (sum nodes before mult nodes) with indices assigned."""
        layers: list[list[_Node]] = [[] for _ in range(depth + 1)]
        layers[0] = list(inputs)
        seen = {id(n) for n in inputs}
        stack = [output]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            layers[node.level].append(node)
            stack.extend(edge.source for edges in node.subnodes for edge in edges)
        for nodes in layers[1:]:
            nodes.sort(key=lambda n: n.kind == "mult")
        for nodes in layers:
            for idx, node in enumerate(nodes):
                node.index = idx
        return layers


def _unary(e: sympy.Expr) -> tuple[str | None, Any]:
    """(library name, argument) if ``e`` is one function of one argument, else (None, e)."""
    if isinstance(e, sympy.Pow):
        base, power = e.args
        if power.is_Number:
            if power == 1:
                return None, e
            return _power_name(power), base
        if base.is_Number and base.is_positive:  # b**u = exp(log(b) u)
            return "exp", sympy.log(base) * power
        raise ValueError(f"{e}: a power with a variable exponent is not supported; "
                         "write it as exp(exponent*log(base))")  # fmt: skip
    if isinstance(e, sympy.Function) and len(e.args) == 1:
        name = _FUNCTIONS.get(e.func)
        if name is None:
            name = str(e.func)
            if name not in get_library():
                add_symbolic(name, None, e.func(_X), 3)
        return name, e.args[0]
    return None, e


def _power_name(power: sympy.Number) -> str:
    if power in _POWERS:
        return _POWERS[power]
    name = f"x^{power}"
    if name not in get_library():
        add_symbolic(name, None, _X**power, 3)
    return name
