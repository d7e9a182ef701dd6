"""The model's versions (KAN 2.0's ``round.step`` history): operations commit one version
each, atomically (``transaction.py``); rewind / checkout load a stored state; listeners hear
of every change (the widget redraws itself this way).  Mixed into ``KAN`` (``network.py``),
which provides ``snapshot`` / ``restore`` and the forward pass used for the recorded losses.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .transaction import atomic, new_level, transaction


class Versioned:
    """Version bookkeeping of a ``KAN`` (its ``history``, a ``VersionTree``)."""

    @contextlib.contextmanager
    def operation(self: Any, name: str, arguments: dict[str, Any] | None = None, **meta):
        """Group the changes made inside into one version (nested operations commit once).

        Atomic (``transaction.py``): if the body or the commit raises, the model and its
        history are restored and nothing is committed."""
        with transaction(self):
            self._op_depth += 1
            try:
                yield
            finally:
                self._op_depth -= 1
            if self._op_depth == 0:
                self._commit(name, arguments or {}, **meta)

    @contextlib.contextmanager
    def separate_versions(self: Any):
        """Inside a running operation (e.g. a ``fit`` callback), let each call commit its own
        version instead of folding into the enclosing one (used for edits during training)."""
        depth, self._op_depth = self._op_depth, 0
        try:
            with new_level(self):  # each such call is atomic on its own
                yield
        finally:
            self._op_depth = depth

    def _commit(self: Any, operation: str, arguments: dict[str, Any], **meta) -> None:
        config, tensors = self.snapshot()
        if "train_loss" not in meta:
            meta["train_loss"], meta["test_loss"] = self._current_losses(operation)
        self.history.commit(
            config, tensors, operation, jsonable(arguments), n_edges=self.n_edges(), **meta
        )
        self._notify(operation)

    def add_listener(self: Any, callback: Callable[[str], None]) -> None:
        """Call ``callback(operation)`` after every new version, rewind and checkout (the
        widget redraws itself this way when the model is changed from Python)."""
        if not callable(callback):
            raise TypeError(f"a listener must be callable, got {type(callback).__name__}")
        self._listeners.append(callback)

    def remove_listener(self: Any, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` (added by ``add_listener``); unknown ones are ignored."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self: Any, event: str) -> None:
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception as exc:  # a broken listener must not break the model
                warnings.warn(f"model listener {callback!r} failed: {exc}", stacklevel=3)

    def _current_losses(self: Any, operation: str) -> tuple[float | None, float | None]:
        """RMSE of the model as it is now, for the version being committed: a fit's last step,
        otherwise a fresh evaluation on the last fit's data (None before any fit)."""
        log = self.loss_log
        if operation == "fit" and log["train_loss"]:
            return log["train_loss"][-1], log["test_loss"][-1]
        data = self._fit_data
        if data is None:
            return None, None
        losses = []
        with torch.no_grad():
            for split in ("train", "test"):
                x = self._own_columns(data[f"{split}_input"])
                if x is None:
                    return None, None
                pred = self._forward(x)[0]
                losses.append(float(torch.sqrt(((pred - data[f"{split}_label"]) ** 2).mean())))
        return losses[0], losses[1]

    def _own_columns(self: Any, x: Tensor) -> Tensor | None:
        """``x`` cut to this model's inputs (after ``prune_input`` data keeps all columns)."""
        if x.shape[1] == self.width[0][0]:
            return x
        if x.shape[1] > max(self.input_ids, default=-1):
            return x[:, self.input_ids]
        return None

    def _record_losses(self: Any, record: dict[str, float]) -> None:
        """Append one training step's losses to the model's lifetime loss log."""
        for key in ("train_loss", "test_loss"):
            self.loss_log[key].append(record[key])

    @property
    def version(self: Any) -> str:
        return self.history.current.id

    @atomic
    def rewind(self: Any, version_id: str) -> Any:
        """Start a new round from ``version_id`` (KAN 2.0 naming) and load its state."""
        if not isinstance(version_id, str):
            raise TypeError(f"version id must be a string such as '0.1', got {version_id!r}")
        self.restore(*self.history.rewind(version_id))
        self._notify("rewind")
        return self

    @atomic
    def checkout(self: Any, version_id: str) -> Any:
        """Load version ``version_id`` without starting a round."""
        if not isinstance(version_id, str):
            raise TypeError(f"version id must be a string such as '0.1', got {version_id!r}")
        self.restore(*self.history.checkout(version_id))
        self._notify("checkout")
        return self


def jsonable(value: Any) -> Any:
    """Arguments recorded in the history: plain values only (tensors summarised)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (np.integer, np.floating)):  # pykan notebooks pass numpy scalars
        return value.item()
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    return repr(value)[:200]
