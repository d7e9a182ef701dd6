"""BLAS on one thread for discovery's regression (threadpoolctl).

The regression's matrices are small (hundreds of rows and columns), where OpenBLAS's
threads do not pay; when the cores are busy (KAN workers in other processes, other jobs) a
multithreaded ``lstsq`` of a 300 x 40 system was measured 5-100x slower than a
single-threaded one, which starved the families of their time shares (a family that solved
a law in 2.8 s alone took 15 s).  ``discover`` runs the regression and the verification in
:func:`one_blas_thread`; torch's own thread pool (the KAN universes) is left alone.
"""

from __future__ import annotations

import contextlib
from typing import Any


def one_blas_thread() -> Any:
    """A context manager in which BLAS/LAPACK (numpy, scipy) runs on one thread; the
    previous limits are restored on exit.  A no-op context when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of kanwidget
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")
