"""MultKAN: KAN layers joined by sum and multiplication nodes (KAN 2.0, section 2.1, eq. 4).

Node layer l holds ``width[l] = [n_sum, n_mult]`` nodes.  ``layers[l]`` maps the nodes of
layer l to the *subnodes* of layer l+1: one per sum node and ``mult_arity`` per
multiplication node.  Between layers, subnode and node affine maps (scale, bias) apply as in
the paper.  The verbs (fit, attribute, prune, symbolic, save) live in their own modules;
this class keeps thin pykan-compatible methods that call them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .compat import PykanCompat
from .history import VersionTree
from .layer import KANLayer
from .train.options import as_int
from .transaction import atomic
from .versions import Versioned

# pykan constructor arguments that are accepted and ignored (checkpoints are explicit here)
_PYKAN_NOOP_ARGS = {"auto_save", "ckpt_path", "save_act", "state_id", "round", "first_init"}


def normalize_width(width) -> list[list[int]]:
    """``[2, [3, 1], 1]`` -> ``[[2, 0], [3, 1], [1, 0]]`` with validation."""
    if not isinstance(width, (list, tuple)) or len(width) < 2:
        raise ValueError(f"width must be a list of at least 2 layers, got {width!r}")
    out = []
    for l, w in enumerate(width):
        if _is_int(w):
            pair = [int(w), 0]
        elif isinstance(w, (list, tuple)) and len(w) == 2 and all(_is_int(v) for v in w):
            pair = [int(w[0]), int(w[1])]
        else:
            raise ValueError(f"width[{l}] must be an int or [n_sum, n_mult], got {w!r}")
        if min(pair) < 0 or sum(pair) < 1:
            raise ValueError(f"width[{l}] = {w!r} must have at least one node")
        out.append(pair)
    if out[0][1]:
        raise ValueError("the input layer (width[0]) cannot have multiplication nodes")
    return out


def _is_int(value) -> bool:
    """An int or numpy integer (pykan notebooks pass ``np.int64``), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def normalize_arity(mult_arity, width: list[list[int]]) -> list[list[int]]:
    """An int or a per-layer list of per-node arities -> list of lists."""
    if _is_int(mult_arity):
        mult_arity = int(mult_arity)
        if mult_arity < 2:
            raise ValueError(f"mult_arity must be >= 2, got {mult_arity}")
        return [[mult_arity] * w[1] for w in width]
    arity = [list(map(int, a)) for a in mult_arity]
    if len(arity) != len(width) or any(len(a) != w[1] for a, w in zip(arity, width)):
        raise ValueError(f"mult_arity {mult_arity!r} must give one arity per mult node of {width}")
    if any(v < 2 for a in arity for v in a):
        raise ValueError("every mult_arity must be >= 2")
    return arity


@dataclasses.dataclass
class Trace:
    """Intermediate values of one forward pass (l indexes layers; nodes has depth+1 entries)."""

    inputs: list[Tensor]  # (B, in_l) input of layer l
    edge_acts: list[Tensor]  # (B, out_l, in_l)
    subnodes: list[Tensor]  # (B, out_l) after the subnode affine map
    nodes: list[Tensor]  # (B, n_nodes_l)
    output: Tensor


