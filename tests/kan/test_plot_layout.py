"""model.plot() is readable for wide models (issue 14, items 23/28): the figure is shown at its
own size (<= 10 in), edge boxes never overlap and stay >= 0.2 in, names never overlap and
stay inside the figure; checked on the drawn figure with matplotlib's renderer."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

from kanwidget import KAN
from kanwidget.kan.plot_layout import MAX_WIDTH_IN, band_layout, label_layout, node_x

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

LONG = [f"temperature_of_sample_{k}" for k in range(30)]


def _extents(fig, artists):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [a.get_window_extent(renderer) for a in artists]


def _overlaps(boxes, tol=0.5):
    """Pairs of display boxes that overlap by more than ``tol`` px in both directions."""
    out = []
    for (a, ea), (b, eb) in itertools.combinations(enumerate(boxes), 2):
        dx = min(ea.x1, eb.x1) - max(ea.x0, eb.x0)
        dy = min(ea.y1, eb.y1) - max(ea.y0, eb.y0)
        if dx > tol and dy > tol:
            out.append((a, b))
    return out


@pytest.mark.parametrize(
    ("width", "names"),
    [([30, 5, 1], LONG), ([30, 5, 1], None), ([3, 4, 3], None), ([8, 16, 16, 1], None),
     ([100, 3, 1], None), ([200, 1], None), ([2, [3, 2], 1], None)],
    ids=["30-long-names", "30", "3-4-3", "8-16-16-1", "100", "200", "mult"],
)  # fmt: skip
def test_plot_layout_boxes_and_names_do_not_overlap_and_are_readable(width, names):
    model = KAN(width, grid=3, seed=0)
    fig = model.plot(in_vars=names)
    try:
        w_in, h_in = fig.get_size_inches()
        assert w_in <= MAX_WIDTH_IN + 0.2, w_in  # a notebook shows it at its own size
        ax = fig.axes[0]
        rects = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(rects) == model.n_edges()
        boxes = _extents(fig, rects)
        dpi = fig.dpi
        assert min(b.width for b in boxes) >= 0.2 * dpi
        assert min(b.height for b in boxes) >= 0.2 * dpi
        assert not _overlaps(boxes), "edge boxes overlap"
        texts = [t for t in ax.texts if t.get_text()]
        extents = _extents(fig, texts)
        clashes = [(texts[a].get_text(), texts[b].get_text()) for a, b in _overlaps(extents)]
        assert not clashes, clashes
        fig_box = fig.bbox
        for t, e in zip(texts, extents):  # nothing cut off at the figure's edge
            assert e.x0 >= fig_box.x0 - 0.5 and e.x1 <= fig_box.x1 + 0.5, t.get_text()
            assert e.y0 >= fig_box.y0 - 0.5 and e.y1 <= fig_box.y1 + 0.5, t.get_text()
        for b in boxes:
            assert fig_box.x0 <= b.x0 and b.x1 <= fig_box.x1
            assert fig_box.y0 <= b.y0 and b.y1 <= fig_box.y1
        shown = {t.get_text() for t in texts}
        if width[0] <= 100:  # every input is named
            want = set(names) if names else {f"$x_{{{k + 1}}}$" for k in range(width[0])}
            assert want <= shown
        else:  # names thinned to every k-th, never overlapping
            assert "$x_{1}$" in shown and 10 <= sum(s.startswith("$x_") for s in shown) < width[0]
    finally:
        plt.close(fig)


def test_plot_layout_single_row_is_pykans_slot_order():
    """While boxes fit in one row, edge (i, j) is at pykan's slot (i*out + j + 0.5)/(in*out)."""
    width = 6.0
    band = band_layout(3, 4, width, 0.0, 0.5)
    assert band.rows == 1
    i, j = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    np.testing.assert_allclose(band.centers[..., 0], width * (i * 4 + j + 0.5) / 12)
    assert np.ptp(band.centers[..., 1]) == 0


def test_plot_layout_wide_layer_stacks_boxes_above_their_input():
    width = 9.6
    band = band_layout(30, 5, width, 0.0, 0.5)
    assert band.rows == 5 and band.box_w >= 0.24
    np.testing.assert_allclose(band.centers[..., 0], np.repeat(node_x(30, width)[:, None], 5, 1))
    many = band_layout(100, 3, width, 0.0, 0.5)  # 0.096 in per input: 4 tiers
    assert many.rows == 12 and many.box_w >= 0.24
    same_tier = many.centers[0::4, 0, 0]
    assert np.all(np.diff(same_tier) >= many.box_w)


def test_plot_layout_label_layout_closed_forms():
    # 4 characters at 1 in spacing: 0.9 * 72 / (0.6 * 4) = 27 pt fit; the wanted 11 pt is kept
    assert label_layout(["abcd"], 1.0, 11.0) == (11.0, 0.0, 1)
    # 20 characters at 1 in: 0.9 * 72 / 12 = 5.4 pt < 7 pt: stood up at min(11, 0.8 * 72)
    assert label_layout(["a" * 20], 1.0, 11.0) == (11.0, 90.0, 1)
    # 0.05 in apart: 0.8 * 3.6 = 2.88 pt < 5 pt: every ceil(5 / 2.88) = 2nd name at 5 pt
    assert label_layout(["x_1"], 0.05, 11.0) == (5.0, 90.0, 2)
