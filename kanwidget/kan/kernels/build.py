"""Build, cache and load the C library (``_native.c`` + ``_lbfgs.c``), and say whether it loaded.

The sources are compiled with the system C compiler on first use (a few seconds) into a
per-user cache (``$KANWIDGET_CACHE``, else ``~/.cache/kanwidget``), keyed by the sources,
the flags and the CPU's instruction sets, with the first flag set that works (OpenMP and
``-march=native`` when available).  ``KANWIDGET_NATIVE=0`` turns the kernels off (the torch
path gives the same numbers to rounding); :func:`status` says whether the library loaded
and, if not, why.  ``KANWIDGET_NATIVE_FIT=0`` keeps the kernels for the layers but makes
``fit`` use torch's optimisers (:func:`fit_enabled`).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from ..spline import BasisTable

_log = logging.getLogger(__name__)

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

# seconds one compile may take: ~5 s on an idle machine, but minutes at nice 15 on a loaded
# one (it timed out at 120 s at load ~10), and a timeout leaves the process on the torch path
COMPILE_TIMEOUT = 600


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
    _log.info("compiling the native kernel into %s (once, a few seconds)", _cache_dir())
    errors = []
    for flags in FLAG_SETS:
        path = library_path(flags)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=path.parent)
        os.close(fd)
        cmd = [cc, *flags, *_COMMON, *map(str, SOURCES), "-o", tmp, "-lm"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT)
            if proc.returncode != 0:
                errors.append(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()[-1000:]}")
                continue
            if verbose:
                _log.info(" ".join(cmd))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        evict_old_builds(path)
        return path
    raise RuntimeError("\n".join(errors))


# builds kept in the cache: several checkouts of different sources (branches, worktrees,
# an installed copy) share it, and deleting every other build made them rebuild each other's
# library in turn (seconds per process start, more on a loaded machine)
KEEP_BUILDS = 8


def evict_old_builds(path: Path, keep: int = KEEP_BUILDS) -> list[Path]:
    """Delete all but the ``keep`` newest builds (by modification time) in ``path``'s
    directory; ``path`` itself always stays.  Returns the deleted paths."""
    others = [p for p in path.parent.glob("kanwidget_native_*.so") if p != path]
    with contextlib.suppress(OSError):
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    deleted = []
    for old in others[max(keep - 1, 0) :]:
        with contextlib.suppress(OSError):
            old.unlink()
            deleted.append(old)
    return deleted


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


def fit_enabled() -> bool:
    """Whether ``fit`` may use the C objective and optimisers (library loaded, not switched
    off by ``KANWIDGET_NATIVE_FIT=0``)."""
    return os.environ.get("KANWIDGET_NATIVE_FIT", "1") != "0" and load() is not None
