"""C kernels for the spline layer (``_native.c``), built on first use.

Three entry points, each with a pure-torch twin that gives the same numbers to rounding:

- :func:`dense_basis`: the ``(B, in, G + k)`` basis in one pass; its backward recomputes
  the slopes instead of saving them.  Wide layers keep BLAS for the spline matmul.
- :func:`fused_layer`: the whole layer without a dense basis: each point's ``k + 1``
  non-zero basis values go straight into the output (and the per-edge statistics the
  regulariser needs, in double); for narrow layers (see :func:`use_fused`).
- :func:`fused_objective`: ``fit``'s MSE + regulariser of a plain KAN as one autograd node.

``fit`` itself goes further for plain KANs (``lbfgs.py``): ``kan_objective_*`` evaluates
that objective and its gradient for a flat parameter vector entirely in C, and
``kan_lbfgs_step`` (``_lbfgs.c``) runs torch's LBFGS on it.

Plain C (no torch headers, OpenMP when the compiler has it), compiled with the system C
compiler in a few seconds into a per-user cache (``$KANWIDGET_CACHE``, else
``~/.cache/kanwidget``) and called through :mod:`ctypes` on contiguous CPU tensors; ctypes
releases the GIL during the call.  Used automatically for float32/float64 CPU tensors;
``KANWIDGET_NATIVE=0`` turns it off, and :func:`status` says whether it loaded and, if
not, why.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

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


# the kernels, and the L-BFGS driver that runs fit's LBFGS steps on kan_objective (lbfgs.py);
# HEADERS: the per-type parts _native.c includes (part of the build's cache key)
_HERE = Path(__file__).parent
SOURCES = (_HERE / "_native.c", _HERE / "_lbfgs.c")
HEADERS = (_HERE / "_native_types.h", _HERE / "_objective.h", _HERE / "_block.h")
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"lib": None, "tried": False, "reason": "not loaded yet"}


def _cache_dir() -> Path:
    root = os.environ.get("KANWIDGET_CACHE") or os.environ.get("XDG_CACHE_HOME")
    base = Path(root) if root else Path.home() / ".cache"
    return base / "kanwidget" if not os.environ.get("KANWIDGET_CACHE") else base


def _cpu_key() -> str:
    """Identifies the CPU's instruction sets, since the library is built with -march=native."""
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    except OSError:
        flags = ""
    return platform.machine() + flags


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


# Tried in order: compilers without OpenMP (e.g. Apple clang) or without -march=native still
# get a working, single-threaded kernel.
FLAG_SETS: tuple[tuple[str, ...], ...] = (
    ("-O3", "-march=native", "-fopenmp", "-fno-math-errno"),
    ("-O3", "-march=native", "-fno-math-errno"),
    ("-O3",),
)
_COMMON = ("-fPIC", "-shared", "-std=c11")


def library_path(flags: tuple[str, ...] | None = None) -> Path:
    """Where the library built with ``flags`` (default: the first set) is cached."""
    flags = FLAG_SETS[0] if flags is None else flags
    src = b"".join(path.read_bytes() for path in (*SOURCES, *HEADERS))
    key = hashlib.sha256(src + " ".join(flags).encode() + _cpu_key().encode()).hexdigest()
    return _cache_dir() / f"kanwidget_native_{key[:16]}.so"


