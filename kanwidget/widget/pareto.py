"""The Pareto panel: formulas / universes as points of complexity vs held-out error.

KAN 2.0 (sec. 4) ends with a person choosing among candidates.  ``KANWidget.from_discovery``
shows any result with ``front`` (candidates with ``formula``, ``complexity``, ``test_rmse``,
``universe``, ``model``), ``best`` and ``history`` (a VersionTree holding every universe): a
``Discovery`` of ``kanwidget.discover`` or a ``SweepResult`` of ``kanwidget.sweep``.  The
widget's model *is* that history (its current version is the best candidate's universe),
so clicking a point checks its universe out and the diagram and timeline follow.
``KANWidget.from_sweep`` runs a sweep in a background thread and adds each universe as it
finishes (grafted into the widget's history, one point per universe).

The synced trait ``pareto`` (``{}`` = no panel) holds ``complexity`` and ``error`` as binary
float32 arrays ``(N,)`` and, per point, ``formula`` (text), ``latex``, ``universe`` (version
id or None), ``front`` (on the Pareto front), plus ``best`` (index or -1) and the axis
labels; it is plain state, so exported HTML keeps the panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..discovery.configs import resolve_configs, split
from ..discovery.sweep import SweepResult, sweep
from ..discovery.universe import Universe, default_width
from ..kan.graft import graft
from ..kan.history import VersionTree
from ..kan.network import KAN
from .payload import rounded


def points_of(result: Any) -> list[Any]:
    """Every candidate to draw: ``result.candidates`` if it has them, else ``result.front``;
    those without a finite ``test_rmse`` and ``complexity`` are left out."""
    listed = getattr(result, "candidates", None)
    cands = list(listed if listed is not None else result.front)
    return [c for c in cands if _finite(c.test_rmse) and _finite(c.complexity)]


def build_pareto(
    points: Sequence[Any],
    front: Sequence[Any] = (),
    best: Any = None,
    complexity_label: str = "complexity",
) -> dict[str, Any]:
    """The ``pareto`` trait for ``points`` (candidate-like objects, see the module docstring).

    ``front`` and ``best`` are matched by identity. Returns ``{}`` for no points.
    """
    if not points:
        return {}
    on_front = {id(c) for c in front}
    formulas = [c.formula for c in points]
    return {
        "complexity": np.asarray([float(c.complexity) for c in points], np.float32),
        "error": np.asarray([float(c.test_rmse) for c in points], np.float32),
        "formula": [_text(f, c) for f, c in zip(formulas, points)],
        "latex": [_latex(f) for f in formulas],
        "universe": [getattr(c, "universe", None) for c in points],
        "front": [id(c) in on_front for c in points],
        "best": next((k for k, c in enumerate(points) if c is best), -1),
        "labels": {"complexity": complexity_label, "error": "test RMSE"},
    }


def pareto_of(result: Any) -> dict[str, Any]:
    """``build_pareto`` for a whole result (a Discovery or a SweepResult)."""
    points = points_of(result)
    label = "complexity"
    if isinstance(result, SweepResult):  # one consistent axis over every universe
        label = "formula size" if all(u.formula is not None for u in points) else "edges"
        points = [u if label == "formula size" else _EdgesView(u) for u in points]
        best = next((p for p in points if p.index == getattr(result.best, "index", None)), None)
        return build_pareto(points, _front(points), best, label)
    return build_pareto(points, result.front, getattr(result, "best", None), label)


def from_discovery(cls: Any, result: Any, dataset: dict | None = None, **kwargs: Any) -> Any:
    """A ``KANWidget`` showing ``result``'s Pareto panel beside the diagram.

    Parameters
    ----------
    result : an object with ``front``, ``best`` and ``history`` (see the module docstring)
    dataset : data for activations and scores (default ``result.dataset`` if it has one)
    **kwargs : more ``KANWidget`` arguments (``in_vars`` defaults to ``result.variables``)

    Raises
    ------
    ValueError
        If ``result.history`` holds no version (e.g. every universe failed).
    """
    tree: VersionTree = result.history
    if not len(tree):
        raise ValueError("this result has no universe to show: its history is empty")
    best = getattr(result, "best", None)
    start = getattr(best, "universe", None)
    model = _model_on(tree, start if start in tree else tree.current.id)
    dataset = dataset if dataset is not None else getattr(result, "dataset", None)
    variables = getattr(result, "variables", None)
    if variables and "in_vars" not in kwargs:
        kwargs["in_vars"] = list(variables)
    widget = cls(model, dataset, **kwargs)
    widget.pareto = pareto_of(result)
    widget.discovery = result
    return widget


def from_sweep(
    cls: Any,
    dataset: dict,
    grid: Any = None,
    configs: Any = None,
    widget_kwargs: dict | None = None,
    **sweep_kwargs: Any,
) -> Any:
    """Start ``kanwidget.sweep`` in a background thread; return the widget at once.

    Each universe becomes a point (and a branch of the widget's history, grafted under the
    root ``0.0``, the first configuration's initial model) as soon as it finishes; click a
    point to check it out. ``widget.sweep_future.result()`` waits for and returns the
    ``SweepResult`` (whose own ``history`` is in configuration order, so its ids may differ
    from the widget's, which follow completion order).

    Raises
    ------
    ValueError / TypeError
        As ``sweep``, before the thread starts.
    """
    custom = sweep_kwargs.get("pipeline") is not None
    defaults = {k: v for k, v in sweep_kwargs.items() if k not in _SWEEP_ARGS}
    first = resolve_configs(grid, configs, defaults, custom)[0]
    model_kwargs = {"width": default_width(dataset), "grid": 5, **split(first)[0]}
    start = KAN(**model_kwargs)
    tree = VersionTree()
    config, tensors = start.snapshot()
    tree.commit(config, tensors, "sweep", n_edges=start.n_edges())
    model = _model_on(tree, "0.0")
    widget = cls(model, dataset, **(widget_kwargs or {}))
    widget.pareto = {}
    finished: list[Universe] = []

    def add(universe: Universe) -> None:
        if universe.model is not None:
            mapping = graft(tree, universe.model.history, "0.0",
                            arguments={"universe": universe.index})  # fmt: skip
            finished.append(_Grafted(universe, mapping[universe.model.history.current.id]))
        label = "formula size" if all(u.formula is not None for u in finished) else "edges"
        points = [u if label == "formula size" else _EdgesView(u) for u in finished]
        best = min(points, key=lambda p: p.test_rmse, default=None)
        with widget.hold_sync():
            widget.pareto = build_pareto(points, _front(points), best, label)
            widget._push(history=True)

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kanwidget-sweep")
    sweep_kwargs.setdefault("progress", False)
    widget.sweep_future = executor.submit(
        sweep, dataset, grid=grid, configs=configs, callback=add, **sweep_kwargs
    )
    executor.shutdown(wait=False)
    return widget


_SWEEP_ARGS = {"pipeline", "n_jobs", "progress", "callback", "threads_per_worker"}


class _EdgesView:
    """A universe seen with ``complexity = n_edges`` (when not every universe is symbolic)."""

    def __init__(self, universe: Any) -> None:
        self._u = universe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._u, name)

    @property
    def complexity(self) -> int:
        return int(self._u.n_edges)


class _Grafted(_EdgesView):
    """A universe whose ``universe`` id is the one in the widget's own history."""

    def __init__(self, universe: Any, version: str) -> None:
        super().__init__(universe)
        self.universe = version

    @property
    def complexity(self) -> int:
        return int(self._u.complexity)


def _front(points: Sequence[Any]) -> list[Any]:
    front: list[Any] = []
    for p in sorted(points, key=lambda p: (p.complexity, p.test_rmse)):
        if not front or p.test_rmse < front[-1].test_rmse:
            front.append(p)
    return front


def _model_on(tree: VersionTree, version: str) -> KAN:
    """A KAN whose history is ``tree``, checked out at ``version``."""
    model = KAN([1, 1])
    model.history = tree
    model.checkout(version)
    return model


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _text(formula: Any, cand: Any) -> str:
    if formula is None:
        return f"numeric KAN, {getattr(cand, 'n_edges', '?')} edges"
    if isinstance(formula, tuple):
        return "; ".join(rounded(f) for f in formula)
    return rounded(formula)


def _latex(formula: Any) -> str:
    if formula is None:
        return ""
    try:
        import sympy

        parts = formula if isinstance(formula, tuple) else (formula,)
        return r",\ ".join(sympy.latex(p) for p in parts)
    except Exception:  # a formula sympy cannot print: the panel shows the text
        return ""
