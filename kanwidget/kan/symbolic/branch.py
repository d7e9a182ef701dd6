"""The symbolic branch of a layer: edge (i, j) adds ``sym_mask[i, j] * (c f(a x_i + b) + d)``.

Edges are grouped by function name once (:class:`SymbolicGroups`, rebuilt only when the
names change); the forward pass then runs one torch call per *distinct function*, gathering
that function's edges with index tensors, so there is no Python loop over edges.  Unset
edges (name ``'0'``) contribute ``d`` only, without a function call; edges whose
``sym_mask`` is 0 contribute nothing.  Everything is differentiable w.r.t. x and params.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from .library import get_function


@dataclasses.dataclass(frozen=True)
class SymbolicGroups:
    """Edges of an ``(in, out)`` layer grouped by symbolic function.

    Attributes
    ----------
    in_dim, out_dim : layer shape
    names : distinct function names (``'0'`` excluded)
    in_ids, out_ids : per name, (E_k,) long tensors of the edges' input / output indices
    flat_ids : per name, (E_k,) long tensor of ``i * out_dim + j``
    zero_flat_ids : (E_0,) edges named ``'0'`` (they add their constant ``d``)
    """

    in_dim: int
    out_dim: int
    names: tuple[str, ...]
    in_ids: tuple[Tensor, ...]
    out_ids: tuple[Tensor, ...]
    flat_ids: tuple[Tensor, ...]
    zero_flat_ids: Tensor

    @classmethod
    def from_names(
        cls, names: list[list[str]], device: torch.device | str | None = None
    ) -> SymbolicGroups:
        """Group ``names`` ``[in][out]`` (library names; unknown names raise ``ValueError``)."""
        in_dim = len(names)
        out_dim = len(names[0]) if in_dim else 0
        by_name: dict[str, list[int]] = {}
        for i, row in enumerate(names):
            if len(row) != out_dim:
                raise ValueError(f"sym_names row {i} has {len(row)} entries, expected {out_dim}")
            for j, name in enumerate(row):
                by_name.setdefault(name, []).append(i * out_dim + j)
        zero = torch.tensor(by_name.pop("0", []), dtype=torch.long, device=device)
        for name in by_name:
            get_function(name)  # validate early, with the library's error message
        flat = tuple(torch.tensor(ids, dtype=torch.long, device=device) for ids in by_name.values())
        return cls(
            in_dim,
            out_dim,
            tuple(by_name),
            tuple(f // max(out_dim, 1) for f in flat),
            tuple(f % max(out_dim, 1) for f in flat),
            flat,
            zero,
        )


def symbolic_edge_acts(
    x: Tensor,
    groups: SymbolicGroups | list[list[str]],
    params: Tensor,
    sym_mask: Tensor,
) -> Tensor:
    """Per-edge symbolic outputs.

    Parameters
    ----------
    x : (B, in) layer input
    groups : :class:`SymbolicGroups` or the names ``[in][out]`` themselves
    params : (in, out, 4) rows (a, b, c, d)
    sym_mask : (in, out), 1 where the symbolic branch is on

    Returns
    -------
    (B, out, in) tensor: ``sym_mask[i, j] * (c f(a x_i + b) + d)`` at ``[:, j, i]``.
    """
    groups = _checked_groups(x, groups, params)
    batch, in_dim = x.shape
    out_dim = groups.out_dim
    flat_params = params.reshape(in_dim * out_dim, 4)  # (in*out, 4)
    pieces, targets = [], []
    for name, ii, flat in zip(groups.names, groups.in_ids, groups.flat_ids, strict=True):
        p = flat_params[flat]  # (E, 4)
        u = p[:, 0] * x[:, ii] + p[:, 1]  # (B, E)
        pieces.append(p[:, 2] * get_function(name).torch_fn(u) + p[:, 3])
        targets.append(flat)
    if groups.zero_flat_ids.numel():
        pieces.append(flat_params[groups.zero_flat_ids, 3].expand(batch, -1))
        targets.append(groups.zero_flat_ids)
    acts = x.new_zeros(batch, in_dim * out_dim)
    if pieces:
        acts = acts.index_copy(1, torch.cat(targets), torch.cat(pieces, 1))
    acts = acts * sym_mask.reshape(1, in_dim * out_dim)
    return acts.reshape(batch, in_dim, out_dim).transpose(1, 2)  # (B, out, in)


def symbolic_forward(
    x: Tensor,
    groups: SymbolicGroups | list[list[str]],
    params: Tensor,
    sym_mask: Tensor,
) -> Tensor:
    """Sum of the symbolic branch over inputs: ``(B, in) -> (B, out)``, the row sums of
    :func:`symbolic_edge_acts` without forming its ``(B, out, in)`` tensor.

    Each function's edges are evaluated together and added into their outputs with one
    ``index_add``; the unset edges' constants ``d`` are one ``(out,)`` vector.  Training
    after ``auto_symbolic`` runs this a thousand times per ``fit``, so it keeps the number
    of autograd nodes low (it is per-node overhead, not arithmetic, on small batches).
    """
    groups = _checked_groups(x, groups, params)
    batch, in_dim = x.shape
    out_dim = groups.out_dim
    flat_params = params.reshape(in_dim * out_dim, 4)  # (in*out, 4)
    flat_mask = sym_mask.reshape(in_dim * out_dim)
    pieces, targets = [], []
    for name, ii, jj, flat in zip(groups.names, groups.in_ids, groups.out_ids, groups.flat_ids,
                                  strict=True):  # fmt: skip
        a, b, c, d = flat_params[flat].unbind(1)  # (E,) each
        m = flat_mask[flat]
        u = torch.addcmul(b, a, x[:, ii])  # (B, E)
        pieces.append(torch.addcmul(d * m, c * m, get_function(name).torch_fn(u)))
        targets.append(jj)
    y = x.new_zeros(batch, out_dim)
    if pieces:
        y = y.index_add(1, torch.cat(targets), torch.cat(pieces, 1))
    if groups.zero_flat_ids.numel():
        zero = groups.zero_flat_ids
        consts = flat_params[zero, 3] * flat_mask[zero]
        y = y + x.new_zeros(out_dim).index_add(0, zero % max(out_dim, 1), consts)
    return y


def _checked_groups(
    x: Tensor, groups: SymbolicGroups | list[list[str]], params: Tensor
) -> SymbolicGroups:
    """``groups`` as :class:`SymbolicGroups`; ValueError unless ``x`` (B, in) and ``params``
    (in, out, 4) match its ``in x out`` names."""
    if not isinstance(groups, SymbolicGroups):
        groups = SymbolicGroups.from_names(groups, device=x.device)
    in_dim = x.shape[1]
    if (in_dim, groups.out_dim) != (groups.in_dim, params.shape[1]):
        raise ValueError(
            f"symbolic branch shape mismatch: x has {in_dim} inputs, names are "
            f"{groups.in_dim}x{groups.out_dim}, params are {tuple(params.shape)}"
        )
    return groups
