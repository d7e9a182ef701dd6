"""pykan's ``kan.utils`` on kanwidget: datasets, the symbolic library, derivatives.

Same names, arguments and results as pykan 0.2.8; the implementations are kanwidget's
(``create_dataset`` draws the same points as pykan for the same seed, from a private
generator).  Third-party names pykan's module leaks through ``from kan.utils import *``
(``np``, ``torch``, ``sympy``, ``re``, ``lambdify``, ...) are exported too.
"""

from __future__ import annotations

import re  # noqa: F401  (pykan's star export)
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import sympy
import torch
from sympy.utilities.lambdify import lambdify  # noqa: F401  (pykan's star export)
from torch import Tensor

from ..kan.dataset import create_dataset
from ..kan.layer import _sparse_mask
from ..kan.symbolic.formula import round_numbers
from ..kan.symbolic.library import _LIBRARY, SymbolicFunction, get_library, sympy_to_torch

try:  # pykan's module imports these (undeclared dependencies); export them when present
    import yaml  # noqa: F401
    from sklearn.linear_model import LinearRegression  # noqa: F401
except ImportError:  # pragma: no cover - the dev environment has both
    pass

__all__ = [
    "SYMBOLIC_LIB", "add_symbolic", "augment_input", "batch_hessian", "batch_jacobian",
    "create_dataset", "create_dataset_from_data", "ex_round", "fit_params", "get_derivative",
    "lambdify", "model2param", "np", "re", "sparse_mask", "sympy", "torch",
]  # fmt: skip
__all__ += [n for n in ("yaml", "LinearRegression") if n in globals()]


class _SymbolicLib(Mapping):
    """pykan's ``SYMBOLIC_LIB`` as a live read-only view of kanwidget's library:
    ``name -> (torch_fn, sympy_fn, complexity, singularity-safe torch_fn)``."""

    def __getitem__(self, name: str) -> tuple[Any, Any, float, Any]:
        f = get_library()[name]
        return (f.torch_fn, f.sympy_fn, f.complexity, lambda x, y_th=None: ((), f.torch_fn(x)))

    def __iter__(self) -> Iterator[str]:
        return iter(get_library())

    def __len__(self) -> int:
        return len(get_library())


SYMBOLIC_LIB = _SymbolicLib()
ex_round = round_numbers


def sparse_mask(in_dim: int, out_dim: int) -> Tensor:
    """pykan's sparse initialisation mask ``(in, out)``: each node joined to its nearest
    counterpart(s) on the other side."""
    return _sparse_mask(in_dim, out_dim, torch.get_default_dtype(), "cpu")


