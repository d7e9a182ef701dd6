"""``fit``'s arguments: pykan 0.2.8's whole signature, checked once before training.

Accepted with pykan's meaning: ``opt``, ``steps``, ``log``, ``lamb``, ``lamb_l1``,
``lamb_entropy``, ``lamb_coef``, ``lamb_coefdiff``, ``update_grid``, ``grid_update_num``,
``loss_fn``, ``lr``, ``start_grid_update_step``, ``stop_grid_update_step``, ``batch``,
``metrics``, ``display_metrics``, ``save_fig`` (with ``in_vars``, ``out_vars``, ``beta``,
``save_fig_freq``, ``img_folder``).  ``singularity_avoiding`` and ``y_th`` are accepted and
have no effect (kanwidget's symbolic functions are evaluated in their safe form always);
``reg_metric`` other than pykan's default ``'edge_forward_spline_n'`` is refused.
``pred_fn(model, x) -> pred`` (in pykan's tutorial Physics_2A, not in any pykan release)
replaces ``model(x)`` in the loss: ``loss_fn(pred_fn(model, x), label)``, e.g. a gradient of
the model; the labels then have ``pred``'s shape.  Integer
arguments take numpy integers too (``steps=np.int64(3)``).
"""

from __future__ import annotations

import difflib
import inspect
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor


def as_int(value: Any, name: str, low: int | None = None) -> int:
    """``value`` as an int (Python or numpy integer, not bool), at least ``low``."""
    bound = "" if low is None else (" non-negative" if low == 0 else f" >= {low}")
    try:
        out = operator.index(value) if not isinstance(value, bool) else None
    except TypeError:
        out = None
    if out is None or (low is not None and out < low):
        raise ValueError(f"{name} must be {'an' if low is None else 'a'}{bound} int, got {value!r}")
    return out


