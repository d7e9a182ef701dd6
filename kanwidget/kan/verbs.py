"""pykan's verbs as thin methods of ``KAN``.

Each verb lives in its own module as a function of a model (training in ``train``, pruning
in ``pruning``, symbolic work in ``symbolic``, ...); these methods only forward to them so a
pykan notebook (``model.prune()``, ``model = model.refine(10)``) runs unchanged.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .transaction import atomic

if TYPE_CHECKING:
    from torch import Tensor

    from .network import KAN


class PykanVerbs:
    """Mixin of ``KAN``: pykan-compatible thin methods."""

    @atomic
    def fit(self: Any, dataset, **kwargs):
        """pykan's ``fit`` (see ``train.fit``), atomic; after every optimiser step the
        symbolic edges' (a, b) are projected into their functions' domains on the training
        inputs (``symbolic.domain.project_to_domain``), so training cannot exploit a clamp."""
        from .symbolic.domain import domain_guard
        from .train import fit

        kwargs["callback"] = domain_guard(self, kwargs.get("callback"))
        return fit(self, dataset, **kwargs)

    @atomic
    def update_grid_from_samples(self: Any, x: Tensor) -> KAN:
        import torch

        from .train import update_grid_from_samples

        x = self.check_input(x)
        if not bool(torch.isfinite(x).all()):
            raise ValueError("x has NaN or inf values: the grid would be placed at them")
        with self.operation("update_grid", {"n_samples": int(x.shape[0])}):
            update_grid_from_samples(self, x)
        return self

    update_grid = update_grid_from_samples

    @atomic
    def refine(self: Any, new_grid: int) -> KAN:
        from .train import refine

        return refine(self, new_grid)

    def attribute(self: Any):
        from .attribution import attribute

        return attribute(self)

    @atomic
    def prune(self: Any, node_th: float = 1e-2, edge_th: float = 3e-2) -> KAN:
        from .pruning import prune

        return prune(self, node_th, edge_th)

    @atomic
    def prune_node(self: Any, threshold: float = 1e-2, mode: str = "auto", active_neurons_id=None):
        from .pruning import prune_node

        return prune_node(self, threshold, mode, active_neurons_id)

    @atomic
    def prune_edge(self: Any, threshold: float = 3e-2) -> KAN:
        from .pruning import prune_edge

        return prune_edge(self, threshold)

    @atomic
    def prune_input(self: Any, threshold: float = 1e-2, active_inputs=None) -> KAN:
        from .pruning import prune_input

        return prune_input(self, threshold, active_inputs)

    @atomic
    def remove_edge(self: Any, l: int, i: int, j: int) -> KAN:
        from .pruning import remove_edge

        return remove_edge(self, l, i, j)

    @atomic
    def remove_node(self: Any, l: int, i: int) -> KAN:
        from .pruning import remove_node

        return remove_node(self, l, i)

    def suggest_symbolic(
        self: Any,
        l: int,
        i: int,
        j: int,
        lib=None,
        topk: int = 5,
        weight_simple: float = 0.8,
        **pykan_args,
    ):
        from .symbolic.ops import suggest_symbolic

        return suggest_symbolic(self, l, i, j, lib, topk, weight_simple, **pykan_args)

    @atomic
    def fix_symbolic(
        self: Any, l: int, i: int, j: int, fun_name: str, fit_params_bool: bool = True, **kwargs
    ):
        from .symbolic.ops import fix_symbolic

        return fix_symbolic(self, l, i, j, fun_name, fit_params_bool, **kwargs)

    @atomic
    def unfix_symbolic(self: Any, l: int, i: int, j: int, log_history: bool = True) -> KAN:
        from .symbolic.ops import unfix_symbolic

        return unfix_symbolic(self, l, i, j, log_history)

    @atomic
    def auto_symbolic(
        self: Any,
        lib=None,
        weight_simple: float = 0.8,
        r2_threshold: float = 0.0,
        progress: bool = True,
        **pykan_args,
    ) -> KAN:
        from .symbolic.ops import auto_symbolic

        return auto_symbolic(self, lib, weight_simple, r2_threshold, progress, **pykan_args)

    def symbolic_formula(self: Any, var=None, round_digits: int | None = None, **kwargs):
        from .symbolic.formula import symbolic_formula

        return symbolic_formula(self, var, round_digits, **kwargs)

    @atomic
    def swap(self: Any, l: int, i1: int, i2: int) -> KAN:
        from .pruning import swap

        return swap(self, l, i1, i2)

    @atomic
    def expand_width(
        self: Any, layer_id: int, n_added_nodes: int, sum_bool: bool = True, mult_arity: int = 2
    ) -> KAN:
        from .expansion import expand_width

        return expand_width(self, layer_id, n_added_nodes, sum_bool, mult_arity)

    @atomic
    def expand_depth(self: Any) -> KAN:
        from .expansion import expand_depth

        return expand_depth(self)

    @atomic
    def perturb(self: Any, mag: float = 1.0, mode: str = "non-intrusive") -> KAN:
        from .expansion import perturb

        return perturb(self, mag, mode)

    def save(self: Any, path) -> None:
        from .io import save

        save(self, path)

    @classmethod
    def load(cls, path, map_location="cpu") -> KAN:
        from .io import load

        return load(path, map_location)

    def plot(self: Any, **kwargs):
        from .plot import plot

        return plot(self, **kwargs)


#: each forwarding method -> the function it calls, whose docstring it shows
FORWARDS = {
    "update_grid_from_samples": "train:update_grid_from_samples",
    "refine": "train:refine",
    "attribute": "attribution:attribute",
    **{v: f"pruning:{v}" for v in ("prune", "prune_node", "prune_edge", "prune_input",
                                    "remove_edge", "remove_node", "swap")},
    **{v: f"symbolic.ops:{v}" for v in ("suggest_symbolic", "fix_symbolic", "unfix_symbolic",
                                         "auto_symbolic")},
    "symbolic_formula": "symbolic.formula:symbolic_formula",
    **{v: f"expansion:{v}" for v in ("expand_width", "expand_depth", "perturb")},
    "save": "io:save",
    "load": "io:load",
    "plot": "plot:plot",
}  # fmt: skip


def borrow_docs() -> None:
    """Give each forwarding method without a docstring the docstring of the function it
    calls, so ``model.prune?`` in a notebook says what pruning does, its arguments and
    errors (run once the implementation modules are importable: ``kanwidget/kan/__init__``)."""
    for name, target in FORWARDS.items():
        module, function = target.split(":")
        method = PykanVerbs.__dict__[name]
        method = getattr(method, "__func__", method)  # classmethod (load)
        if not method.__doc__:
            source = getattr(importlib.import_module(f"{__package__}.{module}"), function)
            method.__doc__ = source.__doc__
