"""Model (+ optional dataset) -> the diagram payload: the values of KANWidget's synced traits.

Edges are listed layer by layer, then by input node i, then by output subnode j; every
per-edge array (curves, samples, edge scores) uses that order, so row ``e`` of each array
belongs to ``structure["edges"][e]``.  All edges of a layer are evaluated in one call
(``layer.edge_activations`` on a ``(P, in)`` batch), never edge by edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from ..kan.attribution import attribute
from ..kan.names import input_name, input_names, output_name, output_names

if TYPE_CHECKING:
    from ..kan.network import KAN

CURVE_POINTS = 48  # P: points per sampled edge function
SAMPLE_POINTS = 48  # S: real activations per edge (scatter)
RANGE_ROWS = 128  # rows of the fixed training subsample (ranges of hidden layers, scores)
VERSION_KEYS = (
    "id",
    "parent",
    "operation",
    "train_loss",
    "test_loss",
    "n_edges",
    "formula",
    "time",
)


@dataclass
class DataSample:
    """A fixed subsample of the training inputs and the full range of each input.

    Attributes
    ----------
    x : (R, n_inputs) rows of ``dataset["train_input"]`` (R <= RANGE_ROWS), evenly spaced
    lo, hi : (n_inputs,) min and max of each input over the whole training set
    """

    x: Tensor
    lo: Tensor
    hi: Tensor

    @classmethod
    def from_dataset(cls, dataset: dict[str, Tensor] | None, rows: int = RANGE_ROWS):
        """``None`` without a dataset; the subsample is deterministic (no RNG)."""
        if dataset is None:
            return None
        x = dataset["train_input"].detach()
        if x.dim() != 2 or x.shape[0] == 0:
            raise ValueError(
                f"dataset['train_input'] must be (samples, inputs), got {tuple(x.shape)}"
            )
        ids = torch.linspace(0, x.shape[0] - 1, min(rows, x.shape[0])).round().long()
        return cls(x[ids].clone(), x.min(0).values, x.max(0).values)

    def for_model(self, model: KAN) -> tuple[Tensor, Tensor, Tensor]:
        """The subsample and ranges restricted to the model's (possibly pruned) inputs.

        Raises
        ------
        ValueError
            the data has fewer columns than the model's original inputs (a dataset cut to
            the inputs kept by ``prune_input``, for a version from before it)
        """
        cols = list(model.input_ids)
        if self.x.shape[1] == len(cols):
            cols = list(range(len(cols)))  # already the model's columns
        elif max(cols, default=-1) >= self.x.shape[1]:
            raise ValueError(
                f"the dataset has {self.x.shape[1]} input columns but version {model.version} "
                f"of the model takes the original columns {list(model.input_ids)}: pass the "
                "dataset with all the original columns (model.input_ids lists the kept ones)"
            )
        dtype, device = model.dtype, model.device
        return (
            self.x[:, cols].to(device=device, dtype=dtype),
            self.lo[cols].to(device=device, dtype=dtype),
            self.hi[cols].to(device=device, dtype=dtype),
        )


# ---------------------------------------------------------------------------- structure
def build_structure(
    model: KAN, in_vars: Sequence[str] | None = None, out_vars: Sequence[str] | None = None
) -> dict[str, Any]:
    """``{width, mult_arity, nodes, edges, in_vars, out_vars}`` (see docs/widget_contract.md).

    ``in_vars`` names the model's *original* inputs; after ``prune_input`` the labels
    follow ``model.input_ids``. Unnamed inputs and outputs get pykan's names ``x_1 ..``,
    ``y_1 ..`` (:mod:`kanwidget.kan.names`, as in ``model.plot()`` and formulas).
    """
    depth = model.depth
    if in_vars is None:
        ins = input_names(model)
    else:
        named = list(in_vars)
        ins = [named[k] if k < len(named) else input_name(k) for k in model.input_ids]
    outs = list(out_vars) if out_vars is not None else output_names(model)
    nodes = []
    for l in range(depth + 1):
        n_sum = model.width[l][0]
        for i in range(model.n_nodes(l)):
            if l == 0:
                kind, label = "input", ins[i]
            elif l == depth:
                kind, label = "output", outs[i] if i < len(outs) else output_name(i)
            else:
                kind, label = ("sum" if i < n_sum else "mult"), ""
            nodes.append({"l": l, "i": i, "kind": kind, "label": label})
    edges = []
    for l, layer in enumerate(model.layers):
        to = [model.subnode_to_node(l + 1, j) for j in range(layer.out_dim)]
        numeric = (layer.mask > 0).tolist()
        symbolic = (layer.sym_mask > 0).tolist()
        params = layer.sym_params.detach().tolist()
        for i in range(layer.in_dim):
            for j in range(layer.out_dim):
                name = layer.sym_names[i][j] if symbolic[i][j] else None
                edges.append({
                    "l": l, "i": i, "j": j, "to": to[j],
                    "active": bool(numeric[i][j] or symbolic[i][j]),
                    "symbolic": name,
                    "formula": None if name is None else edge_formula(name, params[i][j]),
                })  # fmt: skip
    return {
        "width": [list(w) for w in model.width],
        "mult_arity": [list(a) for a in model.mult_arity],
        "nodes": nodes,
        "edges": edges,
        "in_vars": ins,
        "out_vars": outs,
    }


def edge_formula(name: str, params: Sequence[float]) -> str:
    """``c*f(a*x+b)+d`` as readable text (4 significant digits); the name if unavailable."""
    try:
        from ..kan.symbolic.suggest import affine_formula

        return rounded(affine_formula(name, params))
    except Exception:  # a function the symbolic module does not know (yet)
        return name


def rounded(formula: Any, digits: int = 4) -> str:
    """A sympy formula as text with its numbers rounded to ``digits`` significant digits."""
    try:
        import sympy

        if not isinstance(formula, sympy.Basic):
            return str(formula)
        floats = {f: sympy.Float(f, digits) for f in formula.atoms(sympy.Float)}
        return str(formula.xreplace(floats))
    except Exception:
        return str(formula)


# ---------------------------------------------------------------------------- arrays
def edge_rows(t: Tensor) -> Tensor:
    """Per-edge values ``(B, out, in)`` -> ``(in*out, B)`` rows in (i, j) edge order."""
    return t.permute(2, 1, 0).reshape(-1, t.shape[0])


def input_rows(x: Tensor, out_dim: int) -> Tensor:
    """Layer inputs ``(B, in)`` -> ``(in*out, B)``: each edge's x, in (i, j) edge order."""
    return x.T.unsqueeze(1).expand(-1, out_dim, -1).reshape(-1, x.shape[0])


