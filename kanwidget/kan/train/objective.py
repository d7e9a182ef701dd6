"""What ``fit`` minimises: the loss (MSE unless ``loss_fn``) + ``lamb`` * pykan's regulariser,
and the one predicate that says whether the C kernels compute it for a model (``plain``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor

from .. import kernels

if TYPE_CHECKING:
    from ..network import KAN


class StepLosses(NamedTuple):
    """One step's training loss (MSE, or ``loss_fn``'s value) and regulariser (without
    ``lamb``), as 0-d tensors (float64 from the C engines)."""

    train: Tensor
    reg: Tensor


class Penalty(NamedTuple):
    """pykan's regulariser weights: ``lamb * (lamb_l1 * L1 + lamb_entropy * entropy)``."""

    lamb: float
    lamb_l1: float
    lamb_entropy: float


def for_batch(penalty: Penalty, batch: int) -> Penalty:
    """The penalty on a batch of ``batch`` rows: none for a single row (the spread of one
    sample is 0, so is its regulariser; the unbiased std would be 0/0)."""
    return penalty if batch > 1 else penalty._replace(lamb=0.0)


def mse(pred: Tensor, y: Tensor) -> Tensor:
    """The default loss: mean squared error over all entries."""
    return torch.mean((pred - y) ** 2)


def plain(model: KAN, x: Tensor, fixed_affine: bool = False) -> bool:
    """Whether the C objective computes ``model`` on ``x``: kernels usable on ``x``, SiLU
    bases, no multiplication nodes, no symbolic edges, and identity node/subnode affine maps
    (``fixed_affine``: any affine maps that are not trained, which
    :class:`~..kernels.KANProblem` applies; a pruned model has them)."""
    if not kernels.usable(x) or any(model.mult_arity):
        return False
    return all(
        layer.base_fun_name == "silu"
        and not layer.has_symbolic
        and (_affine_frozen(model, l) if fixed_affine else model._affine_is_identity(l))
        for l, layer in enumerate(model.layers)
    )


def _affine_frozen(model: KAN, l: int) -> bool:
    """Whether layer ``l``'s subnode and node affine maps are all left out of training."""
    return not any(
        p.requires_grad
        for p in (model.subnode_scale[l], model.subnode_bias[l], model.node_scale[l],
                  model.node_bias[l])
    )  # fmt: skip


def regularization(
    stds: list[tuple[Tensor, Tensor]], lamb_l1: float, lamb_entropy: float
) -> Tensor:
    """pykan's ``edge_forward_spline_n`` regulariser: L1 + entropy of per-edge scales.

    Each edge's scale is std(phi(x)) / (std(x) + 0.1) over the batch (``(out, in)`` as pykan).
    """
    reg = stds[0][0].new_zeros(())
    for edge_std, in_std in stds:
        vec = (edge_std / (in_std.unsqueeze(-1) + 0.1)).T  # (out, in)
        l1 = vec.sum()
        p_row = vec / (vec.sum(1, keepdim=True) + 1)
        p_col = vec / (vec.sum(0, keepdim=True) + 1)
        ent_row = -(p_row * torch.log2(p_row + 1e-4)).sum(1).mean()
        ent_col = -(p_col * torch.log2(p_col + 1e-4)).sum(0).mean()
        reg = reg + lamb_l1 * l1 + lamb_entropy * (ent_row + ent_col)
    return reg


def coefficient_penalty(model: KAN, lamb_coef: float, lamb_coefdiff: float) -> Tensor:
    """pykan's ``lamb_coef`` / ``lamb_coefdiff`` terms: per layer, the sum over inputs and
    basis functions of the mean over outputs of ``|coef|`` and of ``|coef[..., a+1] -
    coef[..., a]|`` (smoothness).  ``coef`` is ``(in, out, G+k)``."""
    total = model.layers[0].coef.new_zeros(())
    for layer in model.layers:
        coef = layer.coef
        total = total + lamb_coef * coef.abs().mean(1).sum()
        total = total + lamb_coefdiff * torch.diff(coef).abs().mean(1).sum()
    return total
