"""pykan 0.2.8's regulariser value and the activation scales it reads, as a mixin of ``KAN``.

pykan keeps, after every forward pass, per layer ``l`` (``B`` samples, edges ``(out, in)``):

- ``edge_actscale[l]``: std over the batch of each edge's output (numeric + symbolic),
  ``(out, in)``;
- ``acts_scale_spline[l]``: std of the numeric (spline + base) part divided by
  ``std(input) + 0.1``, ``(out, in)``;
- ``acts_scale[l]``: ``edge_actscale / (std(input) + 0.1)``, ``(out, in)``.

Here they are computed on request from the last input the model saw, and
:meth:`PykanRegularizer.reg` is pykan's ``MultKAN.reg`` (KAN paper section 2.5: L1 + entropy
of those scales, plus the coefficient penalties ``lamb_coef`` / ``lamb_coefdiff``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

REG_METRICS = (
    "edge_forward_spline_n",
    "edge_forward_sum",
    "edge_forward_spline_u",
    "edge_backward",
    "node_backward",
)


def activation_scales(model: Any, x: Tensor | None = None) -> dict[str, list[Tensor]]:
    """pykan's ``edge_actscale``, ``acts_scale_spline`` and ``acts_scale`` on ``x`` (default:
    the last input), see the module docstring for shapes.

    Raises
    ------
    ValueError
        If the model has seen no input and ``x`` is None.
    """
    trace = model.forward_cache(x)
    out: dict[str, list[Tensor]] = {"edge_actscale": [], "acts_scale_spline": [], "acts_scale": []}
    with torch.no_grad():
        for layer, inputs, acts in zip(model.layers, trace.inputs, trace.edge_acts):
            in_range = inputs.std(0).unsqueeze(0) + 0.1  # (1, in)
            numeric = layer.edge_activations(inputs, numeric_only=True)  # (B, out, in)
            total = acts.std(0)  # (out, in)
            out["edge_actscale"].append(total)
            out["acts_scale_spline"].append(numeric.std(0) / in_range)
            out["acts_scale"].append(total / in_range)
    return out


def regularizer(model: Any, reg_metric: str, lamb_l1: float, lamb_entropy: float,
                lamb_coef: float, lamb_coefdiff: float) -> Tensor:  # fmt: skip
    """pykan's ``MultKAN.reg``: for each layer's scale matrix ``v``,
    ``lamb_l1 * sum(v) + lamb_entropy * (row entropy + column entropy)`` (rows normalised by
    ``sum + 1``, ``log2(p + 1e-4)``), plus ``lamb_coef * sum_in mean_out |coef|`` and
    ``lamb_coefdiff * sum_in mean_out |diff(coef)|``; a 0-d tensor.

    Raises
    ------
    ValueError
        For a ``reg_metric`` pykan does not know.
    """
    from .attribution import attribute

    if reg_metric not in REG_METRICS:
        raise ValueError(f"reg_metric = {reg_metric!r} not recognized; one of {REG_METRICS}")
    if reg_metric == "edge_backward":
        attribute(model)
        scales = list(model.edge_scores)
    elif reg_metric == "node_backward":
        scales = list(model.node_attribute())
    else:
        key = {
            "edge_forward_spline_n": "acts_scale_spline",
            "edge_forward_sum": "acts_scale",
            "edge_forward_spline_u": "edge_actscale",
        }[reg_metric]
        scales = activation_scales(model)[key]
    reg = model.layers[0].coef.new_zeros(())
    with torch.no_grad():
        for vec in scales:
            p_row = vec / (vec.sum(1, keepdim=True) + 1)
            p_col = vec / (vec.sum(0, keepdim=True) + 1)
            ent_row = -(p_row * torch.log2(p_row + 1e-4)).sum(1).mean()
            ent_col = -(p_col * torch.log2(p_col + 1e-4)).sum(0).mean()
            reg = reg + lamb_l1 * vec.sum() + lamb_entropy * (ent_row + ent_col)
        for layer in model.layers:
            coef = layer.coef
            reg = reg + lamb_coef * coef.abs().mean(1).sum()
            reg = reg + lamb_coefdiff * torch.diff(coef).abs().mean(1).sum()
    return reg


class PykanRegularizer:
    """Mixin of ``KAN``: pykan's activation scales and regulariser value (module docstring)."""

    @property
    def edge_actscale(self: Any) -> list[Tensor]:
        """Per layer, std of each edge's output on the last input, ``(out, in)``."""
        return activation_scales(self)["edge_actscale"]

    @property
    def acts_scale_spline(self: Any) -> list[Tensor]:
        """Per layer, std of each edge's numeric part / (std(input) + 0.1), ``(out, in)``."""
        return activation_scales(self)["acts_scale_spline"]

    @property
    def acts_scale(self: Any) -> list[Tensor]:
        """Per layer, std of each edge's output / (std(input) + 0.1), ``(out, in)``."""
        return activation_scales(self)["acts_scale"]

    def reg(self: Any, reg_metric: str = "edge_forward_spline_n", lamb_l1: float = 1.0,
            lamb_entropy: float = 2.0, lamb_coef: float = 0.0,
            lamb_coefdiff: float = 0.0) -> Tensor:  # fmt: skip
        """pykan's regulariser value on the last input (:func:`regularizer`); a 0-d tensor."""
        return regularizer(self, reg_metric, lamb_l1, lamb_entropy, lamb_coef, lamb_coefdiff)

    def get_reg(self: Any, reg_metric: str = "edge_forward_spline_n", lamb_l1: float = 1.0,
                lamb_entropy: float = 2.0, lamb_coef: float = 0.0,
                lamb_coefdiff: float = 0.0) -> Tensor:  # fmt: skip
        """pykan's alias of :meth:`reg`."""
        return self.reg(reg_metric, lamb_l1, lamb_entropy, lamb_coef, lamb_coefdiff)
