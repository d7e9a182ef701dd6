"""Training: ``fit`` with LBFGS or Adam, pykan's regulariser, grid updates and callbacks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ..kernels import lbfgs, native

if TYPE_CHECKING:
    from ..network import KAN

DATASET_KEYS = ("train_input", "train_label", "test_input", "test_label")


class StopTraining(Exception):
    """Raise from a ``fit`` callback (or return ``False``) to end training early."""


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


def regularization(
    stds: list[tuple[Tensor, Tensor]], lamb_l1: float, lamb_entropy: float
) -> Tensor:
    """pykan's ``edge_forward_spline_n`` regulariser: L1 + entropy of per-edge scales.

    Each edge's scale is std(phi(x)) / (std(x) + 0.1) over the batch (``(out, in)`` as pykan).
    """
    reg = stds[0][0].new_zeros(())
    for edge_std, in_std in stds:
        vec = (edge_std / (in_std.unsqueeze(-1) + 0.1)).T  # (out, in)
        l1 = vec.sum()
        p_row = vec / (vec.sum(1, keepdim=True) + 1)
        p_col = vec / (vec.sum(0, keepdim=True) + 1)
        ent_row = -(p_row * torch.log2(p_row + 1e-4)).sum(1).mean()
        ent_col = -(p_col * torch.log2(p_col + 1e-4)).sum(0).mean()
        reg = reg + lamb_l1 * l1 + lamb_entropy * (ent_row + ent_col)
    return reg


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
    _PYKAN_ONLY = {"metrics", "save_fig", "in_vars", "out_vars", "beta", "save_fig_freq",
                   "img_folder", "singularity_avoiding", "y_th", "reg_metric", "display_metrics",
                   "lamb_coef", "lamb_coefdiff"}  # fmt: skip
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
    if loss_fn is None:
        loss_fn = _mse
    # pykan divides by zero here when stop_grid_update_step < grid_update_num
    grid_every = max(1, stop_grid_update_step // max(1, grid_update_num))
    params = [p for p in model.parameters() if p.requires_grad]
    # plain KAN + MSE: the objective runs in C and so does the whole LBFGS step (lbfgs.py,
    # same algorithm as torch's); Adam applies torch's update to the same flat vector.
    # Checked every step: an edit between steps (a symbolic fix from the widget) can make
    # the model non-plain, and torch's optimiser then takes over.
    n_params = sum(p.numel() for p in params)
    c_state: lbfgs.NativeLBFGS | None = None
    c_adam: lbfgs.FlatAdam | None = None
    optimizer: torch.optim.Optimizer | None = None

    def torch_optimizer() -> torch.optim.Optimizer:
        if opt == "Adam":  # foreach: one kernel per step for all parameters
            return torch.optim.Adam(params, lr=lr, foreach=True)
        return torch.optim.LBFGS(
            params, lr=lr, history_size=10, line_search_fn="strong_wolfe",
            tolerance_grad=1e-32, tolerance_change=1e-32,
        )  # fmt: skip

    gen = torch.Generator().manual_seed(seed)
    results: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "reg": []}
    bar = _progress(steps, progress)
    model._last_input = x_train
    model._fit_data = data
    state: dict[str, Tensor] = {}
    problem = test_problem = None  # the C objectives of the train and test data

    def objective(xb: Tensor, yb: Tensor) -> Tensor:
        if loss_fn is _mse and _plain(model, xb):  # one fused autograd node (native.py)
            weights = [w for layer in model.layers for w in layer.kernel_weights()]
            tables = [layer.basis_table() for layer in model.layers]
            obj, train_loss, reg = native.fused_objective(
                xb, yb, tables, weights, lamb, lamb_l1, lamb_entropy
            )
            state["train"], state["reg"] = train_loss.detach(), reg.detach()
            return obj
        pred, stds = model._forward(xb, with_std=lamb > 0)
        train_loss = loss_fn(pred, yb)
        reg = regularization(stds, lamb_l1, lamb_entropy) if lamb > 0 else train_loss.new_zeros(())
        state["train"], state["reg"] = train_loss.detach(), reg.detach()
        return train_loss + lamb * reg

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

            in_c = loss_fn is _mse and lbfgs.supported(model, xb, params)
            if in_c and opt == "LBFGS" and c_state is None:
                c_state = lbfgs.NativeLBFGS(
                    n_params, lr=lr, history_size=10, tolerance_grad=1e-32, tolerance_change=1e-32
                )
            elif in_c and opt == "Adam" and c_adam is None:
                c_adam = lbfgs.FlatAdam(n_params, lr=lr)
            elif not in_c and optimizer is None:
                optimizer = torch_optimizer()

            def closure(
                xb: Tensor = xb,
                yb: Tensor = yb,
                optimizer: torch.optim.Optimizer | None = optimizer,
            ) -> Tensor:
                assert optimizer is not None
                optimizer.zero_grad()
                loss = objective(xb, yb)
                loss.backward()
                return loss

            if in_c:
                if problem is None or not problem.matches(model, xb, yb):
                    problem = lbfgs.KANProblem(model, xb, yb, params, lamb, lamb_l1, lamb_entropy)
                theta = problem.gather()
                if opt == "LBFGS":
                    assert c_state is not None
                    c_state.step(theta, problem)
                else:
                    assert c_adam is not None
                    grad = problem(theta)[1]
                    assert grad is not None
                    c_adam.step(theta, grad)
                problem.scatter(theta)
                state["train"], state["reg"] = _f64(problem.mse), _f64(problem.reg)
            elif opt == "LBFGS":
                assert optimizer is not None
                optimizer.step(closure)  # type: ignore[arg-type]
            else:
                assert optimizer is not None
                closure()
                optimizer.step()
            with torch.no_grad():
                tid = None if bs_test == n_test else torch.randperm(n_test, generator=gen)[:bs_test]
                xt = x_test if tid is None else x_test[tid]
                yt = y_test if tid is None else y_test[tid]
                if in_c:  # the same C forward, without the gradient
                    if test_problem is None or not test_problem.matches(model, xt, yt):
                        test_problem = lbfgs.KANProblem(model, xt, yt, params, 0.0, 0.0, 0.0)
                    test_loss = _f64(test_problem(theta, grad=False)[0])
                else:
                    test_loss = loss_fn(model._forward(xt)[0], yt)
            record = {
                "train_loss": math.sqrt(max(float(state["train"]), 0.0)),
                "test_loss": math.sqrt(max(float(test_loss), 0.0)),
                "reg": float(state["reg"]),
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


def _plain(model: KAN, x: Tensor) -> bool:
    """Whether the fused objective applies: native kernel usable on ``x``, SiLU bases, no
    multiplication nodes, identity affine maps, no symbolic edges (``KANObjective``)."""
    if not native.usable(x) or any(model.mult_arity):
        return False
    return all(
        layer.base_fun_name == "silu" and not layer.has_symbolic and model._affine_is_identity(l)
        for l, layer in enumerate(model.layers)
    )


def _f64(value: float) -> Tensor:
    """A loss from the C objective as a tensor, keeping its double precision."""
    return torch.tensor(value, dtype=torch.float64)


def _mse(pred: Tensor, y: Tensor) -> Tensor:
    return torch.mean((pred - y) ** 2)


def _progress(steps: int, enabled: bool):
    if not enabled or steps == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, ncols=100)


def _close(bar) -> None:
    if bar is not None:
        bar.close()


def update_grid_from_samples(model: KAN, x: Tensor, n_layers: int | None = None) -> None:
    """Adapt each layer's grid (the first ``n_layers``, default all) to the distribution of
    its inputs on samples ``x``."""
    x = model.check_input(x)
    with torch.no_grad():
        for l, layer in enumerate(model.layers[:n_layers]):
            layer.update_grid_from_samples(x)
            y = layer(x) * model.subnode_scale[l] + model.subnode_bias[l]
            x = model._multiply(l + 1, y) * model.node_scale[l] + model.node_bias[l]


def refine(model: KAN, new_grid: int) -> KAN:
    """Grid extension (KAN section 2.5): raise every layer to ``new_grid`` intervals,
    keeping the learned functions (least squares on the old curves)."""
    if not isinstance(new_grid, int) or new_grid < 1:
        raise ValueError(f"new_grid must be an int >= 1, got {new_grid!r}")
    with model.operation("refine", {"new_grid": new_grid}):
        for layer in model.layers:
            layer.refine(new_grid)
        model.grid_size = new_grid
    return model
