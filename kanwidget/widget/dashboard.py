"""A live bqplot loss chart (train/test RMSE per step, log scale) fed by a KANWidget's ``loss``.

Colours are the widget sparkline's (``--kw-train`` / ``--kw-test`` in js/widget.css); the
y ticks are chosen here (:func:`log_ticks`), since bqplot's own log ticks all read "1e-2"
when the losses stay within one decade.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .widget import KANWidget


#: train, test (the same as js/widget.css --kw-train, --kw-test)
COLORS = ["#1976d2", "#00897b"]
TICK_FORMAT = ".1~e"


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Tick values for a log axis over ``[lo, hi]`` (``0 < lo <= hi``), at most ``max_ticks``.

    Powers of ten when the range spans enough decades (every k-th one if too many), else
    1-2-5 or 1..9 multiples; the first tick is <= lo and the last >= hi, so the ticks
    bracket the data and no two read the same with :data:`TICK_FORMAT`.
    """
    if not (0 < lo <= hi and math.isfinite(hi)):
        raise ValueError(f"log_ticks needs 0 < lo <= hi, got {lo!r}, {hi!r}")
    d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    d1 = max(d1, d0 + 1) if 10.0**d0 >= hi else d1
    for mantissas in ([1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]):
        values = sorted({float(f"{m}e{d}") for d in range(d0, d1 + 1) for m in mantissas})
        below = [v for v in values if v <= lo]
        above = [v for v in values if v >= hi]
        inside = [v for v in values if below[-1] <= v <= above[0]]
        if len(inside) >= 3 or mantissas[-1] == 9:
            break
    if len(inside) == 1:  # lo == hi == a tick value: give the axis a span
        inside.append(next(v for v in values if v > inside[0]))
    step = 1
    while True:
        ticks = inside[::step]
        if ticks[-1] < hi:
            ticks.append(inside[-1])
        if len(ticks) <= max_ticks:
            return ticks
        step += 1


class LossChart:
    """``figure`` (a bqplot Figure) follows ``widget.loss`` until ``close()``."""

    def __init__(self, widget: KANWidget) -> None:
        import bqplot

        self.widget = widget
        x_scale, y_scale = bqplot.LinearScale(), bqplot.LogScale()
        self.lines = bqplot.Lines(
            x=np.zeros(0), y=np.zeros((2, 0)), scales={"x": x_scale, "y": y_scale},
            colors=COLORS, labels=["train RMSE", "test RMSE"], display_legend=True,
        )  # fmt: skip
        self.y_scale = y_scale
        self.y_axis = bqplot.Axis(scale=y_scale, side="left", label="RMSE", tick_format=TICK_FORMAT)
        axes = [bqplot.Axis(scale=x_scale, label="step"), self.y_axis]
        self.figure = bqplot.Figure(
            marks=[self.lines], axes=axes, title="loss",
            fig_margin={"top": 40, "bottom": 40, "left": 60, "right": 20},
            layout={"height": "240px", "width": "100%"},
        )  # fmt: skip
        widget.observe(self.update, names="loss")
        self.update()

    def update(self, change: Any = None) -> None:
        loss = self.widget.loss or {}
        train = np.asarray(loss.get("train", np.zeros(0)), dtype=np.float64)
        test = np.asarray(loss.get("test", np.zeros(0)), dtype=np.float64)
        n = min(len(train), len(test))
        if n == 0:
            return
        ys = np.stack([train[:n], test[:n]])
        ys = np.where(ys > 0, ys, np.nan)  # log scale: no zeros
        finite = ys[np.isfinite(ys)]
        with self.lines.hold_sync():
            self.lines.x = np.arange(n, dtype=np.float64)
            self.lines.y = ys
        if finite.size:
            ticks = log_ticks(float(finite.min()), float(finite.max()))
            self.y_scale.min, self.y_scale.max = ticks[0], ticks[-1]
            self.y_axis.tick_values = np.asarray(ticks)

    def close(self) -> None:
        self.widget.unobserve(self.update, names="loss")
