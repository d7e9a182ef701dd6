"""Helpers for agreement tests with pykan 0.2.8 (installed as ``kan``): a pykan model
holding a kanwidget model's parameters, so both compute the same function."""

from __future__ import annotations

import warnings

import pytest
import torch

torch.set_num_threads(1)


def to_pykan(model):
    """A pykan ``MultKAN`` with ``model``'s widths, grids, coefficients, scales, masks and
    affine node maps (numeric edges only)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from kan import KAN as PykanKAN

        twin = PykanKAN(
            width=[list(w) for w in model.width],
            mult_arity=[list(a) for a in model.mult_arity],
            grid=int(model.layers[0].num),
            k=model.k,
            seed=0,
            auto_save=False,
            symbolic_enabled=False,
        )
    ours, theirs = model.state_dict(), twin.state_dict()
    names = [("grid", "knots"), ("coef", "coef"), ("mask", "mask"),
             ("scale_base", "scale_base"), ("scale_sp", "scale_sp")]  # fmt: skip
    with torch.no_grad():
        for l in range(model.depth):
            for theirs_name, our_name in names:
                theirs[f"act_fun.{l}.{theirs_name}"].copy_(ours[f"layers.{l}.{our_name}"])
            for n in ("node_bias", "node_scale", "subnode_bias", "subnode_scale"):
                theirs[f"{n}_{l}"].copy_(ours[f"{n}.{l}"])
    return twin


@pytest.fixture
def pykan_twin():
    return to_pykan
