"""``fit``: pykan's training loop (KAN section 2.5) over an engine.

Each step: draw the batches, update the grids on schedule, let the engine chosen for this
step (:func:`.engine.choose`) take one optimiser step, evaluate the test loss, record,
call the callback, move the progress bar.  The model commits one ``fit`` version at the end
(also when a callback stops training early).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .c_adam import CAdamEngine
from .c_lbfgs import CLBFGSEngine
from .data import check_dataset
from .engine import Engine, choose
from .grid import update_grid_from_samples
from .objective import Penalty, mse
from .torch_engine import TorchEngine

if TYPE_CHECKING:
    from ..network import KAN

__all__ = ["StopTraining", "fit"]


class StopTraining(Exception):
    """Raise from a ``fit`` callback (or return ``False``) to end training early."""


# pykan arguments accepted and ignored
_PYKAN_ONLY = {"metrics", "save_fig", "in_vars", "out_vars", "beta", "save_fig_freq",
               "img_folder", "singularity_avoiding", "y_th", "reg_metric", "display_metrics",
               "lamb_coef", "lamb_coefdiff"}  # fmt: skip


def fit(
    model: KAN,
    dataset: dict[str, Tensor],
    opt: str = "LBFGS",
    steps: int = 100,
    lr: float = 1.0,
    lamb: float = 0.0,
    lamb_l1: float = 1.0,
    lamb_entropy: float = 2.0,
    update_grid: bool = True,
    grid_update_num: int = 10,
    start_grid_update_step: int = -1,
    stop_grid_update_step: int = 50,
    batch: int = -1,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
    callback: Callable[[int, dict[str, float]], Any] | None = None,
    progress: bool = True,
    seed: int = 0,
    log: int = 1,
    **ignored: Any,
) -> dict[str, list[float]]:
    """Train in place (pykan semantics); returns ``{'train_loss', 'test_loss', 'reg'}`` (RMSE).

    ``callback(step, record)`` runs after each step with the step's losses; returning
    ``False`` or raising :class:`StopTraining` ends training.  The model commits one
    ``fit`` version at the end (also when stopped early).
    """
    unknown = set(ignored) - _PYKAN_ONLY
    if unknown:
        raise TypeError(f"fit() got unexpected arguments {sorted(unknown)}")
    if opt not in ("LBFGS", "Adam"):
        raise ValueError(f"opt must be 'LBFGS' or 'Adam', got {opt!r}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    data = check_dataset(model, dataset)
    x_train, y_train = data["train_input"], data["train_label"]
    x_test, y_test = data["test_input"], data["test_label"]
    n_train, n_test = x_train.shape[0], x_test.shape[0]
    bs = n_train if batch == -1 or batch > n_train else int(batch)
    bs_test = n_test if batch == -1 or batch > n_test else int(batch)
    if bs < 1:
        raise ValueError(f"batch must be -1 or a positive int, got {batch}")
    loss = mse if loss_fn is None else loss_fn
    penalty = Penalty(lamb, lamb_l1, lamb_entropy)
    # pykan divides by zero here when stop_grid_update_step < grid_update_num
    grid_every = max(1, stop_grid_update_step // max(1, grid_update_num))
    params = [p for p in model.parameters() if p.requires_grad]
    engines: dict[str, Engine] = {}  # created on first use, state kept between steps

    def engine_for(kind: str) -> Engine:
        if kind not in engines:
            if kind == "torch":
                engines[kind] = TorchEngine(model, params, penalty, opt, lr, loss)
            elif opt == "LBFGS":
                engines[kind] = CLBFGSEngine(model, params, penalty, lr)
            else:
                engines[kind] = CAdamEngine(model, params, penalty, lr)
        return engines[kind]

    gen = torch.Generator().manual_seed(seed)
    results: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "reg": []}
    bar = _progress(steps, progress)
    model._last_input = x_train
    model._fit_data = data
    with model.operation(
        "fit", {"opt": opt, "steps": steps, "lr": lr, "lamb": lamb, "batch": batch}
    ) as _:
        for step in range(steps):
            ids = None if bs == n_train else torch.randperm(n_train, generator=gen)[:bs]
            xb = x_train if ids is None else x_train[ids]
            yb = y_train if ids is None else y_train[ids]
            if (
                update_grid
                and step % grid_every == 0
                and start_grid_update_step <= step < stop_grid_update_step
            ):
                # before the first step hidden activations reflect the random init, not the
                # function: adapting deeper grids to them traps e.g. x*y in a bad minimum
                # (pykan does, and fails there); the input grid adapts to the data at once
                update_grid_from_samples(model, xb, n_layers=1 if step == 0 else None)
            engine = engine_for(choose(model, xb, loss, params))
            losses = engine.step(xb, yb)
            with torch.no_grad():
                tid = None if bs_test == n_test else torch.randperm(n_test, generator=gen)[:bs_test]
                xt = x_test if tid is None else x_test[tid]
                yt = y_test if tid is None else y_test[tid]
                test_loss = engine.test_loss(xt, yt)
            record = {
                "train_loss": math.sqrt(max(float(losses.train), 0.0)),
                "test_loss": math.sqrt(max(float(test_loss), 0.0)),
                "reg": float(losses.reg),
            }
            for key, value in record.items():
                results[key].append(value)
            model._record_losses(record)
            if bar is not None and step % max(1, log) == 0:
                bar.set_description(
                    f"| train_loss: {record['train_loss']:.2e} "
                    f"| test_loss: {record['test_loss']:.2e} | reg: {record['reg']:.2e} |"
                )
                bar.update(1 if log <= 1 else min(log, steps - step))
            if not all(math.isfinite(v) for v in record.values()):
                _close(bar)
                raise FloatingPointError(
                    f"training diverged at step {step} (loss {record['train_loss']}); "
                    "lower lr or use opt='Adam'"
                )
            if callback is not None:
                try:
                    if callback(step, record) is False:
                        break
                except StopTraining:
                    break
        _close(bar)
    return results


def _progress(steps: int, enabled: bool):
    if not enabled or steps == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, ncols=100)


def _close(bar) -> None:
    if bar is not None:
        bar.close()
