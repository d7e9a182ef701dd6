"""Attribution of one node to the input features (KAN 2.0, section 4.1; pykan's
``attribute(l, i)``).

The scores of eq. 9 flow backwards from a seed.  ``attribute`` seeds the outputs; here the
seed is node layer ``l``, each node weighted by its own score there (``node_scores[l]``), one
row per node.  Propagation is linear in the seed, so the rows of layer ``l`` sum to
``feature_score``, and for the output layer of a one-output model the single row is
``feature_score`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .attribution import subnode_scores_from_nodes

if TYPE_CHECKING:
    from .network import KAN


def node_feature_scores(model: KAN, l: int) -> Tensor:
    """Input-feature scores of every node of node layer ``l`` (1..depth), ``(n_nodes(l), n_in)``.

    Uses the last input the model saw and ``model.node_scores`` (call ``attribute`` first).

    Raises
    ------
    ValueError
        If ``l`` is not a node layer 1..depth, or no attribution has been computed.
    """
    if not 1 <= l <= model.depth:
        raise ValueError(f"l must be a node layer 1..{model.depth} (0 is the inputs), got {l}")
    if model.node_scores is None:
        raise ValueError("no attribution yet: call model.attribute() first")
    trace = model.forward_cache()
    node_score = torch.diag(model.node_scores[l])  # (n_nodes(l), n_nodes(l))
    for k in range(l, 0, -1):
        sub = subnode_scores_from_nodes(model, k, node_score)  # (n_seed, out_k)
        edge_std = trace.edge_acts[k - 1].std(0)  # (out, in)
        sub_std = trace.subnodes[k - 1].std(0)  # (out,)
        edge = edge_std.unsqueeze(0) * (sub / (sub_std + 1e-4)).unsqueeze(-1)
        node_score = edge.sum(1)  # (n_seed, in_k)
    return node_score
