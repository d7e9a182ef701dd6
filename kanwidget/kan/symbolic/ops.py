"""Symbolic verbs on a model: suggest, fix, unfix and auto-fix edges (pykan names).

Edge ``(l, i, j)`` is layer l, input node i, output subnode j.  Suggestions are fitted to
the edge's current activations on the model's cached input (the last ``model(x)`` or
``fit`` batch) and never change the model.  Fixing sets ``sym_names``/``sym_params``,
turns the symbolic branch on (``sym_mask = 1``) and the numeric one off (``mask = 0``),
and records one version in the history.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ..pruning import check_edge
from .domain import edge_in_domain
from .fit import fit_params as _fit_params
from .library import get_function, resolve_names
from .suggest import Candidate, suggest

if TYPE_CHECKING:
    from ..network import KAN

_UNSET_PARAMS = (1.0, 0.0, 1.0, 0.0)


def edge_samples(
    model: KAN, l: int, i: int, j: int, x: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Input and output samples ``(B,), (B,)`` of edge (l, i, j) on ``x`` (default: the
    cached input)."""
    check_edge(model, l, i, j)
    trace = model.forward_cache(x)
    return trace.inputs[l][:, i], trace.edge_acts[l][:, j, i]


def suggest_symbolic(
    model: KAN,
    l: int,
    i: int,
    j: int,
    lib: Any = None,
    topk: int = 5,
    weight_simple: float = 0.8,
    **pykan_args: Any,
) -> list[Candidate]:
    """Rank library functions for edge (l, i, j); the model is not changed.

    Parameters
    ----------
    model : KAN that has seen data (``model(x)`` or ``fit``)
    l, i, j : edge
    lib : None (whole library), a name or a list of names
    topk : number of candidates
    weight_simple : 0 = by R^2 only; see :mod:`kanwidget.kan.symbolic.rank`
    pykan_args : pykan's ``a_range``, ``b_range``, ``verbose``, ... (accepted, ignored)

    Returns
    -------
    list of :class:`Candidate` (name, r2, complexity, params, formula, curve), best first.
    """
    x, y = edge_samples(model, l, i, j)
    return suggest(x, y, lib=lib, topk=topk, weight_simple=weight_simple)


def fix_symbolic(
    model: KAN,
    l: int,
    i: int,
    j: int,
    name: str,
    fit_params: bool = True,
    params: tuple[float, float, float, float] | None = None,
    log_history: bool = True,
    mode: str = "symbolic",
    **pykan_args: Any,
) -> float | None:
    """Replace edge (l, i, j) by ``c name(a x + b) + d``.

    ``mode='symbolic'`` switches the spline branch off; ``mode='both'`` keeps it on to learn
    a residual on top of the formula: it starts at zero (the edge's function is unchanged at
    the moment of fixing) and trains with the next ``fit``.

    Parameters
    ----------
    name : library function name
    fit_params : fit (a, b, c, d) to the edge's current activations on the cached input;
        otherwise use ``params`` (default (1, 0, 1, 0))
    params : explicit (a, b, c, d), used when ``fit_params`` is False
    log_history : record a version (False when called inside another operation)
    pykan_args : pykan's ``fit_params_bool``, ``a_range``, ``verbose``, ... (``fit_params_bool``
        is honoured, the rest ignored)

    Returns
    -------
    R^2 of the fit (None without fitting).

    Raises
    ------
    ValueError
        Bad edge, name or mode; or ``a x + b`` would leave the domain of ``name`` (sqrt,
        log, 1/x, arcsin, ...) on the edge's inputs, where the formula would not equal the
        model (the model is left unchanged). The fit itself only searches inside the domain.
    """
    check_edge(model, l, i, j)
    get_function(name)
    if mode not in ("symbolic", "both"):
        raise ValueError(f"mode must be 'symbolic' or 'both', got {mode!r}")
    fit_params = bool(pykan_args.get("fit_params_bool", fit_params))
    r2: float | None = None
    x_range: tuple[float, float] | None = None
    if fit_params:
        x, y = edge_samples(model, l, i, j)
        values, r2 = _fit_params(x, y, name)
        x_range = _finite_range(x)
    else:
        values = tuple(float(v) for v in (params or _UNSET_PARAMS))  # type: ignore[assignment]
        if len(values) != 4 or not all(math.isfinite(v) for v in values):
            raise ValueError(f"params must be 4 finite numbers (a, b, c, d), got {params!r}")
        if model._last_input is not None:
            x_range = _finite_range(edge_samples(model, l, i, j)[0])
    if x_range is not None and not edge_in_domain(name, values[0], values[1], *x_range):
        a, b = values[0], values[1]
        raise ValueError(
            f"{name} does not fit edge ({l}, {i}, {j}): {a:.4g}*x + {b:.4g} leaves the domain "
            f"of {name} for the edge's inputs x in [{x_range[0]:.4g}, {x_range[1]:.4g}], so the "
            "formula would not equal the model there; choose another function"
            + ("" if fit_params else " or other (a, b)")
        )
    arguments = {"l": l, "i": i, "j": j, "name": name, "params": list(values), "mode": mode}
    with model.operation("fix_symbolic", arguments) if log_history else contextlib.nullcontext():
        _set_edge(model, l, i, j, name, values, symbolic=True, keep_numeric=mode == "both")
        if mode == "both":
            layer = model.layers[l]
            with torch.no_grad():
                layer.coef[i, j] = 0.0
                layer.scale_base[i, j] = 0.0
    return r2


