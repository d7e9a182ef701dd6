"""The model as sympy expressions (pykan's ``symbolic_formula``), exact for any mult arity.

Node layer by node layer (KAN 2.0 eq. 4): subnode j of layer l+1 is
``subnode_scale * sum_i phi_lij(x_i) + subnode_bias``; a multiplication node is the
product of its ``mult_arity`` consecutive subnodes (pykan 0.2.8 indexes them as if every
arity were 2); node values get ``node_scale * v + node_bias``.  A symbolic edge gives
``c f(a x + b) + d``; an edge still numeric appears as an undefined function
``phi_l_i_j(x)``, so the expression never silently drops part of the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy

from ..names import input_name
from .library import get_function

if TYPE_CHECKING:
    from ..network import KAN


def symbolic_formula(
    model: KAN,
    var: Sequence[str | sympy.Symbol] | None = None,
    round_digits: int | None = None,
    normalizer: Any = None,
    output_normalizer: Any = None,
    simplify: bool = False,
) -> tuple[list[sympy.Expr], list[sympy.Symbol]]:
    """Sympy expressions of the model's outputs.

    Parameters
    ----------
    model : KAN
    var : input variable names or symbols (default ``x_1 .. x_n`` as pykan; after
        ``prune_input`` the original input numbers are kept)
    round_digits : round every number to this many decimal digits (pykan's ``ex_round``)
    normalizer : optional (mean, std) of the inputs; the formula then takes raw inputs
    output_normalizer : optional (mean, std) of the outputs, undone in the formula
    simplify : run ``sympy.simplify`` on each subnode (slow for big models)

    Returns
    -------
    (formulas, variables): one expression per output node, and the input symbols.
    """
    n_in = model.width[0][0]
    variables = _variables(model, var, n_in)
    values: list[Any] = list(variables)
    if normalizer is not None:
        mean, std = normalizer
        values = [(v - float(mean[k])) / float(std[k]) for k, v in enumerate(values)]
    for l, layer in enumerate(model.layers):
        subnodes = []
        for j in range(layer.out_dim):
            total: Any = sympy.Integer(0)
            for i in range(layer.in_dim):
                total += _edge_expr(layer, l, i, j, values[i])
            scale = float(model.subnode_scale[l][j].detach())
            bias = float(model.subnode_bias[l][j].detach())
            total = _affine(total, scale, bias)
            subnodes.append(sympy.simplify(total) if simplify else total)
        values = _nodes(subnodes, model.width[l + 1][0], model.mult_arity[l + 1])
        values = [
            _affine(
                v, float(model.node_scale[l][k].detach()), float(model.node_bias[l][k].detach())
            )
            for k, v in enumerate(values)
        ]
    if output_normalizer is not None:
        mean, std = output_normalizer
        values = [v * float(std[k]) + float(mean[k]) for k, v in enumerate(values)]
    if round_digits is not None:
        values = [round_numbers(v, round_digits) for v in values]
    return [sympy.sympify(v) for v in values], variables


def _variables(model: KAN, var: Any, n_in: int) -> list[sympy.Symbol]:
    if var is None:
        ids = getattr(model, "input_ids", list(range(n_in)))
        names = getattr(model, "input_names", None)
        if names:  # e.g. a compiled model keeps its formula's variables
            return [sympy.Symbol(names[k]) for k in ids]
        return [sympy.Symbol(input_name(k)) for k in ids]
    if len(var) != n_in:
        raise ValueError(f"var has {len(var)} names but the model has {n_in} inputs")
    # sympy objects are kept (pykan passes expressions such as v/c as names); text becomes a
    # Symbol of that name (no parsing: '\\alpha' or 'E_n' are names, never evaluated)
    return [v if isinstance(v, sympy.Basic) else sympy.Symbol(str(v)) for v in var]


def _edge_expr(layer: Any, l: int, i: int, j: int, x: Any) -> Any:
    """Expression of edge (l, i, j) of ``layer`` applied to ``x`` (0 if switched off)."""
    expr: Any = sympy.Integer(0)
    numeric_on = float(layer.mask[i, j])
    if numeric_on != 0:
        expr += _affine(sympy.Function(f"phi_{l}_{i}_{j}")(x), numeric_on, 0.0)
    symbolic_on = float(layer.sym_mask[i, j])
    if symbolic_on != 0 and layer.has_symbolic:
        a, b, c, d = layer.sym_params[i, j].detach().tolist()
        inner = get_function(layer.sym_names[i][j]).sympy_fn(_affine(x, a, b))
        expr += _affine(_affine(inner, c, d), symbolic_on, 0.0)
    return expr


def _affine(expr: Any, scale: float, bias: float) -> Any:
    """``scale * expr + bias`` without writing factors of exactly 1 or terms of exactly 0."""
    if scale == 0:
        return _number(bias) if bias != 0 else sympy.Integer(0)
    out = expr if scale == 1 else _number(scale) * expr
    return out + _number(bias) if bias != 0 else out


def _number(value: float) -> Any:
    """A float as sympy; a float64 that is p/q * pi to full precision (q <= 12, as the
    compiler writes pi) becomes the exact multiple of pi, so compiled formulas round-trip."""
    if value != 0 and math.isfinite(value):
        ratio = sympy.Rational(value / math.pi).limit_denominator(12)
        if abs(float(ratio) * math.pi - value) <= 4e-16 * abs(value):
            return ratio * sympy.pi
    return sympy.Float(value)


def _nodes(subnodes: list[Any], n_sum: int, arity: Sequence[int]) -> list[Any]:
    """Sum nodes pass through; multiplication node m multiplies ``arity[m]`` subnodes."""
    nodes = list(subnodes[:n_sum])
    start = n_sum
    for a in arity:
        product: Any = sympy.Integer(1)
        for k in range(start, start + a):
            product *= subnodes[k]
        nodes.append(product)
        start += a
    return nodes


def round_numbers(expr: Any, digits: int) -> Any:
    """Round every float in ``expr`` to ``digits`` decimal digits (integers stay exact).

    Replacing numbers lets sympy evaluate again (``0.5682 * (0.5682 * x)`` becomes one new
    float), so the replacement is repeated until every float of the final expression is
    rounded.
    """
    expr = sympy.sympify(expr)
    for _ in range(10):
        floats = expr.atoms(sympy.Float)
        replacements = {f: _rounded(f, digits) for f in floats}
        if all(replacements[f] == f for f in floats):
            break
        expr = expr.xreplace(replacements)
    return expr


def _rounded(value: Any, digits: int) -> Any:
    """``value`` rounded to ``digits`` decimals, as a double-precision sympy Float (which
    prints its shortest form, ``0.3229``)."""
    r = round(float(value), digits)
    return sympy.Float(r) if math.isfinite(r) else value


ex_round = round_numbers  # pykan's name (kan.utils.ex_round)
