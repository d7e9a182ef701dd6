"""The symbolic function library: 1-D functions an edge can be snapped to (KAN 2.0, section 4).

Every entry pairs a *singularity-safe* torch function (domains clamped so forward and
backward stay finite for any finite input, like pykan's ``funs_avoid_singularity``) with
its exact sympy counterpart, a complexity (pykan's values, used to rank candidates) and a
few hints the affine fitter uses (``fit_kind``, ``parity``).  Names follow pykan's
``SYMBOLIC_LIB`` so pykan notebooks keep working.

User functions (``add_symbolic``) persist as ``(name, sympy text in x, complexity)``; on load
the text is parsed with the whitelist parser and evaluated with :func:`sympy_to_torch`, so
no callable is ever pickled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sympy
import torch
from torch import Tensor

TorchFn = Callable[[Tensor], Tensor]
SympyFn = Callable[[Any], Any]

# Clamps chosen so |f| and |f'| stay below ~1e12 (finite in float32, also when squared
# once more for a loss) while agreeing with the exact function away from the singularity.
_POW_MAX = 1e6  # |u| cap for growing powers: 1e6 ** 5 = 1e30 < float32 max
_EXP_MAX = 40.0  # exp(40) = 2.4e17
_TAN_COS_MIN = 1e-6  # |cos u| floor in tan = sin / cos
_ARC_EPS = 1e-7  # |u| <= 1 - eps for arcsin/arccos/arctanh
_LOG_MIN = 1e-12
_SQRT_MIN = 1e-24


def _pole_radius(n: float) -> float:
    """Smallest |u| used by 1/u**n: keeps n / |u|**(n+1) <= n * 1e12."""
    return 10.0 ** (-12.0 / (n + 1.0))


def _away_from_zero(u: Tensor, radius: float) -> Tensor:
    """u with |u| >= radius, keeping the sign (0 maps to +radius)."""
    return torch.where(u >= 0, u.clamp(min=radius), u.clamp(max=-radius))


def _inv_power(n: int) -> TorchFn:
    radius = _pole_radius(n)
    return lambda u: 1.0 / _away_from_zero(u.clamp(-_POW_MAX, _POW_MAX), radius) ** n


def _power(n: int) -> TorchFn:
    return lambda u: u.clamp(-_POW_MAX, _POW_MAX) ** n


def _sqrt(u: Tensor) -> Tensor:
    return torch.sqrt(u.clamp(_SQRT_MIN, _POW_MAX**2))


def _inv_sqrt(u: Tensor) -> Tensor:
    return torch.rsqrt(u.clamp(_pole_radius(0.5), _POW_MAX**2))


def _pow_1_5(u: Tensor) -> Tensor:
    return u.clamp(0.0, _POW_MAX) ** 1.5


def _exp(u: Tensor) -> Tensor:
    return torch.exp(u.clamp(max=_EXP_MAX))


def _log(u: Tensor) -> Tensor:
    return torch.log(u.clamp(_LOG_MIN, _POW_MAX**4))


def _tan(u: Tensor) -> Tensor:
    return torch.sin(u) / _away_from_zero(torch.cos(u), _TAN_COS_MIN)


def _unit_interval(u: Tensor) -> Tensor:
    return u.clamp(-1.0 + _ARC_EPS, 1.0 - _ARC_EPS)


def _gaussian(u: Tensor) -> Tensor:
    return torch.exp(-(u.clamp(-1e6, 1e6) ** 2))


@dataclasses.dataclass(frozen=True)
class SymbolicFunction:
    """One library entry ``f``; an edge fixed to it computes ``c * f(a * x + b) + d``.

    Attributes
    ----------
    name : library key (pykan's names, e.g. ``'x^2'``, ``'sin'``, ``'1/sqrt(x)'``)
    torch_fn : elementwise, singularity-safe torch function ``(...) -> (...)``
    sympy_fn : the exact function on sympy expressions
    complexity : description cost used for ranking (pykan's values; ``'0'`` is 0)
    fit_kind : how the affine fitter searches (a, b): ``'zero'``, ``'affine'`` (a, b
        redundant), ``'shift'`` (scale-free: a = +-1, search b), ``'exp'`` (b redundant),
        ``'step'`` (sgn: exact best split), ``'periodic'``, ``'bounded'`` (domain [-1, 1]),
        ``'tan'`` or ``'general'``
    parity : +1 even, -1 odd (up to an affine map), 0 unknown: with parity a >= 0 suffices
    alias_of : name of an identical entry (``'x^0.5'`` is ``'sqrt'``); skipped by default
    expr : for user functions, the sympy text of ``sympy_fn(x)`` used to persist it
    """

    name: str
    torch_fn: TorchFn
    sympy_fn: SympyFn
    complexity: float
    fit_kind: str = "general"
    parity: int = 0
    alias_of: str | None = None
    expr: str | None = None

    @property
    def builtin(self) -> bool:
        return self.expr is None


def _builtin_entries() -> list[SymbolicFunction]:
    sf = SymbolicFunction
    entries = [
        sf("x", lambda u: u, lambda x: x, 1, "affine", -1),
        sf("x^2", _power(2), lambda x: x**2, 2, "shift", 1),
        sf("x^3", _power(3), lambda x: x**3, 3, "shift", -1),
        sf("x^4", _power(4), lambda x: x**4, 3, "shift", 1),
        sf("x^5", _power(5), lambda x: x**5, 3, "shift", -1),
        sf("1/x", _inv_power(1), lambda x: 1 / x, 2, "shift", -1),
        sf("1/x^2", _inv_power(2), lambda x: 1 / x**2, 2, "shift", 1),
        sf("1/x^3", _inv_power(3), lambda x: 1 / x**3, 3, "shift", -1),
        sf("1/x^4", _inv_power(4), lambda x: 1 / x**4, 4, "shift", 1),
        sf("1/x^5", _inv_power(5), lambda x: 1 / x**5, 5, "shift", -1),
        sf("sqrt", _sqrt, sympy.sqrt, 2, "shift"),
        sf("x^0.5", _sqrt, sympy.sqrt, 2, "shift", alias_of="sqrt"),
        sf("x^1.5", _pow_1_5, lambda x: sympy.sqrt(x) ** 3, 4, "shift"),
        sf("1/sqrt(x)", _inv_sqrt, lambda x: 1 / sympy.sqrt(x), 2, "shift"),
        sf("1/x^0.5", _inv_sqrt, lambda x: 1 / sympy.sqrt(x), 2, "shift", alias_of="1/sqrt(x)"),
        sf("exp", _exp, sympy.exp, 2, "exp"),
        sf("log", _log, sympy.log, 2, "shift"),
        sf("abs", lambda u: torch.abs(u), sympy.Abs, 3, "shift", 1),
        sf("sin", torch.sin, sympy.sin, 2, "periodic", -1),
        sf("cos", torch.cos, sympy.cos, 2, "periodic", 1),
        sf("tan", _tan, sympy.tan, 3, "tan", -1),
        sf("tanh", torch.tanh, sympy.tanh, 3, "general", -1),
        sf("sgn", torch.sign, sympy.sign, 3, "step", -1),
        sf("arcsin", lambda u: torch.arcsin(_unit_interval(u)), sympy.asin, 4, "bounded", -1),
        sf("arccos", lambda u: torch.arccos(_unit_interval(u)), sympy.acos, 4, "bounded"),
        sf("arctan", torch.arctan, sympy.atan, 4, "general", -1),
        sf("arctanh", lambda u: torch.arctanh(_unit_interval(u)), sympy.atanh, 4, "bounded", -1),
        sf("0", lambda u: u * 0.0, lambda x: sympy.Integer(0), 0, "zero", 1),
        sf("gaussian", _gaussian, lambda x: sympy.exp(-(x**2)), 3, "general", 1),
    ]
    return entries


_LIBRARY: dict[str, SymbolicFunction] = {f.name: f for f in _builtin_entries()}
BUILTIN_NAMES: tuple[str, ...] = tuple(_LIBRARY)


def in_domain(name: str, u_min: Tensor, u_max: Tensor) -> Tensor:
    """Whether ``[u_min, u_max]`` lies where ``name``'s formula equals its torch function
    (see :mod:`.domain`; user functions are unrestricted)."""
    from .domain import in_domain as _in_domain

    return _in_domain(name, u_min, u_max)


def get_library() -> dict[str, SymbolicFunction]:
    """All registered functions by name (a copy; built-ins first, then user functions)."""
    return dict(_LIBRARY)


def get_function(name: str) -> SymbolicFunction:
    """The library entry ``name``; ``ValueError`` listing the available names otherwise."""
    try:
        return _LIBRARY[name]
    except (KeyError, TypeError):
        available = ", ".join(_LIBRARY)
        raise ValueError(f"unknown symbolic function {name!r}; available: {available}") from None


def resolve_names(lib: Any = None) -> list[str]:
    """``lib`` (None, a name, or names) -> validated names; None = all, without aliases."""
    if lib is None:
        return [n for n, f in _LIBRARY.items() if f.alias_of is None]
    names = [lib] if isinstance(lib, str) else list(lib)
    if not names:
        raise ValueError("lib is empty: give at least one symbolic function name")
    for name in names:
        get_function(name)
    return list(dict.fromkeys(names))


def add_symbolic(
    name: str,
    torch_fn: TorchFn | None = None,
    sympy_fn: SympyFn | sympy.Expr | str | None = None,
    complexity: float = 1,
    c: float | None = None,
) -> SymbolicFunction:
    """Register a user function (or replace a previous user function of the same name).

    Parameters
    ----------
    name : new library key (built-in names cannot be replaced)
    torch_fn : elementwise torch function; None builds one from the sympy expression
    sympy_fn : callable on a sympy symbol, a sympy expression in ``x``, or formula text in
        ``x``; it must describe the function exactly with the whitelist parser's functions
        (sin, exp, sqrt, tanh, ...), because that expression is what save/load keeps
    complexity : ranking cost (pykan: 1 for x ... 4 for arcsin)
    c : pykan's name for ``complexity``

    Returns
    -------
    The new :class:`SymbolicFunction`.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"symbolic function name must be a non-empty string, got {name!r}")
    if name in BUILTIN_NAMES:
        raise ValueError(f"{name!r} is a built-in symbolic function; choose another name")
    if sympy_fn is None:
        raise ValueError(
            f"add_symbolic({name!r}) needs sympy_fn (e.g. lambda x: sympy.exp(-x) * sympy.sin(x) "
            "or 'exp(-x)*sin(x)'): the sympy form is what symbolic_formula and save/load use"
        )
    if c is not None:
        complexity = c
    expr = _expression_in_x(sympy_fn)
    fn = torch_fn if torch_fn is not None else sympy_to_torch(expr, _X)
    entry = SymbolicFunction(
        name, fn, sympy.Lambda(_X, expr), float(complexity), "general", 0, None, str(expr)
    )
    _LIBRARY[name] = entry
    return entry


def remove_symbolic(name: str) -> None:
    """Unregister a user function."""
    if name in BUILTIN_NAMES:
        raise ValueError(f"{name!r} is a built-in symbolic function and cannot be removed")
    get_function(name)
    del _LIBRARY[name]


def library_state() -> list[dict[str, Any]]:
    """User functions as JSON-able records ``{'name', 'expr', 'complexity'}`` (for save)."""
    return [
        {"name": f.name, "expr": f.expr, "complexity": float(f.complexity)}
        for f in _LIBRARY.values()
        if not f.builtin
    ]


def load_library_state(state: list[dict[str, Any]]) -> None:
    """Re-register user functions saved by :func:`library_state` (torch fn from sympy)."""
    for record in state:
        name, expr, complexity = record["name"], record["expr"], record["complexity"]
        existing = _LIBRARY.get(name)
        if existing is not None and existing.expr == expr:
            continue  # already registered (maybe with the user's own torch function)
        add_symbolic(name, None, str(expr), float(complexity))


_X = sympy.Symbol("x")


def _expression_in_x(sympy_fn: SympyFn | sympy.Expr | str) -> sympy.Expr:
    from .parse import parse_formula

    if isinstance(sympy_fn, str):
        expr = parse_formula(sympy_fn, ["x"])
    elif isinstance(sympy_fn, sympy.Basic):
        expr = sympy_fn
    else:
        value = sympy_fn(_X)
        if isinstance(value, str):
            raise ValueError("sympy_fn returned text; pass the text itself as sympy_fn instead")
        expr = sympy.sympify(value, strict=True)  # numbers/sympy objects only, never text
    if not isinstance(expr, sympy.Expr):
        raise ValueError(f"sympy_fn must give a sympy expression, got {expr!r}")
    extra = expr.free_symbols - {_X}
    if extra:
        names = ", ".join(sorted(str(s) for s in extra))
        raise ValueError(f"sympy_fn must be a function of x only; it also uses {names}")
    # round-trip through text now, so what load rebuilds is what the user gets today
    parse_formula(str(expr), ["x"])
    return expr


# ---------------------------------------------------------------- sympy -> torch evaluator
_UNARY: dict[Any, TorchFn] = {
    sympy.sin: torch.sin,
    sympy.cos: torch.cos,
    sympy.tan: torch.tan,
    sympy.exp: torch.exp,
    sympy.log: torch.log,
    sympy.Abs: torch.abs,
    sympy.sign: torch.sign,
    sympy.tanh: torch.tanh,
    sympy.sinh: torch.sinh,
    sympy.cosh: torch.cosh,
    sympy.asin: torch.arcsin,
    sympy.acos: torch.arccos,
    sympy.atan: torch.arctan,
    sympy.asinh: torch.arcsinh,
    sympy.acosh: torch.arccosh,
    sympy.atanh: torch.arctanh,
}


def sympy_to_torch(expr: sympy.Expr, *symbols: sympy.Symbol) -> Callable[..., Tensor]:
    """Compile a sympy expression to a torch function of ``symbols`` (no ``exec``/``eval``).

    Only numbers, the given symbols, + * ** and the functions of the whitelist parser are
    supported; anything else raises ``ValueError`` at compile time.  Non-finite outputs
    (a user function evaluated off its domain) become 0, so training never sees NaN.
    """
    index = {s: k for k, s in enumerate(symbols)}

    def build(e: sympy.Basic) -> Callable[[tuple[Tensor, ...]], Tensor | float]:
        if e in index:
            k = index[e]
            return lambda args: args[k]
        if e.is_Number or e in (sympy.pi, sympy.E):
            value = float(e)
            return lambda args: value
        if isinstance(e, sympy.Add) or isinstance(e, sympy.Mul):
            parts = [build(a) for a in e.args]
            is_add = isinstance(e, sympy.Add)

            def combine(args: tuple[Tensor, ...]) -> Tensor | float:
                out = parts[0](args)
                for p in parts[1:]:
                    out = out + p(args) if is_add else out * p(args)
                return out

            return combine
        if isinstance(e, sympy.Pow):
            base, power = build(e.args[0]), build(e.args[1])
            return lambda args: torch.as_tensor(base(args), dtype=args[0].dtype) ** power(args)
        if e.func in _UNARY and len(e.args) == 1:
            fn, arg = _UNARY[e.func], build(e.args[0])
            return lambda args: fn(torch.as_tensor(arg(args), dtype=args[0].dtype))
        raise ValueError(f"cannot evaluate {e} ({type(e).__name__}) with torch")

    compiled = build(expr)

    def fn(*args: Tensor) -> Tensor:
        out = compiled(args)
        out = torch.as_tensor(out, dtype=args[0].dtype, device=args[0].device)
        return torch.nan_to_num(out.expand_as(args[0]), nan=0.0, posinf=0.0, neginf=0.0)

    return fn
