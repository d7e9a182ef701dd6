"""The training data: pykan's dataset dict, checked and cast to the model's dtype/device."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from ..network import KAN

DATASET_KEYS = ("train_input", "train_label", "test_input", "test_label")


def check_dataset(model: KAN, dataset: dict[str, Tensor]) -> dict[str, Tensor]:
    """Validate a pykan dataset dict; returns it with tensors on the model's dtype/device."""
    if not isinstance(dataset, dict):
        raise TypeError("dataset must be a dict with keys " + ", ".join(DATASET_KEYS))
    missing = [k for k in DATASET_KEYS if k not in dataset]
    if missing:
        raise ValueError(f"dataset is missing {missing}; expected keys {list(DATASET_KEYS)}")
    out = {}
    n_out = model.n_nodes(model.depth)
    for key in DATASET_KEYS:
        t = dataset[key]
        if not isinstance(t, Tensor):
            raise TypeError(f"dataset[{key!r}] must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 2:
            raise ValueError(
                f"dataset[{key!r}] must be 2-D (samples, features), got {tuple(t.shape)}"
            )
        if not torch.isfinite(t).all():
            bad = int((~torch.isfinite(t)).any(1).sum())
            raise ValueError(
                f"dataset[{key!r}] has NaN or inf values in {bad} rows; clean the data first"
            )
        out[key] = t.to(device=model.device, dtype=model.dtype)
    for split in ("train", "test"):
        x, y = out[f"{split}_input"], out[f"{split}_label"]
        model.check_input(x, f"dataset['{split}_input']")
        if y.shape[1] != n_out:
            raise ValueError(
                f"dataset['{split}_label'] must have {n_out} columns, got {y.shape[1]}"
            )
        if x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise ValueError(f"{split} input and label need the same, non-zero number of rows")
    return out
