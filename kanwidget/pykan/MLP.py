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

    def __init__(
        self,
        width: list[int],
        act: str = "silu",
        save_act: bool = True,
        seed: int = 0,
        device="cpu",
    ):
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

    def edge_scores(self) -> list[Tensor]:
        """Per layer ``(out, in)``: |weight| times the std of its input on the cached data,
        normalised by the largest (the line opacity of :meth:`plot`)."""
        if self.cache_data is None:
            raise ValueError("no data seen yet: call model(x) or model.fit(dataset) first")
        scores, x = [], self.cache_data
        with torch.no_grad():
            for l, linear in enumerate(self.linears):
                s = linear.weight.abs() * x.std(0)[None, :]
                scores.append(s / s.max().clamp_min(1e-12))
                x = linear(x)
                if l < self.depth - 1:
                    x = self.act_fun(x)
        return scores

    def connection_cost(self) -> float:
        """Sum of edge score x horizontal distance of the neurons it joins (KAN 2.0 4.1)."""
        total = 0.0
        for s in self.edge_scores():
            n_out, n_in = s.shape
            x_in = (torch.arange(n_in) + 0.5) / n_in
            x_out = (torch.arange(n_out) + 0.5) / n_out
            total += float((s * (x_out[:, None] - x_in[None, :]).abs()).sum())
        return total

    def swap(self, l: int, i1: int, i2: int) -> None:
        """Exchange hidden neurons ``i1`` and ``i2`` of layer ``l`` (the function is unchanged)."""
        if not 0 < l < self.depth:
            raise ValueError(f"layer {l} is not hidden (1..{self.depth - 1})")
        perm = list(range(self.width[l]))
        perm[i1], perm[i2] = i2, i1
        with torch.no_grad():
            before, after = self.linears[l - 1], self.linears[l]
            before.weight.copy_(before.weight[perm])
            before.bias.copy_(before.bias[perm])
            after.weight.copy_(after.weight[:, perm])

    def auto_swap(self) -> None:
        """Reorder hidden neurons greedily to lower :meth:`connection_cost`."""
        for l in range(1, self.depth):
            for i in range(self.width[l]):
                best, best_cost = None, self.connection_cost()
                for j in range(self.width[l]):
                    if j == i:
                        continue
                    self.swap(l, i, j)
                    cost = self.connection_cost()
                    self.swap(l, i, j)
                    if cost < best_cost - 1e-12:
                        best, best_cost = j, cost
                if best is not None:
                    self.swap(l, i, best)

    def plot(self, beta: float = 3, scale: float = 1.0, metric: str = "w"):
        """Neurons as dots, weights as lines with opacity ``tanh(beta * score)``; returns the
        Figure (pyplot's current figure)."""
        from ..kan.figure import KANFigure

        scores = self.edge_scores()
        n_max = max(self.width)
        fig = plt.figure(
            FigureClass=KANFigure,
            figsize=(min(10.0, 0.4 * n_max + 2) * scale, 1.6 * self.depth * scale),
        )
        ax = fig.add_subplot(1, 1, 1)
        pos = [(np.arange(n) + 0.5) / n for n in self.width]
        for l, s in enumerate(scores):
            alpha = np.tanh(beta * s.cpu().numpy())
            for j in range(s.shape[0]):
                for i in range(s.shape[1]):
                    ax.plot(
                        [pos[l][i], pos[l + 1][j]],
                        [l, l + 1],
                        color="black",
                        lw=1,
                        alpha=float(alpha[j, i]),
                    )
        for l, p in enumerate(pos):
            ax.scatter(p, np.full(len(p), l), s=20, c="black", zorder=3)
        ax.axis("off")
        return fig

    def fit(
        self,
        dataset: dict[str, Tensor],
        opt: str = "LBFGS",
        steps: int = 100,
        log: int = 1,
        lamb: float = 0.0,
        loss_fn=None,
        lr: float = 1.0,
        batch: int = -1,
        **ignored: Any,
    ) -> dict[str, list[float]]:
        """Train on pykan's dataset dict; returns per-step RMSE ``train_loss``/``test_loss``.
        ``lamb`` adds an L1 penalty on the weights."""
        loss_fn = loss_fn or (lambda a, b: ((a - b) ** 2).mean())
        params = list(self.parameters())
        if opt == "LBFGS":
            optimizer: torch.optim.Optimizer = LBFGS(
                params,
                lr=lr,
                history_size=10,
                line_search_fn="strong_wolfe",
                tolerance_grad=1e-32,
                tolerance_change=1e-32,
            )
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

            def closure(ids: Tensor = ids) -> Tensor:
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
