"""Candidates of the inspected edge, tagged with what they were computed for.

The inspector must never show (or apply) one edge's candidates under another edge, nor
an old curve's candidates under a new one.  Each candidate therefore carries the edge
``[l, i, j]``, the model ``version`` and, while training, the optimiser ``step`` it was
computed at; the front end shows a list only when those match what it draws.  The widget
recomputes the list whenever the model changes (an edit, a checkout, the end of a run).

A constant edge (its curve is flat, or its input node is dead so it sees one value on the
data, e.g. after pruning every edge into that node) is fitted exactly by every function
with ``c = 0``, so its candidates say nothing: it gets none, and the inspector says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .payload import build_candidate

if TYPE_CHECKING:
    from .widget import KANWidget

#: relative spread below which an edge's sampled curve counts as constant (float32 noise)
CONSTANT_RTOL = 1e-6


def is_constant(ys: np.ndarray) -> bool:
    """True if the sampled curve ``ys`` (P,) is flat: max - min <= 1e-6 * max(1, |y|max)."""
    ys = np.asarray(ys, dtype=np.float64)
    ys = ys[np.isfinite(ys)]
    if ys.size == 0:
        return True
    return float(ys.max() - ys.min()) <= CONSTANT_RTOL * max(1.0, float(np.abs(ys).max()))


def edge_is_constant(widget: KANWidget, e: int) -> bool:
    """Edge row ``e``: a flat sampled curve, or a flat output on the data sample."""
    if is_constant(widget.curves["y"][e]):
        return True
    samples = widget.samples.get("y")
    return samples is not None and is_constant(samples[e])


def edge_candidates(widget: KANWidget, l: int, i: int, j: int) -> list[dict[str, Any]]:
    """``suggest_symbolic(l, i, j)`` as the ``candidates`` trait, each tagged for (l, i, j).

    Returns ``[]`` for a constant edge.  Raises ValueError when the edge does not exist or
    the model has no input to fit on (a widget without a dataset).
    """
    e = widget._edge_index(l, i, j)
    if edge_is_constant(widget, e):
        return []
    widget._ensure_input()
    found = widget.model.suggest_symbolic(l, i, j)
    xs = torch.as_tensor(np.asarray(widget.curves["x"][e]), dtype=torch.float64)
    trainer = widget.trainer
    tag = {
        "edge": [l, i, j],
        "version": widget.model.version,
        "step": trainer.step if trainer.state != "idle" else None,
    }
    return [{**build_candidate(c, xs), **tag} for c in found]


def edge_is_active(widget: KANWidget, edge: list[int]) -> bool:
    """True if ``edge`` exists and is not pruned (numeric or symbolic)."""
    l, i, j = edge
    for e in widget.structure.get("edges", []):
        if (e["l"], e["i"], e["j"]) == (l, i, j):
            return bool(e["active"])
    return False
