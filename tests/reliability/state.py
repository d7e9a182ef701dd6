"""What "bit-identical" means for the reliability tests: the model's state dict, structure
(masks, grids, symbolic names and parameters, input ids), cached data, loss log, the whole
history (ids, parents, operations, arguments, losses, stored tensors, current version)
and the caller's dataset tensors, compared bit for bit (NaN-safe)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor

from kanwidget import KAN

_INT_OF_SIZE = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def same_bits(a: Tensor | None, b: Tensor | None) -> bool:
    """Equal shape, dtype and bits (so NaN == NaN and -0.0 != 0.0)."""
    if a is None or b is None:
        return a is b
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.is_floating_point:
        kind = _INT_OF_SIZE[a.element_size()]
        return torch.equal(a.contiguous().view(kind), b.contiguous().view(kind))
    return torch.equal(a, b)


def _clone(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clone(v) for v in value]
    return copy.deepcopy(value)


def model_state(model: KAN) -> dict[str, Any]:
    """A deep, comparable record of everything a verb could change."""
    config, tensors = model.snapshot()
    history = model.history
    return {
        "config": copy.deepcopy(config),
        "tensors": {name: t.clone() for name, t in tensors.items()},
        "requires_grad": {name: p.requires_grad for name, p in model.named_parameters()},
        "layer_attrs": [
            (layer.in_dim, layer.out_dim, layer.num, layer.k, layer.has_symbolic)
            for layer in model.layers
        ],  # fmt: skip
        "last_input": _clone(model._last_input),
        "fit_data": _clone(model._fit_data),
        "loss_log": copy.deepcopy(model.loss_log),
        "version": model.version,
        "history": [
            (
                v.id,
                v.parent,
                v.operation,
                copy.deepcopy(v.arguments),
                v.train_loss,
                v.test_loss,
                v.n_edges,
                v.formula,
                v.time,
                copy.deepcopy(v._config),
                {name: t.clone() for name, t in v._tensors.items()},
            )
            for v in history
        ],  # fmt: skip
        "children": {v.id: [c.id for c in history.children(v.id)] for v in history},
    }


def _diff(a: Any, b: Any, where: str, out: list[str]) -> None:
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if not (isinstance(a, Tensor) and isinstance(b, Tensor) and same_bits(a, b)):
            out.append(where)
    elif isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            out.append(f"{where}: keys {sorted(set(a) ^ set(b))}")
        for k in set(a) & set(b):
            _diff(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            out.append(f"{where}: length {len(a)} != {len(b)}")
        for k, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{where}[{k}]", out)
    elif a != b and not (isinstance(a, float) and isinstance(b, float) and a != a and b != b):
        out.append(f"{where}: {str(a)[:60]} != {str(b)[:60]}")


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Paths where two ``model_state`` records differ (empty when bit-identical)."""
    out: list[str] = []
    _diff(before, after, "model", out)
    return out


def dataset_state(dataset: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if dataset is None else _clone(dict(dataset))
