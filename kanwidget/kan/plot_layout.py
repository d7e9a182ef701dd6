"""Geometry of ``model.plot()``: where nodes, edge boxes and variable names go, in inches.

Node layer ``l`` is a row of evenly spaced nodes across the drawing width (at most
``MAX_WIDTH_IN``, so a notebook shows the figure at its size instead of shrinking it).
Between two node rows lies the band of that layer's edges, one small box per edge (its
learned curve). Every input node owns a segment of the width centred on it, and the boxes of
its edges are set in a small grid inside that segment: one row, as pykan draws them, while
they fit at ``MIN_PITCH_IN`` per box; otherwise in several rows; and when even one box per
segment does not fit (many inputs), neighbouring inputs alternate between tiers so each box
still gets ``MIN_PITCH_IN``. Boxes therefore never overlap and never shrink below
``0.8 * MIN_PITCH_IN``; the band grows taller instead. Names are shrunk, stood up, cut to
``MAX_NAME_CHARS`` or thinned (every k-th shown) so that they do not overlap.

- :func:`drawing_width`: width of the drawing for a model's widths and ``scale``.
- :func:`node_x`: the x of each node of a row.
- :func:`band_layout`: the boxes of one layer's edges and the height of its band.
- :func:`label_layout`: font size, rotation and stride of a row of names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_WIDTH_IN = 10.0  # figure width cap (inches); wide models get more rows, not a wider page
MIN_PITCH_IN = 0.3  # horizontal room per edge box (inches): boxes are >= 0.24 in wide
MAX_BOX_W_IN = 1.0  # a box is never wider than this (inches)
ROW_GAP_IN = 0.03  # vertical gap between rows of boxes (inches): lines pass behind boxes
NODE_GAP_IN = 0.3  # between a node row and the nearest row of boxes (inches)
MAX_NAME_CHARS = 24  # longer plain-text names are cut with an ellipsis
MIN_FONT_PT = 5.0


@dataclass
class Band:
    """One layer's edge boxes: ``centers`` ``(in, out, 2)`` (x, y in inches), box size, and the
    band's height (from the node row below to the node row above, inches)."""

    centers: np.ndarray
    box_w: float
    box_h: float
    height: float
    rows: int  # rows of boxes (1: pykan's single row)


def drawing_width(n_max: int, slots_max: int, scale: float) -> float:
    """Width (inches) of the drawing: pykan's growth with the widest layer, capped."""
    return min(MAX_WIDTH_IN, max(3.0, 1.6 * n_max, 0.35 * slots_max) * scale * 2)


def node_x(n: int, width: float) -> np.ndarray:
    """x (inches) of the ``n`` nodes of a row, each in the middle of its ``width / n``."""
    return (np.arange(n) + 0.5) / max(n, 1) * width


def band_layout(in_dim: int, out_dim: int, width: float, y0: float, scale: float) -> Band:
    """The boxes of a layer with ``in_dim`` inputs and ``out_dim`` outputs (subnodes).

    ``y0`` is the height (inches) of the node row below. Edge (i, j) sits in input i's
    segment (``width / in_dim`` wide, centred on node i), column ``j % c``, row ``j // c``
    of that segment's ``c``-column grid; with ``s > 1`` tiers, input ``i`` uses tier ``i % s``
    and a segment ``s`` times as wide (its neighbours are on other tiers).
    """
    seg = width / max(in_dim, 1)
    tiers = max(1, math.ceil(MIN_PITCH_IN / seg - 1e-9))
    cell = seg * tiers
    cols = max(1, min(out_dim, math.floor(cell / MIN_PITCH_IN + 1e-9)))
    rows = math.ceil(out_dim / cols)
    pitch = cell / cols
    box_w = min(0.8 * pitch, MAX_BOX_W_IN * scale * 2)
    box_h = min(0.6 * scale * 2, max(0.25, box_w))
    n_rows = tiers * rows
    block = n_rows * (box_h + ROW_GAP_IN) - ROW_GAP_IN
    height = max(1.6 * scale * 2, block + 2 * NODE_GAP_IN)
    first = y0 + (height - block) / 2 + box_h / 2
    xs = node_x(in_dim, width)
    centers = np.zeros((in_dim, out_dim, 2))
    for i in range(in_dim):
        tier = i % tiers
        for j in range(out_dim):
            col, row = j % cols, j // cols
            centers[i, j, 0] = xs[i] + (col - (cols - 1) / 2) * pitch
            centers[i, j, 1] = first + (tier * rows + row) * (box_h + ROW_GAP_IN)
    return Band(centers, box_w, box_h, height, n_rows)


def short_name(name: str) -> str:
    """Plain-text names longer than ``MAX_NAME_CHARS`` cut with an ellipsis (TeX is kept)."""
    if "$" in name or len(name) <= MAX_NAME_CHARS:
        return name
    return name[: MAX_NAME_CHARS - 1] + "…"


def _chars(name: str) -> int:
    return max(1, len(name.replace("$", "").replace("\\", "").replace("{", "").replace("}", "")))


def label_layout(names: list[str], spacing_in: float, size: float) -> tuple[float, float, int]:
    """``(font size pt, rotation deg, stride)`` for names ``spacing_in`` apart: the wanted
    ``size`` if they fit side by side, else smaller down to 7 pt, else stood up (90 degrees,
    one line height per name), showing every ``stride``-th name when even that does not fit."""
    spacing_pt = spacing_in * 72
    longest = max((_chars(n) for n in names), default=1)
    fits = 0.9 * spacing_pt / (0.6 * longest)  # font size at which the widest fits
    if fits >= size:
        return size, 0.0, 1
    if fits >= 7.0:
        return fits, 0.0, 1
    upright = min(size, 0.8 * spacing_pt)  # a line of text is ~1.2 font sizes tall
    if upright >= MIN_FONT_PT:
        return upright, 90.0, 1
    stride = math.ceil(MIN_FONT_PT / (0.8 * spacing_pt))
    return MIN_FONT_PT, 90.0, stride


def label_depth(names: list[str], fontsize: float, rotation: float) -> float:
    """Room (inches) a row of names needs away from its nodes."""
    if rotation:
        return 0.12 + 0.62 * max((_chars(n) for n in names), default=1) * fontsize / 72
    return 0.12 + 1.4 * fontsize / 72