def build(verbose: bool = False) -> Path:
    """Compile ``_native.c`` and ``_lbfgs.c`` into the cache (atomic rename; safe to race)
    with the first flag set that works; returns the library's path (an existing build is
    reused)."""
    for flags in FLAG_SETS:
        if library_path(flags).exists():
            return library_path(flags)
    cc = _compiler()
    if cc is None:
        raise RuntimeError("no C compiler (cc/gcc/clang) on PATH")
    _cache_dir().mkdir(parents=True, exist_ok=True)
    print(f"kanwidget: compiling the native kernel into {_cache_dir()} (once, a few seconds)",
          file=sys.stderr, flush=True)  # fmt: skip
    errors = []
    for flags in FLAG_SETS:
        path = library_path(flags)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=path.parent)
        os.close(fd)
        cmd = [cc, *flags, *_COMMON, *map(str, SOURCES), "-o", tmp, "-lm"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                errors.append(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()[-1000:]}")
                continue
            if verbose:
                print(" ".join(cmd), file=sys.stderr)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for old in path.parent.glob("kanwidget_native_*.so"):  # builds of older sources
            if old != path:
                with contextlib.suppress(OSError):
                    old.unlink()
        return path
    raise RuntimeError("\n".join(errors))


def _declare(lib: ctypes.CDLL) -> None:
    p, i, d = ctypes.c_void_p, ctypes.c_int, ctypes.c_double
    signatures = {  # name (without _f32/_f64) -> argument types; all return an int status
        "kan_forward": [p] * 12 + [i] * 7,
        "kan_backward": [p] * 14 + [i] * 7,
        "kan_dense_basis": [p] * 5 + [i] * 6,
        "kan_dense_grad": [p] * 6 + [i] * 6,
        "kan_colstats": [p] * 3 + [i] * 2,
        "kan_reg": [p, p, d, d, p, p, p, i, i],
        "kan_hidden_grad": [p] * 6 + [d, i, i],
    }
    names = [(f"{n}_{suf}", args) for n, args in signatures.items() for suf in ("f32", "f64")]
    for name, args in [*names, ("kan_basis_f64", [p] * 6 + [i] * 5)]:
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, i
    for suf in ("f32", "f64"):  # objective(ctx, theta, grad) -> loss, for kan_lbfgs_step
        fn = getattr(lib, f"kan_objective_{suf}")
        fn.argtypes, fn.restype = [p, p, p], d
    lib.kan_lbfgs_step.argtypes, lib.kan_lbfgs_step.restype = [p] * 5, i
    lib.kan_problem_free.argtypes, lib.kan_problem_free.restype = [p], None


def load() -> ctypes.CDLL | None:
    """The kernel library, building it on first call; None if it cannot be built/loaded."""
    if _STATE["tried"]:
        return _STATE["lib"]
    with _LOCK:
        if _STATE["tried"]:
            return _STATE["lib"]
        if os.environ.get("KANWIDGET_NATIVE", "1") == "0":
            _STATE["reason"] = "disabled by KANWIDGET_NATIVE=0"
        else:
            try:
                lib = ctypes.CDLL(str(build()))
                _declare(lib)
                _STATE["lib"] = lib
                _STATE["reason"] = "loaded"
            except Exception as e:  # no compiler, read-only cache, ...: torch path
                _STATE["reason"] = f"{type(e).__name__}: {e}"
        _STATE["tried"] = True
        return _STATE["lib"]


def status() -> str:
    """'loaded', or why the torch fallback is in use."""
    load()
    return str(_STATE["reason"])


def set_enabled(flag: bool) -> None:
    """Switch the kernel on/off for this process (tests compare both paths)."""
    if flag:
        _STATE["tried"] = False
        _STATE["lib"] = None
        os.environ.pop("KANWIDGET_NATIVE", None)
        load()
    else:
        _STATE["lib"] = None
        _STATE["tried"] = True
        _STATE["reason"] = "disabled by set_enabled(False)"


def usable(x: Tensor) -> bool:
    """Whether the kernel can run on tensors like ``x`` (CPU, float32/float64)."""
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and (load() is not None)
    )


def _ptr(t: Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


def _knot_ptrs(table: BasisTable) -> tuple[int, int, int]:
    """Knots, uniform lookup and per-interval polynomial rows, all float64 (I, ...)."""
    return table.knots64.data_ptr(), table.lut.data_ptr(), table.body.data_ptr()


def _suffix(dtype: torch.dtype) -> str:
    return "f32" if dtype == torch.float32 else "f64"


def _check(code: int, what: str) -> None:
    if code != 0:
        raise RuntimeError(f"native {what} failed with code {code} (out of memory or k > 15)")


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
        x, base, wb, ws = (t.contiguous() for t in (x, base, wb, ws))
        y, mean, var = _layer_forward(lib, x, base, wb, ws, table, stats)
        ctx.save_for_backward(x, base, wb, ws)
        ctx.table, ctx.mean = table, mean
        return y, var

    @staticmethod
    def backward(ctx, gy, gvar):  # type: ignore[override]
        lib = load()
        assert lib is not None
        x, base, wb, ws = ctx.saved_tensors
        batch = x.shape[0]
        gy = x.new_zeros(batch, wb.shape[1]) if gy is None else gy.contiguous()
        c = mean = None
        if ctx.mean is not None and gvar is not None:
            c = (gvar * (2.0 / max(batch - 1, 1))).contiguous()
            mean = ctx.mean
        grads = _layer_backward(lib, x, base, wb, ws, ctx.table, gy, c, mean,
                                ctx.needs_input_grad[:4])  # fmt: skip
        return (*grads, None, None)


class DenseBasis(torch.autograd.Function):
    """``x (B, in) -> (B, in, G + k)`` basis in one pass; backward recomputes the slopes."""

    @staticmethod
    def forward(ctx, x, table):  # type: ignore[override]
        lib = load()
        assert lib is not None
        x = x.contiguous()
        batch, n_in = x.shape
        out = x.new_empty(batch, n_in, table.n_basis)
        fn = getattr(lib, f"kan_dense_basis_{_suffix(x.dtype)}")
        code = fn(x.data_ptr(), *_knot_ptrs(table), out.data_ptr(),
                  batch, n_in, table.n_int, table.k, int(table.uniform),
                  torch.get_num_threads())  # fmt: skip
        _check(code, "basis")
        ctx.save_for_backward(x)
        ctx.table = table
        return out

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        lib = load()
        assert lib is not None
        (x,) = ctx.saved_tensors
        table = ctx.table
        grad = grad.contiguous()
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
