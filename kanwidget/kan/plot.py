"""Static matplotlib diagram of a KAN (for papers): one Axes, no files written unless asked.

Every edge is a line from its input node to the node it feeds, with its learned function
drawn as a small curve in a box at the edge's middle; opacity is ``tanh(beta * score)``
(pykan's convention) when attribution scores are available.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .network import KAN


def node_positions(model: KAN) -> list[np.ndarray]:
    """x positions of the nodes of each layer in [0, 1] (layer y = l)."""
    return [(np.arange(model.n_nodes(l)) + 0.5) / model.n_nodes(l) for l in range(model.depth + 1)]


def plot(
    model: KAN,
    beta: float = 3.0,
    in_vars: list[str] | None = None,
    out_vars: list[str] | None = None,
    title: str | None = None,
    scale: float = 1.0,
    path: str | None = None,
    n_points: int = 40,
) -> Figure:
    """Draw the network; returns the Figure (saved to ``path`` only if given)."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    width = max(model.n_nodes(l) for l in range(model.depth + 1))
    fig = Figure(figsize=(max(3.0, 1.2 * width) * scale, 2.2 * model.depth * scale + 1))
    ax = fig.add_subplot(1, 1, 1)
    pos = node_positions(model)
    scores = None
    if model._last_input is not None:
        from .attribution import attribute

        attribute(model)
        scores = model.edge_scores
    box_w = 0.35 / width
    box_h = 0.22
    lines, colors, curves, curve_colors = [], [], [], []
    with torch.no_grad():
        for l, layer in enumerate(model.layers):
            grid = layer.grid
            t = torch.linspace(0, 1, n_points, dtype=grid.dtype, device=grid.device)
            xs = (grid[:, :1] + (grid[:, -1:] - grid[:, :1]) * t).T  # (P, in)
            acts = layer.edge_activations(xs).cpu().numpy()  # (P, out, in)
            active = ((layer.mask + layer.sym_mask) > 0).cpu().numpy()
            for i in range(layer.in_dim):
                for j in range(layer.out_dim):
                    if not active[i, j]:
                        continue
                    to = model.subnode_to_node(l + 1, j)
                    alpha = 1.0
                    if scores is not None:
                        alpha = math.tanh(beta * float(scores[l][j, i]))
                    x0, x1 = pos[l][i], pos[l + 1][to]
                    lines.append([(x0, l), (x1, l + 1)])
                    symbolic = layer.sym_mask[i, j] > 0
                    rgb = (0.8, 0.1, 0.1) if symbolic else (0.0, 0.0, 0.0)
                    colors.append((*rgb, 0.25 * alpha))
                    y = acts[:, j, i]
                    span = float(y.max() - y.min()) or 1.0
                    cx, cy = (x0 + x1) / 2, l + 0.5
                    px = cx - box_w / 2 + box_w * np.linspace(0, 1, n_points)
                    py = cy - box_h / 2 + box_h * (y - y.min()) / span
                    curves.append(np.stack([px, py], 1))
                    curve_colors.append((*rgb, max(alpha, 0.05)))
    ax.add_collection(LineCollection(lines, colors=colors, linewidths=1.0))
    ax.add_collection(LineCollection(curves, colors=curve_colors, linewidths=1.5))
    for l in range(model.depth + 1):
        n_sum = model.width[l][0]
        xs_sum, xs_mult = pos[l][:n_sum], pos[l][n_sum:]
        ax.scatter(xs_sum, np.full(len(xs_sum), l), s=40, c="black", zorder=3)
        ax.scatter(xs_mult, np.full(len(xs_mult), l), s=60, c="white", edgecolors="black",
                   marker="s", zorder=3)  # fmt: skip
    names_in = in_vars or [f"x{model.input_ids[i]}" for i in range(model.n_nodes(0))]
    names_out = out_vars or [f"y{i}" for i in range(model.n_nodes(model.depth))]
    for x, name in zip(pos[0], names_in):
        ax.text(x, -0.18, name, ha="center", va="top", fontsize=11)
    for x, name in zip(pos[-1], names_out):
        ax.text(x, model.depth + 0.18, name, ha="center", va="bottom", fontsize=11)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.4, model.depth + 0.4)
    ax.axis("off")
    if title:
        ax.set_title(title)
    if path is not None:
        fig.savefig(path, bbox_inches="tight")
    return fig
