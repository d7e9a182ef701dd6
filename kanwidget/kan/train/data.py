"""The training data: pykan's dataset dict, checked and cast to the model's dtype/device."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from ..network import KAN

DATASET_KEYS = ("train_input", "train_label", "test_input", "test_label")


def require_dataset_keys(dataset: object) -> None:
    """Raise ``ValueError`` naming the keys of pykan's dataset dict that ``dataset`` lacks."""
    missing = [k for k in DATASET_KEYS if k not in dataset]  # type: ignore[operator]
    if missing:
        raise ValueError(f"dataset is missing {missing}; expected keys {list(DATASET_KEYS)}")


def is_class_labels(t: Tensor) -> bool:
    """Whether ``t`` holds class indices: a 1-D tensor of an integer dtype."""
    return (
        t.dim() == 1 and not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool
    )


def check_dataset(
    model: KAN, dataset: dict[str, Tensor], label_width: bool = True
) -> dict[str, Tensor]:
    """Validate a pykan dataset dict; returns it with tensors on the model's dtype/device.

    Inputs are ``(samples, n_in)``.  Labels are ``(samples, n_out)`` values, or, for
    classification, 1-D integer class indices in ``[0, n_out)`` (kept as ``int64``, for a
    loss such as ``torch.nn.CrossEntropyLoss``; both splits alike).  With
    ``label_width=False`` the label columns are not checked against ``n_out`` (``fit``'s
    ``pred_fn`` predicts something other than the model's outputs).
    """
    if not isinstance(dataset, dict):
        raise TypeError("dataset must be a dict with keys " + ", ".join(DATASET_KEYS))
    require_dataset_keys(dataset)
    out = {}
    n_out = model.n_nodes(model.depth)
    for key in DATASET_KEYS:
        t = dataset[key]
        if not isinstance(t, Tensor):
            raise TypeError(f"dataset[{key!r}] must be a torch.Tensor, got {type(t).__name__}")
        if key.endswith("label") and is_class_labels(t):
            if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n_out):
                raise ValueError(
                    f"dataset[{key!r}] holds class indices outside [0, {n_out}): the model "
                    f"has {n_out} outputs, one per class"
                )
            out[key] = t.to(device=model.device, dtype=torch.int64)
            continue
        if t.dim() != 2:
            raise ValueError(
                f"dataset[{key!r}] must be 2-D (samples, features), got {tuple(t.shape)}"
                + (" (or 1-D integer class indices)" if key.endswith("label") else "")
            )
        if not torch.isfinite(t).all():
            bad = int((~torch.isfinite(t)).any(1).sum())
            raise ValueError(
                f"dataset[{key!r}] has NaN or inf values in {bad} rows; clean the data first"
            )
        out[key] = t.to(device=model.device, dtype=model.dtype)
    if is_class_labels(out["train_label"]) != is_class_labels(out["test_label"]):
        raise ValueError("train_label and test_label must both be class indices or both values")
    for split in ("train", "test"):
        x, y = out[f"{split}_input"], out[f"{split}_label"]
        model.check_input(x, f"dataset['{split}_input']")
        if label_width and y.dim() == 2 and y.shape[1] != n_out:
            raise ValueError(
                f"dataset['{split}_label'] must have {n_out} columns, got {y.shape[1]}"
            )
        if x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise ValueError(f"{split} input and label need the same, non-zero number of rows")
    return out
