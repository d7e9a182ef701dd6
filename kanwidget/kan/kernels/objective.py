"""``fit``'s objective of a plain KAN in C: MSE + ``lamb`` * pykan's regulariser.

Two forms of the same numbers:

- :func:`fused_objective` (:class:`KANObjective`): one autograd node over the layers'
  weights, for torch's optimisers; its forward runs each layer's fused kernel with per-edge
  stats and ``kan_reg``; its backward runs the fused backward in reverse.
- :class:`KANProblem`: the objective and its gradient for a flat float64 parameter vector,
  evaluated entirely in C (``kan_objective_*``), for the C optimisers (``lbfgs.py``,
  ``train/c_adam.py``).  A block path handles narrow layers with small grids (SIMD over the
  batch with dense basis rows, ``_block.h``).

Plain means: SiLU base, no multiplication nodes, no symbolic edges, MSE loss, and
node/subnode affine maps that are the identity (:class:`KANObjective`) or at least not
trained (:class:`KANProblem`, which applies them: :func:`output_affine`); the caller decides
(``train.objective.plain``).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from .build import _check, _knot_ptrs, _ptr, _suffix, load
from .layer import _layer_backward, _layer_forward

if TYPE_CHECKING:
    from ..network import KAN
    from ..spline import BasisTable

_p, _i, _d, _ll = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_longlong


def _colstats(lib, x: Tensor) -> tuple[Tensor, Tensor]:
    batch, n_in = x.shape
    mean, std = x.new_empty(n_in), x.new_empty(n_in)
    fn = getattr(lib, f"kan_colstats_{_suffix(x.dtype)}")
    _check(fn(x.data_ptr(), mean.data_ptr(), std.data_ptr(), batch, n_in), "column stats")
    return mean, std


class KANObjective(torch.autograd.Function):
    """The training objective of a plain KAN in one autograd node: ``mse + lamb * reg``.

    Plain means: SiLU base, no multiplication nodes, identity node/subnode affine maps, no
    symbolic edges, MSE loss (``train.fit`` checks).  Forward runs each layer's fused kernel
    with per-edge stats, the inputs' column std and pykan's regulariser (``kan_reg``, which
    also gives its gradient); backward runs the layers' fused backward in reverse.  Against
    the per-op autograd graph this removes ~100 small tensor ops per evaluation, which is
    most of an LBFGS closure on small models.
    """

    @staticmethod
    def forward(ctx, x, y, lamb, lamb_l1, lamb_entropy, tables, *weights):  # type: ignore[override]
        lib = load()
        assert lib is not None
        reg_fn = getattr(lib, f"kan_reg_{_suffix(x.dtype)}")
        stats = lamb > 0
        h = x.contiguous()
        saved, reg_total = [], 0.0
        for l, table in enumerate(tables):
            wb, ws = weights[2 * l].contiguous(), weights[2 * l + 1].contiguous()
            n_in, n_out = wb.shape
            base = torch.nn.functional.silu(h)
            out, mean, var = _layer_forward(lib, h, base, wb, ws, table, stats)
            g_var = g_xstd = xmean = xstd = None
            if stats:
                assert var is not None
                xmean, xstd = _colstats(lib, h)
                g_var, g_xstd = torch.empty_like(var), torch.empty_like(xstd)
                reg = ctypes.c_double()
                code = reg_fn(var.data_ptr(), xstd.data_ptr(), float(lamb_l1),
                              float(lamb_entropy), ctypes.byref(reg), g_var.data_ptr(),
                              g_xstd.data_ptr(), n_in, n_out)  # fmt: skip
                _check(code, "regulariser")
                reg_total += reg.value
            saved.append((h, base, wb, ws, mean, g_var, xmean, xstd, g_xstd))
            h = out
        diff = h - y
        loss = diff.square().mean()
        obj = loss + lamb * reg_total
        ctx.saved = saved
        ctx.tables, ctx.lamb, ctx.diff = tables, lamb, diff
        loss, reg_t = loss.detach(), loss.new_tensor(reg_total)
        ctx.mark_non_differentiable(loss, reg_t)
        return obj, loss, reg_t

    @staticmethod
    def backward(ctx, g_obj, _g_loss, _g_reg):  # type: ignore[override]
        if torch.is_grad_enabled():  # create_graph: the C gradient cannot be differentiated
            raise RuntimeError(
                "fit's fused objective is first-order only (create_graph=True was asked); "
                "differentiate the model's own forward for higher derivatives"
            )
        lib = load()
        assert lib is not None
        hidden = getattr(lib, f"kan_hidden_grad_{_suffix(ctx.diff.dtype)}")
        diff = ctx.diff
        gh = (diff * (2.0 / diff.numel()) * g_obj).contiguous()
        grads: list[Tensor | None] = [None] * (2 * len(ctx.tables))
        scale = ctx.lamb * float(g_obj)
        for l in range(len(ctx.tables) - 1, -1, -1):
            h, base, wb, ws, mean, g_var, xmean, xstd, g_xstd = ctx.saved[l]
            batch, n_in = h.shape
            c = None
            if g_var is not None:
                c = (g_var * (scale * 2.0 / max(batch - 1, 1))).contiguous()
            need_x = l > 0
            gx, gbase, gwb, gws = _layer_backward(lib, h, base, wb, ws, ctx.tables[l], gh, c, mean,
                                                  (need_x, need_x, True, True))  # fmt: skip
            grads[2 * l], grads[2 * l + 1] = gwb, gws
            if need_x:  # gx + gbase * silu'(h) + the input std's share, in place on gx
                assert gx is not None and gbase is not None
                code = hidden(h.data_ptr(), gx.data_ptr(), gbase.data_ptr(), _ptr(xmean),
                              _ptr(xstd), _ptr(g_xstd), float(scale), batch, n_in)  # fmt: skip
                _check(code, "hidden gradient")
                gh = gx
        return (None, None, None, None, None, None, *grads)


def fused_objective(
    x: Tensor,
    y: Tensor,
    tables: list[BasisTable],
    weights: list[Tensor],
    lamb: float,
    lamb_l1: float,
    lamb_entropy: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(mse + lamb * reg, mse, reg)`` of a plain KAN (see :class:`KANObjective`);
    ``weights`` alternates each layer's ``(in, out)`` base and ``(in, G+k, out)`` spline
    weights.  Differentiable in the weights."""
    return KANObjective.apply(x, y, lamb, lamb_l1, lamb_entropy, tables, *weights)


