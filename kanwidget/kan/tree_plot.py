"""The tree of how a function's inputs combine, drawn with matplotlib (KAN 2.0 section 4.3;
pykan's ``plot_tree`` / ``model.tree()``).

The tree is :func:`.hypothesis.symmetry_tree`'s: leaves are the inputs; each inner node is a
group of inputs that enters ``f`` through one function of its members (a symmetric group);
the root is labelled by how its children combine, ``+`` (additively separable), ``*``
(multiplicatively) or ``F`` (neither), as :func:`.hypothesis.describe_tree` decides.  Works for
a KAN, an MLP or any callable ``(B, n) -> (B,)`` / ``(B, 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

from .hypothesis import SYMMETRY_THRESHOLD, Tree, describe_tree, symmetry_tree


def tree_layout(tree: list[Tree]) -> tuple[dict[int, float], list[tuple[float, float, list]]]:
    """Leaf x positions (in tree order, spaced 1 apart) and inner nodes ``(x, height, leaves)``
    listed children first; the root is last, above everything."""
    leaves: dict[int, float] = {}
    inner: list[tuple[float, float, list]] = []

    def place(t: Tree) -> tuple[float, float, list]:
        if isinstance(t, int):
            leaves[t] = float(len(leaves))
            return leaves[t], 0.0, [t]
        kids = [place(c) for c in t]
        node = (float(np.mean([k[0] for k in kids])), 1 + max(k[1] for k in kids),
                [m for k in kids for m in k[2]])  # fmt: skip
        inner.append(node)
        return node

    root = place(list(tree)) if len(tree) > 1 else place(tree[0])
    if root[1] == 0:  # a single input: nothing to combine
        inner.append((root[0], 1.0, root[2]))
    return leaves, inner


def plot_tree(
    model: Any,
    x: Tensor,
    in_var: Sequence[Any] | None = None,
    style: str = "tree",
    sym_th: float = SYMMETRY_THRESHOLD,
    sep_th: float = 1e-1,
    skip_sep_test: bool = False,
    verbose: bool = False,
) -> Figure:
    """Draw the input tree of ``model`` on samples ``x`` ``(B, n)``; returns the Figure (pyplot's
    current figure, so ``plt.savefig`` works after it).

    Parameters
    ----------
    model : a KAN, an MLP, or any callable ``(B, n) -> (B,)`` or ``(B, 1)``
    in_var : input names (text or sympy); default ``x_1 .. x_n``
    style : ``'tree'`` (lines joining children to parents) or ``'box'`` (nested boxes)
    sym_th : symmetry threshold of :func:`symmetry_tree`
    sep_th : separability threshold for the root's label
    skip_sep_test : label the root ``F`` without testing separability
    verbose : accepted for compatibility (nothing is printed)

    Raises
    ------
    ValueError
        For an unknown ``style``, a wrong number of names, or a function that does not map
        ``(B, n)`` to one output.
    """
    import matplotlib.pyplot as plt

    from .figure import KANFigure
    from .names import input_name, tex
    from .plot import variable_label

    if style not in ("tree", "box"):
        raise ValueError(f"style must be 'tree' or 'box', got {style!r}")
    n = x.shape[1]
    names = [tex(input_name(k)) for k in range(n)] if in_var is None else [
        variable_label(v) for v in in_var]  # fmt: skip
    if len(names) != n:
        raise ValueError(f"in_var has {len(names)} names for {n} inputs")
    tree = symmetry_tree(model, x, sym_th)
    root = "F"
    if not skip_sep_test and len(tree) > 1:
        root = describe_tree(model, x, tree, threshold=sep_th)[0]
    leaves, inner = tree_layout(tree)
    height = max(h for _, h, _ in inner)
    fig = plt.figure(FigureClass=KANFigure, figsize=(max(3.0, 0.9 * n + 1), 1.0 + 0.9 * height))
    ax = fig.add_subplot(1, 1, 1)
    for k, xpos in leaves.items():
        ax.text(xpos, -0.15, names[k], ha="center", va="top", fontsize=12)
    for index, (xpos, h, members) in enumerate(inner):
        label = root if index == len(inner) - 1 else ""
        if style == "box":
            lo, hi = min(leaves[m] for m in members), max(leaves[m] for m in members)
            pad = 0.12 * h
            ax.add_patch(plt.Rectangle((lo - 0.3 - pad, -0.05), hi - lo + 0.6 + 2 * pad,
                                       h * 0.8, fill=False, lw=1.2))  # fmt: skip
            if label:
                ax.text(xpos, h * 0.8 - 0.05, label, ha="center", va="bottom", fontsize=13)
            continue
        for m in members:  # lines to the members' nearest drawn ancestors below
            below = [node for node in inner[:index] if m in node[2]]
            start = (leaves[m], 0.0) if not below else (below[-1][0], below[-1][1])
            ax.plot([start[0], xpos], [start[1], h], color="black", lw=1.2)
        ax.scatter([xpos], [h], s=260 if label else 40, c="white", edgecolors="black", zorder=3)
        if label:
            ax.text(xpos, h, label, ha="center", va="center", fontsize=12, zorder=4)
    ax.scatter(list(leaves.values()), [0.0] * len(leaves), s=30, c="black", zorder=3)
    ax.set_xlim(-0.8, n - 0.2)
    ax.set_ylim(-0.6, height + 0.4)
    ax.axis("off")
    return fig