def sample_inputs(lo: Tensor, hi: Tensor, points: int = CURVE_POINTS) -> Tensor:
    """``points`` evenly spaced values over each ``[lo_i, hi_i]``: ``(points, in)``."""
    flat = (hi - lo) < 1e-6 * (1 + hi.abs())
    lo, hi = torch.where(flat, lo - 0.5, lo), torch.where(flat, hi + 0.5, hi)
    t = torch.linspace(0, 1, points, dtype=lo.dtype, device=lo.device).unsqueeze(1)
    return lo + (hi - lo) * t  # (P, in)


def layer_ranges(model: KAN, data: DataSample | None, inputs: list[Tensor] | None):
    """Per layer ``(lo, hi)`` of each input: the training data range for layer 0, the
    range of the layer's input on the subsample for deeper layers, the grid without data."""
    ranges = []
    for l, layer in enumerate(model.layers):
        if data is not None and inputs is not None:
            if l == 0:
                _, lo, hi = data.for_model(model)
            else:
                lo, hi = inputs[l].min(0).values, inputs[l].max(0).values
        else:
            grid = layer.grid
            lo, hi = grid[:, 0], grid[:, -1]
        ranges.append((lo, hi))
    return ranges


def build_arrays(
    model: KAN, data: DataSample | None, points: int = CURVE_POINTS, samples: int = SAMPLE_POINTS
) -> dict[str, dict[str, np.ndarray]]:
    """``{"curves": {x, y} (E, P), "samples": {x, y} (E, S), "scores": {edge (E), node (N)}}``.

    ``samples`` and ``scores`` are ``{}`` without data.  ``scores`` runs
    :func:`kanwidget.kan.attribution.attribute` on the subsample's trace (which also fills
    ``model.edge_scores``/``node_scores``, as pykan's ``attribute`` does).
    """
    with torch.no_grad():
        trace = None
        if data is not None:
            x_sub, _, _ = data.for_model(model)
            trace = model.forward_cache(x_sub)
        ranges = layer_ranges(model, data, trace.inputs if trace is not None else None)
        cx, cy = [], []
        for layer, (lo, hi) in zip(model.layers, ranges, strict=True):
            xs = sample_inputs(lo, hi, points)  # (P, in)
            cx.append(input_rows(xs, layer.out_dim))
            cy.append(edge_rows(layer.edge_activations(xs)))  # (in*out, P)
        # y before x: ipywidgets compares each new trait value with the last one (lodash
        # isEqual, byte by byte for binary buffers) and x (the fixed data of layer 0) is
        # mostly unchanged from frame to frame, y never: y first ends that compare at once.
        out: dict[str, dict[str, Any]] = {
            "curves": {"y": _np(torch.cat(cy)), "x": _np(torch.cat(cx))},
            "samples": {},
            "scores": {},
        }
        if trace is None:
            return out
        s = min(samples, trace.inputs[0].shape[0])
        sx = [input_rows(trace.inputs[l][:s], lay.out_dim) for l, lay in enumerate(model.layers)]
        sy = [edge_rows(acts[:s]) for acts in trace.edge_acts]
        out["samples"] = {"y": _np(torch.cat(sy)), "x": _np(torch.cat(sx))}
        node_scores = attribute(model, x_sub, trace=trace)
        assert model.edge_scores is not None
        # edge_scores[l] is (out, in): transpose to the (i, j) edge order
        edge = torch.cat([score.T.reshape(-1) for score in model.edge_scores])
        out["scores"] = {"edge": _np(edge), "node": _np(torch.cat(node_scores))}
    return out


