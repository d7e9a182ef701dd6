"""``fit``'s LBFGS in C: torch.optim.LBFGS's algorithm (strong-Wolfe line search) without
Python between objective evaluations (and Adam on the same C objective).

A 50-step LBFGS fit evaluates the objective ~1250 times; on a small KAN each evaluation is
~0.1-0.2 ms of kernel work, and torch's optimizer bookkeeping plus an autograd closure
cost more than that.  Here one ``step`` is one call into ``kan_lbfgs_step`` (``_lbfgs.c``),
which runs the same iterations as ``torch.optim.LBFGS.step`` (same constants, same history
handling, state kept between steps) on a flat float64 copy of the parameters, calling a C
objective:

- :class:`KANProblem`: ``fit``'s MSE + ``lamb`` * pykan's regulariser for a plain KAN
  (``kan_objective_*`` in ``_native.c``; the conditions are those of the fused objective,
  see ``train._plain``), or
- any Python callable ``f(x) -> (loss, grad)`` (through a ctypes callback; tests use it to
  compare iterates with torch's optimizer on the same function).

``fit(opt='Adam')`` uses the same objective with :class:`FlatAdam` (torch's update on the
flat vector).  ``KANWIDGET_NATIVE_FIT=0`` makes ``fit`` use ``torch.optim.LBFGS`` /
``torch.optim.Adam`` on the autograd objective instead.
"""

from __future__ import annotations

import ctypes
import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn

from . import native

if TYPE_CHECKING:
    from ..network import KAN

_p, _i, _d, _ll = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_longlong


class _LBFGSState(ctypes.Structure):  # kan_lbfgs in _lbfgs.c
    _fields_ = [
        ("n", _i), ("history", _i), ("max_iter", _i), ("max_eval", _i),
        ("lr", _d), ("tol_grad", _d), ("tol_change", _d),
        ("n_iter", _i), ("func_evals", _i), ("n_old", _i), ("head", _i),
        ("t", _d), ("H_diag", _d),
        ("d", _p), ("prev_g", _p), ("dirs", _p), ("stps", _p), ("ro", _p), ("al", _p),
    ]  # fmt: skip


class _LayerSpec(ctypes.Structure):  # kan_layer_spec in _native.c
    _fields_ = [
        ("I", _i), ("O", _i), ("M", _i), ("k", _i), ("uniform", _i),
        ("t", _p), ("lut", _p), ("table", _p), ("mask", _p),
        ("coef", _p), ("sb", _p), ("ssp", _p),
        ("off_coef", _ll), ("off_sb", _ll), ("off_ssp", _ll),
    ]  # fmt: skip


class _Problem(ctypes.Structure):  # kan_problem in _native.c
    _fields_ = [
        ("n_layers", _i), ("B", _i), ("nthreads", _i), ("x", _p), ("y", _p),
        ("lamb", _d), ("lamb_l1", _d), ("lamb_entropy", _d), ("layers", ctypes.POINTER(_LayerSpec)),
        ("mse", _d), ("reg", _d), ("status", _i), ("evals", _i), ("work", _p), ("cached", _i),
        ("block", _i),
    ]  # fmt: skip


_PYFN = ctypes.CFUNCTYPE(_d, _p, ctypes.POINTER(_d), ctypes.POINTER(_d))


def enabled() -> bool:
    """Whether ``fit`` may use the C objective and optimisers (kernel loaded, not switched
    off by ``KANWIDGET_NATIVE_FIT=0``)."""
    return os.environ.get("KANWIDGET_NATIVE_FIT", "1") != "0" and native.load() is not None


class NativeLBFGS:
    """``torch.optim.LBFGS(line_search_fn='strong_wolfe')`` on a flat float64 vector: same
    arguments and defaults, state kept between :meth:`step` calls."""

    def __init__(
        self,
        n: int,
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
    ) -> None:
        if n < 1:
            raise ValueError(f"LBFGS needs at least one parameter, got n={n}")
        if not lr >= 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_iter < 1 or history_size < 1:
            raise ValueError("max_iter and history_size must be >= 1")
        lib = native.load()
        if lib is None:
            raise RuntimeError(f"native kernel unavailable: {native.status()}")
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


