"""KAN universes: fit a (Mult)KAN, read its structure, and turn it into formulas.

One universe (KAN 2.0, sec. 4: several seeds and shapes as parallel universes) is one
configuration ``(width, seed)`` trained on the standardised target:

1. ``fit`` with a sparsity penalty, ``prune``, ``fit`` again (the tutorial pipeline, with
   steps scaled to the time left);
2. the hypothesis tests of :mod:`kanwidget.kan.hypothesis` on the trained KAN:
   ``describe_tree`` (how the inputs combine: ``+``, ``*`` or ``F`` at the root, and which
   groups enter through one function), plus the additive and multiplicative split
   (``detect_separability``);
3. a beam over symbolic edges: every active edge gets its ``topk`` library candidates
   (``suggest_symbolic``); the formula with every edge at its first choice is read with
   ``symbolic_formula`` and so is each variant that swaps one edge to its second or third
   choice.  The caller refits every formula's constants in float64 on the data and verifies
   it on held-out points.

``run_universe`` is a plain function of picklable arguments, so joblib (loky, dask) can run
it in another process; it sets ``torch.set_num_threads(1)`` there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
import torch

from . import clock


@dataclass
class UniverseResult:
    """What one universe returns (all picklable).

    Attributes
    ----------
    config : ``{'width': ..., 'seed': ...}``
    model : the trained, symbolified KAN (its history holds its own versions)
    formulas : sympy expressions in ``x_1 .. x_n`` for the original (unstandardised) target
    tree : ``describe_tree`` text, e.g. ``*(x_1, F(x_2, x_3))``
    add_groups, mul_groups : finest additive / multiplicative split of the KAN's function
    test_rmse : the numeric KAN's RMSE on the held-out split (original units)
    error : message if the universe failed
    """

    config: dict[str, Any]
    model: Any = None
    formulas: list[sympy.Expr] = field(default_factory=list)
    tree: str | None = None
    add_groups: list[list[int]] | None = None
    mul_groups: list[list[int]] | None = None
    test_rmse: float = float("inf")
    error: str | None = None


def universe_configs(n_in: int, count: int, seed: int) -> list[dict[str, Any]]:
    """Widths and seeds of ``count`` universes: alternately a sum-node KAN ``[n, 5, 1]``,
    a MultKAN ``[n, [3, 2], 1]`` and a single layer ``[n, 1]`` (an additive model)."""
    shapes: list[Any] = [[n_in, 5, 1], [n_in, [3, 2], 1], [n_in, 1]]
    return [{"width": shapes[k % len(shapes)], "seed": seed + k} for k in range(count)]


def run_universe(
    config: dict[str, Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    deadline: float,
    topk: int = 3,
    max_variants: int = 8,
) -> UniverseResult:
    """Train one universe and read formulas from it (see the module docstring).

    ``deadline`` is an absolute ``clock.now()``; training steps shrink when little time is
    left and the beam stops at the deadline.
    """
    from kanwidget.kan import KAN

    torch.set_num_threads(1)
    result = UniverseResult(config=dict(config))
    if clock.now() > deadline - 1:
        result.error = "not started: the search deadline had passed"
        return result
    try:
        mean, std = float(np.mean(y_train)), float(np.std(y_train)) or 1.0
        xtr = torch.tensor(x_train, dtype=torch.float32)
        xte = torch.tensor(x_test, dtype=torch.float32)
        data = {
            "train_input": xtr,
            "train_label": torch.tensor((y_train - mean) / std, dtype=torch.float32)[:, None],
            "test_input": xte,
            "test_label": torch.tensor((y_test - mean) / std, dtype=torch.float32)[:, None],
        }
        t0 = clock.now()
        fit_end = t0 + 0.5 * (deadline - t0)  # the rest: tests and the symbolic beam

        def until(end: float):
            return lambda step, record: clock.now() < end  # False ends fit early

        model = KAN(config["width"], grid=5, k=3, seed=int(config["seed"]))
        model.fit(
            data, steps=40, lamb=1e-3, progress=False, callback=until(t0 + 0.5 * (fit_end - t0))
        )
        if len(config["width"]) > 2:
            model.prune()
        model.fit(data, steps=40, progress=False, callback=until(fit_end))
        with torch.no_grad():
            pred = model(xte)[:, 0].double().numpy() * std + mean
        result.test_rmse = float(np.sqrt(np.mean((pred - y_test) ** 2)))
        probe = xtr[: min(256, len(xtr))]
        if clock.now() < t0 + 0.7 * (deadline - t0):
            _read_structure(model, probe, result)
        result.formulas = _beam_formulas(model, topk, max_variants, deadline, mean, std)
        result.model = model
    except Exception as exc:  # noqa: BLE001 - one failing universe never stops the others
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _read_structure(model: Any, probe: torch.Tensor, result: UniverseResult) -> None:
    """KAN 2.0's hypothesis tests on the trained universe."""
    from kanwidget.kan.hypothesis import describe_tree, detect_separability

    result.tree = describe_tree(model, probe)
    result.add_groups = detect_separability(model, probe, "add")
    try:
        result.mul_groups = detect_separability(model, probe, "mul")
    except ValueError:  # the KAN crosses zero: log|f| undefined
        result.mul_groups = None


def _active_edges(model: Any) -> list[tuple[int, int, int]]:
    edges = []
    for l, layer in enumerate(model.layers):
        for i in range(layer.in_dim):
            for j in range(layer.out_dim):
                if float(layer.mask[i, j]) != 0:
                    edges.append((l, i, j))
    return edges


def _beam_formulas(
    model: Any, topk: int, max_variants: int, deadline: float, mean: float, std: float
) -> list[sympy.Expr]:
    """Formulas for the first choice on every edge and single-edge swaps to lower choices."""
    from kanwidget.kan.symbolic.ops import _set_edge

    model.forward_cache(model.cached_input())
    edges = _active_edges(model)
    choices = {e: model.suggest_symbolic(*e, topk=topk) for e in edges}
    n_in = model.width[0][0]
    names = [f"x_{i + 1}" for i in range(n_in)]
    variants: list[dict[tuple[int, int, int], Any]] = [{e: c[0] for e, c in choices.items() if c}]
    swaps = sorted(
        ((c[r].r2, e, r) for e, c in choices.items() for r in range(1, len(c))),
        key=lambda t: -t[0],
    )
    for _, e, r in swaps[: max_variants - 1]:
        v = dict(variants[0])
        v[e] = choices[e][r]
        variants.append(v)
    formulas = []
    for variant in variants:
        if clock.now() > deadline and formulas:  # the first choice is always read
            break
        trial = model.copy()
        for (l, i, j), cand in variant.items():
            _set_edge(trial, l, i, j, cand.name, cand.params, symbolic=True)
        exprs, _ = trial.symbolic_formula(var=names)
        formulas.append(exprs[0] * std + mean)
    with model.operation("auto_symbolic", {"beam": topk}):  # the universe's first choice
        for (l, i, j), cand in variants[0].items():
            _set_edge(model, l, i, j, cand.name, cand.params, symbolic=True)
    return formulas