def add_symbolic(name: str, fun: Callable[[Tensor], Tensor], c: float = 1,
                 fun_singularity: Callable | None = None) -> None:  # fmt: skip
    """Register ``fun`` under ``name`` with complexity ``c`` (pykan's signature).

    pykan has no sympy form for such a function: formulas show it as an undefined sympy
    function ``name(...)``.  kanwidget's own ``add_symbolic(name, torch_fn, sympy_fn)`` keeps an
    exact sympy form (and then survives save/load); use it when you know one.
    ``fun_singularity`` is accepted for compatibility (kanwidget's fitting is domain-aware).
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise ValueError(f"symbolic function name must be an identifier, got {name!r}")
    if name in _LIBRARY and _LIBRARY[name].builtin:
        raise ValueError(f"{name!r} is a built-in symbolic function; choose another name")
    x = sympy.Symbol("x")
    undefined = sympy.Function(name)
    _LIBRARY[name] = SymbolicFunction(name, fun, undefined, float(c), "general", 0, None,
                                      str(undefined(x)))  # fmt: skip


def augment_input(orig_vars: Sequence[sympy.Symbol], aux_vars: Sequence[sympy.Expr], x):
    """Auxiliary input columns computed from sympy expressions of the original inputs, placed
    before them (pykan's order): ``(B, n) -> (B, len(aux_vars) + n)``.

    ``x`` is a tensor, or a dataset dict: then a new dict whose ``train_input`` and
    ``test_input`` are augmented (labels shared).  Expressions are evaluated with torch from
    the sympy tree (no ``eval``); a function outside the whitelist raises ``ValueError``.
    """
    if isinstance(x, dict):
        out = dict(x)
        for key in ("train_input", "test_input"):
            out[key] = augment_input(orig_vars, aux_vars, x[key])
        return out
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != len(orig_vars):
        raise ValueError(f"x must be a (B, {len(orig_vars)}) tensor, one column per variable")
    columns = [x[:, k] for k in range(x.shape[1])]
    aux = []
    for expr in aux_vars:
        value = sympy_to_torch(sympy.sympify(expr), *orig_vars)(*columns)
        aux.append(value.reshape(-1, 1).to(x.dtype))
    return torch.cat(aux + [x], dim=1)


def _as_tensor(values: Any) -> Tensor:
    """A tensor as is; anything array-like (numpy, pandas) copied through ``numpy.array``."""
    return values if isinstance(values, Tensor) else torch.as_tensor(np.array(values))


def create_dataset_from_data(inputs: Tensor, labels: Tensor, train_ratio: float = 0.8,
                             device="cpu", seed: int = 0) -> dict[str, Tensor]:  # fmt: skip
    """Split ``inputs``/``labels`` at random into train (``train_ratio``) and test parts
    (pykan's function; the split comes from ``seed``, not numpy's global generator).
    Numpy arrays and pandas DataFrames / Series are taken too (as ``get_fun``'s, pykan
    0.2.8 fails on them), as tensors."""
    inputs, labels = _as_tensor(inputs), _as_tensor(labels)
    n = inputs.shape[0]
    if labels.shape[0] != n:
        raise ValueError(f"inputs have {n} rows but labels {labels.shape[0]}")
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(n * train_ratio)
    train, test = np.sort(perm[:n_train]), np.sort(perm[n_train:])
    return {
        "train_input": inputs[train].detach().to(device),
        "test_input": inputs[test].detach().to(device),
        "train_label": labels[train].detach().to(device),
        "test_label": labels[test].detach().to(device),
    }


def fit_params(x: Tensor, y: Tensor, fun: Callable[[Tensor], Tensor], a_range=(-10, 10),
               b_range=(-10, 10), grid_number: int = 101, iteration: int = 3,
               verbose: bool = True, device="cpu"):  # fmt: skip
    """Fit ``y ~ c fun(a x + b) + d`` (pykan's function): a grid search over (a, b), zoomed
    ``iteration`` times around the best point, with (c, d) by least squares at each point.

    Returns ``(tensor([a, b, c, d]), r2)``, r2 = 1 - SS_res / SS_tot of the best fit (for a
    least-squares (c, d) this equals pykan's squared correlation).  ``verbose`` is ignored.
    """
    x = torch.as_tensor(x).reshape(-1).double()
    y = torch.as_tensor(y).reshape(-1).double()
    lo_a, hi_a = map(float, a_range)
    lo_b, hi_b = map(float, b_range)
    best = None
    for _ in range(iteration):
        a_vals = torch.linspace(lo_a, hi_a, grid_number, dtype=torch.float64)
        b_vals = torch.linspace(lo_b, hi_b, grid_number, dtype=torch.float64)
        a, b = torch.meshgrid(a_vals, b_vals, indexing="ij")
        f = torch.nan_to_num(fun(a[..., None] * x + b[..., None]))  # (G, G, N)
        fc, yc = f - f.mean(-1, keepdim=True), y - y.mean()
        cov, var_f = (fc * yc).sum(-1), (fc * fc).sum(-1)
        r2 = cov**2 / (var_f * (yc * yc).sum() + 1e-30)
        k = int(torch.argmax(r2))
        ia, ib = divmod(k, grid_number)
        best = (float(a[ia, ib]), float(b[ia, ib]), float(r2[ia, ib]))
        step_a, step_b = (hi_a - lo_a) / (grid_number - 1), (hi_b - lo_b) / (grid_number - 1)
        lo_a, hi_a = best[0] - step_a, best[0] + step_a
        lo_b, hi_b = best[1] - step_b, best[1] + step_b
    assert best is not None
    fa = torch.nan_to_num(fun(best[0] * x + best[1]))
    design = torch.stack([fa, torch.ones_like(fa)], 1)
    c, d = torch.linalg.lstsq(design, y[:, None]).solution[:, 0].tolist()
    params = torch.tensor([best[0], best[1], c, d], device=device)
    return params, torch.tensor(best[2])


def batch_jacobian(func: Callable[[Tensor], Tensor], x: Tensor, create_graph: bool = False,
                   mode: str = "scalar") -> Tensor:  # fmt: skip
    """Per-sample gradient of ``func`` (rows independent): ``(B, n)`` of its first output
    (``mode='scalar'``) or ``(B, m, n)`` of all ``m`` outputs (``mode='vector'``)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        y = func(x)
        y = y.reshape(y.shape[0], -1)
        outs = [0] if mode == "scalar" else range(y.shape[1])
        rows = [
            torch.autograd.grad(y[:, k].sum(), x, create_graph=create_graph, retain_graph=True)[0]
            for k in outs
        ]
    return rows[0] if mode == "scalar" else torch.stack(rows, 1)


def batch_hessian(model: Callable[[Tensor], Tensor], x: Tensor, create_graph: bool = False):
    """Per-sample Hessian ``(B, n, n)`` of the first output, ``[b, k, i] = d2 f / dx_k dx_i``."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        y = model(x)
        grad = torch.autograd.grad(y.reshape(y.shape[0], -1)[:, 0].sum(), x, create_graph=True)[0]
        rows = [
            torch.autograd.grad(
                grad[:, k].sum(), x, create_graph=create_graph, retain_graph=True, allow_unused=True
            )[0]  # fmt: skip
            for k in range(x.shape[1])
        ]
    return torch.stack([torch.zeros_like(x) if r is None else r for r in rows], 1)


def model2param(model: torch.nn.Module) -> Tensor:
    """All trainable parameters of ``model`` as one flat vector (pykan's order)."""
    return torch.cat([p.reshape(-1) for p in model.parameters() if p.requires_grad])


def get_derivative(model, inputs: Tensor, labels: Tensor, derivative: str = "hessian",
                   loss_mode: str = "pred", reg_metric: str = "w", lamb: float = 0.0,
                   lamb_l1: float = 1.0, lamb_entropy: float = 0.0) -> Tensor:  # fmt: skip
    """Jacobian ``(1, P)`` or Hessian ``(1, P, P)`` of the mean squared error with respect to
    the flat trainable parameters (:func:`model2param` order), pykan's ``get_derivative``
    with ``loss_mode='pred'`` (the only mode supported here)."""
    from torch.func import functional_call

    if loss_mode != "pred":
        raise NotImplementedError("get_derivative supports loss_mode='pred' only")
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    shapes = [p.shape for n, p in model.named_parameters() if p.requires_grad]
    sizes = [int(np.prod(s)) for s in shapes]

    def loss(flat: Tensor) -> Tensor:
        params = dict(zip(names, (t.reshape(s) for t, s in zip(flat.split(sizes), shapes))))
        pred = functional_call(model, params, (inputs,))
        return ((pred - labels) ** 2).mean()

    p = model2param(model).detach()
    if derivative == "hessian":
        return torch.autograd.functional.hessian(loss, p)[None]
    if derivative == "jacobian":
        return torch.autograd.functional.jacobian(loss, p)[None]
    raise ValueError(f"derivative must be 'hessian' or 'jacobian', got {derivative!r}")