class _LayerSpec(ctypes.Structure):  # kan_layer_spec in _native.c
    _fields_ = [
        ("I", _i), ("O", _i), ("M", _i), ("k", _i), ("uniform", _i),
        ("t", _p), ("lut", _p), ("table", _p), ("mask", _p),
        ("coef", _p), ("sb", _p), ("ssp", _p),
        ("off_coef", _ll), ("off_sb", _ll), ("off_ssp", _ll), ("out_scale", _p), ("out_shift", _p),
    ]  # fmt: skip


class _Problem(ctypes.Structure):  # kan_problem in _native.c
    _fields_ = [
        ("n_layers", _i), ("B", _i), ("nthreads", _i), ("x", _p), ("y", _p),
        ("lamb", _d), ("lamb_l1", _d), ("lamb_entropy", _d), ("layers", ctypes.POINTER(_LayerSpec)),
        ("mse", _d), ("reg", _d), ("status", _i), ("evals", _i), ("work", _p), ("cached", _i),
        ("block", _i),
    ]  # fmt: skip


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


def _affine_tensors(model: KAN) -> list[Tensor]:
    """Every layer's subnode and node affine tensors (frozen inputs of the C objective)."""
    return [t for plist in (model.subnode_scale, model.subnode_bias, model.node_scale,
                            model.node_bias) for t in plist]  # fmt: skip


def output_affine(model: KAN, l: int) -> tuple[Tensor, Tensor] | None:
    """Layer ``l``'s subnode and node affine maps as one map of its outputs,
    ``y * scale + shift`` (``(O,)`` each, float64), or ``None`` for the identity.

    Without multiplication nodes subnodes are nodes, so ``(y * ss + sb) * ns + nb`` is
    ``y * (ss * ns) + (sb * ns + nb)``.  A pruned model has such maps: the mean output of the
    removed edges is folded into the subnode bias (``pruning.absorb_means``).
    """
    if model._affine_is_identity(l):
        return None
    ss, sb = model.subnode_scale[l].detach(), model.subnode_bias[l].detach()
    ns, nb = model.node_scale[l].detach(), model.node_bias[l].detach()
    scale = ss.double() * ns.double()
    return scale, sb.double() * ns.double() + nb.double()


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
        lib = load()
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
        for l, (spec, layer) in enumerate(zip(specs, model.layers, strict=True)):
            table = layer.basis_table()
            keep.append(table)
            spec.I, spec.O, spec.M, spec.k = layer.in_dim, layer.out_dim, table.n_int, table.k
            spec.uniform = int(table.uniform)
            spec.t, spec.lut, spec.table = _knot_ptrs(table)
            spec.mask = ptr(layer.mask)
            spec.coef, spec.sb = ptr(layer.coef), ptr(layer.scale_base)
            spec.ssp = ptr(layer.scale_sp)
            spec.off_coef = offsets.get(id(layer.coef), -1)
            spec.off_sb = offsets.get(id(layer.scale_base), -1)
            spec.off_ssp = offsets.get(id(layer.scale_sp), -1)
            affine = output_affine(model, l)
            if affine is not None:  # float64 (O,) arrays, whatever the data's dtype
                for name, t in zip(("out_scale", "out_shift"), affine, strict=True):
                    t = t.detach().to(torch.float64).contiguous()
                    keep.append(t)
                    setattr(spec, name, t.data_ptr())
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
                                         layer.scale_sp)], _affine_tensors(model))  # fmt: skip
        self._lib = lib
        self._fn = getattr(lib, f"kan_objective_{_suffix(dtype)}")
        self.fn_ptr = ctypes.cast(self._fn, _p).value

    def _state_key(self, model: KAN, x: Tensor, y: Tensor) -> tuple:
        """What the C structs were built from: the data, the knots' tables and the frozen
        tensors (identity and in-place version); the trainable values come from theta."""
        trainable = {id(p) for p in self.params}
        frozen = [t for layer in model.layers
                  for t in (layer.mask, layer.coef, layer.scale_base, layer.scale_sp)
                  if id(t) not in trainable]  # fmt: skip
        frozen += _affine_tensors(model)
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
