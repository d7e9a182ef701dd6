"""Synthetic datasets in pykan's dict format."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def create_dataset(
    f: Callable[[Tensor], Tensor],
    n_var: int = 2,
    ranges=(-1, 1),
    train_num: int = 1000,
    test_num: int = 1000,
    normalize_input: bool = False,
    normalize_label: bool = False,
    device="cpu",
    seed: int = 0,
    dtype: torch.dtype | None = None,
) -> dict[str, Tensor]:
    """Sample inputs uniformly in ``ranges`` and label them with ``f``.

    Parameters
    ----------
    f : maps (N, n_var) -> (N,) or (N, n_out)
    ranges : one ``[low, high]`` for every input, or one pair per input
    seed : seeds a private generator (the global RNG is not touched)

    Returns
    -------
    dict with ``train_input`` (train_num, n_var), ``train_label``, ``test_input``, ``test_label``.
    """
    if n_var < 1:
        raise ValueError(f"n_var must be >= 1, got {n_var}")
    rng = torch.tensor(ranges, dtype=torch.float64)
    if rng.shape == (2,):
        rng = rng.expand(n_var, 2)
    if rng.shape != (n_var, 2):
        raise ValueError(f"ranges must be [low, high] or {n_var} such pairs, got {ranges!r}")
    if not bool((rng[:, 1] > rng[:, 0]).all()):
        raise ValueError(f"every range needs low < high, got {ranges!r}")
    dtype = dtype or torch.get_default_dtype()
    gen = torch.Generator().manual_seed(seed)

    def sample(n: int) -> tuple[Tensor, Tensor]:
        u = torch.rand(n, n_var, generator=gen, dtype=torch.float64)
        x = (rng[:, 0] + (rng[:, 1] - rng[:, 0]) * u).to(dtype)
        y = f(x)
        if y.dim() == 1:
            y = y.unsqueeze(1)
        if y.shape[0] != n:
            raise ValueError(f"f must return one row per sample, got shape {tuple(y.shape)}")
        return x.to(device), y.to(device=device, dtype=dtype)

    train_x, train_y = sample(train_num)
    test_x, test_y = sample(test_num)
    data = {
        "train_input": train_x,
        "train_label": train_y,
        "test_input": test_x,
        "test_label": test_y,
    }
    if normalize_input:
        mean, std = train_x.mean(0, keepdim=True), train_x.std(0, keepdim=True)
        data["train_input"], data["test_input"] = (train_x - mean) / std, (test_x - mean) / std
    if normalize_label:
        mean, std = train_y.mean(0, keepdim=True), train_y.std(0, keepdim=True)
        data["train_label"], data["test_label"] = (train_y - mean) / std, (test_y - mean) / std
    return data
