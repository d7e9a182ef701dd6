"""Static matplotlib diagram of a KAN (for papers) in pykan's layout; writes no files unless asked.

Node layer l sits at height l; every edge (l, i, j) gets its own slot in the band between
two node layers (slot ``i * out + j`` of ``in * out``, as pykan places them, so no two edge
plots overlap), drawn as a small box with the learned curve over the inputs the model last
saw (over the grid before any data).  A line joins the input node to the box and the box to
the node the edge feeds.  Opacity is ``tanh(beta * score)`` (pykan's convention), the score
chosen by ``metric``: ``'backward'`` attribution (KAN 2.0 eq. 9), ``'forward_u'`` the edge
output's std, ``'forward_n'`` that std over its input's std.

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
from matplotlib.figure import Figure

from .names import input_names, output_names, tex

if TYPE_CHECKING:
    from .network import KAN

MAX_WIDTH_IN = 10.0  # figure width cap (inches); wide models shrink their boxes, not the page
_METRICS = ("backward", "forward_u", "forward_n")


class KANFigure(Figure):
    """A matplotlib Figure that IPython shows once: while it is open in pyplot under the
    inline backend, the backend shows it at the end of the cell, so displaying it as a value
    adds nothing; otherwise (closed, or another backend) it shows itself as a PNG."""

    def _ipython_display_(self) -> None:
        import matplotlib
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        inline = "inline" in matplotlib.get_backend()
        if inline and plt.fignum_exists(self.number):
            return
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        display(Image(data=buffer.getvalue(), format="png"))


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


def _label_layout(names: list[str], spacing_pt: float, size: float) -> tuple[float, float]:
    """Font size and rotation so labels ``spacing_pt`` apart do not overlap."""
    longest = max((len(n.replace("$", "").replace("\\", "")) for n in names), default=1)
    fits = 0.9 * spacing_pt / (0.6 * max(longest, 1))  # font size at which the widest fits
    if fits >= size:
        return size, 0.0
    if fits >= 7.0:
        return fits, 0.0
    return min(size, max(0.9 * spacing_pt, 5.0)), 90.0  # stand the labels up


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

    x = model._last_input
    scores = edge_scores(model, metric, x)
    trace = model.forward_cache(x) if x is not None else None
    n_max = max(model.n_nodes(l) for l in range(model.depth + 1))
    slots_max = max(layer.in_dim * layer.out_dim for layer in model.layers)
    width_in = min(MAX_WIDTH_IN, max(3.0, 1.6 * n_max, 0.35 * slots_max) * scale * 2)
    height_in = min(2.4 * model.depth * scale * 2 + 1.0, 1.2 * MAX_WIDTH_IN)
    fig = plt.figure(FigureClass=KANFigure, figsize=(width_in, height_in))
    ax = fig.add_axes((0.02, 0.08, 0.96, 0.84))
    pos = [(np.arange(model.n_nodes(l)) + 0.5) / model.n_nodes(l) for l in range(model.depth + 1)]
    lines, line_colors, curves, curve_colors, dots = [], [], [], [], []
    with torch.no_grad():
        for l, layer in enumerate(model.layers):
            n_slots = layer.in_dim * layer.out_dim
            box_w = 0.8 / n_slots
            box_h = 0.3
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
                    cx, cy = (i * layer.out_dim + j + 0.5) / n_slots, l + 0.5
                    symbolic = bool(layer.sym_mask[i, j] > 0)
                    rgb = (0.8, 0.1, 0.1) if symbolic else (0.0, 0.0, 0.0)
                    lines += [
                        [(pos[l][i], l), (cx, cy - box_h / 2)],
                        [(cx, cy + box_h / 2), (pos[l + 1][to], l + 1)],
                    ]
                    line_colors += [(*rgb, 0.6 * alpha)] * 2
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
                            fill=False,
                            lw=0.5,
                            ec=(0, 0, 0, 0.3 * alpha),
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
                        ax.text(
                            cx,
                            cy - box_h / 2,
                            f"{float(lo[i]):.2g}..{float(hi[i]):.2g}",
                            fontsize=5,
                            ha="center",
                            va="top",
                            alpha=max(alpha, 0.3),
                        )
                        ax.text(
                            cx,
                            cy + box_h / 2,
                            f"{y_lo:.2g}..{y_lo + span:.2g}",
                            fontsize=5,
                            ha="center",
                            va="bottom",
                            alpha=max(alpha, 0.3),
                        )
    ax.add_collection(LineCollection(lines, colors=line_colors, linewidths=1.0))
    ax.add_collection(LineCollection(curves, colors=curve_colors, linewidths=1.5))
    for d in dots:
        ax.scatter(d[:, 0], d[:, 1], s=2, c="tab:blue", alpha=0.4, zorder=2)
    for l in range(model.depth + 1):
        n_sum = model.width[l][0]
        ax.scatter(pos[l][:n_sum], np.full(n_sum, l), s=30, c="black", zorder=3)
        n_mult = model.width[l][1]
        ax.scatter(
            pos[l][n_sum:],
            np.full(n_mult, l),
            s=45,
            c="white",
            edgecolors="black",
            marker="s",
            zorder=3,
        )
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
    size = 11.0 * varscale * max(scale * 2, 0.5)
    for names, ys, va, layer_nodes in (
        (names_in, -0.12, "top", 0),
        (names_out, model.depth + 0.12, "bottom", model.depth),
    ):
        spacing = width_in * 0.96 * 72 / max(model.n_nodes(layer_nodes), 1)
        fontsize, rotation = _label_layout(names, spacing, size)
        for xpos, name in zip(pos[layer_nodes], names):
            ax.text(xpos, ys, name, ha="center", va=va, fontsize=fontsize, rotation=rotation)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.45, model.depth + 0.45)
    ax.axis("off")
    if title:
        ax.set_title(title)
    if path is not None:
        fig.savefig(path, bbox_inches="tight")
    return fig
