"""pykan 0.2.8's remaining ``MultKAN`` surface, as a mixin of ``KAN``.

The methods here let pykan's tutorials run unchanged: activations of one edge
(``get_act``, ``get_fun``, ``get_range``), the per-edge switches (``set_mode``,
``symbolic_fun``), attribution of one node (``attribute(l, i)``, ``feature_interaction``,
``node_attribute``; KAN 2.0 section 4.1), checkpoints under pykan's names
(``saveckpt``/``loadckpt``) and small conveniences (``evaluate``, ``speed``, ``n_edge``).
The structural ones (``module``, ``auto_swap``, ``initialize_from_another_model``,
``unfix_symbolic_all``, ``set_mode``) live in :mod:`.compat_structure` and commit exactly
one version each, like every verb.

Where pykan keeps activations as side effects of every forward pass (``model.acts``,
``spline_preacts``, ...), they are computed here on request from the last input the model
saw (``model(x)``, ``fit`` or ``get_act(x)``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from .compat_reg import PykanRegularizer
from .compat_structure import PykanStructure
from .train.options import as_int

if TYPE_CHECKING:
    from .network import KAN, Trace

logger = logging.getLogger(__name__)


class SymbolicFunView:
    """pykan's ``model.symbolic_fun[l]`` as a read-only view of layer ``l`` (pykan indexes its
    symbolic layer ``(out, in)``, the numeric one ``(in, out)``; so does this view).

    Attributes
    ----------
    in_dim, out_dim : int
    funs_name : list (out) of list (in) of str; ``'0'`` for an edge with no function
    mask : Tensor (out, in), 1 where the symbolic branch is on
    affine : Tensor (out, in, 4), the (a, b, c, d) of ``c f(a x + b) + d``
    """

    def __init__(self, layer: Any):
        self._layer = layer

    @property
    def in_dim(self) -> int:
        return int(self._layer.in_dim)

    @property
    def out_dim(self) -> int:
        return int(self._layer.out_dim)

    @property
    def funs_name(self) -> list[list[str]]:
        names = self._layer.sym_names
        return [[names[i][j] for i in range(self.in_dim)] for j in range(self.out_dim)]

    @property
    def mask(self) -> Tensor:
        return self._layer.sym_mask.T

    @property
    def affine(self) -> Tensor:
        return self._layer.sym_params.transpose(0, 1)

    def __repr__(self) -> str:
        return f"Symbolic_KANLayer(in_dim={self.in_dim}, out_dim={self.out_dim})"


class PykanCompat(PykanStructure, PykanRegularizer):
    """Mixin of ``KAN``: pykan's accessors and conveniences (see the module docstring)."""

    auto_save = False  # pykan's flag; kanwidget never writes checkpoints on its own
    save_act = True  # pykan's flag; activations are computed on request here

    # ------------------------------------------------------------------ activations
    def get_act(self: Any, x: Tensor | dict[str, Tensor] | None = None) -> None:
        """Run ``x`` (a tensor, a dataset dict: its ``train_input``, or None: the last input)
        through the model and keep it as the input that activations, attribution and plots
        read (pykan's ``get_act``)."""
        if isinstance(x, dict):
            x = x["train_input"]
        if x is None:
            x = self.cached_input()
        with torch.no_grad():
            self(x)

    def _activation_trace(self: Any) -> Trace:
        return self.forward_cache(self.cached_input())

    @property
    def cache_data(self: Any) -> Tensor | None:
        """pykan's name for the last input the model saw."""
        return self._last_input

    @property
    def acts(self: Any) -> list[Tensor]:
        """Node values of every node layer for the last input, ``(B, n_nodes(l))`` each."""
        return list(self._activation_trace().nodes)

    @property
    def spline_preacts(self: Any) -> list[Tensor]:
        """Per layer, each edge's input ``(B, out, in)`` (pykan's layout)."""
        trace = self._activation_trace()
        return [
            x.unsqueeze(1).expand(-1, layer.out_dim, -1)
            for x, layer in zip(trace.inputs, self.layers)
        ]

    @property
    def spline_postacts(self: Any) -> list[Tensor]:
        """Per layer, each edge's output ``(B, out, in)`` (numeric and symbolic parts)."""
        return list(self._activation_trace().edge_acts)

    def _edge_samples(self: Any, l: int, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        from .pruning import check_edge

        check_edge(self, l, i, j)
        trace = self._activation_trace()
        x = trace.inputs[l][:, i].detach().cpu().numpy()
        y = trace.edge_acts[l][:, j, i].detach().cpu().numpy()
        return x, y

    def get_fun(self: Any, l: int, i: int, j: int):
        """Edge (l, i, j) on the last input: ``(inputs, outputs)`` sorted by input, 1-D numpy
        arrays; also drawn on a new pyplot figure, as pykan does."""
        import matplotlib.pyplot as plt

        x, y = self._edge_samples(l, i, j)
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        plt.figure(figsize=(3, 3))
        plt.plot(x, y, marker="o")
        return x, y

    def get_range(self: Any, l: int, i: int, j: int, verbose: bool = True):
        """``(x_min, x_max, y_min, y_max)`` of edge (l, i, j) on the last input (numpy
        scalars, as pykan); ``verbose`` logs them at INFO level (library code does not print)."""
        x, y = self._edge_samples(l, i, j)
        out = (x.min(), x.max(), y.min(), y.max())
        if verbose:
            logger.info("x range: [%.2f, %.2f]; y range: [%.2f, %.2f]", *out)
        return out

    @property
    def symbolic_fun(self: Any) -> list[SymbolicFunView]:
        """pykan's per-layer symbolic view (``funs_name``, ``mask``, ``in_dim``, ``out_dim``)."""
        return [SymbolicFunView(layer) for layer in self.layers]

    # ------------------------------------------------------------------ attribution
    def attribute(self: Any, l: int | None = None, i: int | None = None, out_score=None,
                  plot: bool = False):  # fmt: skip
        """KAN 2.0 eq. 9 scores (fills ``node_scores``, ``edge_scores``, ``feature_score``).

        With ``l`` (a node layer, 1..depth) and ``i``: how much each input feature matters to
        node ``(l, i)``, ``(n_in,)``; with ``l`` only: those rows for every node of layer
        ``l``, ``(n_nodes(l), n_in)``.  The full attribution is unchanged by these calls.
        ``plot`` draws the scores as bars on a new pyplot figure (pykan's default is True).
        ``out_score`` (``(n_out,)``, only without ``l``, as pykan) weighs each output's share
        of the scores (each output counts 1 by default).
        """
        from .attribution import attribute
        from .node_attribution import node_feature_scores

        if l is not None:  # a bad layer fails before the scores are recomputed
            l = as_int(l, "l")
            if not 1 <= l <= self.depth:
                raise ValueError(f"l must be a node layer 1..{self.depth} (0: the inputs), got {l}")
        if l is None:  # out_score weighs the outputs (pykan: diag(out_score) replaces eye)
            if out_score is not None:
                out_score = torch.as_tensor(out_score, dtype=self.dtype, device=self.device)
            return attribute(self, out_score=out_score)
        attribute(self)
        rows = node_feature_scores(self, l)
        if i is None:
            return rows
        i = as_int(i, "i")
        if not 0 <= i < rows.shape[0]:
            raise ValueError(f"node ({l}, {i}) does not exist: layer {l} has {rows.shape[0]} nodes")
        if plot:
            import matplotlib.pyplot as plt

            n_in = rows.shape[1]
            plt.figure(figsize=(max(1.0 * n_in, 2.0), 3))
            plt.bar(range(n_in), rows[i].cpu().numpy())
            plt.xticks(range(n_in))
        return rows[i]

    def _rescore(self: Any) -> None:
        """After a restore (rewind, checkout, load): attribution scores of the restored model
        on the last input, as pykan's ``feature_score`` gives after ``rewind``; left None
        when there is no such input (or one row) or it does not fit the restored inputs."""
        from .attribution import attribute

        x = self._last_input
        if x is None or x.shape[0] < 2:
            return
        try:
            trace = self.forward_cache(x)
        except (ValueError, RuntimeError):  # last input narrower than the restored model's
            return
        attribute(self, trace=trace)

    def node_attribute(self: Any) -> list[Tensor]:
        """``attribute(l)`` for every node layer 1..depth, kept in ``node_attribute_scores``."""
        self.node_attribute_scores = [self.attribute(l) for l in range(1, self.depth + 1)]
        return self.node_attribute_scores

    def feature_interaction(self: Any, l: int, neuron_th: float = 1e-2, feature_th: float = 1e-2):
        """Which groups of input features the active nodes of layer ``l`` depend on: a dict
        ``{(feature, ...): number of nodes}``; a node is active if its largest feature score
        exceeds ``neuron_th``, and a feature belongs to its group if its score exceeds
        ``feature_th`` times that largest score (pykan's rule)."""
        rows = self.attribute(l)
        groups: dict[tuple[int, ...], int] = {}
        for row in rows:
            top = float(row.max())
            if top > neuron_th:
                key = tuple(int(k) for k in torch.where(row > top * feature_th)[0].tolist())
                groups[key] = groups.get(key, 0) + 1
        return groups

    def tree(self: Any, x: Tensor | None = None, in_var=None, style: str = "tree",
             sym_th: float = 1e-3, sep_th: float = 1e-1, skip_sep_test: bool = False,
             verbose: bool = False):  # fmt: skip
        """Draw how the inputs combine (:func:`.tree_plot.plot_tree` on the last input or
        ``x``); returns the Figure."""
        from .tree_plot import plot_tree

        x = self.cached_input() if x is None else x
        return plot_tree(self, x, in_var, style, sym_th, sep_th, skip_sep_test, verbose)

    def plot(self: Any, folder: str | None = None, beta: float = 3, metric: str = "backward",
             scale: float = 0.5, tick: bool = False, sample: bool = False, in_vars=None,
             out_vars=None, title: str | None = None, varscale: float = 1.0,
             **kwargs: Any):  # fmt: skip
        """Draw the network in pykan's layout (pykan's arguments, positional order kept);
        returns the Figure, which is pyplot's current figure.  See :func:`.plot.plot`."""
        from .plot import plot

        return plot(self, folder, beta, metric, scale, tick, sample, in_vars, out_vars, title,
                    varscale, **kwargs)  # fmt: skip

    # ------------------------------------------------------------------ conveniences
    @property
    def n_edge(self: Any) -> int:
        """pykan's name for the number of active edges."""
        return self.n_edges()

    @property
    def width_in(self: Any) -> list[int]:
        """Number of nodes of each node layer (pykan)."""
        return [self.n_nodes(l) for l in range(self.depth + 1)]

    @property
    def width_out(self: Any) -> list[int]:
        """Number of subnodes of each node layer (pykan; the inputs have one per node)."""
        return [self.n_nodes(0)] + [self.n_subnodes(l) for l in range(1, self.depth + 1)]

    @property
    def grid(self: Any) -> int:
        """Grid intervals of the first layer (pykan keeps one number for the model)."""
        return int(self.layers[0].num)

    def evaluate(self: Any, dataset: dict[str, Tensor]) -> dict[str, Any]:
        """``{'test_loss': RMSE on the test split, 'n_edge': ..., 'n_grid': ...}`` (pykan)."""
        if not isinstance(dataset, dict):
            raise TypeError(f"dataset must be a dict of tensors, got {type(dataset).__name__}")
        x = self.check_input(dataset["test_input"], "test_input")
        y = dataset["test_label"]
        n_out = self.width[-1][0]
        if not isinstance(y, Tensor) or y.dim() != 2 or y.shape != (x.shape[0], n_out):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"test_label must have shape ({x.shape[0]}, {n_out}), got {shape}")
        with torch.no_grad():
            pred = self._forward(x)[0]
            rmse = torch.sqrt(((pred - y.to(pred.dtype)) ** 2).mean())
        return {"test_loss": float(rmse), "n_edge": self.n_edge, "n_grid": self.grid}

    def speed(self: Any, compile: bool = False):
        """pykan's speed mode.  kanwidget keeps no activations during training anyway, so
        this changes nothing; ``compile=True`` returns ``torch.compile(self)``."""
        if not isinstance(compile, bool):
            raise TypeError(f"compile must be True or False, got {compile!r}")
        return torch.compile(self) if compile else self

    def saveckpt(self: Any, path: str = "model") -> None:
        """pykan's checkpoint name: writes ``path + '.kan'`` (model and history, one file)."""
        self.save(f"{path}.kan")

    @staticmethod
    def loadckpt(path: str = "model") -> KAN:
        """Read a checkpoint written by :meth:`saveckpt`."""
        from .io import load

        return load(f"{path}.kan")
