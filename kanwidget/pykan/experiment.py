"""pykan's ``kan.experiment``: ``runner1`` (train, prune and refine in rounds, KAN 2.0
section 5) and the Pareto-front helper."""

# ruff: noqa: F401, F403
from __future__ import annotations

import numpy as np
import torch

from .MultKAN import *
from .MultKAN import KAN


def runner1(width, dataset, grids=(5, 10, 20), steps=20, lamb=0.001, prune_round=3,
            refine_round=3, edge_th=1e-2, node_th=1e-2, metrics=None, seed=1):  # fmt: skip
    """pykan's training script: ``prune_round`` rounds of (fit with ``lamb``, prune, then
    ``refine_round`` times refine to ``grids[j]`` and fit), each round after the first rewound
    to the previous round's pruned model (pykan's version ``'{i-1}.{2i}'``).

    Returns
    -------
    dict of numpy arrays, one entry per evaluation (``prune_round * (1 + refine_round)``):
    ``test_loss`` (test RMSE), ``c`` (active edges), ``G`` (grid intervals), ``id`` (version
    evaluated) and one entry per metric, keyed by its ``__name__``
    (``metric(model, dataset)``).
    """
    metrics = list(metrics or [])
    result: dict[str, list] = {"test_loss": [], "c": [], "G": [], "id": []}
    for metric in metrics:
        result[metric.__name__] = []

    def collect(model) -> None:
        evaluation = model.evaluate(dataset)
        result["test_loss"].append(evaluation["test_loss"])
        result["c"].append(evaluation["n_edge"])
        result["G"].append(evaluation["n_grid"])
        result["id"].append(model.version)
        for metric in metrics:
            value = metric(model, dataset)
            result[metric.__name__].append(float(value.item() if hasattr(value, "item") else value))

    model = None
    for i in range(prune_round):
        if model is None:
            model = KAN(width=width, grid=grids[0], seed=seed)
        else:
            model = model.rewind(f"{i - 1}.{2 * i}")
        model.fit(dataset, steps=steps, lamb=lamb)
        model = model.prune(edge_th=edge_th, node_th=node_th)
        collect(model)
        for j in range(refine_round):
            model = model.refine(grids[j])
            model.fit(dataset, steps=steps)
            collect(model)
    return {key: np.array(values) for key, values in result.items()}


def pareto_frontier(x, y):
    """The Pareto front of points (x, y), both minimised (pykan's rule: a point is on the
    front when no other point is at most as large in both).

    Returns ``(x_front, y_front, indices)``, numpy arrays.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    covered = ((x[:, None] <= x[None, :]) & (y[:, None] <= y[None, :])).sum(0)  # incl. itself
    ids = np.where(covered == 1)[0]
    return x[ids], y[ids], ids