class KAN(PykanCompat, Versioned, nn.Module):
    """Kolmogorov-Arnold network with optional multiplication nodes (pykan's ``MultKAN``).

    Parameters
    ----------
    width : list of int or [n_sum, n_mult]
    grid : grid intervals G; k : spline order; mult_arity : int or per-node lists
    seed : seeds a private generator (the global RNG is not touched)
    """

    #: ``fit``'s first grid update (step 0) adapts only the input layer; later ones all
    #: layers (README: deliberate change).  ``kanwidget.pykan.KAN`` sets it False (pykan's).
    first_grid_update_input_only: bool = True
    #: the name a saved file records for this class (``io.MODEL_CLASSES`` maps it back)
    model_class_name: str = "kanwidget.KAN"
    layers: list[KANLayer]  # an nn.ModuleList at run time; typed by its items
    node_scale: list[nn.Parameter]
    node_bias: list[nn.Parameter]
    subnode_scale: list[nn.Parameter]
    subnode_bias: list[nn.Parameter]

    def __init__(
        self,
        width,
        grid: int = 3,
        k: int = 3,
        mult_arity=2,
        noise_scale: float = 0.3,
        scale_base_mu: float = 0.0,
        scale_base_sigma: float = 1.0,
        base_fun: str = "silu",
        symbolic_enabled: bool = True,
        affine_trainable: bool = False,
        grid_eps: float = 0.02,
        grid_range=(-1, 1),
        sp_trainable: bool = True,
        sb_trainable: bool = True,
        seed: int = 1,
        sparse_init: bool = False,
        device="cpu",
        dtype: torch.dtype | None = None,
        **pykan_args,
    ):
        super().__init__()
        unknown = set(pykan_args) - _PYKAN_NOOP_ARGS
        if unknown:
            raise TypeError(f"KAN() got unexpected arguments {sorted(unknown)}")
        grid, k = as_int(grid, "grid"), as_int(k, "k")
        if grid < 1:
            raise ValueError(f"grid must be an int >= 1, got {grid!r}")
        if k < 0:
            raise ValueError(f"k must be an int >= 0, got {k!r}")
        self.width = normalize_width(width)
        self.mult_arity = normalize_arity(mult_arity, self.width)
        self.grid_size, self.k = grid, k
        self.base_fun_name = base_fun
        self.symbolic_enabled = symbolic_enabled
        self.grid_eps = grid_eps
        self.grid_range = (float(grid_range[0]), float(grid_range[1]))
        self.input_ids = list(range(self.width[0][0]))  # original input index of each input
        self.input_names: list[str] | None = None  # names of the original inputs, if known
        gen = torch.Generator().manual_seed(seed)
        dtype = dtype or torch.get_default_dtype()
        self.layers = nn.ModuleList()  # type: ignore[assignment]
        for l in range(self.depth):
            self.layers.append(
                KANLayer(
                    self.n_nodes(l), self.n_subnodes(l + 1), grid, k, noise_scale,
                    scale_base_mu, scale_base_sigma, 1.0, base_fun, grid_eps, self.grid_range,
                    sparse_init, sp_trainable, sb_trainable, gen, dtype, device,
                )
            )  # fmt: skip
        self.affine_trainable = affine_trainable
        self._init_affine(dtype, device)
        self._last_input: Tensor | None = None
        self._fit_data: dict[str, Tensor] | None = None  # the last fit's (checked) dataset
        self.node_scores: list[Tensor] | None = None
        self.edge_scores: list[Tensor] | None = None
        self.feature_score: Tensor | None = None
        self.subnode_scores: list[Tensor] | None = None
        self._op_depth = 0
        self._listeners: list[Callable[[str], None]] = []
        self.loss_log: dict[str, list[float]] = {"train_loss": [], "test_loss": []}
        self.history = VersionTree()
        self._commit("init", {"width": width, "grid": grid, "k": k, "seed": seed})

    # ------------------------------------------------------------------ shape helpers
    @property
    def depth(self) -> int:
        return len(self.width) - 1

    def n_nodes(self, l: int) -> int:
        """Nodes in node layer ``l`` (0 = inputs): sum nodes + multiplication nodes."""
        return sum(self.width[l])

    def n_subnodes(self, l: int) -> int:
        """Subnodes of node layer ``l`` (what layer ``l - 1``'s edges feed): one per sum
        node and ``arity`` per multiplication node (KAN 2.0 section 2.1)."""
        return self.width[l][0] + sum(self.mult_arity[l])

    def subnode_to_node(self, l: int, j: int) -> int:
        """Node of layer ``l`` fed by subnode ``j`` (layer l-1's output ``j``)."""
        n_sum = self.width[l][0]
        if j < n_sum:
            return j
        acc = n_sum
        for m, a in enumerate(self.mult_arity[l]):
            if j < acc + a:
                return n_sum + m
            acc += a
        raise IndexError(f"subnode {j} out of range for layer {l}")

    @property
    def act_fun(self) -> list[KANLayer]:
        """pykan's name for ``layers``."""
        return self.layers

    @property
    def device(self) -> torch.device:
        return self.layers[0].knots.device

    @property
    def dtype(self) -> torch.dtype:
        return self.layers[0].knots.dtype

    def _init_affine(self, dtype, device) -> None:
        self._affine_cache: dict[int, tuple[tuple, tuple, bool]] = {}

        def param(n: int, value: float) -> nn.Parameter:
            t = torch.full((n,), value, dtype=dtype, device=device)
            return nn.Parameter(t, requires_grad=self.affine_trainable)

        self.node_scale = nn.ParameterList(  # type: ignore[assignment]
            [param(self.n_nodes(l + 1), 1.0) for l in range(self.depth)]
        )
        self.node_bias = nn.ParameterList(  # type: ignore[assignment]
            [param(self.n_nodes(l + 1), 0.0) for l in range(self.depth)]
        )
        self.subnode_scale = nn.ParameterList(  # type: ignore[assignment]
            [param(self.n_subnodes(l + 1), 1.0) for l in range(self.depth)]
        )
        self.subnode_bias = nn.ParameterList(  # type: ignore[assignment]
            [param(self.n_subnodes(l + 1), 0.0) for l in range(self.depth)])  # fmt: skip

    # ------------------------------------------------------------------ forward
    def check_input(self, x: Tensor, name: str = "x") -> Tensor:
        """Validate the shape (and type) of a model input."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 2 or x.shape[1] != self.width[0][0]:
            raise ValueError(
                f"{name} must have shape (batch, {self.width[0][0]}), got {tuple(x.shape)}"
                + (" (inputs were pruned; see model.input_ids)" if len(self.input_ids) and
                   self.input_ids != list(range(len(self.input_ids))) else "")
            )  # fmt: skip
        return x.to(self.dtype)

    def forward(self, x: Tensor) -> Tensor:
        """``x`` (B, n_in) -> (B, n_out)."""
        x = self.check_input(x)
        self._last_input = x.detach()
        return self._forward(x)[0]

    def _forward(self, x: Tensor, with_std: bool = False):
        """Forward; with ``with_std`` also each layer's per-edge std ``(in, out)`` and input std."""
        stds = []
        for l, layer in enumerate(self.layers):
            if with_std:
                y, edge_std = layer(x, with_std=True)
                # one sample: no spread (the unbiased std would be 0/0)
                stds.append((edge_std, x.std(0) if x.shape[0] > 1 else torch.zeros_like(x[0])))
            else:
                y = layer(x)
            if self._affine_is_identity(l):  # the default: skip four no-op kernels per layer
                x = self._multiply(l + 1, y)
            else:
                y = y * self.subnode_scale[l] + self.subnode_bias[l]
                x = self._multiply(l + 1, y) * self.node_scale[l] + self.node_bias[l]
        return x, stds

    def _affine_is_identity(self, l: int) -> bool:
        """Whether layer l's subnode and node affine maps are fixed at scale 1, bias 0
        (cached on the parameter objects and their in-place version counters)."""
        params = (self.subnode_scale[l], self.subnode_bias[l], self.node_scale[l],
                  self.node_bias[l])  # fmt: skip
        state = tuple((p._version, p.requires_grad) for p in params)
        cached = self._affine_cache.get(l)
        if (
            cached is None
            or cached[1] != state
            or any(a is not b for a, b in zip(cached[0], params))
        ):
            identity = not any(p.requires_grad for p in params) and bool(
                (params[0] == 1).all() and (params[1] == 0).all()
                and (params[2] == 1).all() and (params[3] == 0).all()
            )  # fmt: skip
            cached = self._affine_cache[l] = (params, state, identity)
        return cached[2]

    def _multiply(self, l: int, y: Tensor) -> Tensor:
        """Subnodes (B, n_subnodes(l)) -> nodes (B, n_nodes(l)): sums pass, products multiply."""
        n_sum, arity = self.width[l][0], self.mult_arity[l]
        if not arity:
            return y
        mult = y[:, n_sum:]
        if len(set(arity)) == 1:
            prod = mult.reshape(y.shape[0], len(arity), arity[0]).prod(-1)
        else:
            parts, start = [], 0
            for a in arity:
                parts.append(mult[:, start : start + a].prod(-1, keepdim=True))
                start += a
            prod = torch.cat(parts, 1)
        return torch.cat([y[:, :n_sum], prod], 1)

    def forward_cache(self, x: Tensor | None = None) -> Trace:
        """Forward pass keeping every layer's inputs, edge activations and node values."""
        if x is None:
            x = self.cached_input()
        x = self.check_input(x)
        trace = Trace([], [], [], [x], x)
        with torch.no_grad():
            for l, layer in enumerate(self.layers):
                trace.inputs.append(x)
                acts = layer.edge_activations(x)  # (B, out, in)
                trace.edge_acts.append(acts)
                y = acts.sum(-1) * self.subnode_scale[l] + self.subnode_bias[l]
                trace.subnodes.append(y)
                x = self._multiply(l + 1, y) * self.node_scale[l] + self.node_bias[l]
                trace.nodes.append(x)
        trace.output = x
        return trace

    def cached_input(self) -> Tensor:
        """The last input seen by ``model(x)`` or ``fit`` (used by attribute, suggest, plot)."""
        if self._last_input is None:
            raise ValueError("no data seen yet: call model(x) or model.fit(dataset) first")
        return self._last_input

    def n_edges(self) -> int:
        """Number of active edges (numeric or symbolic)."""
        return int(sum(((l.mask + l.sym_mask) > 0).sum() for l in self.layers))

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> tuple[dict[str, Any], dict[str, Tensor]]:
        """Structure (JSON-able) and tensors: everything needed to rebuild this model."""
        config = {
            "width": [list(w) for w in self.width],
            "mult_arity": [list(a) for a in self.mult_arity],
            "grid": [layer.num for layer in self.layers],
            "k": self.k,
            "base_fun": self.base_fun_name,
            "grid_eps": self.grid_eps,
            "grid_range": list(self.grid_range),
            "symbolic_enabled": self.symbolic_enabled,
            "affine_trainable": self.affine_trainable,
            "sym_names": [layer.sym_names for layer in self.layers],
            "input_ids": list(self.input_ids),
            "input_names": None if self.input_names is None else list(self.input_names),
            "dtype": str(self.dtype).replace("torch.", ""),
            "model_class": self.model_class_name,  # io.load rebuilds this class
        }
        tensors = {name: t.detach() for name, t in self.state_dict().items()}
        for key, values in self.loss_log.items():  # each branch keeps its own loss curve
            tensors[f"loss_log.{key}"] = torch.tensor(values, dtype=torch.float64)
        return config, tensors

    @atomic
    def restore(self, config: dict[str, Any], tensors: dict[str, Tensor]) -> None:
        """Rebuild structure from ``config`` and load ``tensors`` (in place)."""
        dtype = getattr(torch, config["dtype"])
        self.width = [list(w) for w in config["width"]]
        self.mult_arity = [list(a) for a in config["mult_arity"]]
        self.k = config["k"]
        self.grid_size = config["grid"][0]
        self.base_fun_name = config["base_fun"]
        self.grid_eps = config["grid_eps"]
        self.grid_range = tuple(config["grid_range"])
        self.symbolic_enabled = config["symbolic_enabled"]
        self.affine_trainable = config["affine_trainable"]
        self.input_ids = list(config["input_ids"])
        names = config.get("input_names")
        self.input_names = None if names is None else list(names)
        device = self.device
        scratch = torch.Generator()  # the initial draws are overwritten: keep the global RNG
        self.layers = nn.ModuleList(  # type: ignore[assignment]
            KANLayer(self.n_nodes(l), self.n_subnodes(l + 1), config["grid"][l], self.k,
                     base_fun=self.base_fun_name, grid_eps=self.grid_eps, dtype=dtype,
                     device=device, generator=scratch)
            for l in range(self.depth)
        )  # fmt: skip
        self._init_affine(dtype, device)
        for layer, names in zip(self.layers, config["sym_names"]):
            layer.sym_names = [list(row) for row in names]
        state = {n: t for n, t in tensors.items() if not n.startswith("loss_log.")}
        self.load_state_dict({n: t.to(device).clone() for n, t in state.items()})
        self.loss_log = {
            key: tensors[f"loss_log.{key}"].tolist() if f"loss_log.{key}" in tensors else []
            for key in ("train_loss", "test_loss")
        }
        for layer in self.layers:
            layer.symbolic_changed()
        self.node_scores = self.edge_scores = self.feature_score = None
        self._rescore()  # pykan's feature_score survives rewind / checkout (compat.py)

    def copy(self) -> KAN:
        """An independent model with the same structure, parameters and history."""
        import copy

        listeners, self._listeners = self._listeners, []
        try:
            return copy.deepcopy(self)
        finally:
            self._listeners = listeners


MultKAN = KAN