class FlatAdam:
    """``torch.optim.Adam``'s update (no weight decay, no amsgrad) on the same flat float64
    vector, for ``fit(opt='Adam')`` on a :class:`KANProblem`."""

    def __init__(self, n: int, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        if not lr >= 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        self.lr, self.betas, self.eps, self.t = float(lr), betas, float(eps), 0
        self.m = torch.zeros(n, dtype=torch.float64)
        self.v = torch.zeros(n, dtype=torch.float64)

    def step(self, theta: Tensor, grad: Tensor) -> None:
        """One update of ``theta`` in place from its gradient."""
        b1, b2 = self.betas
        self.t += 1
        self.m.mul_(b1).add_(grad, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        denom = (self.v.sqrt() / math.sqrt(1 - b2**self.t)).add_(self.eps)
        theta.addcdiv_(self.m, denom, value=-self.lr / (1 - b1**self.t))


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


def supported(model: KAN, x: Tensor, params: Sequence[nn.Parameter]) -> bool:
    """Whether :class:`KANProblem` covers ``fit`` on ``model`` with these trainable
    ``params``: a plain KAN (``train._plain``) whose trainable tensors are among the layers'
    ``coef``, ``scale_base``, ``scale_sp``, all in ``x``'s dtype."""
    from ..train.loop import _plain

    if not enabled() or not _plain(model, x):
        return False
    allowed = {id(t) for layer in model.layers for t in (layer.coef, layer.scale_base,
                                                         layer.scale_sp)}  # fmt: skip
    return all(id(p) in allowed and p.dtype == x.dtype for p in params)


# The objective's block path (SIMD over the batch, dense basis rows; _native.c) costs
# ~out * (G + k) per (point, input) against the sparse kernel's ~out * (k + 1) plus its
# per-pair overhead: it wins for narrow layers and small grids (measured, 1 thread:
# [2,5,1] 0.11 vs 0.25 ms per evaluation, [8,32,32,1] 16 vs 18 ms, [4,100,100,100,1] 50 vs
# 35 ms).  It is single-threaded, so with more threads only for small problems.
BLOCK_MAX_NB = 32
BLOCK_MAX_OUT = 64
BLOCK_MAX_WORK = 1 << 20  # batch * sum(in * out) below which one thread beats the parallel path


def use_block(model: KAN, batch: int, threads: int) -> bool:
    """Whether :class:`KANProblem` runs the block path (``KANWIDGET_BLOCK=0``: never)."""
    if os.environ.get("KANWIDGET_BLOCK", "1") == "0":
        return False
    if any(
        layer.coef.shape[-1] > BLOCK_MAX_NB or layer.out_dim > BLOCK_MAX_OUT
        for layer in model.layers
    ):
        return False
    work = batch * sum(layer.in_dim * layer.out_dim for layer in model.layers)
    return threads == 1 or work <= BLOCK_MAX_WORK


class KANProblem:
    """``fit``'s objective ``mse + lamb * reg`` of a plain KAN on data ``(x, y)``, over the
    flat vector of ``params`` (the order torch's LBFGS uses), evaluated in C."""

    def __init__(
        self,
        model: KAN,
        x: Tensor,
        y: Tensor,
        params: Sequence[nn.Parameter],
        lamb: float,
        lamb_l1: float,
        lamb_entropy: float,
    ) -> None:
        lib = native.load()
        assert lib is not None
        self.params = list(params)
        dtype = x.dtype
        offsets, pos = {}, 0
        for p in self.params:
            offsets[id(p)] = pos
            pos += p.numel()
        self.n = pos
        keep: list[object] = []  # tensors the C structs point into

        def ptr(t: Tensor) -> int:
            t = t.detach().to(dtype).contiguous()
            keep.append(t)
            return t.data_ptr()

        specs = (_LayerSpec * len(model.layers))()
        for spec, layer in zip(specs, model.layers, strict=True):
            table = layer.basis_table()
            keep.append(table)
            spec.I, spec.O, spec.M, spec.k = layer.in_dim, layer.out_dim, table.n_int, table.k
            spec.uniform = int(table.uniform)
            spec.t, spec.lut, spec.table = native._knot_ptrs(table)
            spec.mask = ptr(layer.mask)
            spec.coef, spec.sb = ptr(layer.coef), ptr(layer.scale_base)
            spec.ssp = ptr(layer.scale_sp)
            spec.off_coef = offsets.get(id(layer.coef), -1)
            spec.off_sb = offsets.get(id(layer.scale_base), -1)
            spec.off_ssp = offsets.get(id(layer.scale_sp), -1)
        self.problem = _Problem(
            n_layers=len(model.layers), B=x.shape[0], nthreads=torch.get_num_threads(),
            x=ptr(x), y=ptr(y), lamb=float(lamb), lamb_l1=float(lamb_l1),
            lamb_entropy=float(lamb_entropy), layers=specs,
        )  # fmt: skip
        self.problem.block = int(use_block(model, x.shape[0], self.problem.nthreads))
        self._keep = (keep, specs)
        self._key = self._state_key(model, x, y)
        # the objects the key names by id(): held, so no new object can take an id over
        self._anchor = (x, y, [t for layer in model.layers
                               for t in (layer.mask, layer.coef, layer.scale_base,
                                         layer.scale_sp)])  # fmt: skip
        self._lib = lib
        self._fn = getattr(lib, f"kan_objective_{native._suffix(dtype)}")
        self.fn_ptr = ctypes.cast(self._fn, _p).value

    def _state_key(self, model: KAN, x: Tensor, y: Tensor) -> tuple:
        """What the C structs were built from: the data, the knots' tables and the frozen
        tensors (identity and in-place version); the trainable values come from theta."""
        trainable = {id(p) for p in self.params}
        frozen = [t for layer in model.layers
                  for t in (layer.mask, layer.coef, layer.scale_base, layer.scale_sp)
                  if id(t) not in trainable]  # fmt: skip
        return (id(x), x._version, id(y), y._version, torch.get_num_threads(),
                tuple(id(layer.basis_table()) for layer in model.layers),
                tuple((id(t), t._version) for t in frozen))  # fmt: skip

    def matches(self, model: KAN, x: Tensor, y: Tensor) -> bool:
        """Whether this problem still describes ``model`` on ``(x, y)`` (so a step can reuse
        it, with its cached basis of the data)."""
        return self._key == self._state_key(model, x, y)

    def __del__(self) -> None:
        lib = getattr(self, "_lib", None)
        if lib is not None:
            lib.kan_problem_free(ctypes.addressof(self.problem))

    @property
    def mse(self) -> float:
        """MSE of the last evaluation."""
        return float(self.problem.mse)

    @property
    def reg(self) -> float:
        """Regulariser (without ``lamb``) of the last evaluation."""
        return float(self.problem.reg)

    def check(self) -> None:
        if self.problem.status != 0:
            raise RuntimeError(f"native objective failed with code {self.problem.status}")

    def gather(self) -> Tensor:
        """The parameters as one float64 vector."""
        return torch.cat([p.detach().reshape(-1).to(torch.float64) for p in self.params])

    def scatter(self, theta: Tensor) -> None:
        """Write ``theta`` back into the parameters (in their dtype)."""
        with torch.no_grad():
            pos = 0
            for p in self.params:
                p.copy_(theta[pos : pos + p.numel()].view_as(p))
                pos += p.numel()

    def __call__(self, theta: Tensor, grad: bool = True) -> tuple[float, Tensor | None]:
        """Objective at ``theta`` (float64 ``(n,)``) and, with ``grad``, its gradient."""
        theta = theta.detach().to(torch.float64).contiguous()
        g = torch.zeros_like(theta) if grad else None
        value = self._fn(ctypes.addressof(self.problem), theta.data_ptr(),
                         None if g is None else g.data_ptr())  # fmt: skip
        self.check()
        return float(value), g
