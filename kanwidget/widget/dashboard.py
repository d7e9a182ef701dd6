"""A live bqplot loss chart (train/test RMSE per step, log scale) fed by a KANWidget's ``loss``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .widget import KANWidget


class LossChart:
    """``figure`` (a bqplot Figure) follows ``widget.loss`` until ``close()``."""

    def __init__(self, widget: KANWidget) -> None:
        import bqplot

        self.widget = widget
        x_scale, y_scale = bqplot.LinearScale(), bqplot.LogScale()
        self.lines = bqplot.Lines(
            x=np.zeros(0), y=np.zeros((2, 0)), scales={"x": x_scale, "y": y_scale},
            colors=["#1f77b4", "#ff7f0e"], labels=["train", "test"], display_legend=True,
        )  # fmt: skip
        axes = [
            bqplot.Axis(scale=x_scale, label="step"),
            bqplot.Axis(scale=y_scale, side="left", label="RMSE", tick_format=".0e"),
        ]
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
        with self.lines.hold_sync():
            self.lines.x = np.arange(n, dtype=np.float64)
            self.lines.y = ys

    def close(self) -> None:
        self.widget.unobserve(self.update, names="loss")
