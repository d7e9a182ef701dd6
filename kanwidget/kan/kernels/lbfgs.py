"""torch.optim.LBFGS's algorithm (strong-Wolfe line search) in C, on a flat float64 vector.

A 50-step LBFGS fit evaluates the objective ~1250 times; on a small KAN each evaluation is
~0.1-0.2 ms of kernel work, and torch's optimizer bookkeeping plus an autograd closure
cost more than that.  Here one :meth:`NativeLBFGS.step` is one call into
``kan_lbfgs_step`` (``_lbfgs.c``), which runs the same iterations as
``torch.optim.LBFGS.step`` (same constants, same history handling, state kept between
steps), calling a C objective: a :class:`~.objective.KANProblem`, or any Python callable
``f(x) -> (loss, grad)`` (through a ctypes callback; tests use it to compare iterates with
torch's optimizer on the same function).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from .build import load, status
from .objective import KANProblem

_p, _i, _d = ctypes.c_void_p, ctypes.c_int, ctypes.c_double


class _LBFGSState(ctypes.Structure):  # kan_lbfgs in _lbfgs.c
    _fields_ = [
        ("n", _i), ("history", _i), ("max_iter", _i), ("max_eval", _i),
        ("lr", _d), ("tol_grad", _d), ("tol_change", _d), ("tol_ys", _d),
        ("n_iter", _i), ("func_evals", _i), ("n_old", _i), ("head", _i),
        ("t", _d), ("H_diag", _d),
        ("d", _p), ("prev_g", _p), ("dirs", _p), ("stps", _p), ("ro", _p), ("al", _p),
    ]  # fmt: skip


_PYFN = ctypes.CFUNCTYPE(_d, _p, ctypes.POINTER(_d), ctypes.POINTER(_d))


class NativeLBFGS:
    """``torch.optim.LBFGS(line_search_fn='strong_wolfe')`` on a flat float64 vector: same
    arguments and defaults, state kept between :meth:`step` calls; ``tolerance_ys`` is the
    curvature a step needs to join the history (torch's fixed 1e-10 by default; pykan's
    ``fit`` uses 1e-32, :mod:`kanwidget.kan.train.lbfgs`)."""

    def __init__(
        self,
        n: int,
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        tolerance_ys: float = 1e-10,
    ) -> None:
        if n < 1:
            raise ValueError(f"LBFGS needs at least one parameter, got n={n}")
        if not lr >= 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_iter < 1 or history_size < 1:
            raise ValueError("max_iter and history_size must be >= 1")
        lib = load()
        if lib is None:
            raise RuntimeError(f"native kernel unavailable: {status()}")
        self._lib = lib
        self.n = n
        f64 = torch.float64
        self._bufs = {
            "d": torch.zeros(n, dtype=f64),
            "prev_g": torch.zeros(n, dtype=f64),
            "dirs": torch.zeros(history_size, n, dtype=f64),
            "stps": torch.zeros(history_size, n, dtype=f64),
            "ro": torch.zeros(history_size, dtype=f64),
            "al": torch.zeros(history_size, dtype=f64),
        }
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        self._state = _LBFGSState(
            n=n, history=history_size, max_iter=max_iter, max_eval=max_eval, lr=float(lr),
            tol_grad=float(tolerance_grad), tol_change=float(tolerance_change),
            tol_ys=float(tolerance_ys),
            **{name: buf.data_ptr() for name, buf in self._bufs.items()},
        )  # fmt: skip

    @property
    def func_evals(self) -> int:
        """Objective evaluations over all steps (torch's ``state['func_evals']``)."""
        return int(self._state.func_evals)

    @property
    def n_iter(self) -> int:
        return int(self._state.n_iter)

    def step(self, x: Tensor, objective: KANProblem | Callable[[Tensor], tuple[float, Tensor]]):
        """One ``LBFGS.step``: updates ``x`` (float64, contiguous, ``(n,)``) in place and
        returns the loss at the entry point (what torch's ``step`` returns)."""
        if x.dtype != torch.float64 or x.shape != (self.n,) or not x.is_contiguous():
            raise ValueError(f"x must be a contiguous float64 tensor of shape ({self.n},)")
        orig, start = _d(), x.clone()
        keep = None  # the ctypes callback of a Python objective and its error list
        if isinstance(objective, KANProblem):
            fn, ctx = objective.fn_ptr, ctypes.addressof(objective.problem)
        else:
            keep = _python_objective(objective, self.n)
            fn, ctx = ctypes.cast(keep[0], _p).value, None
        code = self._lib.kan_lbfgs_step(ctypes.addressof(self._state), fn, ctx, x.data_ptr(),
                                        ctypes.byref(orig))  # fmt: skip
        try:
            if keep is not None and keep[1]:  # an exception inside the Python objective
                raise keep[1][0]
            if code != 0:
                raise MemoryError("kan_lbfgs_step: out of memory")
            if isinstance(objective, KANProblem):
                objective.check()
        except BaseException:
            x.copy_(start)  # the caller's parameters as they were
            raise
        return orig.value


def _python_objective(f: Callable[[Tensor], tuple[float, Tensor]], n: int):
    """A ctypes callback around ``f``; the list collects an exception (then NaN goes back)."""
    errors: list[BaseException] = []

    def call(_ctx, xp, gp):
        if errors:
            return float("nan")
        try:
            x = torch.from_numpy(np.ctypeslib.as_array(xp, shape=(n,)))
            loss, grad = f(x.clone())
            np.ctypeslib.as_array(gp, shape=(n,))[:] = grad.detach().to(torch.float64).numpy()
            return float(loss)
        except BaseException as e:  # noqa: BLE001 - re-raised by step()
            errors.append(e)
            return float("nan")

    return _PYFN(call), errors
