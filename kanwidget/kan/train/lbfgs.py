"""L-BFGS with pykan's curvature threshold ``tolerance_ys`` (pykan's ``kan/LBFGS.py``).

``torch.optim.LBFGS`` adds a step's pair ``(y, s)`` to its history only when the curvature
``y . s > 1e-10``.  On a small loss (MSE ~1e-9, a fit near an exact formula) every pair falls
below that, the history stops growing and the steps stay those of stale curvature: pykan's
copy of the optimizer makes the threshold an argument, ``tolerance_ys``, 1e-32 in ``fit``.
This class is torch's algorithm (same iterations, constants, state and strong-Wolfe line
search) with that threshold; with ``tolerance_ys=1e-10`` it takes torch's iterates exactly.
Its line search (:func:`.line_search.strong_wolfe`) is torch's, made safe where a trial step
makes the objective non-finite (it backs off instead of returning NaN parameters).
:attr:`LBFGS.final_loss` is the objective at the parameters a step leaves.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .line_search import strong_wolfe
from .undecorated import undecorated

__all__ = ["LBFGS"]


class LBFGS(torch.optim.LBFGS):
    """``torch.optim.LBFGS`` plus ``tolerance_ys``: a step joins the history when its
    curvature ``y . s`` exceeds it (torch: fixed 1e-10; pykan's ``fit``: 1e-32)."""

    # without torch's wrappers that import torch._dynamo (see .undecorated)
    add_param_group = undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = undecorated(torch.optim.Optimizer.zero_grad)

    def __init__(self, params: Any, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, tolerance_ys: float = 1e-32,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:  # fmt: skip
        super().__init__(params, lr=lr, max_iter=max_iter, max_eval=max_eval,
                         tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                         history_size=history_size, line_search_fn=line_search_fn)  # fmt: skip
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        self.param_groups[0]["tolerance_ys"] = float(tolerance_ys)
        #: the objective at the parameters the last ``step`` left (its accepted point; NaN
        #: where the step did not evaluate it: no line search, last iteration)
        self.final_loss = math.nan

    @property
    def tolerance_ys(self) -> float:
        return float(self.param_groups[0]["tolerance_ys"])

    @torch.no_grad()
    def step(self, closure: Any) -> Any:  # type: ignore[override]
        """One optimisation step (up to ``max_iter`` iterations); ``closure()`` re-evaluates
        the loss and its gradients.  Returns the loss at the start of the step."""
        closure = torch.enable_grad()(closure)
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        tol_ys, history_size = group["tolerance_ys"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        self.final_loss = loss
        if flat_grad.abs().max() <= tol_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > tol_ys:  # torch: 1e-10
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = flat_grad.neg()
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-al[i])
                d = r = torch.mul(q, H_diag)
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=al[i] - be_i)
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone(memory_format=torch.contiguous_format)
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss
            t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tol_change:
                break
            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = flat_grad.abs().max() <= tol_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                loss = math.nan if n_iter == max_iter else loss  # not evaluated there
                if n_iter != max_iter:
                    with torch.enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = flat_grad.abs().max() <= tol_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if d.mul(t).abs().max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        self.final_loss = loss
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)  # fmt: skip
        return orig_loss
