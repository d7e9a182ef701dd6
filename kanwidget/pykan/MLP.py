"""pykan's ``kan.MLP``: a plain multilayer perceptron with pykan's ``MLP`` interface
(``width``, ``fit``, ``get_act``, ``feature_score``), for side-by-side comparisons and for the
hypothesis tools, which take any callable."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt  # noqa: F401  (pykan's module names)
import numpy as np  # noqa: F401
import torch
from torch import Tensor, nn
from tqdm import tqdm  # noqa: F401

from .LBFGS import LBFGS

seed = 0  # pykan's module-level default
_ACTS = {"silu": nn.SiLU, "relu": nn.ReLU, "tanh": nn.Tanh, "identity": nn.Identity}


class MLP(nn.Module):
    """Linear layers of ``width`` with activation ``act`` between them (none after the last).

    Parameters
    ----------
    width : layer sizes, e.g. ``[2, 20, 1]``
    act : ``'silu'`` (pykan's default), ``'relu'``, ``'tanh'`` or ``'identity'``
    seed : seeds a private generator for the initial weights (the global RNG is not touched)
    """

    def __init__(self, width: list[int], act: str = "silu", save_act: bool = True,
                 seed: int = 0, device="cpu"):  # fmt: skip
        super().__init__()
        if act not in _ACTS:
            raise ValueError(f"act must be one of {sorted(_ACTS)}, got {act!r}")
        self.width, self.depth = list(width), len(width) - 1
        gen = torch.Generator().manual_seed(seed)
        self.linears = nn.ModuleList()
        for a, b in zip(width[:-1], width[1:]):
            layer = nn.Linear(a, b)
            bound = 1 / a**0.5  # torch's default init, from the private generator
            with torch.no_grad():
                layer.weight.copy_(torch.rand(b, a, generator=gen) * 2 * bound - bound)
                layer.bias.copy_(torch.rand(b, generator=gen) * 2 * bound - bound)
            self.linears.append(layer)
        self.act_fun = _ACTS[act]()
        self.save_act = save_act
        self.cache_data: Tensor | None = None
        self.to(device)

    @property
    def device(self) -> torch.device:
        return self.linears[0].weight.device

    def forward(self, x: Tensor) -> Tensor:
        self.cache_data = x.detach()
        for l, linear in enumerate(self.linears):
            x = linear(x)
            if l < self.depth - 1:
                x = self.act_fun(x)
        return x

    def get_act(self, x: Tensor | dict | None = None) -> None:
        """Remember ``x`` (or a dataset's ``train_input``) as the model's input."""
        if isinstance(x, dict):
            x = x["train_input"]
        with torch.no_grad():
            self(self.cache_data if x is None else x)

    @property
    def feature_score(self) -> Tensor:
        """Input importance: mean |d output / d input| * input std over the cached input."""
        if self.cache_data is None:
            raise ValueError("no data seen yet: call model(x) or model.fit(dataset) first")
        x = self.cache_data.clone().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(self(x).sum(), x)
        return (grad.abs().mean(0) * x.detach().std(0)).detach()

    def fit(self, dataset: dict[str, Tensor], opt: str = "LBFGS", steps: int = 100,
            log: int = 1, lamb: float = 0.0, loss_fn=None, lr: float = 1.0, batch: int = -1,
            **ignored: Any) -> dict[str, list[float]]:  # fmt: skip
        """Train on pykan's dataset dict; returns per-step RMSE ``train_loss``/``test_loss``.
        ``lamb`` adds an L1 penalty on the weights."""
        loss_fn = loss_fn or (lambda a, b: ((a - b) ** 2).mean())
        params = list(self.parameters())
        if opt == "LBFGS":
            optimizer: torch.optim.Optimizer = LBFGS(
                params, lr=lr, history_size=10, line_search_fn="strong_wolfe",
                tolerance_grad=1e-32, tolerance_change=1e-32)  # fmt: skip
        elif opt == "Adam":
            optimizer = torch.optim.Adam(params, lr=lr)
        else:
            raise ValueError(f"opt must be 'LBFGS' or 'Adam', got {opt!r}")
        x, y = dataset["train_input"], dataset["train_label"]
        n = x.shape[0]
        size = n if batch == -1 or batch > n else batch
        gen = torch.Generator().manual_seed(0)
        results: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "reg": []}
        for _ in range(steps):
            ids = torch.randperm(n, generator=gen)[:size]

            def closure() -> Tensor:
                optimizer.zero_grad()
                reg = sum(p.abs().sum() for p in self.linears.parameters() if p.dim() == 2)
                loss = loss_fn(self(x[ids]), y[ids]) + lamb * reg
                loss.backward()
                return loss

            optimizer.step(closure)
            with torch.no_grad():
                for split, key in (("train", "train_loss"), ("test", "test_loss")):
                    pred = self(dataset[f"{split}_input"])
                    rmse = torch.sqrt(((pred - dataset[f"{split}_label"]) ** 2).mean())
                    results[key].append(float(rmse))
                results["reg"].append(0.0)
        self.cache_data = x.detach()
        return results