def _finite_range(x: Tensor) -> tuple[float, float]:
    """(min, max) of the finite samples of an edge's input."""
    finite = x[torch.isfinite(x)]
    if finite.numel() == 0:
        raise ValueError("the edge's inputs have no finite values: run model(x) on real data")
    return float(finite.min()), float(finite.max())


def unfix_symbolic(model: KAN, l: int, i: int, j: int, log_history: bool = True) -> KAN:
    """Turn edge (l, i, j) back into a numeric (spline) edge."""
    check_edge(model, l, i, j)
    if log_history:
        with model.operation("unfix_symbolic", {"l": l, "i": i, "j": j}):
            _set_edge(model, l, i, j, "0", _UNSET_PARAMS, symbolic=False)
    else:
        _set_edge(model, l, i, j, "0", _UNSET_PARAMS, symbolic=False)
    return model


def auto_symbolic(
    model: KAN,
    lib: Any = None,
    weight_simple: float = 0.8,
    r2_threshold: float = 0.0,
    progress: bool = True,
    **pykan_args: Any,
) -> KAN:
    """Fix every numeric edge to its best candidate (one version for the whole model).

    Edges already symbolic and edges switched off (pruned) are left alone; an edge whose
    best R^2 is below ``r2_threshold`` stays numeric (as in pykan).
    All edges are fitted on the activations of one forward pass over the cached input
    (~50 ms an edge on one core); ``progress`` shows a tqdm bar of the edges once the
    work has taken 2 s.

    Returns
    -------
    the model (changed in place), for pykan's ``model = model.auto_symbolic()``.
    """
    from tqdm.auto import tqdm

    names = resolve_names(lib)
    trace = model.forward_cache()
    edges = [(l, i, j) for l, layer in enumerate(model.layers)
             for i in range(layer.in_dim) for j in range(layer.out_dim)
             if float(layer.mask[i, j]) != 0]  # fmt: skip
    bar = tqdm(total=len(edges), desc="auto_symbolic", unit="edge", delay=2.0,
               disable=not progress, leave=False)  # fmt: skip
    try:
        with model.operation("auto_symbolic", {"lib": lib, "weight_simple": weight_simple,
                                               "r2_threshold": r2_threshold}):  # fmt: skip
            for l, i, j in edges:
                x, y = trace.inputs[l][:, i], trace.edge_acts[l][:, j, i]
                best = suggest(x, y, lib=names, topk=1, weight_simple=weight_simple)[0]
                if best.r2 >= r2_threshold and best.valid:
                    _set_edge(model, l, i, j, best.name, best.params, symbolic=True)
                bar.update(1)
    finally:
        bar.close()
    return model


def _set_edge(
    model: KAN,
    l: int,
    i: int,
    j: int,
    name: str,
    params: tuple[float, ...],
    symbolic: bool,
    keep_numeric: bool = False,
) -> None:
    layer = model.layers[l]
    with torch.no_grad():
        layer.sym_params[i, j] = torch.tensor(params, dtype=layer.sym_params.dtype)
        layer.sym_mask[i, j] = 1.0 if symbolic else 0.0
        layer.mask[i, j] = 1.0 if (keep_numeric or not symbolic) else 0.0
    layer.sym_names[i][j] = name
    layer.symbolic_changed()
