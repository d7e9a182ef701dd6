"""Grids that follow the data: adaptive grid updates (KAN section 2.5) and grid extension."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from ..network import KAN


def update_grid_from_samples(model: KAN, x: Tensor, n_layers: int | None = None) -> None:
    """Adapt each layer's grid (the first ``n_layers``, default all) to the distribution of
    its inputs on samples ``x``."""
    x = model.check_input(x)
    with torch.no_grad():
        for l, layer in enumerate(model.layers[:n_layers]):
            layer.update_grid_from_samples(x)
            y = layer(x) * model.subnode_scale[l] + model.subnode_bias[l]
            x = model._multiply(l + 1, y) * model.node_scale[l] + model.node_bias[l]


def refine(model: KAN, new_grid: int) -> KAN:
    """Grid extension (KAN section 2.5): raise every layer to ``new_grid`` intervals,
    keeping the learned functions (least squares on the old curves)."""
    if not isinstance(new_grid, int) or new_grid < 1:
        raise ValueError(f"new_grid must be an int >= 1, got {new_grid!r}")
    with model.operation("refine", {"new_grid": new_grid}):
        for layer in model.layers:
            layer.refine(new_grid)
        model.grid_size = new_grid
    return model
