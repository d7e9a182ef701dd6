"""pykan 0.2.8's structure-changing ``MultKAN`` methods kanwidget lacked, as a mixin of ``KAN``.

Each is ``@atomic`` (:mod:`.transaction`): it completes and commits exactly one version,
or raises a clear error and leaves the model and its history as they were:

- ``set_mode(l, i, j, mode)``: switch an edge's numeric / symbolic branches.
- ``unfix_symbolic_all()``: every edge numeric again.
- ``module(start_layer, chain)``: keep only the edges inside a module (KAN 2.0 section 4.2:
  modularity imposed by hand), e.g. ``"[0,1]->[0,1]->[0]"``.
- ``auto_swap()``: reorder hidden nodes to shorten the drawn connections (the function does
  not change), KAN 2.0 section 4.1's connection cost.
- ``initialize_from_another_model(other, x)``: take another model's functions onto this
  model's grid sizes (pykan: "equivalent to refine").
- ``refine(new_grid)`` / ``refine(grid=...)`` and ``expand_width(..., mult_arity=[2, 3])``
  with pykan's argument forms (numpy integers accepted).
"""

from __future__ import annotations

import re
from typing import Any, cast

import torch

from .train.options import as_int
from .transaction import atomic
from .verbs import PykanVerbs

_GROUP = re.compile(r"\s*\[\s*(\d+(?:\s*,\s*\d+)*)?\s*\]\s*")
_MODES = {"n": (1.0, 0.0), "s": (0.0, 1.0), "sn": (1.0, 1.0), "ns": (1.0, 1.0)}


def parse_chain(chain: str) -> list[list[int]]:
    """``"[0,1]->[0,1]->[0]"`` -> ``[[0, 1], [0, 1], [0]]``; a clear ValueError otherwise."""
    if not isinstance(chain, str):
        raise TypeError(f"chain must be a string like '[0,1]->[0,1]->[0]', got {chain!r}")
    groups = []
    for part in chain.split("->"):
        m = _GROUP.fullmatch(part)
        if m is None or m.group(1) is None:
            raise ValueError(
                f"malformed module chain {chain!r}: {part.strip()!r} is not a list of node "
                "indices like [0,1]; write e.g. '[0,1]->[0,1]->[0]'"
            )
        ids = [int(v) for v in m.group(1).split(",")]
        if len(set(ids)) != len(ids):
            raise ValueError(f"module chain {chain!r}: {part.strip()} repeats a node")
        groups.append(ids)
    if len(groups) < 2:
        raise ValueError(f"module chain {chain!r} needs at least two groups joined by '->'")
    return groups


def _forget_scores(model: Any) -> None:
    """Attribution scores no longer describe the model after a structural change."""
    model.node_scores = model.edge_scores = model.feature_score = None


