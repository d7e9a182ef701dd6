"""Grow a (compiled) KAN and let it train: expand_width, expand_depth, perturb (KAN 2.0, 3.3).

A model from :func:`kanpiler` computes its formula with symbolic edges only.  To fine-tune it
on data, pykan adds room (new nodes or an identity layer, which leave the function exactly
as it was because all their new edges are switched off) and then *perturbs* it: the numeric
branch of chosen edges is switched on with weight ``mag`` (the edge mask is a multiplier),
so training can move away from the formula.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
from torch import Tensor, nn

from .layer import KANLayer

if TYPE_CHECKING:
    from .network import KAN

PERTURB_MODES = ("all", "non-intrusive", "minimal", "best")


def expand_width(
    model: KAN,
    layer_id: int,
    n_added_nodes: int,
    sum_bool: bool = True,
    mult_arity: int = 2,
    seed: int = 0,
) -> KAN:
    """Add nodes to hidden node layer ``layer_id``; the model's function does not change.

    New sum nodes go after the existing sum nodes, new multiplication nodes after the
    existing multiplication nodes (so later layers' node indices of mult nodes shift by
    the number of added sum nodes).  Every edge into and out of a new node is off (both
    masks 0, symbolic name ``'0'``); its numeric branch starts as a fresh layer's would.

    Parameters
    ----------
    model : KAN (changed in place)
    layer_id : node layer, 1 <= layer_id <= depth - 1 (inputs and outputs are fixed)
    n_added_nodes : number of nodes to add (>= 1)
    sum_bool : True adds sum nodes, False multiplication nodes of arity ``mult_arity``
    seed : seeds the new edges' initial spline noise (the global RNG is not used)

    Returns
    -------
    the model, for pykan's ``model = model.expand_width(...)``.
    """
    l = layer_id
    if not isinstance(l, int) or not 1 <= l <= model.depth - 1:
        raise ValueError(
            f"layer_id must be a hidden node layer 1..{model.depth - 1}, got {layer_id!r}"
            + (" (no hidden layer: call expand_depth first)" if model.depth < 2 else "")
        )  # fmt: skip
    if not isinstance(n_added_nodes, int) or n_added_nodes < 1:
        raise ValueError(f"n_added_nodes must be an int >= 1, got {n_added_nodes!r}")
    if not sum_bool and (not isinstance(mult_arity, int) or mult_arity < 2):
        raise ValueError(f"mult_arity must be an int >= 2, got {mult_arity!r}")
    n_sum = model.width[l][0]
    if sum_bool:
        node_at, sub_at, n_sub = n_sum, n_sum, n_added_nodes
    else:
        node_at, sub_at, n_sub = model.n_nodes(l), model.n_subnodes(l), n_added_nodes * mult_arity
    arguments = {"layer_id": l, "n_added_nodes": n_added_nodes, "sum_bool": sum_bool,
                 "mult_arity": mult_arity}  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    with model.operation("expand_width", arguments):
        model.layers[l - 1] = _grown(model, model.layers[l - 1], 0, 0, sub_at, n_sub, gen)
        model.layers[l] = _grown(model, model.layers[l], node_at, n_added_nodes, 0, 0, gen)
        for plist, at, n, value in (
            (model.subnode_scale, sub_at, n_sub, 1.0), (model.subnode_bias, sub_at, n_sub, 0.0),
            (model.node_scale, node_at, n_added_nodes, 1.0),
            (model.node_bias, node_at, n_added_nodes, 0.0),
        ):  # fmt: skip
            plist[l - 1] = _inserted(plist[l - 1], at, n, value)
        if sum_bool:
            model.width[l][0] += n_added_nodes
        else:
            model.width[l][1] += n_added_nodes
            model.mult_arity[l] = model.mult_arity[l] + [mult_arity] * n_added_nodes
        model.node_scores = model.edge_scores = model.feature_score = None
    return model


def expand_depth(model: KAN, seed: int = 0) -> KAN:
    """Append a layer of identity edges after the outputs; the function does not change.

    The old output nodes become hidden nodes; output k of the new layer is ``x`` of old
    output k (symbolic ``'x'`` with (1, 0, 1, 0)); all other new edges are off.

    Returns
    -------
    the model (changed in place).
    """
    n_out = model.width[-1][0]
    gen = torch.Generator().manual_seed(seed)
    with model.operation("expand_depth", {}):
        layer = _fresh_layer(model, model.layers[-1], n_out, n_out, gen)
        with torch.no_grad():
            layer.mask.zero_()
            layer.sym_mask.copy_(torch.eye(n_out, dtype=layer.sym_mask.dtype))
        layer.sym_names = [["x" if i == j else "0" for j in range(n_out)] for i in range(n_out)]
        layer.symbolic_changed()
        model.layers.append(layer)
        model.width.append([n_out, 0])
        model.mult_arity.append([])
        for plist, value in ((model.subnode_scale, 1.0), (model.subnode_bias, 0.0),
                             (model.node_scale, 1.0), (model.node_bias, 0.0)):  # fmt: skip
            plist.append(_inserted(plist[-1][:0], 0, n_out, value, plist[-1].requires_grad))
        model.node_scores = model.edge_scores = model.feature_score = None
    return model


def perturb(model: KAN, mag: float = 1.0, mode: str = "non-intrusive") -> KAN:
    """Switch on numeric branches next to a (compiled) formula so it can be fine-tuned (pykan).

    An edge is *active* if its symbolic function is on and not ``'0'`` or its numeric branch
    is on; a node is active if it has an active edge in (subnodes) or out.  Edges of type
    ``aa_a`` join active nodes and are active, ``aa_i`` join active nodes but are off,
    ``ai``/``ia``/``ii`` touch inactive nodes.  The chosen types get numeric ``mask = mag``
    (symbolic branches stay as they are):

    - ``'all'``: every edge;
    - ``'non-intrusive'`` (pykan's default): ``ai`` and ``ii`` edges, and on the last layer
      every edge with ``mask = 1`` but ``scale_base = scale_sp = 0`` (trainable, silent);
    - ``'minimal'``: only ``aa_a`` edges;
    - ``'best'`` (called in pykan's tutorial Physics_1; no pykan release has it, 0.2.8 raises
      'mode not recognized'): as ``'all'``.  Of the modes, ``'all'`` reproduces the
      tutorial's stored result (Lagrangian fit loss ~1e-4 after 20 steps; the silent
      ``'non-intrusive'`` branches reach ~2e-2).

    Returns
    -------
    the model (changed in place).
    """
    if mode not in PERTURB_MODES:
        raise ValueError(f"mode must be one of {PERTURB_MODES}, got {mode!r}")
    chosen = {"all": {"aa_a", "aa_i", "ai", "ia", "ii"}, "non-intrusive": {"ai", "ii"},
              "minimal": {"aa_a"}}[mode if mode != "best" else "all"]  # fmt: skip
    with model.operation("perturb", {"mag": mag, "mode": mode}), torch.no_grad():
        for l, layer in enumerate(cast("list[KANLayer]", list(model.layers))):
            names = torch.tensor(
                [[name != "0" for name in row] for row in layer.sym_names], dtype=torch.bool
            ).to(layer.mask.device)
            edge_on = ((layer.sym_mask != 0) & names) | (layer.mask != 0)  # (in, out)
            in_active = edge_on.any(1, keepdim=True).expand_as(edge_on)
            out_active = edge_on.any(0, keepdim=True).expand_as(edge_on)
            kinds = {
                "aa_a": in_active & out_active & edge_on,
                "aa_i": in_active & out_active & ~edge_on,
                "ai": in_active & ~out_active, "ia": ~in_active & out_active,
                "ii": ~in_active & ~out_active,
            }  # fmt: skip
            last = l == model.depth - 1 and mode == "non-intrusive"
            if last:
                layer.mask.fill_(1.0)
                layer.scale_base.zero_()
                layer.scale_sp.zero_()
                continue
            for kind in chosen:
                layer.mask.masked_fill_(kinds[kind], float(mag))
        model.node_scores = model.edge_scores = model.feature_score = None
    return model


# ---------------------------------------------------------------------- helpers
def _fresh_layer(
    model: KAN, like: KANLayer, in_dim: int, out_dim: int, gen: torch.Generator
) -> KANLayer:
    """A new layer with ``like``'s grid size, order and base function, on the model's grid
    range, dtype and device."""
    layer = KANLayer(
        in_dim, out_dim, like.num, like.k, base_fun=like.base_fun_name, grid_eps=like.grid_eps,
        grid_range=model.grid_range, generator=gen, dtype=like.knots.dtype,
        device=like.knots.device,
    )  # fmt: skip
    layer.coef.requires_grad_(like.coef.requires_grad)
    layer.scale_base.requires_grad_(like.scale_base.requires_grad)
    layer.scale_sp.requires_grad_(like.scale_sp.requires_grad)
    layer.sym_params.requires_grad_(like.sym_params.requires_grad)
    return layer


def _grown(
    model: KAN, old: nn.Module, in_at: int, n_in: int, out_at: int, n_out: int,
    gen: torch.Generator,
) -> KANLayer:  # fmt: skip
    """``old`` with ``n_in`` inputs inserted at ``in_at`` and ``n_out`` outputs at ``out_at``;
    old edges keep every value, new edges are off with fresh numeric parameters."""
    old = cast(KANLayer, old)
    new = _fresh_layer(model, old, old.in_dim + n_in, old.out_dim + n_out, gen)
    ii = _kept(old.in_dim, in_at, n_in, old.knots.device)  # new position of each old input
    oo = _kept(old.out_dim, out_at, n_out, old.knots.device)
    with torch.no_grad():
        new.knots[ii] = old.knots
        new.mask.zero_()
        for name in ("coef", "scale_base", "scale_sp", "sym_params", "mask", "sym_mask"):
            target = cast(Tensor, getattr(new, name))
            target[ii[:, None], oo[None, :]] = cast(Tensor, getattr(old, name)).detach()
    names = [["0"] * new.out_dim for _ in range(new.in_dim)]
    for i_old, i in enumerate(ii.tolist()):
        for j_old, j in enumerate(oo.tolist()):
            names[i][j] = old.sym_names[i_old][j_old]
    new.sym_names = names
    new.symbolic_changed()
    return new


def _kept(n_old: int, at: int, n_added: int, device: torch.device) -> Tensor:
    """New indices ``(n_old,)`` of old entries after inserting ``n_added`` at ``at``."""
    ids = torch.arange(n_old, device=device)
    return torch.where(ids < at, ids, ids + n_added)


def _inserted(
    old: Tensor, at: int, n: int, value: float, requires_grad: bool | None = None
) -> nn.Parameter:
    """``old`` (m,) with ``n`` entries equal to ``value`` inserted at ``at``."""
    fill = torch.full((n,), value, dtype=old.dtype, device=old.device)
    data = torch.cat([old.detach()[:at], fill, old.detach()[at:]])
    grad = old.requires_grad if requires_grad is None else requires_grad
    return nn.Parameter(data, requires_grad=grad)
