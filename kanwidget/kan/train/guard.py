"""Keeping the last finite state of a ``fit`` (issue: never lose the user's model).

Before each step the trainable parameters are copied into buffers (and the whole state
dict on steps that update grids, which change buffers too).  When a step's losses or
parameters come out non-finite (an optimiser or line search that stepped into a singular
symbolic function, an overflow, a loss that returned NaN), :meth:`FitGuard.rollback` puts
back the state the step started from.  The pre-fit state is kept whole, so a fit whose
first step diverges leaves the model bit-identical to before the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from ..network import KAN


class FitGuard:
    """The pre-fit state of ``model`` and the state at the start of the current step."""

    def __init__(self, model: KAN, params: Sequence[nn.Parameter]) -> None:
        self.model, self.params = model, list(params)
        self.initial = _clone_state(model)
        self.initial_attrs = (
            model._last_input, model._fit_data, model.node_scores, model.edge_scores,
            model.feature_score, model.subnode_scores,
        )  # fmt: skip
        self.saved = [p.detach().clone() for p in self.params]
        self.full: dict[str, Tensor] | None = None  # the state dict, if the step changes buffers

    def save(self, buffers_change: bool) -> None:
        """Remember the state at the start of a step (``buffers_change``: the step updates
        grids, so save the whole state dict)."""
        with torch.no_grad():
            for buf, p in zip(self.saved, self.params, strict=True):
                buf.copy_(p)
        self.full = _clone_state(self.model) if buffers_change else None

    def rollback(self) -> None:
        """Put back the state saved at the start of the step."""
        with torch.no_grad():
            if self.full is not None:
                _load(self.model, self.full)
            for buf, p in zip(self.saved, self.params, strict=True):
                p.copy_(buf)

    def restore_initial(self) -> None:
        """Put the model back exactly as it was before ``fit`` (values, data seen, scores)."""
        _load(self.model, self.initial)
        model = self.model
        (model._last_input, model._fit_data, model.node_scores, model.edge_scores,
         model.feature_score, model.subnode_scores) = self.initial_attrs  # fmt: skip


def params_finite(params: Sequence[Tensor]) -> bool:
    """Whether every entry of ``params`` is finite."""
    return all(bool(torch.isfinite(p).all()) for p in params)


def _clone_state(model: KAN) -> dict[str, Tensor]:
    return {name: t.detach().clone() for name, t in model.state_dict().items()}


def _load(model: KAN, state: dict[str, Tensor]) -> None:
    """Copy ``state`` into the model's tensors in place (same objects, so the optimisers
    and the widget keep their references)."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.shape == state[name].shape:
                t.copy_(state[name])
            else:  # pragma: no cover - fit does not reshape; an edit between steps might
                raise RuntimeError(f"cannot restore {name}: its shape changed during fit")
