"""Attribution scores (KAN 2.0, section 4.1, eq. 9).

Scores flow backwards from the outputs: an output node scores 1 for itself; a subnode
inherits its node's score (each factor of a product inherits the product's); an edge scores

    E_{l,j,i} = std(phi_{l,j,i}) / (std(subnode_{l+1,j}) + 1e-4) * S_subnode_{l+1,j}

and a node scores the sum of its outgoing edges' scores.  As in pykan, scores are computed
per output (an identity seed) and averaged over outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .network import KAN, Trace


def subnode_scores_from_nodes(model: KAN, l: int, node_score: Tensor) -> Tensor:
    """Node scores ``(n_out, n_nodes(l))`` -> subnode scores ``(n_out, n_subnodes(l))``."""
    n_sum = model.width[l][0]
    parts = [node_score[:, :n_sum]]
    for m, arity in enumerate(model.mult_arity[l]):
        parts.append(node_score[:, n_sum + m : n_sum + m + 1].expand(-1, arity))
    return torch.cat(parts, 1)


def attribute(
    model: KAN, x: Tensor | None = None, trace: Trace | None = None, out_score: Tensor | None = None
) -> list[Tensor]:
    """Fill ``model.node_scores`` (per layer ``(n_nodes,)``), ``model.edge_scores``
    (per layer ``(out, in)``), ``model.subnode_scores`` and ``model.feature_score``.

    Uses ``trace`` (a ``model.forward_cache`` result the caller already has), else ``x``,
    else the last input the model saw.  ``out_score`` ``(n_out,)`` weighs each output's
    share (pykan's ``diag(out_score)`` in place of the identity; default all ones).
    Returns ``model.node_scores``.

    Raises
    ------
    ValueError
        If ``out_score`` is not one value per output.
    """
    n_out = model.n_nodes(model.depth)
    if out_score is not None and tuple(out_score.shape) != (n_out,):
        raise ValueError(f"out_score must have shape ({n_out},), got {tuple(out_score.shape)}")
    if trace is None:
        trace = model.forward_cache(x)
    node_score = torch.eye(n_out, dtype=model.dtype, device=model.device)  # (n_out, nodes)
    if out_score is not None:
        node_score = torch.diag(out_score.to(node_score))
    node_scores, edge_scores, subnode_scores = [node_score], [], []
    for l in range(model.depth, 0, -1):
        sub = subnode_scores_from_nodes(model, l, node_score)  # (n_out, out_l)
        edge_std = trace.edge_acts[l - 1].std(0)  # (out_l, in_l)
        sub_std = trace.subnodes[l - 1].std(0)  # (out_l,)
        edge = edge_std.unsqueeze(0) * (sub / (sub_std + 1e-4)).unsqueeze(-1)  # (n_out, out, in)
        node_score = edge.sum(1)  # (n_out, in_l)
        subnode_scores.append(sub)
        edge_scores.append(edge)
        node_scores.append(node_score)
    model.node_scores = [s.mean(0) for s in reversed(node_scores)]
    model.edge_scores = [s.mean(0) for s in reversed(edge_scores)]
    model.subnode_scores = [s.mean(0) for s in reversed(subnode_scores)]
    model.feature_score = model.node_scores[0]
    return model.node_scores
