"""Static matplotlib diagram of a KAN (for papers) in pykan's layout; writes no files unless asked.

Node layers are rows from the inputs (bottom) to the outputs (top); every edge (l, i, j) is
a small box with its learned curve over the inputs the model last saw (over the grid before
any data), in the band between rows l and l+1, placed above its input node (as pykan places
them, one row while they fit; in a grid of rows when the layer is wide: plot_layout.py), so
no two boxes overlap and none is smaller than ~0.24 in.  A line joins the input node to the
box and the box to the node the edge feeds.  Opacity is ``tanh(beta * score)`` (pykan's
convention), the score chosen by ``metric``: ``'backward'`` attribution (KAN 2.0 eq. 9),
``'forward_u'`` the edge output's std, ``'forward_n'`` that std over its input's std.
The figure is at most ``MAX_WIDTH_IN`` (10 in) wide, so a notebook shows it at full size.

The Figure is pyplot's current figure, so ``model.plot(); plt.savefig(...)`` and
``plt.show()`` work as in pykan; in a notebook it is shown once (by the inline backend at
the end of the cell), also when it is the cell's value or passed to ``display``.  Unnamed
inputs are ``x_1 .. x_n`` and outputs ``y_1 ..``, pykan's naming for formulas.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .names import input_names, output_names, tex
from .plot_layout import (
    MAX_WIDTH_IN,
    band_layout,
    drawing_width,
    label_depth,
    label_layout,
    node_x,
    short_name,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .network import KAN

__all__ = ["MAX_WIDTH_IN", "default_names", "edge_scores", "plot", "variable_label"]
_METRICS = ("backward", "forward_u", "forward_n")


def variable_label(name: Any) -> str:
    """A label for ``in_vars``/``out_vars`` entries: sympy objects as TeX, text as given."""
    if isinstance(name, str):
        return name
    import sympy

    return f"${sympy.latex(name)}$"


def default_names(model: KAN) -> tuple[list[str], list[str]]:
    """pykan's names (:mod:`.names`): inputs ``x_1 ..`` (original input numbers kept after
    ``prune_input``; a compiled model's own names if it has them) and outputs ``y_1 ..``,
    as TeX."""
    return [tex(n) for n in input_names(model)], [tex(n) for n in output_names(model)]


def edge_scores(model: KAN, metric: str, x: torch.Tensor | None) -> list[np.ndarray] | None:
    """Per layer ``(out, in)`` scores for the opacity, or None without data."""
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    if x is None:
        return None
    if metric == "backward":
        from .attribution import attribute

        attribute(model)
        assert model.edge_scores is not None
        return [s.detach().cpu().numpy() for s in model.edge_scores]
    trace = model.forward_cache(x)
    out = []
    for inputs, acts in zip(trace.inputs, trace.edge_acts):
        std = acts.std(0)  # (out, in)
        if metric == "forward_n":
            std = std / (inputs.std(0)[None, :] + 1e-4)
        out.append(std.detach().cpu().numpy())
    return out


def plot(
    model: KAN,
    folder: str | None = None,
    beta: float = 3.0,
    metric: str = "backward",
    scale: float = 0.5,
    tick: bool = False,
    sample: bool = False,
    in_vars: list[Any] | None = None,
    out_vars: list[Any] | None = None,
    title: str | None = None,
    varscale: float = 1.0,
    mask: bool = False,
    path: str | None = None,
    n_points: int = 40,
    out_vars_offset: float | None = None,
) -> Figure:
    """Draw the network (pykan's ``plot`` arguments); returns the Figure.

    Parameters
    ----------
    folder : accepted for pykan compatibility; nothing is written there
    beta : opacity ``tanh(beta * score)``; metric : ``'backward'``, ``'forward_u'``, ``'forward_n'``
    scale : overall size (pykan's default 0.5); varscale : size of the variable names
    tick : write each edge's input and output range beside its box
    sample : scatter the activations of the data over each curve
    in_vars, out_vars : names (text or sympy) of the inputs / outputs
    mask : accepted for compatibility (pruned edges and nodes are never drawn)
    path : save the figure there too
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    from .figure import KANFigure

    x = model._last_input
    scores = edge_scores(model, metric, x)
    trace = model.forward_cache(x) if x is not None else None
    names_in, names_out = _names(model, in_vars, out_vars)
    # geometry in inches (plot_layout.py): node rows at y[l], edge bands between them
    n_nodes = [model.n_nodes(l) for l in range(model.depth + 1)]
    slots_max = max(layer.in_dim * layer.out_dim for layer in model.layers)
    width = drawing_width(max(n_nodes), slots_max, scale) * 0.96
    pos = [node_x(n, width) for n in n_nodes]
    bands, ys = [], [0.0]
    for layer in model.layers:
        bands.append(band_layout(layer.in_dim, layer.out_dim, width, ys[-1], scale))
        ys.append(ys[-1] + bands[-1].height)
    size = 11.0 * varscale * max(scale * 2, 0.5)
    rows = []  # (names, x, y, va, fontsize, rotation, stride) of the input and output names
    for names, l, sign in ((names_in, 0, -1), (names_out, model.depth, 1)):
        shown = [short_name(n) for n in names]
        fontsize, rotation, stride = label_layout(shown, width / max(n_nodes[l], 1), size)
        rows.append((shown, pos[l], ys[l] + sign * 0.1, sign, fontsize, rotation, stride))
    bottom = 0.15 + label_depth(rows[0][0], rows[0][4], rows[0][5])
    top = 0.15 + label_depth(rows[1][0], rows[1][4], rows[1][5]) + (0.35 if title else 0.0)
    lefts = [float(b.centers[..., 0].min()) - b.box_w / 2 for b in bands]
    rights = [float(b.centers[..., 0].max()) + b.box_w / 2 for b in bands]
    margin_l = max(0.15, 0.1 - min(lefts))
    margin_r = max(0.15, max(rights) - width + 0.1)
    fig = plt.figure(
        FigureClass=KANFigure,
        figsize=(width + margin_l + margin_r, ys[-1] + bottom + top),
    )
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))  # data units are inches of the figure
    lines, line_colors, curves, curve_colors, dots = [], [], [], [], []
    with torch.no_grad():
        for l, (layer, band) in enumerate(zip(model.layers, bands)):
            box_w, box_h = band.box_w, band.box_h
            line_alpha = 0.6 if band.rows == 1 else 0.25  # many rows: the boxes come first
            if trace is not None:
                xs_data = trace.inputs[l]
                lo, hi = xs_data.min(0).values, xs_data.max(0).values
            else:
                lo, hi = layer.grid[:, 0], layer.grid[:, -1]
            t = torch.linspace(0, 1, n_points, dtype=lo.dtype, device=lo.device)[:, None]
            xs = lo + (hi - lo) * t  # (P, in)
            acts = layer.edge_activations(xs).cpu().numpy()  # (P, out, in)
            active = ((layer.mask + layer.sym_mask) > 0).cpu().numpy()
            for i in range(layer.in_dim):
                for j in range(layer.out_dim):
                    if not active[i, j]:
                        continue
                    to = model.subnode_to_node(l + 1, j)
                    alpha = 1.0 if scores is None else math.tanh(beta * float(scores[l][j, i]))
                    cx, cy = (float(c) for c in band.centers[i, j])
                    symbolic = bool(layer.sym_mask[i, j] > 0)
                    rgb = (0.8, 0.1, 0.1) if symbolic else (0.0, 0.0, 0.0)
                    lines += [
                        [(pos[l][i], ys[l]), (cx, cy - box_h / 2)],
                        [(cx, cy + box_h / 2), (pos[l + 1][to], ys[l + 1])],
                    ]
                    line_colors += [(*rgb, line_alpha * alpha)] * 2
                    y = acts[:, j, i]
                    y_lo, span = float(y.min()), float(y.max() - y.min()) or 1.0
                    px = cx - box_w / 2 + box_w * np.linspace(0, 1, n_points)
                    py = cy - box_h / 2 + box_h * (y - y_lo) / span
                    curves.append(np.stack([px, py], 1))
                    curve_colors.append((*rgb, max(alpha, 0.05)))
                    ax.add_patch(
                        Rectangle(
                            (cx - box_w / 2, cy - box_h / 2),
                            box_w,
                            box_h,
                            facecolor="white",  # lines to other boxes pass behind it
                            lw=0.5,
                            ec=(0, 0, 0, 0.3 * alpha),
                            zorder=2,
                        )
                    )
                    if sample and trace is not None:
                        xi = trace.inputs[l][:, i].cpu().numpy()
                        yi = trace.edge_acts[l][:, j, i].cpu().numpy()
                        x_lo, x_span = float(lo[i]), float(hi[i] - lo[i]) or 1.0
                        dots.append(
                            np.stack(
                                [
                                    cx - box_w / 2 + box_w * (xi - x_lo) / x_span,
                                    cy - box_h / 2 + box_h * (yi - y_lo) / span,
                                ],
                                1,
                            )
                        )
                    if tick:
                        for y_text, text, va in (
                            (cy - box_h / 2, f"{float(lo[i]):.2g}..{float(hi[i]):.2g}", "top"),
                            (cy + box_h / 2, f"{y_lo:.2g}..{y_lo + span:.2g}", "bottom"),
                        ):
                            ax.text(cx, y_text, text, fontsize=5, ha="center", va=va,
                                    alpha=max(alpha, 0.3), zorder=4)  # fmt: skip
    ax.add_collection(LineCollection(lines, colors=line_colors, linewidths=1.0, zorder=1))
    ax.add_collection(LineCollection(curves, colors=curve_colors, linewidths=1.5, zorder=3))
    for d in dots:
        ax.scatter(d[:, 0], d[:, 1], s=2, c="tab:blue", alpha=0.4, zorder=3)
    for l in range(model.depth + 1):
        n_sum, n_mult = model.width[l][0], model.width[l][1]
        ax.scatter(pos[l][:n_sum], np.full(n_sum, ys[l]), s=30, c="black", zorder=4)
        ax.scatter(pos[l][n_sum:], np.full(n_mult, ys[l]), s=45, c="white",
                   edgecolors="black", marker="s", zorder=4)  # fmt: skip
    for shown, xs_row, y_row, sign, fontsize, rotation, stride in rows:
        for k, (xpos, name) in enumerate(zip(xs_row, shown)):
            if k % stride:
                continue  # thinned: too many names to show them all
            ax.text(xpos, y_row, name, ha="center", va="top" if sign < 0 else "bottom",
                    fontsize=fontsize, rotation=rotation)  # fmt: skip
    ax.set_xlim(-margin_l, width + margin_r)
    ax.set_ylim(-bottom, ys[-1] + top)
    ax.axis("off")
    if title:
        ax.text(width / 2, ys[-1] + top - 0.1, title, ha="center", va="top", fontsize=12)
    if path is not None:
        fig.savefig(path, bbox_inches="tight")
    return fig


def _names(model: KAN, in_vars: list[Any] | None, out_vars: list[Any] | None):
    """The input and output names to draw (pykan's defaults, or the given ones)."""
    default_in, default_out = default_names(model)
    names_in = default_in if in_vars is None else [variable_label(v) for v in in_vars]
    if len(names_in) != model.n_nodes(0) and len(names_in) > max(model.input_ids, default=-1):
        names_in = [names_in[k] for k in model.input_ids]  # names of the unpruned inputs
    names_out = default_out if out_vars is None else [variable_label(v) for v in out_vars]
    if len(names_in) != model.n_nodes(0) or len(names_out) != model.n_nodes(model.depth):
        raise ValueError(
            f"in_vars/out_vars need {model.n_nodes(0)} and {model.n_nodes(model.depth)} names, "
            f"got {len(names_in)} and {len(names_out)}"
        )
    return names_in, names_out
