"""Synthetic datasets in pykan's dict format, drawn exactly as pykan 0.2.8 draws them."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def create_dataset(
    f: Callable[[Tensor], Tensor],
    n_var: int = 2,
    f_mode: str = "col",
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

    The points are pykan 0.2.8's for the same ``seed``: for each input in turn, its
    ``train_num`` training values then its ``test_num`` test values are drawn from a
    generator seeded with ``seed`` (pykan seeds torch's global generator; this one is private,
    so the global RNG is not touched), in the default dtype, scaled as ``u * (high - low) + low``.

    Parameters
    ----------
    f : maps (N, n_var) -> (N,) or (N, n_out); with ``f_mode='row'`` it gets (n_var, N)
    f_mode : ``'col'`` (samples are rows, the default) or ``'row'`` (pykan)
    ranges : one ``[low, high]`` for every input, or one pair per input
    seed : seeds a private generator
    dtype : dtype of the returned tensors (default: torch's default dtype)

    Returns
    -------
    dict with ``train_input`` (train_num, n_var), ``train_label``, ``test_input``, ``test_label``.

    Raises
    ------
    ValueError
        For a bad ``n_var``, ``ranges``, ``f_mode``, or an ``f`` that does not return one row
        per sample.
    """
    n_var = int(n_var)
    if n_var < 1:
        raise ValueError(f"n_var must be >= 1, got {n_var}")
    if f_mode not in ("col", "row"):
        raise ValueError(f"f_mode must be 'col' or 'row', got {f_mode!r}")
    rng = torch.tensor(ranges, dtype=torch.float64)
    if rng.shape == (2,):
        rng = rng.expand(n_var, 2)
    if rng.shape != (n_var, 2):
        raise ValueError(f"ranges must be [low, high] or {n_var} such pairs, got {ranges!r}")
    if not bool((rng[:, 1] > rng[:, 0]).all()):
        raise ValueError(f"every range needs low < high, got {ranges!r}")
    draw_dtype = torch.get_default_dtype()
    dtype = dtype or draw_dtype
    gen = torch.Generator().manual_seed(int(seed))
    train_x = torch.zeros(train_num, n_var, dtype=draw_dtype)
    test_x = torch.zeros(test_num, n_var, dtype=draw_dtype)
    for i in range(n_var):  # pykan's order: column i of train, then of test
        low, high = float(rng[i, 0]), float(rng[i, 1])
        train_x[:, i] = torch.rand(train_num, generator=gen, dtype=draw_dtype) * (high - low) + low
        test_x[:, i] = torch.rand(test_num, generator=gen, dtype=draw_dtype) * (high - low) + low
    train_x, test_x = train_x.to(dtype), test_x.to(dtype)

    def label(x: Tensor) -> Tensor:
        y = f(x) if f_mode == "col" else f(x.T)
        if y.dim() == 1:
            y = y.unsqueeze(1)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"f must return one row per sample, got shape {tuple(y.shape)}")
        return y.to(dtype)

    train_y, test_y = label(train_x), label(test_x)
    if normalize_input:
        mean, std = train_x.mean(0, keepdim=True), train_x.std(0, keepdim=True)
        train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    if normalize_label:
        mean, std = train_y.mean(0, keepdim=True), train_y.std(0, keepdim=True)
        train_y, test_y = (train_y - mean) / std, (test_y - mean) / std
    return {
        "train_input": train_x.to(device),
        "train_label": train_y.to(device),
        "test_input": test_x.to(device),
        "test_label": test_y.to(device),
    }
