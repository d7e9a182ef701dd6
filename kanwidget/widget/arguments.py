"""Checks of what a notebook passes to ``KANWidget`` and ``KANWidget.fit``, run in the
caller's cell before anything starts, so a mistake is raised there (not later in the
training thread or as a wrongly labelled drawing).

- :func:`check_fit`: ``fit``'s options (names and values, as ``model.fit`` checks them)
  and the dataset, for a run about to start.
- :func:`check_labels`: ``in_vars`` / ``out_vars``, one name per node.
- :func:`check_beta`: the opacity scale ``beta`` (opacity ``tanh(beta * score)``).
- :func:`model_columns`: the widget's dataset (original columns) as the model takes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from torch import Tensor

from ..kan.network import KAN
from ..kan.train import check_dataset
from ..kan.train.options import check_names, fit_options

#: ``KANWidget.fit`` keywords the trainer handles itself (not ``fit_options``')
TRAINER_OWN = ("callback", "progress")


def check_fit(model: KAN, dataset: dict, steps: Any, kwargs: dict[str, Any]) -> None:
    """Raise what ``model.fit(dataset, steps=steps, **kwargs)`` would raise on its
    arguments (TypeError for an unknown name, ValueError for a bad value or dataset)."""
    check_names(kwargs, extra=TRAINER_OWN)
    own = {k: v for k, v in kwargs.items() if k not in TRAINER_OWN}
    options = fit_options(steps=steps, **own)
    check_dataset(model, dataset, label_width=options.pred_fn is None)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def check_labels(model: KAN, names: Sequence[str] | None, what: str) -> list[str] | None:
    """``names`` as a list, checked against the model's inputs (``what="in_vars"``: at
    least one name per original column, ``model.input_ids``) or outputs (``"out_vars"``:
    one per output).

    Raises
    ------
    TypeError
        a single string, or a name that is not a str
    ValueError
        the wrong number of names
    """
    if names is None:
        return None
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{what} must be a list of names, e.g. ['x', 'y'], got {names!r}")
    for k, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"{what}[{k}] must be a str, got {name!r}")
    if what == "in_vars":
        # as model.plot: names of the original columns; after prune_input there may be
        # more (a pruned last column leaves no trace), so only too few is an error
        need, kind = max(model.input_ids, default=-1) + 1, "input"
        wrong = len(names) < need
    else:
        need, kind = model.n_nodes(model.depth), "output"
        wrong = len(names) != need
    if wrong:
        raise ValueError(
            f"{what} has {_plural(len(names), 'name')} for the model's {_plural(need, kind)}"
        )
    return list(names)


def check_beta(beta: Any) -> float:
    """``beta`` as a float; opacity is ``tanh(beta * score)``, so it must be > 0."""
    try:
        value = float(beta)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"beta must be a finite number > 0 (edge opacity tanh(beta * score)), "
                         f"got {beta!r}")  # fmt: skip
    return value


def model_columns(model: KAN, dataset: dict) -> dict:
    """``dataset`` with its inputs cut to the model's columns (``model.input_ids``) when it
    holds the original columns of a model whose inputs were pruned (as ``model(x)`` reads
    them); otherwise ``dataset`` itself.

    The widget keeps the original columns: it draws every version, also those from before
    ``prune_input``, while ``fit`` trains on the model's current inputs.
    """
    ids = list(model.input_ids)
    x = dataset.get("train_input") if isinstance(dataset, dict) else None
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] == len(ids):
        return dataset
    if x.shape[1] <= max(ids, default=-1):
        return dataset  # too few columns: check_dataset says so
    return {
        k: v[:, ids] if k.endswith("_input") and isinstance(v, Tensor) and v.dim() == 2 else v
        for k, v in dataset.items()
    }