def _np(t: Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).contiguous().numpy()


# ---------------------------------------------------------------------------- history, loss
def build_history(model: KAN) -> dict[str, Any]:
    """``{versions: [Version...], current: "r.s"}`` with the contract's Version keys."""
    versions = [{k: d.get(k) for k in VERSION_KEYS} for d in model.history.as_dicts()]
    for v in versions:  # JSON has no NaN/inf
        for key in ("train_loss", "test_loss", "time"):
            v[key] = _finite(v[key])
    return {"versions": versions, "current": model.version}


def build_loss(model: KAN) -> dict[str, np.ndarray]:
    """``{train, test}`` RMSE per step over the model's life on the current branch (the model
    appends each step while it trains)."""
    log = model.loss_log
    train, test = list(log["train_loss"]), list(log["test_loss"])
    n = min(len(train), len(test))  # the training thread may be between the two appends
    return {"train": np.asarray(train[:n], np.float32), "test": np.asarray(test[:n], np.float32)}


def build_payload(
    model: KAN,
    data: DataSample | None = None,
    in_vars: Sequence[str] | None = None,
    out_vars: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Every model-derived trait at once: structure, curves, samples, scores, loss, history."""
    payload: dict[str, Any] = {"structure": build_structure(model, in_vars, out_vars)}
    payload.update(build_arrays(model, data))
    payload["loss"] = build_loss(model)
    payload["history"] = build_history(model)
    return payload


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def build_candidate(cand: Any, xs: torch.Tensor) -> dict[str, Any]:
    """A suggest_symbolic candidate -> the contract's dict, its curve sampled at ``xs``."""
    params = [float(p) for p in cand.params]
    if hasattr(cand, "curve") and callable(cand.curve):
        ys = cand.curve(xs)
    else:
        from ..kan.symbolic import evaluate

        ys = evaluate(cand.name, params, xs)
    ys = torch.as_tensor(ys, dtype=torch.float64)  # NaN/inf allowed: the plot skips them
    return {
        "name": str(cand.name),
        "r2": _finite(cand.r2),
        "complexity": _finite(cand.complexity),
        "params": [_finite(p) for p in params],
        "formula": rounded(cand.formula),
        "curve": {"x": xs, "y": ys},
    }
