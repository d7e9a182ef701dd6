"""The C kernels (sources, build and cache, ctypes bindings): the only code using ctypes.

The rest of the backend calls this small API and never ctypes:

- availability: :func:`status` ('loaded' or why not), :func:`usable` (can the kernels run
  on tensors like ``x``), :func:`fit_enabled` (may ``fit`` use the C optimisers),
  :func:`set_enabled` (tests compare both paths); ``KANWIDGET_NATIVE=0`` /
  ``KANWIDGET_NATIVE_FIT=0`` switch them off.
- layer kernels (``layer.py``): :func:`dense_basis`, :func:`fused_layer`, :func:`use_fused`.
- the fused objective (``objective.py``): :func:`fused_objective` (one autograd node) and
  :class:`KANProblem` (value and gradient on a flat float64 vector).
- the optimiser (``lbfgs.py``): :class:`NativeLBFGS`, torch's LBFGS step for step in C.

The C sources: ``_native.c`` (shared code; compiles ``_native_types.h`` once per float
type, which includes the objective ``_objective.h`` and its block path ``_block.h``) and
``_lbfgs.c`` (the LBFGS driver).  ``build.py`` compiles them into one library.
"""

from .build import fit_enabled, load, set_enabled, status, usable
from .layer import basis_reference, dense_basis, fused_layer, register_twins, use_fused
from .lbfgs import NativeLBFGS
from .objective import KANProblem, fused_objective

__all__ = [
    "KANProblem",
    "NativeLBFGS",
    "basis_reference",
    "dense_basis",
    "fit_enabled",
    "fused_layer",
    "register_twins",
    "fused_objective",
    "load",
    "set_enabled",
    "status",
    "usable",
    "use_fused",
]