def as_float(value: Any, name: str, low: float | None = None) -> float:
    """``value`` as a finite float (numpy scalars and 0-d tensors too), at least ``low``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out) or (low is not None and out < low):
        bound = "" if low is None else f" >= {low:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {value!r}")
    return out


@dataclass(frozen=True)
class FitOptions:
    """The checked arguments of one ``fit`` call."""

    opt: str
    steps: int
    log: int
    lr: float
    lamb: float
    lamb_l1: float
    lamb_entropy: float
    lamb_coef: float
    lamb_coefdiff: float
    update_grid: bool
    grid_update_num: int
    start_grid_update_step: int
    stop_grid_update_step: int
    batch: int
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None
    pred_fn: Callable[[Any, Tensor], Tensor] | None
    metrics: tuple[Callable[[], Any], ...]
    display_metrics: tuple[str, ...] | None
    save_fig: bool
    save_fig_freq: int
    img_folder: str
    plot_kwargs: dict[str, Any]
    seed: int

    @property
    def grid_every(self) -> int:
        """Steps between grid updates (pykan divides by zero when
        ``stop_grid_update_step < grid_update_num``; here at least 1)."""
        return max(1, self.stop_grid_update_step // max(1, self.grid_update_num))

    def arguments(self) -> dict[str, Any]:
        """What the history records for this fit."""
        return {"opt": self.opt, "steps": self.steps, "lr": self.lr, "lamb": self.lamb,
                "batch": self.batch}  # fmt: skip


def check_names(kwargs: dict[str, Any], extra: Sequence[str] = ()) -> None:
    """Refuse an argument ``fit`` does not take, naming the closest one it does.

    Raises
    ------
    TypeError
        ``fit got an unknown argument 'step' (did you mean 'steps'?)``
    """
    known = set(inspect.signature(fit_options).parameters) | set(extra)
    for name in kwargs:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(
                f"fit got an unknown argument {name!r}{hint}; it takes pykan's fit "
                f"arguments: {', '.join(sorted(known))}"
            )


def fit_options(
    opt: str = "LBFGS",
    steps: Any = 100,
    log: Any = 1,
    lamb: Any = 0.0,
    lamb_l1: Any = 1.0,
    lamb_entropy: Any = 2.0,
    lamb_coef: Any = 0.0,
    lamb_coefdiff: Any = 0.0,
    update_grid: bool = True,
    grid_update_num: Any = 10,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
    lr: Any = 1.0,
    start_grid_update_step: Any = -1,
    stop_grid_update_step: Any = 50,
    batch: Any = -1,
    metrics: Sequence[Callable[[], Any]] | None = None,
    save_fig: bool = False,
    in_vars: Sequence[str] | None = None,
    out_vars: Sequence[str] | None = None,
    beta: Any = 3,
    save_fig_freq: Any = 1,
    img_folder: str = "./video",
    singularity_avoiding: bool = False,
    y_th: Any = 1000.0,
    reg_metric: str = "edge_forward_spline_n",
    display_metrics: Sequence[str] | str | None = None,
    seed: Any = 0,
    pred_fn: Callable[[Any, Tensor], Tensor] | None = None,
) -> FitOptions:
    """Check ``fit``'s arguments (pykan 0.2.8's signature plus ``seed`` and ``pred_fn``);
    see the module."""
    if opt not in ("LBFGS", "Adam"):
        raise ValueError(f"opt must be 'LBFGS' or 'Adam', got {opt!r}")
    if reg_metric != "edge_forward_spline_n":
        raise ValueError(
            f"reg_metric={reg_metric!r} is not supported: kanwidget implements pykan's default "
            "'edge_forward_spline_n' (L1 + entropy of the edges' activation stds)"
        )
    batch = as_int(batch, "batch")
    if batch != -1 and batch < 1:
        raise ValueError(f"batch must be -1 or a positive int, got {batch}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable(pred, label) -> loss, got {loss_fn!r}")
    if pred_fn is not None and not callable(pred_fn):
        raise TypeError(f"pred_fn must be callable(model, x) -> pred, got {pred_fn!r}")
    metrics = tuple(metrics or ())
    for metric in metrics:
        if not callable(metric) or not hasattr(metric, "__name__"):
            raise TypeError(f"each metric must be a named function of no arguments, got {metric!r}")
    names = [m.__name__ for m in metrics]
    if len(set(names)) != len(names) or {"train_loss", "test_loss", "reg"} & set(names):
        raise ValueError(f"metric names must be distinct and not train_loss/test_loss/reg: {names}")
    if isinstance(display_metrics, str):
        display_metrics = [display_metrics]
    shown = None if display_metrics is None else tuple(display_metrics)
    unknown = [m for m in shown or () if m not in {"train_loss", "test_loss", "reg", *names}]
    if unknown:
        raise ValueError(f"display_metrics {unknown} are not recorded: record them with metrics=")
    as_float(y_th, "y_th")
    del singularity_avoiding  # accepted, no effect (see the module docstring)
    plot_kwargs = {"in_vars": in_vars, "out_vars": out_vars, "beta": as_float(beta, "beta")}
    return FitOptions(
        opt=opt, steps=as_int(steps, "steps", 0), log=max(1, as_int(log, "log")),
        lr=as_float(lr, "lr", 0.0), lamb=as_float(lamb, "lamb", 0.0),
        lamb_l1=as_float(lamb_l1, "lamb_l1"), lamb_entropy=as_float(lamb_entropy, "lamb_entropy"),
        lamb_coef=as_float(lamb_coef, "lamb_coef"),
        lamb_coefdiff=as_float(lamb_coefdiff, "lamb_coefdiff"), update_grid=bool(update_grid),
        grid_update_num=as_int(grid_update_num, "grid_update_num"),
        start_grid_update_step=as_int(start_grid_update_step, "start_grid_update_step"),
        stop_grid_update_step=as_int(stop_grid_update_step, "stop_grid_update_step"),
        batch=batch, loss_fn=loss_fn, pred_fn=pred_fn, metrics=metrics, display_metrics=shown,
        save_fig=bool(save_fig), save_fig_freq=as_int(save_fig_freq, "save_fig_freq", 1),
        img_folder=str(img_folder), plot_kwargs=plot_kwargs, seed=as_int(seed, "seed"),
    )  # fmt: skip
