"""Pruning: drop unimportant nodes, edges and inputs (KAN section 2.5.1, KAN 2.0 section 4.1).

``prune_node``/``prune_input`` remove nodes physically (the width shrinks); ``prune_edge``,
``remove_edge`` and ``remove_node`` switch edges off with their masks so indices stay
stable.  Every public call is one version in the model's history.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import torch
from torch import nn

from .attribution import attribute

if TYPE_CHECKING:
    from .network import KAN


def check_edge(model: KAN, l: int, i: int, j: int) -> None:
    """Raise a ValueError naming the problem if edge (l, i, j) does not exist."""
    for name, v in (("l", l), ("i", i), ("j", j)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):  # numpy ints too
            raise ValueError(f"edge index {name} must be an int, got {v!r}")
    if not 0 <= l < model.depth:
        raise ValueError(f"edge ({l}, {i}, {j}) does not exist: the model has {model.depth} layers")
    layer = model.layers[l]
    if not 0 <= i < layer.in_dim:
        raise ValueError(
            f"edge ({l}, {i}, {j}) does not exist: layer {l} has {layer.in_dim} inputs"
        )
    if not 0 <= j < layer.out_dim:
        raise ValueError(
            f"edge ({l}, {i}, {j}) does not exist: layer {l} has {layer.out_dim} outputs"
        )


def check_node(model: KAN, l: int, i: int) -> None:
    """Raise a ValueError if node (l, i) does not exist."""
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (l, i)):
        raise ValueError(f"node index must be ints, got ({l!r}, {i!r})")
    if not 0 <= l <= model.depth:
        raise ValueError(f"node ({l}, {i}) does not exist: layers are 0..{model.depth}")
    if not 0 <= i < model.n_nodes(l):
        raise ValueError(f"node ({l}, {i}) does not exist: layer {l} has {model.n_nodes(l)} nodes")


def subnodes_of(model: KAN, l: int, node: int) -> list[int]:
    """Subnode indices (outputs of layer l-1) that feed node ``node`` of layer ``l``."""
    n_sum = model.width[l][0]
    if node < n_sum:
        return [node]
    start = n_sum + sum(model.mult_arity[l][: node - n_sum])
    return list(range(start, start + model.mult_arity[l][node - n_sum]))


def absorb_means(model: KAN, l: int, removed) -> None:
    """Fold the mean output of edges about to be removed from layer ``l`` into the subnode
    bias, so removing an edge that carries a constant leaves the outputs unchanged.

    ``removed`` is an ``(in, out)`` 0/1 tensor.  Needs data seen by the model; without it
    the edges are simply dropped (as pykan does).
    """
    if model._last_input is None or not bool(removed.any()):
        return
    trace = model.forward_cache()
    acts = trace.edge_acts[l].mean(0)  # (out, in)
    shift = (acts * removed.T.to(acts.dtype)).sum(1)  # (out,)
    with torch.no_grad():
        model.subnode_bias[l].add_(model.subnode_scale[l] * shift)


def keep_nodes(model: KAN, l: int, keep: list[int]) -> None:
    """Physically keep only nodes ``keep`` of node layer ``l`` (0 <= l < depth)."""
    if l == model.depth:
        raise ValueError("output nodes cannot be removed")
    if not keep:
        raise ValueError(f"pruning would remove every node of layer {l}; lower the threshold")
    n_sum = model.width[l][0]
    keep = sorted(keep)
    removed = torch.ones_like(model.layers[l].mask)
    removed[keep] = 0
    absorb_means(model, l, removed * ((model.layers[l].mask + model.layers[l].sym_mask) > 0))
    if l > 0:
        sub_keep = [s for node in keep for s in subnodes_of(model, l, node)]
        prev = model.layers[l - 1]
        prev.subset(list(range(prev.in_dim)), sub_keep)
        for plist, ids in ((model.subnode_scale, sub_keep), (model.subnode_bias, sub_keep),
                           (model.node_scale, keep), (model.node_bias, keep)):  # fmt: skip
            old = plist[l - 1]
            plist[l - 1] = nn.Parameter(old.data[ids].clone(), old.requires_grad)
        model._affine_cache.clear()
        model.mult_arity[l] = [model.mult_arity[l][n - n_sum] for n in keep if n >= n_sum]
    else:
        model.input_ids = [model.input_ids[n] for n in keep]
    nxt = model.layers[l]
    nxt.subset(keep, list(range(nxt.out_dim)))
    model.width[l] = [sum(1 for n in keep if n < n_sum), sum(1 for n in keep if n >= n_sum)]
    model.node_scores = model.edge_scores = model.feature_score = None


def prune_node(model: KAN, threshold: float = 1e-2, mode: str = "auto", active_neurons_id=None):
    """Remove hidden nodes whose attribution score is below ``threshold``.

    ``mode='manual'`` keeps ``active_neurons_id[l]`` for each hidden layer l instead.
    """
    if mode not in ("auto", "manual"):
        raise ValueError(f"mode must be 'auto' or 'manual', got {mode!r}")
    with model.operation("prune_node", {"threshold": threshold, "mode": mode}):
        if mode == "auto":
            scores = attribute(model)
            keep = [
                [n for n in range(model.n_nodes(l)) if float(scores[l][n]) > threshold]
                for l in range(model.depth + 1)
            ]
        else:
            if active_neurons_id is None or len(active_neurons_id) != model.depth - 1:
                raise ValueError("mode='manual' needs active_neurons_id: one list per hidden layer")
            keep = [[]] + [list(map(int, ids)) for ids in active_neurons_id] + [[]]
        for l in range(1, model.depth):
            for n in keep[l]:
                check_node(model, l, n)
            keep_nodes(model, l, keep[l] or [0])
    return model


def prune_edge(model: KAN, threshold: float = 3e-2):
    """Switch off edges whose attribution score is below ``threshold``."""
    with model.operation("prune_edge", {"threshold": threshold}):
        attribute(model)
        assert model.edge_scores is not None
        for l, (layer, score) in enumerate(zip(model.layers, model.edge_scores)):
            weak = (score.T < threshold).to(layer.mask.dtype)  # (in, out)
            absorb_means(model, l, weak * ((layer.mask + layer.sym_mask) > 0))
            layer.mask.mul_(1 - weak)
            layer.sym_mask.mul_(1 - weak)
            layer.symbolic_changed()
    return model


def prune(model: KAN, node_th: float = 1e-2, edge_th: float = 3e-2):
    """``prune_node`` then ``prune_edge``, as one version."""
    with model.operation("prune", {"node_th": node_th, "edge_th": edge_th}):
        prune_node(model, node_th)
        prune_edge(model, edge_th)
    return model


def prune_input(model: KAN, threshold: float = 1e-2, active_inputs=None):
    """Remove inputs whose feature score is below ``threshold`` (or keep ``active_inputs``).

    The pruned model takes only the kept columns; ``model.input_ids`` lists their original
    indices, so ``model(x[:, model.input_ids])`` computes what the full model did.
    """
    with model.operation("prune_input", {"threshold": threshold, "active_inputs": active_inputs}):
        if active_inputs is None:
            attribute(model)
            assert model.feature_score is not None
            keep = [n for n in range(model.n_nodes(0)) if float(model.feature_score[n]) > threshold]
        else:
            keep = [int(n) for n in active_inputs]
            for n in keep:
                check_node(model, 0, n)
        last = model._last_input
        keep_nodes(model, 0, keep)
        if last is not None:
            model._last_input = last[:, sorted(keep)]
    return model


def remove_edge(model: KAN, l: int, i: int, j: int):
    """Switch edge (l, i, j) off (numeric and symbolic)."""
    check_edge(model, l, i, j)
    with model.operation("remove_edge", {"l": l, "i": i, "j": j}):
        layer = model.layers[l]
        removed = torch.zeros_like(layer.mask)
        removed[i, j] = 1
        absorb_means(model, l, removed * ((layer.mask + layer.sym_mask) > 0))
        layer.mask[i, j] = 0
        layer.sym_mask[i, j] = 0
        layer.symbolic_changed()
    return model


def remove_node(model: KAN, l: int, i: int):
    """Switch off every edge into and out of node (l, i); indices stay the same."""
    check_node(model, l, i)
    with model.operation("remove_node", {"l": l, "i": i}):
        with torch.no_grad():
            if l > 0:
                prev = model.layers[l - 1]
                for s in subnodes_of(model, l, i):
                    prev.mask[:, s] = 0
                    prev.sym_mask[:, s] = 0
                prev.symbolic_changed()
            if l < model.depth:
                nxt = model.layers[l]
                removed = torch.zeros_like(nxt.mask)
                removed[i, :] = 1
                absorb_means(model, l, removed * ((nxt.mask + nxt.sym_mask) > 0))
                nxt.mask[i, :] = 0
                nxt.sym_mask[i, :] = 0
                nxt.symbolic_changed()
    return model


def swap(model: KAN, l: int, i1: int, i2: int):
    """Exchange nodes ``i1`` and ``i2`` of hidden layer ``l`` with everything attached to them
    (incoming and outgoing edges, affine parameters); the model computes the same function.

    Both must be sum nodes, or multiplication nodes of the same arity.
    """
    check_node(model, l, i1)
    check_node(model, l, i2)
    if not 0 < l < model.depth:
        raise ValueError(f"only hidden nodes can be swapped; layer {l} is not hidden")
    subs1, subs2 = subnodes_of(model, l, i1), subnodes_of(model, l, i2)
    if len(subs1) != len(subs2) or (i1 < model.width[l][0]) != (i2 < model.width[l][0]):
        raise ValueError(f"nodes ({l}, {i1}) and ({l}, {i2}) are of different kinds")
    with model.operation("swap", {"l": l, "i1": i1, "i2": i2}):
        nodes = list(range(model.n_nodes(l)))
        nodes[i1], nodes[i2] = i2, i1
        subs = list(range(model.n_subnodes(l)))
        for a, b in zip(subs1, subs2):
            subs[a], subs[b] = b, a
        prev, nxt = model.layers[l - 1], model.layers[l]
        prev.subset(list(range(prev.in_dim)), subs)
        nxt.subset(nodes, list(range(nxt.out_dim)))
        for plist, ids in ((model.subnode_scale, subs), (model.subnode_bias, subs),
                           (model.node_scale, nodes), (model.node_bias, nodes)):  # fmt: skip
            old = plist[l - 1]
            plist[l - 1] = nn.Parameter(old.data[ids].clone(), old.requires_grad)
        model._affine_cache.clear()
        model.node_scores = model.edge_scores = model.feature_score = None
    return model
