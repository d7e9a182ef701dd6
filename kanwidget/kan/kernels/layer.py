"""Layer kernels: the dense B-spline basis in one pass and the fused spline layer.

Each has a pure-torch twin (``spline.py``, ``layer.py``) that gives the same numbers to
rounding:

- :func:`dense_basis`: the ``(B, in, G + k)`` basis in one pass; its backward recomputes
  the slopes instead of saving them.  Wide layers keep BLAS for the spline matmul.
- :func:`fused_layer`: the whole layer without a dense basis: each point's ``k + 1``
  non-zero basis values go straight into the output (and the per-edge statistics the
  regulariser needs, in double); for narrow layers (see :func:`use_fused`).
- :func:`basis_reference`: the kernel's basis and derivative in float64 (tests).

With ``create_graph=True`` (second derivatives) both backwards switch to differentiable
torch ops (``spline.basis_input_grad``; the fused layer re-evaluated on the torch path).

ctypes releases the GIL during each call; tensors are contiguous CPU float32/float64.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .build import _check, _knot_ptrs, _ptr, _suffix, load, status

if TYPE_CHECKING:
    from ..spline import BasisTable

# Which layers use the fused kernel rather than the dense basis + BLAS (measured with
# benchmarks/bench_train.py, 1 thread): single-output layers whose dense basis would be big
# (B * in >= FUSED_MIN_POINTS, i.e. >= 8 MB at grid 5 in float32: writing and re-reading it
# is then most of the layer's time), and layers up to FUSED_MAX_OUT_STD outputs when the
# regulariser needs per-edge stds (the dense path then also forms an (in, n+1, n+1)
# covariance per input).
FUSED_MAX_OUT = int(os.environ.get("KANWIDGET_FUSED_MAX_OUT", "1"))
FUSED_MIN_POINTS = int(os.environ.get("KANWIDGET_FUSED_MIN_POINTS", str(256 * 1024)))
FUSED_MAX_OUT_STD = int(os.environ.get("KANWIDGET_FUSED_MAX_OUT_STD", "64"))


def use_fused(n_out: int, n_points: int, with_std: bool) -> bool:
    """Whether a layer with ``n_out`` outputs, evaluated at ``n_points = batch * in``
    points, should run the fused kernel."""
    if with_std:
        return n_out <= FUSED_MAX_OUT_STD
    return n_out <= FUSED_MAX_OUT and n_points >= FUSED_MIN_POINTS


def _layer_forward(lib, x, base, wb, ws, table: BasisTable, stats: bool):
    """One fused-kernel forward on contiguous tensors: ``y (B, out)`` and, with ``stats``,
    the per-edge ``mean`` and unbiased ``var`` of phi ``(in, out)`` (else None, None)."""
    batch, n_in = x.shape
    n_out = wb.shape[1]
    y = x.new_empty(batch, n_out)
    s1 = s2 = mean = var = None
    if stats:  # s1, s2: the kernel's double-precision sums
        s1 = torch.empty(n_in, n_out, dtype=torch.float64)
        s2 = torch.empty(n_in, n_out, dtype=torch.float64)
        mean, var = x.new_empty(n_in, n_out), x.new_empty(n_in, n_out)
    fwd = getattr(lib, f"kan_forward_{_suffix(x.dtype)}")
    code = fwd(x.data_ptr(), base.data_ptr(), *_knot_ptrs(table), wb.data_ptr(), ws.data_ptr(),
               y.data_ptr(), _ptr(s1), _ptr(s2), _ptr(mean), _ptr(var), batch, n_in, n_out,
               table.n_int, table.k, int(table.uniform), torch.get_num_threads())  # fmt: skip
    _check(code, "forward")
    return y, mean, var


def _layer_backward(lib, x, base, wb, ws, table: BasisTable, gy, c, mean, need):
    """One fused-kernel backward: ``(gx, gbase, gwb, gws)``, each only if its ``need`` flag
    is set (else None).  ``c``/``mean``: the variance's share ``c (phi - mean)`` of phi's
    upstream gradient, or None."""
    flags = iter(need)
    gx, gbase, gwb, gws = (torch.empty_like(t) if next(flags) else None for t in (x, base, wb, ws))
    bwd = getattr(lib, f"kan_backward_{_suffix(x.dtype)}")
    batch, n_in = x.shape
    code = bwd(x.data_ptr(), base.data_ptr(), *_knot_ptrs(table), wb.data_ptr(), ws.data_ptr(),
               gy.data_ptr(), _ptr(c), _ptr(mean), _ptr(gx), _ptr(gbase), _ptr(gwb), _ptr(gws),
               batch, n_in, wb.shape[1], table.n_int, table.k, int(table.uniform),
               torch.get_num_threads())  # fmt: skip
    _check(code, "backward")
    return gx, gbase, gwb, gws


class FusedLayer(torch.autograd.Function):
    """``(x, base, wb, ws) -> y`` and, with ``stats``, the per-edge variance of phi."""

    @staticmethod
    def forward(ctx, x, base, wb, ws, table, stats):  # type: ignore[override]
        lib = load()
        assert lib is not None
        # the inputs themselves are saved (not contiguous copies): a recorded backward
        # differentiates through them (see _recorded_backward)
        ctx.save_for_backward(x, base, wb, ws)
        x, base, wb, ws = (t.contiguous() for t in (x, base, wb, ws))
        y, mean, var = _layer_forward(lib, x, base, wb, ws, table, stats)
        ctx.table, ctx.mean, ctx.stats = table, mean, stats
        return y, var

    @staticmethod
    def backward(ctx, gy, gvar):  # type: ignore[override]
        if torch.is_grad_enabled():  # create_graph: the gradients must be differentiable
            return (*_recorded_backward(ctx, gy, gvar), None, None)
        lib = load()
        assert lib is not None
        x, base, wb, ws = (t.contiguous() for t in ctx.saved_tensors)
        batch = x.shape[0]
        gy = x.new_zeros(batch, wb.shape[1]) if gy is None else gy.contiguous()
        c = mean = None
        if ctx.mean is not None and gvar is not None:
            c = (gvar * (2.0 / max(batch - 1, 1))).contiguous()
            mean = ctx.mean
        grads = _layer_backward(lib, x, base, wb, ws, ctx.table, gy, c, mean,
                                ctx.needs_input_grad[:4])  # fmt: skip
        return (*grads, None, None)


# The torch twins that the recorded (create_graph) backwards re-evaluate.  ``spline.py`` and
# ``layer.py`` register them when imported: this bottom layer never imports the layers above.
TWINS: dict[str, Callable] = {}


def register_twins(**fns: Callable) -> None:
    """Register the torch twins the recorded backwards differentiate:
    ``basis_input_grad(x, table, grad) -> (B, in)`` (``spline.py``) and ``layer(x, base,
    base_w, spline_w, table, with_std) -> (y (B, out), var (in, out) or None)`` with
    ``spline_w`` ``(in, out, n)`` (``layer.torch_layer``, the layer's own torch path)."""
    TWINS.update(fns)


def _twin(name: str) -> Callable:
    if name not in TWINS:
        raise RuntimeError(
            f"second derivatives through the C kernels need the torch twin {name!r}, "
            "registered when kanwidget.kan is imported"
        )
    return TWINS[name]


def _recorded_backward(ctx, gy, gvar):
    """:class:`FusedLayer`'s backward when it is itself recorded (``create_graph=True``,
    e.g. a PDE loss on the Laplacian of a KAN): the layer is re-evaluated with torch ops
    (the differentiable basis of ``spline.py``) and differentiated with
    ``create_graph=True``, so second derivatives in ``x`` and their gradients in the
    weights are exact.  Aliases of the inputs stop the gradient in ``x`` from also
    flowing through ``base = b(x)``, which the caller's graph already differentiates."""
    saved = ctx.saved_tensors
    need = ctx.needs_input_grad[:4]
    x, base, wb, ws = (t.view_as(t) if n else t.detach() for t, n in zip(saved, need))
    stats = bool(ctx.stats and gvar is not None)
    # ws is (in, n, out), the kernel's layout; the torch layer takes (in, out, n)
    y, var = _twin("layer")(x, base, wb, ws.transpose(1, 2), ctx.table, stats)
    outs, grads = [y], [torch.zeros_like(y) if gy is None else gy]
    if var is not None:
        outs.append(var.to(y.dtype))
        grads.append(gvar)
    inputs = [t for t, n in zip((x, base, wb, ws), need) if n]
    found = iter(torch.autograd.grad(outs, inputs, grads, create_graph=True, allow_unused=True))
    res = [next(found) if n else None for n in need]
    return [torch.zeros_like(t) if n and g is None else g
            for t, n, g in zip(saved, need, res)]  # fmt: skip


class DenseBasis(torch.autograd.Function):
    """``x (B, in) -> (B, in, G + k)`` basis in one pass; backward recomputes the slopes."""

    @staticmethod
    def forward(ctx, x, table):  # type: ignore[override]
        lib = load()
        assert lib is not None
        ctx.save_for_backward(x)  # the input itself: a recorded backward differentiates it
        x = x.contiguous()
        batch, n_in = x.shape
        out = x.new_empty(batch, n_in, table.n_basis)
        fn = getattr(lib, f"kan_dense_basis_{_suffix(x.dtype)}")
        code = fn(x.data_ptr(), *_knot_ptrs(table), out.data_ptr(),
                  batch, n_in, table.n_int, table.k, int(table.uniform),
                  torch.get_num_threads())  # fmt: skip
        _check(code, "basis")
        ctx.table = table
        return out

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        table = ctx.table
        if torch.is_grad_enabled():  # create_graph: a differentiable gradient (spline.py)
            return _twin("basis_input_grad")(x, table, grad), None
        lib = load()
        assert lib is not None
        x, grad = x.contiguous(), grad.contiguous()
        batch, n_in = x.shape
        gx = torch.empty_like(x)
        fn = getattr(lib, f"kan_dense_grad_{_suffix(x.dtype)}")
        code = fn(x.data_ptr(), *_knot_ptrs(table), grad.data_ptr(),
                  gx.data_ptr(), batch, n_in, table.n_int, table.k, int(table.uniform),
                  torch.get_num_threads())  # fmt: skip
        _check(code, "basis gradient")
        return gx, None


def dense_basis(x: Tensor, table: BasisTable) -> Tensor:
    """The ``(B, in, G + k)`` basis of ``x`` on ``table``'s knots (differentiable in x)."""
    return DenseBasis.apply(x, table)


def fused_layer(
    x: Tensor, base: Tensor, wb: Tensor, ws: Tensor, table: BasisTable, stats: bool = False
) -> tuple[Tensor, Tensor | None]:
    """``y = base @ wb + spline(x) @ ws`` for ``ws`` of shape ``(in, G + k, out)`` on the
    knots of ``table``; with ``stats`` also the per-edge variance over the batch of
    ``phi_io = base_i wb_io + sum_a B_a(x_i) ws_iao``, ``(in, out)``."""
    return FusedLayer.apply(x, base, wb, ws, table, stats)


def basis_reference(x: Tensor, table: BasisTable):
    """Dense basis and derivative ``(B, in, G + k)`` in float64 from the kernel (tests)."""
    lib = load()
    if lib is None:
        raise RuntimeError(f"native kernel unavailable: {status()}")
    x = x.detach().to(torch.float64).contiguous()
    batch, n_in = x.shape
    values = torch.empty(batch, n_in, table.n_basis, dtype=torch.float64)
    deriv = torch.empty_like(values)
    code = lib.kan_basis_f64(x.data_ptr(), *_knot_ptrs(table),
                             values.data_ptr(), deriv.data_ptr(), batch, n_in, table.n_int,
                             table.k, int(table.uniform))  # fmt: skip
    _check(code, "basis")
    return values, deriv
