"""A static SVG of the diagram, for renderers without a widget manager (code-host previews,
VS Code's saved outputs): nodes, edges, and each edge's sampled curve as a tiny polyline.

Built from the widget's synced traits (not the model), so it shows exactly the state
the live view draws.  Inputs at the bottom, outputs at the top, as in the widget.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np

NODE_GAP = 56.0  # horizontal distance between nodes
LAYER_GAP = 110.0  # vertical distance between node layers
THUMB_W, THUMB_H = 30.0, 20.0  # curve thumbnail size
MARGIN = 30.0
# Points per thumbnail curve (evenly spaced of the widget's 48): 26 px wide, 16 points are
# ~1.7 px apart. The SVG travels in every refresh of the stored output and JupyterLab
# copies it into the notebook model: 48 points made a 515-edge model's SVG 443 KB.
STATIC_POINTS = 16


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def diagram_svg(
    structure: dict[str, Any],
    curves: dict[str, Any] | None = None,
    scores: dict[str, Any] | None = None,
    beta: float = 3.0,
    show_pruned: bool = False,
) -> str:
    """SVG text of the network in ``structure`` with the curves ``{x, y}`` (E, P)."""
    width = structure.get("width") or []
    nodes = structure.get("nodes") or []
    edges = structure.get("edges") or []
    n_layers = len(width)
    counts = [sum(w) for w in width]
    span = max(counts, default=1) * NODE_GAP
    w_px = span + 2 * MARGIN
    h_px = max(n_layers - 1, 1) * LAYER_GAP + 2 * MARGIN

    def pos(l: int, i: int) -> tuple[float, float]:
        n = max(counts[l], 1)
        return MARGIN + (i + 0.5) * span / n, h_px - MARGIN - l * LAYER_GAP

    cx = _rows(curves, "x")
    cy = _rows(curves, "y")
    edge_scores = _rows(scores, "edge")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(w_px)}" height="{_fmt(h_px)}" '
        f'viewBox="0 0 {_fmt(w_px)} {_fmt(h_px)}" font-family="sans-serif" font-size="11">',
        f'<rect width="{_fmt(w_px)}" height="{_fmt(h_px)}" fill="white"/>',
    ]
    for e, edge in enumerate(edges):
        if not edge.get("active", True) and not show_pruned:
            continue
        (x0, y0), (x1, y1) = pos(edge["l"], edge["i"]), pos(edge["l"] + 1, edge["to"])
        opacity = 1.0
        if edge_scores is not None and e < len(edge_scores):
            s = float(edge_scores[e])
            opacity = max(0.05, math.tanh(beta * s)) if math.isfinite(s) else 1.0
        if not edge.get("active", True):
            opacity = 0.15
        color = "#c0392b" if edge.get("symbolic") else "#333"
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        title = f"edge ({edge['l']},{edge['i']},{edge['j']})"
        if edge.get("formula"):
            title += f": {edge['formula']}"
        parts.append(
            f'<g opacity="{opacity:.3f}" data-edge="{edge["l"]},{edge["i"]},{edge["j"]}">'
            f"<title>{escape(title)}</title>"
            f'<line x1="{_fmt(x0)}" y1="{_fmt(y0)}" x2="{_fmt(x1)}" y2="{_fmt(y1)}" '
            f'stroke="{color}" stroke-width="0.8"/>'
            f'<rect x="{_fmt(mx - THUMB_W / 2)}" y="{_fmt(my - THUMB_H / 2)}" '
            f'width="{_fmt(THUMB_W)}" height="{_fmt(THUMB_H)}" fill="white" stroke="#bbb" '
            f'stroke-width="0.5"/>'
        )
        if cx is not None and cy is not None and e < len(cx):
            points = _polyline(cx[e], cy[e], mx - THUMB_W / 2, my - THUMB_H / 2)
            if points:
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1"/>'
                )
        parts.append("</g>")
    for node in nodes:
        x, y = pos(node["l"], node["i"])
        if node.get("kind") == "mult":
            shape = (
                f'<rect x="{_fmt(x - 6)}" y="{_fmt(y - 6)}" width="12" height="12" '
                'fill="#fff" stroke="#333"/>'
            )
        else:
            shape = f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="5" fill="#333"/>'
        parts.append(f'<g data-node="{node["l"]},{node["i"]}">{shape}')
        label = node.get("label") or ""
        if label:
            dy = 18 if node["l"] == 0 else -10
            text = escape(label)
            parts.append(
                f'<text x="{_fmt(x)}" y="{_fmt(y + dy)}" text-anchor="middle">{text}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _rows(arrays: dict[str, Any] | None, key: str) -> np.ndarray | None:
    if not arrays or key not in arrays:
        return None
    return np.asarray(arrays[key], dtype=np.float32)


def _polyline(xs: np.ndarray, ys: np.ndarray, left: float, top: float) -> str:
    """Points of the curve (at most STATIC_POINTS of them, evenly spaced, the ends kept)
    scaled into the thumbnail box at (left, top)."""
    if len(xs) > STATIC_POINTS:
        keep = np.unique(np.linspace(0, len(xs) - 1, STATIC_POINTS).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    ok = np.isfinite(xs) & np.isfinite(ys)
    if ok.sum() < 2:
        return ""
    xs, ys = xs[ok], ys[ok]
    x_lo, x_hi = float(xs.min()), float(xs.max())
    y_lo, y_hi = float(ys.min()), float(ys.max())
    if y_hi - y_lo < 1e-9 * max(1.0, abs(y_hi)):
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    px = left + 2 + (xs - x_lo) / max(x_hi - x_lo, 1e-12) * (THUMB_W - 4)
    py = top + THUMB_H - 2 - (ys - y_lo) / (y_hi - y_lo) * (THUMB_H - 4)
    return " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in zip(px.tolist(), py.tolist(), strict=True))
