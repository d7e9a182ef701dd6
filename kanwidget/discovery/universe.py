"""One parallel universe: a configuration trained through a pipeline, in a worker process.

``train_universe`` is the task joblib sends to a worker (loky, dask or ray): it sets the
worker's torch threads, builds the KAN of the configuration, runs the pipeline and returns a
:class:`Universe` (the model travels back pickled, with its own version tree).  Any exception
of the pipeline is caught and returned as the universe's ``error`` (the traceback text), so
one failing configuration never stops the others.

The default pipeline is the pykan tutorial's (KAN 2.0, sec. 4; pykan's ``Example_3``):
``fit(lamb)`` -> ``prune`` -> ``fit`` -> ``refine(20)`` -> ``fit`` -> ``auto_symbolic`` -> ``fit``.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy
import torch

from kanwidget.kan.network import KAN

from .configs import split

Pipeline = Callable[[KAN, dict, dict], Any]
DEFAULT_STEPS = 50  # each fit of the tutorial pipeline


@dataclass
class Universe:
    """The result of one configuration of a sweep.

    Attributes
    ----------
    index : position of the configuration in the sweep
    config : the configuration (with the sweep's defaults filled in)
    train_loss, test_loss : RMSE of the final model on the train / test split (float; NaN
        if it failed)
    n_edges : active edges of the final model (0 if it failed)
    formula : sympy expression of the output when every active edge is symbolic (a tuple of
        expressions for several outputs), else None
    model : the final KAN (None if it failed); ``model.history`` is the universe's own tree
    error : the traceback text if the pipeline raised, else None
    universe : id of the final version in the sweep's shared ``history`` (None if failed)
    seconds : wall time of the pipeline in its worker
    """

    index: int
    config: dict[str, Any]
    train_loss: float = float("nan")
    test_loss: float = float("nan")
    n_edges: int = 0
    formula: Any = None
    model: KAN | None = field(default=None, repr=False)
    error: str | None = None
    universe: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def test_rmse(self) -> float:
        """``test_loss`` (already an RMSE), under the name the Pareto panel reads."""
        return self.test_loss

    @property
    def complexity(self) -> int:
        """Node count of the formula's expression tree if symbolic, else ``n_edges``."""
        if self.formula is None:
            return self.n_edges
        exprs = self.formula if isinstance(self.formula, tuple) else (self.formula,)
        return sum(len(list(sympy.preorder_traversal(e))) for e in exprs)

    def __repr__(self) -> str:
        if self.error is not None:
            last = self.error.strip().splitlines()[-1] if self.error.strip() else "error"
            return f"Universe({self.index}, {self.config}, failed: {last})"
        return (
            f"Universe({self.index}, {self.config}, test_loss={self.test_loss:.3g}, "
            f"n_edges={self.n_edges}, formula={self.formula}, universe={self.universe!r})"
        )


def tutorial_pipeline(model: KAN, dataset: dict, config: Mapping[str, Any]) -> KAN:
    """pykan's tutorial: fit(lamb) -> prune -> fit -> refine -> fit -> auto_symbolic -> fit.

    ``config`` holds the pipeline settings (``lamb``, ``node_th``, ``edge_th``, ``refine``,
    ``lib``, ``weight_simple``, ``r2_threshold``, ``symbolic``; defaults in
    ``configs.PIPELINE_DEFAULTS``) and ``fit`` (the keyword arguments of every fit).
    """
    fit_kwargs = {"steps": DEFAULT_STEPS, **config.get("fit", {}), "progress": False}
    model.fit(dataset, lamb=config["lamb"], **fit_kwargs)
    model.prune(node_th=config["node_th"], edge_th=config["edge_th"])
    model.fit(dataset, **fit_kwargs)
    if config["refine"] is not None:
        model.refine(int(config["refine"]))
        model.fit(dataset, **fit_kwargs)
    if config["symbolic"]:
        model.auto_symbolic(
            lib=config["lib"],
            weight_simple=config["weight_simple"],
            r2_threshold=config["r2_threshold"],
        )
        model.fit(dataset, **fit_kwargs)
    return model


def default_width(dataset: Mapping[str, torch.Tensor]) -> list[int]:
    """The tutorial's ``[n_inputs, 5, n_outputs]``."""
    return [int(dataset["train_input"].shape[1]), 5, int(dataset["train_label"].shape[1])]


def train_universe(
    index: int,
    config: dict[str, Any],
    dataset: dict[str, torch.Tensor],
    pipeline: Pipeline | None,
    threads: int,
) -> Universe:
    """Run one configuration (the joblib task). Never raises for a pipeline error.

    ``threads`` torch threads are used during the task (restored afterwards, so the
    sequential ``n_jobs=1`` path leaves the caller's setting alone); the same count on every
    backend gives the same numbers.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.perf_counter()
    result = Universe(index=index, config=config)
    try:
        model_kwargs, settings, fit_kwargs, _ = split(config)
        model_kwargs.setdefault("width", default_width(dataset))
        model_kwargs.setdefault("grid", 5)
        model = KAN(**model_kwargs)
        if pipeline is None:
            model = tutorial_pipeline(model, dataset, {**settings, "fit": fit_kwargs})
        else:
            returned = pipeline(model, dataset, dict(config))
            model = returned if isinstance(returned, KAN) else model
        _summarise(result, model, dataset)
    except Exception:
        result.error = traceback.format_exc()
        result.model = None
    finally:
        result.seconds = time.perf_counter() - start
        torch.set_num_threads(before)
    return result


def _summarise(result: Universe, model: KAN, dataset: Mapping[str, torch.Tensor]) -> None:
    """Losses, edges and formula of the final model into ``result``."""
    with torch.no_grad():
        losses = []
        for split_name in ("train", "test"):
            x = dataset[f"{split_name}_input"].to(model.dtype)
            x = x if x.shape[1] == model.width[0][0] else x[:, model.input_ids]
            y = dataset[f"{split_name}_label"].to(model.dtype)
            pred = model._forward(model.check_input(x))[0]  # keeps the model's cached input
            losses.append(float(torch.sqrt(((pred - y) ** 2).mean())))
    result.train_loss, result.test_loss = losses
    result.n_edges = model.n_edges()
    numeric = sum(int((layer.mask > 0).sum()) for layer in model.layers)
    if numeric == 0 and result.n_edges > 0:
        formulas, _ = model.symbolic_formula()
        result.formula = formulas[0] if len(formulas) == 1 else tuple(formulas)
    model._listeners = []  # nothing of the worker's process travels back
    result.model = model
