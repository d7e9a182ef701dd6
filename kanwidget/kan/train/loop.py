"""``fit``: pykan's training loop (KAN section 2.5) over an engine.

Each step: draw the batches, update the grids on schedule, let the engine chosen for this
step (:func:`.engine.choose`) take one optimiser step, evaluate the test loss, record
(losses and ``metrics``), call the callback, move the progress bar.  The model commits one
``fit`` version at the end (also when a callback stops training early).

A diverged step (non-finite loss or parameters) never poisons the model: the step is undone
(:class:`.guard.FitGuard`) and training stops there, with a ``RuntimeWarning`` that names
the step and the cause; the fit version holds the last finite state.  If the very first
step diverges, the model is put back bit-identical to before the call, nothing is
committed, and ``FloatingPointError`` is raised.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from .c_adam import CAdamEngine
from .c_lbfgs import CLBFGSEngine
from .data import check_dataset, is_class_labels
from .engine import Engine, choose
from .grid import update_grid_from_samples
from .guard import FitGuard, params_finite
from .objective import Penalty, mse
from .options import FitOptions, check_names, fit_options
from .torch_engine import TorchEngine

if TYPE_CHECKING:
    from ..network import KAN

__all__ = ["StopTraining", "fit"]


class StopTraining(Exception):
    """Raise from a ``fit`` callback (or return ``False``) to end training early."""


def fit(
    model: KAN,
    dataset: dict[str, Tensor],
    *,
    callback: Callable[[int, dict[str, float]], Any] | None = None,
    progress: bool = True,
    **kwargs: Any,
) -> dict[str, list[float]]:
    """Train in place with pykan 0.2.8's ``fit`` arguments (see :mod:`.options`); returns
    ``{'train_loss', 'test_loss', 'reg'}`` (RMSE per step, as pykan) and one list per
    metric under its ``__name__``.

    ``callback(step, record)`` runs after each step with the step's losses; returning
    ``False`` or raising :class:`StopTraining` ends training.  ``seed`` seeds the batches.
    Labels may be 1-D integer class indices with a classification ``loss_fn`` (e.g.
    ``torch.nn.CrossEntropyLoss()``).  After training ``model.feature_score`` (and the
    node/edge scores) are those of the training data, as pykan's.

    Raises
    ------
    FloatingPointError
        the first step diverged; the model is left as it was (nothing committed)
    ValueError, TypeError
        bad arguments or data; the model is left as it was
    """
    check_names(kwargs)
    options = fit_options(**kwargs)
    data = check_dataset(model, dataset, label_width=options.pred_fn is None)
    classes = is_class_labels(data["train_label"])
    if classes and options.loss_fn is None:
        raise ValueError(
            "1-D integer labels are class indices: pass a classification loss_fn, "
            "e.g. loss_fn=torch.nn.CrossEntropyLoss()"
        )
    params = [p for p in model.parameters() if p.requires_grad]
    guard = FitGuard(model, params)
    model._last_input = data["train_input"]
    # later versions report RMSE on this data; class indices have no RMSE
    model._fit_data = None if classes or options.pred_fn is not None else data
    run = _Run(model, data, options, params, callback, progress)
    try:
        with model.operation("fit", options.arguments()):
            run.loop(guard)
    except FloatingPointError:
        guard.restore_initial()
        raise
    return run.results


class _Run:
    """The state of one ``fit`` call: engines, batches, results, progress bar."""

    def __init__(self, model, data, options: FitOptions, params, callback, progress) -> None:
        self.model, self.data, self.options, self.params = model, data, options, params
        self.callback = callback
        self.loss = mse if options.loss_fn is None else options.loss_fn
        penalty = Penalty(options.lamb, options.lamb_l1, options.lamb_entropy)
        self.penalty = penalty
        self.engines: dict[str, Engine] = {}  # created on first use, state kept between steps
        self.gen = torch.Generator().manual_seed(options.seed)
        self.results: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "reg": []}
        for metric in options.metrics:
            self.results[metric.__name__] = []
        self.bar = _progress(options.steps, progress)

    def engine_for(self, kind: str) -> Engine:
        if kind not in self.engines:
            o = self.options
            if kind == "torch":
                coef = (o.lamb_coef, o.lamb_coefdiff)
                self.engines[kind] = TorchEngine(
                    self.model, self.params, self.penalty, o.opt, o.lr, self.loss, coef, o.pred_fn
                )
            elif o.opt == "LBFGS":
                self.engines[kind] = CLBFGSEngine(self.model, self.params, self.penalty, o.lr)
            else:
                self.engines[kind] = CAdamEngine(self.model, self.params, self.penalty, o.lr)
        return self.engines[kind]

    def batch(self, split: str) -> tuple[Tensor, Tensor]:
        x, y = self.data[f"{split}_input"], self.data[f"{split}_label"]
        n, size = x.shape[0], self.options.batch
        if size == -1 or size >= n:
            return x, y
        ids = torch.randperm(n, generator=self.gen)[:size]
        return x[ids], y[ids]

    def loop(self, guard: FitGuard) -> None:
        o, model = self.options, self.model
        try:
            for step in range(o.steps):
                xb, yb = self.batch("train")
                grid_step = (
                    o.update_grid and step % o.grid_every == 0
                    and o.start_grid_update_step <= step < o.stop_grid_update_step
                )  # fmt: skip
                guard.save(buffers_change=grid_step)
                if grid_step:
                    # before the first step hidden activations reflect the random init, not
                    # the function: adapting deeper grids to them traps e.g. x*y in a bad
                    # minimum (pykan does, and fails there); the input grid adapts at once
                    # (pykan's rule, all layers, where first_grid_update_input_only is off)
                    first = step == 0 and model.first_grid_update_input_only
                    update_grid_from_samples(model, xb, n_layers=1 if first else None)
                coef_penalty = o.lamb > 0 and (o.lamb_coef != 0 or o.lamb_coefdiff != 0)
                custom = coef_penalty or o.pred_fn is not None
                kind = "torch" if custom else choose(model, xb, self.loss, self.params)
                engine = self.engine_for(kind)
                losses = engine.step(xb, yb)
                xt, yt = self.batch("test")
                with torch.no_grad():
                    test_loss = engine.test_loss(xt, yt)
                record = {
                    "train_loss": math.sqrt(max(float(losses.train), 0.0)),
                    "test_loss": math.sqrt(max(float(test_loss), 0.0)),
                    "reg": float(losses.reg),
                }
                if not all(map(math.isfinite, record.values())) or not params_finite(self.params):
                    self.diverged(step, record, guard)
                    break
                self.record(step, record)
                if self.callback is not None:
                    try:
                        if self.callback(step, record) is False:
                            break
                    except StopTraining:
                        break
            # pykan's feature_score after fit (scores need a spread: two rows at least)
            if self.results["train_loss"] and self.data["train_input"].shape[0] > 1:
                from ..attribution import attribute

                attribute(model)
        finally:
            if self.bar is not None:
                self.bar.close()

    def record(self, step: int, record: dict[str, float]) -> None:
        for metric in self.options.metrics:
            value = metric()
            record[metric.__name__] = float(value.item() if isinstance(value, Tensor) else value)
        for key, value in record.items():
            # numpy floats, as pykan's (a float subclass with pykan's `.item()`)
            self.results[key].append(np.float64(value))
        self.model._record_losses(record)
        if self.options.save_fig and step % self.options.save_fig_freq == 0:
            self.save_figure(step)
        bar, log = self.bar, self.options.log
        if bar is not None and step % log == 0:
            shown = self.options.display_metrics or ("train_loss", "test_loss", "reg")
            bar.set_description("|" + "".join(f" {k}: {record[k]:.2e} |" for k in shown))
            bar.update(1 if log <= 1 else min(log, self.options.steps - step))

    def save_figure(self, step: int) -> None:
        """pykan's ``save_fig``: the diagram as ``{img_folder}/{step}.jpg``."""
        import os

        os.makedirs(self.options.img_folder, exist_ok=True)
        fig = self.model.plot(title=f"Step {step}", **self.options.plot_kwargs)
        fig.savefig(os.path.join(self.options.img_folder, f"{step}.jpg"), bbox_inches="tight",
                    dpi=200)  # fmt: skip

    def diverged(self, step: int, record: dict[str, float], guard: FitGuard) -> None:
        """Undo the diverged step; raise if it was the first, else warn and stop."""
        what = [k for k, v in record.items() if not math.isfinite(v)]
        if not params_finite(self.params):
            what.append("parameters")
        guard.rollback()
        hint = "lower lr" + ("" if self.options.opt == "Adam" else " or use opt='Adam'")
        if any(layer.has_symbolic for layer in self.model.layers):
            hint += ("; a symbolic function evaluated near a singularity or outside its "
                     "domain (e.g. 1/x, log, sqrt) is a common cause")  # fmt: skip
        cause = f"{' and '.join(what)} became non-finite (NaN or inf) in the optimiser step"
        if not self.results["train_loss"]:
            raise FloatingPointError(
                f"training diverged at step {step}: the {cause}; the model is unchanged "
                f"(nothing committed). Try: {hint}"
            )
        warnings.warn(
            f"fit stopped at step {step} of {self.options.steps}: the {cause}; the model keeps "
            f"the parameters of step {step - 1} (committed as this fit's version). "
            f"Try: {hint}",
            RuntimeWarning,
            stacklevel=4,
        )


def _progress(steps: int, enabled: bool):
    if not enabled or steps == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, ncols=100)
