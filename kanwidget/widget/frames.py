"""Each version's drawn data ("frames"), kept in widget state for time travel without a kernel.

A colleague reading an exported page (or a saved notebook whose kernel is gone) clicks a
version in the timeline and sees that version's diagram: the front end (js/frames.ts)
swaps the frame in for the live traits locally. Frames are built from the version tree's
stored states (``model.history.state(id)``, restored into a scratch model), never from the
live model, whose parameters move while it trains on top of the current version.

A frame is the live payload, made smaller (quickstart: ~10 KB per version, base64 in the
saved notebook):

* ``structure``: the version's structure (edges, symbolic labels and formulas), as live;
* ``curves``: ``range`` (E, 2) the [lo, hi] each edge is drawn over and ``y`` (E, P) its
  function at P = FRAME_POINTS evenly spaced points of that range (x is implied);
* ``samples``: ``x``, ``y`` (E, S) real activations, S = FRAME_SAMPLES (``{}`` for models
  of more than MAX_SAMPLED_EDGES edges, whose frames would otherwise pass ~100 KB);
* ``scores``: ``edge`` (E,), ``node`` (N,) attribution (empty without data);
* ``loss``: ``train``, ``test`` RMSE per step on the version's branch, at most LOSS_POINTS
  (evenly spaced, the last step kept).

Versions never change once committed, so a frame is built once per version id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .payload import DataSample, build_arrays, build_loss, build_structure

if TYPE_CHECKING:
    from ..kan.network import KAN

FRAME_POINTS = 24  # P: points per edge curve in a stored frame (the live view has 48)
FRAME_SAMPLES = 16  # S: activation samples per edge in a stored frame
LOSS_POINTS = 64  # most loss values kept per version
MAX_SAMPLED_EDGES = 200  # bigger models store no activation samples in frames (size)


def thin_loss(values: np.ndarray, n: int = LOSS_POINTS) -> np.ndarray:
    """At most ``n`` values of a loss curve, evenly spaced, first and last kept: (<= n,)."""
    if len(values) <= n:
        return values
    ids = np.linspace(0, len(values) - 1, n).round().astype(int)
    return values[ids]


class FrameStore:
    """Builds and keeps the frames of one model's versions (one scratch model, reused).

    Parameters
    ----------
    data : the widget's fixed data subsample (None without a dataset)
    in_vars, out_vars : node labels, as the live structure uses
    """

    def __init__(
        self,
        data: DataSample | None,
        in_vars: Sequence[str] | None = None,
        out_vars: Sequence[str] | None = None,
    ) -> None:
        self.data = data
        self.in_vars, self.out_vars = in_vars, out_vars
        self.frames: dict[str, dict[str, Any]] = {}
        self._scratch: KAN | None = None

    def update(self, model: KAN) -> bool:
        """Build the frames of versions not seen yet (and drop vanished ones); True if any."""
        ids = [v.id for v in model.history]
        changed = False
        for vid in ids:
            if vid not in self.frames:
                self.frames[vid] = self.build(model, vid)
                changed = True
        for vid in set(self.frames) - set(ids):
            del self.frames[vid]
            changed = True
        return changed

    def build(self, model: KAN, version_id: str) -> dict[str, Any]:
        """The frame of ``version_id`` of ``model`` (the model itself is not touched)."""
        scratch = self._scratch_for(model)
        scratch.restore(*model.history.state(version_id))
        structure = build_structure(scratch, self.in_vars, self.out_vars)
        arrays = build_arrays(scratch, self.data, points=FRAME_POINTS, samples=FRAME_SAMPLES)
        cx = arrays["curves"]["x"]  # (E, P): evenly spaced, so [lo, hi] is enough
        rng = np.stack([cx[:, 0], cx[:, -1]], axis=1) if cx.size else np.zeros((0, 2), np.float32)
        loss = build_loss(scratch)
        return {
            "structure": structure,
            "curves": {"range": rng, "y": arrays["curves"]["y"]},
            "samples": arrays["samples"] if len(structure["edges"]) <= MAX_SAMPLED_EDGES else {},
            "scores": arrays["scores"],
            "loss": {k: thin_loss(v) for k, v in loss.items()},
        }

    def _scratch_for(self, model: KAN) -> KAN:
        if self._scratch is None:
            from ..kan.network import KAN

            self._scratch = KAN([1, 1], grid=1, k=1, device=model.device, dtype=torch.float64)
        return self._scratch


def frame_nbytes(frames: dict[str, dict[str, Any]]) -> int:
    """Bytes of the frames' binary arrays (what the saved state stores as base64)."""

    def walk(value: Any) -> int:
        if isinstance(value, np.ndarray):
            return value.nbytes
        if isinstance(value, dict):
            return sum(walk(v) for v in value.values())
        return 0

    return walk(frames)