class PykanStructure(PykanVerbs):
    """Mixin of ``KAN`` (see the module docstring)."""

    @atomic
    def set_mode(self: Any, l: int, i: int, j: int, mode: str, mask_n: float | None = None):
        """Switch edge (l, i, j): ``'n'`` numeric only, ``'s'`` symbolic only, ``'sn'`` both
        (the numeric branch weighted by ``mask_n``, default 1), anything else: off."""
        from .pruning import check_edge

        check_edge(self, l, i, j)
        if not isinstance(mode, str):
            raise TypeError(f"mode must be 'n', 's' or 'sn', got {mode!r}")
        numeric, symbolic = _MODES.get(mode, (0.0, 0.0))
        if mode in ("sn", "ns") and mask_n is not None:
            numeric = float(mask_n)
        layer = self.layers[l]
        with self.operation("set_mode", {"l": l, "i": i, "j": j, "mode": mode}):
            with torch.no_grad():
                layer.mask[i, j] = numeric
                layer.sym_mask[i, j] = symbolic
            layer.symbolic_changed()
        return self

    @atomic
    def unfix_symbolic_all(self: Any, log_history: bool = True):
        """Every symbolic edge back to its spline (one version)."""
        from .symbolic.ops import unfix_symbolic

        with self.operation("unfix_symbolic_all"):
            for l, layer in enumerate(self.layers):
                for i in range(layer.in_dim):
                    for j in range(layer.out_dim):
                        if layer.sym_mask[i, j] != 0 or layer.sym_names[i][j] != "0":
                            unfix_symbolic(self, l, i, j, log_history=False)
        return self

    @atomic
    def module(self: Any, start_layer: int, chain: str):
        """Cut every edge that crosses the border of a module (KAN 2.0 section 4.2).

        ``chain`` lists node sets of successive node layers from ``start_layer``:
        ``"[0,1]->[0,1]->[0]"`` keeps, between layers ``start_layer`` and ``+1``, the edges
        among nodes {0, 1} and cuts those joining {0, 1} to the other nodes (both ways),
        then the same between ``+1`` and ``+2`` with {0, 1} and {0}.  An even number of
        groups is read as pykan reads it: pairs ``in->out`` per layer, the out ids being
        subnodes (``"[0]->[0,1]->[1]->[0]"`` is two layers).  Edges inside and edges
        between two outside nodes are left alone.
        """
        groups = parse_chain(chain)
        start = as_int(start_layer, "start_layer")
        if len(groups) % 2 == 0:  # pykan: (in nodes, out subnodes) per layer
            pairs = [(groups[2 * k], groups[2 * k + 1], False) for k in range(len(groups) // 2)]
        else:  # node sets of successive node layers
            pairs = [(groups[k], groups[k + 1], True) for k in range(len(groups) - 1)]
        if not 0 <= start or start + len(pairs) > self.depth:
            raise ValueError(
                f"module {chain!r} from layer {start_layer} needs layers {start}.."
                f"{start + len(pairs) - 1}; the model has layers 0..{self.depth - 1}"
            )
        cuts = []
        for k, (ins, outs, outs_are_nodes) in enumerate(pairs):
            l = start + k
            layer = self.layers[l]
            self._check_ids(ins, layer.in_dim, f"layer {l} nodes")
            if outs_are_nodes:
                self._check_ids(outs, self.n_nodes(l + 1), f"layer {l + 1} nodes")
                outs = [j for j in range(layer.out_dim) if self.subnode_to_node(l + 1, j) in outs]
            else:
                self._check_ids(outs, layer.out_dim, f"layer {l + 1} subnodes")
            inside_in = torch.zeros(layer.in_dim, dtype=torch.bool)
            inside_in[ins] = True
            inside_out = torch.zeros(layer.out_dim, dtype=torch.bool)
            inside_out[outs] = True
            cuts.append(inside_in[:, None] ^ inside_out[None, :])  # (in, out)
        with self.operation("module", {"start_layer": start, "chain": chain}):
            with torch.no_grad():
                for k, cut in enumerate(cuts):
                    layer = self.layers[start + k]
                    keep = (~cut).to(layer.mask.dtype).to(layer.mask.device)
                    layer.mask.mul_(keep)
                    layer.sym_mask.mul_(keep)
                    layer.symbolic_changed()
            _forget_scores(self)
        return self

    @staticmethod
    def _check_ids(ids: list[int], n: int, what: str) -> None:
        bad = [v for v in ids if not 0 <= v < n]
        if bad:
            raise ValueError(f"module: {what} {bad} do not exist ({what} are 0..{n - 1})")

    def connection_cost(self: Any) -> float:
        """KAN 2.0's connection cost: sum over edges of score x horizontal distance between
        the nodes it joins, nodes evenly spaced in [0, 1] per layer (needs attribution)."""
        from .attribution import attribute

        attribute(self)
        total = 0.0
        for l, scores in enumerate(self.edge_scores):  # (out subnodes, in)
            x_in = (torch.arange(self.n_nodes(l)) + 0.5) / self.n_nodes(l)
            n_to = self.n_nodes(l + 1)
            to = [self.subnode_to_node(l + 1, j) for j in range(scores.shape[0])]
            x_out = (torch.tensor(to, dtype=x_in.dtype) + 0.5) / n_to
            dist = (x_out[:, None] - x_in[None, :]).abs().to(scores.dtype)
            total += float((dist * scores.detach().cpu()).sum())
        return total

    @atomic
    def auto_swap(self: Any):
        """Reorder hidden nodes to lower :meth:`connection_cost` (one version): for each hidden
        node in turn, the swap with another node of the same kind that lowers the cost most."""
        from .pruning import subnodes_of, swap

        with self.operation("auto_swap"):
            for l in range(1, self.depth):
                for i in range(self.n_nodes(l)):
                    best, best_cost = None, self.connection_cost()
                    for j in range(self.n_nodes(l)):
                        same_kind = (i < self.width[l][0]) == (j < self.width[l][0]) and len(
                            subnodes_of(self, l, i)
                        ) == len(subnodes_of(self, l, j))
                        if j == i or not same_kind:
                            continue
                        swap(self, l, i, j)
                        cost = self.connection_cost()
                        swap(self, l, i, j)
                        if cost < best_cost - 1e-12:
                            best, best_cost = j, cost
                    if best is not None:
                        swap(self, l, i, best)
            _forget_scores(self)
        return self

    @atomic
    def initialize_from_another_model(self: Any, another_model: Any, x: torch.Tensor):
        """Take ``another_model``'s functions (same width, any grid) onto this model's grid
        sizes, keeping this model's history (one version).  The curves are refit by least
        squares on the grid range and on ``x``'s activations, as ``refine`` does."""
        if not isinstance(another_model, PykanStructure):  # KAN's own base: no import cycle
            raise TypeError(f"another_model must be a KAN, got {type(another_model).__name__}")
        another_model = cast(Any, another_model)  # a KAN: its attributes, unnarrowed
        x = self.check_input(x)
        if not bool(torch.isfinite(x).all()):
            raise ValueError("x has NaN or inf values: the curves would be refit on them")
        if [list(w) for w in another_model.width] != [list(w) for w in self.width]:
            raise ValueError(f"widths differ: {another_model.width} vs {self.width}")
        sizes = [layer.num for layer in self.layers]
        log = {k: list(v) for k, v in self.loss_log.items()}
        config, tensors = another_model.snapshot()
        with self.operation("initialize_from_another_model", {"grid": sizes}):
            self.restore(config, tensors)
            trace = self.forward_cache(x)
            for layer, num, inputs in zip(self.layers, sizes, trace.inputs):
                if layer.num != num:
                    layer.refine(num, inputs)
            self.grid_size = sizes[0]
            self.loss_log = log
            self._last_input = self.check_input(x).detach()
        return self

    @atomic
    def refine(self: Any, new_grid: int | None = None, grid: int | None = None):
        """Grid extension to ``new_grid`` intervals (pykan also accepts ``grid=``)."""
        from .train import refine

        if (new_grid is None) == (grid is None):
            raise TypeError("refine() takes the new grid size once: refine(10) or refine(grid=10)")
        return refine(self, as_int(new_grid if grid is None else grid, "new_grid"))

    @atomic
    def expand_width(self: Any, layer_id: int, n_added_nodes: int, sum_bool: bool = True,
                     mult_arity: int | list[int] = 2):  # fmt: skip
        """Add nodes to hidden layer ``layer_id`` (one version); ``mult_arity`` may list one
        arity per added multiplication node, e.g. ``mult_arity=[2, 3]`` with 2 nodes."""
        from .expansion import expand_width

        layer_id, n_added_nodes = as_int(layer_id, "layer_id"), as_int(n_added_nodes, "n")
        if isinstance(mult_arity, (list, tuple)):
            arities = [as_int(a, "mult_arity") for a in mult_arity]
            if sum_bool or len(arities) != n_added_nodes:
                raise ValueError(
                    f"mult_arity={list(mult_arity)} gives one arity per added multiplication "
                    f"node: use sum_bool=False and a list of length n_added_nodes={n_added_nodes}"
                )
            if any(a < 2 for a in arities):
                raise ValueError(f"every mult_arity must be >= 2, got {arities}")
            args = {"layer_id": layer_id, "n_added_nodes": n_added_nodes, "sum_bool": False,
                    "mult_arity": arities}  # fmt: skip
            with self.operation("expand_width", args):
                for k, a in enumerate(arities):
                    expand_width(self, layer_id, 1, False, a, seed=k)
            return self
        return expand_width(self, layer_id, n_added_nodes, sum_bool, as_int(mult_arity, "a"))
