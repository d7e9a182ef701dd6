"""Discovery tests run their regression with BLAS on one thread, as ``discover`` does
(``one_blas_thread``): the families' small least-squares problems were measured 5-100x
slower with OpenBLAS's threads on a busy machine, so their internal time limits (which
``discover`` sizes for one thread) would cut them short."""

from __future__ import annotations

import pytest

from kanwidget.discovery.threads import one_blas_thread


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with one_blas_thread():
        yield
