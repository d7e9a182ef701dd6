"""static_svg: the stored SVG's thumbnails are short (it travels with every refresh of the
output) and still span each edge's curve from end to end."""

from __future__ import annotations

import re

import numpy as np

from kanwidget.widget.static_svg import STATIC_POINTS, THUMB_W, diagram_svg


def _structure(n_edges: int) -> dict:
    edges = [{"l": 0, "i": 0, "j": j, "to": j, "active": True} for j in range(n_edges)]
    nodes = [{"l": 0, "i": 0, "kind": "input"}]
    nodes += [{"l": 1, "i": j, "kind": "output"} for j in range(n_edges)]
    return {"width": [[1, 0], [n_edges, 0]], "nodes": nodes, "edges": edges}


def test_static_svg_thumbnail_keeps_ends_with_few_points():
    x = np.tile(np.linspace(-1, 1, 48, dtype=np.float32), (3, 1))
    y = np.stack([x[0], x[0] ** 2, np.sin(3 * x[0])])  # y = x rises from corner to corner
    svg = diagram_svg(_structure(3), {"x": x, "y": y})
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    rects = re.findall(r'<rect x="([-\d.]+)" y="([-\d.]+)" width', svg)
    assert len(lines) == 3 and len(rects) == 3
    for points, (left, _) in zip(lines, rects, strict=True):
        pts = np.array([p.split(",") for p in points.split()], dtype=float)
        assert len(pts) == STATIC_POINTS
        assert np.all(np.diff(pts[:, 0]) > 0)  # evenly spread over the box, in order
        assert pts[0, 0] == float(left) + 2 and pts[-1, 0] == float(left) + THUMB_W - 2
    first = np.array([p.split(",") for p in lines[0].split()], dtype=float)
    top = float(rects[0][1])
    # y = x: from the bottom (top + 20 - 2) to the top (top + 2) of the box
    assert first[0, 1] == top + 18 and first[-1, 1] == top + 2


def test_static_svg_short_curves_are_kept_whole():
    x = np.linspace(0, 1, 5, dtype=np.float32)[None, :]
    svg = diagram_svg(_structure(1), {"x": x, "y": x})
    (points,) = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(points.split()) == 5
