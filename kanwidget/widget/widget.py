"""KANWidget: the live network diagram (anywidget) and the Python twin of every UI action.

Synced state, i.e. everything the front end draws, lives in the traits below (mirrored by
the TypeScript ``Model`` in js/model.ts; contract in docs/widget_contract.md), so a saved
notebook renders without a kernel.  Arrays travel as binary float32 (see codec.py).
Actions arrive from the browser as messages, are validated (messages.py) and run through
the same methods a notebook user calls; while training they are queued (trainer.py).
"""

from __future__ import annotations

import pathlib
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import anywidget
import torch
import traitlets

from ..kan.network import KAN
from ..kan.pruning import check_edge, check_node
from ..kan.train import check_dataset
from .actions import FIT_DEFAULTS, BrowserActions, fit_args
from .arguments import check_beta, check_fit, check_labels, model_columns
from .codec import ArrayDict, ArrayList
from .frames import FrameStore
from .inspect import edge_candidates, edge_is_active
from .messages import check_function_name
from .outputs import WidgetOutputs
from .pareto import from_discovery, from_sweep
from .payload import (
    DataSample,
    build_arrays,
    build_history,
    build_loss,
    build_payload,
    build_structure,
)
from .trainer import Command, Trainer, TrainerHooks

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_FALLBACK_ESM = """
export default { render({ el }) {
  el.textContent = "kanwidget: kanwidget/static/widget.js is missing; run `npm run build`.";
} };
"""
IDLE = {"state": "idle", "step": 0, "steps": 0}


class KANWidget(BrowserActions, WidgetOutputs, anywidget.AnyWidget):
    """Interactive diagram of a KAN: edge curves, activations, scores, history; trains live.

    Parameters
    ----------
    model : KAN (edited in place by the actions)
    dataset : pykan dataset dict (``train_input``, ...) or None; needed for ``fit``,
        activation samples and attribution scores
    in_vars, out_vars : names of the inputs (of the original columns, after ``prune_input``)
        / outputs, one per node (default pykan's ``x_1 ..``, ``y_1 ..``)
    beta : edge opacity is ``tanh(beta * score)`` (pykan), > 0
    fps : frames per second pushed while training
    """

    _esm = _STATIC / "widget.js" if (_STATIC / "widget.js").is_file() else _FALLBACK_ESM
    if (_STATIC / "widget.css").is_file():
        _css = _STATIC / "widget.css"

    #: dict — {width, mult_arity, nodes, edges, in_vars, out_vars}
    structure = traitlets.Dict().tag(sync=True)
    #: {x, y}: (E, P) float32 — each edge's function sampled over its input range
    curves = ArrayDict()
    #: {x, y}: (E, S) float32 — real activations on a training subsample ({} without data)
    samples = ArrayDict()
    #: {edge: (E,), node: (N,)} float32 attribution scores ({} without data)
    scores = ArrayDict()
    #: {train, test}: (T,) float32 RMSE per step over the model's life
    loss = ArrayDict()
    #: {state: "idle"|"running"|"paused", step, steps}
    training = traitlets.Dict(default_value=dict(IDLE)).tag(sync=True)
    #: [l, i, j] of the inspected edge, or []
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    #: [{name, r2, complexity, params, formula, curve: {x, y}, edge, version, step}] for the
    #: selected edge, each tagged with the edge, version and training step it was computed at
    candidates = ArrayList()
    #: {versions: [...], current: "r.s"}
    history = traitlets.Dict().tag(sync=True)
    #: {message, seq} of the last error, {} if none
    error = traitlets.Dict().tag(sync=True)
    #: draw pruned edges ghosted
    show_pruned = traitlets.Bool(False).tag(sync=True)
    #: opacity = tanh(beta * score)
    beta = traitlets.Float(3.0).tag(sync=True)
    #: {version id: frame} each version's drawn data, for time travel without a kernel
    #: (structure, curves {range (E, 2), y (E, P)}, samples, scores, loss; see frames.py)
    frames = ArrayDict()
    #: {steps, opt, lr, lamb, update_grid, other}: what the toolbar's Fit uses (the last fit's)
    fit_args = traitlets.Dict(default_value=dict(FIT_DEFAULTS, other="")).tag(sync=True)
    #: {} or the Pareto panel's points: {complexity, error: (N,) float32, formula, latex,
    #: universe, front: [N], best: int, labels} (pareto.py; from_discovery / from_sweep)
    pareto = ArrayDict()
    from_discovery = classmethod(from_discovery)
    from_sweep = classmethod(from_sweep)

    def __init__(
        self,
        model: KAN,
        dataset: dict | None = None,
        in_vars: list[str] | None = None,
        out_vars: list[str] | None = None,
        beta: float = 3,
        fps: float = 10.0,
        **kwargs: Any,
    ) -> None:
        if not isinstance(model, KAN):
            raise TypeError(f"KANWidget needs a kanwidget KAN, got {type(model).__name__}")
        if dataset is not None:
            check_dataset(model, model_columns(model, dataset))
        if self._esm is _FALLBACK_ESM:
            warnings.warn(
                "kanwidget/static/widget.js is missing: the widget shows a placeholder. "
                "Build the front end with `npm run build` (or `make build`).",
                stacklevel=2,
            )
        self.model = model
        self.dataset = dataset
        self.in_vars = check_labels(model, in_vars, "in_vars")
        self.out_vars = check_labels(model, out_vars, "out_vars")
        beta = check_beta(beta)
        self._data = DataSample.from_dataset(dataset)
        self._lock = threading.RLock()  # model access outside the training thread
        self._error_seq = 0
        self._display_handles: list[Any] = []  # outputs showing this widget (see _update_static)
        self._in_browser_message = 0
        self._static_dirty = False  # the drawn model changed since the SVG was stored
        self._fit_kwargs: dict[str, Any] = {}
        self._dashboard: Any = None
        hooks = TrainerHooks(
            model=lambda: self.model, lock=self._lock, redraw=self._push,
            report_error=self._set_error,
        )  # fmt: skip
        self.trainer = Trainer(hooks, fps)
        payload = build_payload(model, self._data, self.in_vars, self.out_vars)
        self._frames = FrameStore(self._data, self.in_vars, self.out_vars)
        self._frames.update(model)
        payload["frames"] = dict(self._frames.frames)
        super().__init__(beta=float(beta), **payload, **kwargs)
        self.on_msg(self._on_msg)
        self.observe(self._on_selected, names="selected")
        model.add_listener(_model_listener(self))

    # ------------------------------------------------------------------ sync
    def _push(
        self,
        structure: bool = False,
        arrays: bool = False,
        history: bool = False,
        loss: bool = False,
        training: bool = False,
    ) -> None:
        """Rebuild the chosen traits from the model and send them as one message."""
        model, trainer = self.model, self.trainer
        with self.hold_sync():
            self._static_dirty |= structure or arrays
            if structure:
                self.structure = build_structure(model, self.in_vars, self.out_vars)
                if self.selected and not edge_is_active(self, list(self.selected)):
                    self.selected, self.candidates = [], []  # pruned: nothing to inspect
            if arrays:
                built = build_arrays(model, self._data)
                self.curves, self.samples, self.scores = (
                    built["curves"], built["samples"], built["scores"],
                )  # fmt: skip
            if history:
                self.history = build_history(model)
                if self._frames.update(model):
                    self.frames = dict(self._frames.frames)
                if self.selected and trainer.state == "idle":
                    self._refresh_candidates()  # the inspected curve may have changed
            if loss:
                self.loss = build_loss(model)
            if training:
                self.training = {
                    "state": trainer.state,
                    "step": trainer.step,
                    "steps": trainer.steps,
                }
        if training and trainer.state == "idle":
            self._update_static()  # e.g. the end of a run started by the Fit button

    def refresh(self) -> None:
        """Redraw everything from the model (after editing the model outside the widget)."""
        self.trainer.submit(Command(self._push_all, "read", "refresh"))

    def _push_all(self) -> None:
        self._push(structure=True, arrays=True, history=True, loss=True, training=True)
        self._update_static()

    def _set_error(self, message: str) -> None:
        self._error_seq += 1
        self.error = {"message": str(message), "seq": self._error_seq}

    def _refresh_candidates(self) -> None:
        l, i, j = self.selected
        try:
            self.candidates = edge_candidates(self, l, i, j)
        except ValueError:  # no data to fit on: the inspector says so
            self.candidates = []

    def _notice(self, message: str) -> None:
        """Tell the user what an action did besides what they asked (an info banner)."""
        self._error_seq += 1
        self.error = {"message": message, "seq": self._error_seq, "level": "info"}

    # ------------------------------------------------------------------ training
    def fit(self, steps: int = 50, dataset: dict | None = None, **fit_kwargs: Any) -> None:
        """Train in a background thread (returns at once); ``wait()`` joins.

        Takes ``model.fit``'s arguments (``opt``, ``lr``, ``lamb``, ``update_grid``...).
        """
        dataset = dataset if dataset is not None else self.dataset
        if dataset is None:
            raise ValueError(
                "this widget has no dataset: pass KANWidget(model, dataset) or fit(dataset=...)"
            )
        if self.model.n_edges() == 0:
            raise ValueError("nothing to train: every edge is pruned (check out an older version)")
        dataset = model_columns(self.model, dataset)  # after prune_input: the model's columns
        check_fit(self.model, dataset, steps, fit_kwargs)  # raised here, not in the thread
        shown = fit_args(steps, fit_kwargs)
        self.trainer.start(steps, dataset, **fit_kwargs)
        self._fit_kwargs = dict(fit_kwargs)
        self.fit_args = shown

    def stop(self) -> None:
        """End training after the current step."""
        self.trainer.stop()

    def pause(self) -> None:
        """Hold training after the current step (edits still apply); ``resume`` continues."""
        self.trainer.pause()

    def resume(self) -> None:
        """Continue a paused training."""
        self.trainer.resume()

    def wait(self, timeout: float | None = None) -> bool | None:
        """Block until training (and edits queued during it) has finished.

        Returns None without ``timeout`` (so ``w.wait()`` as a cell's last line prints
        nothing); with one, True if training has finished in time.  Ctrl-C (interrupting
        the cell) stops the training after the current step, keeps the steps made as the
        ``fit`` version, and raises ``KeyboardInterrupt`` once the model is idle.
        """
        done = self.trainer.wait(timeout)
        if done:
            self._update_static()
        return done if timeout is not None else None

    # ------------------------------------------------------------------ edge actions
    def select_edge(self, l: int, i: int, j: int) -> None:
        """Inspect edge (l, i, j): sets ``selected`` and fills ``candidates`` (suggest_symbolic).

        Until the candidates arrive (at once when idle, at the next optimiser step while
        training) ``candidates`` is empty; a constant edge gets none.
        """
        check_edge(self.model, l, i, j)
        if not edge_is_active(self, [l, i, j]):
            raise ValueError(f"edge ({l}, {i}, {j}) is pruned: there is nothing to inspect")
        if list(self.selected) != [l, i, j]:
            with self.hold_sync():
                self.selected, self.candidates = [l, i, j], []
        self.trainer.submit(Command(lambda: self._suggest(l, i, j), "read", "suggest"))

    def _suggest(self, l: int, i: int, j: int) -> None:
        if list(self.selected) != [l, i, j]:
            return  # another edge was selected meanwhile
        check_edge(self.model, l, i, j)
        self.candidates = edge_candidates(self, l, i, j)

    def symbolify(self, l: int, i: int, j: int, name: str) -> None:
        """Fix edge (l, i, j) to library function ``name`` (``fix_symbolic``); one version."""
        check_edge(self.model, l, i, j)
        check_function_name(name)

        def apply() -> None:
            check_edge(self.model, l, i, j)
            self._ensure_input()
            self.model.fix_symbolic(l, i, j, name)
            self._changed()

        self.trainer.submit(Command(apply, "edit", f"symbolify ({l}, {i}, {j}) -> {name}"))

    def prune_edge(self, l: int, i: int, j: int) -> None:
        """Switch edge (l, i, j) off (``model.remove_edge``); one version."""
        check_edge(self.model, l, i, j)

        def apply() -> None:
            check_edge(self.model, l, i, j)
            layer = self.model.layers[l]
            if not (layer.mask[i, j] > 0 or layer.sym_mask[i, j] > 0):
                raise ValueError(f"edge ({l}, {i}, {j}) is already pruned")
            self.model.remove_edge(l, i, j)
            self._changed()

        self.trainer.submit(Command(apply, "edit", f"prune edge ({l}, {i}, {j})"))

    def prune_node(self, l: int, i: int) -> None:
        """Switch off every edge of node (l, i) (``model.remove_node``); one version."""
        check_node(self.model, l, i)

        def apply() -> None:
            check_node(self.model, l, i)
            self.model.remove_node(l, i)
            self._changed()

        self.trainer.submit(Command(apply, "edit", f"prune node ({l}, {i})"))

    def prune(self, node_th: float = 1e-2, edge_th: float = 3e-2) -> None:
        """Attribution-based ``model.prune()`` (stops training first); one version."""

        def apply() -> None:
            if self.model.n_edges() == 0:
                raise ValueError("nothing to prune: every edge is already pruned")
            self._ensure_input()
            self.model.prune(node_th, edge_th)
            self._changed()

        self.trainer.submit(Command(apply, "restructure", "prune"))

    # ------------------------------------------------------------------ history
    def checkout(self, version: str) -> None:
        """Load version ``version`` (no new version; stops training first)."""
        self._check_version(version)
        trainer = self.trainer
        was_training = trainer.running

        def apply() -> None:
            stopped = self.model.version  # the interrupted run's version, if one was made
            self.model.checkout(version)
            self._changed()
            if was_training:
                self._notice(
                    f"Training was stopped at step {trainer.step} of {trainer.steps} to check "
                    f"out version {version}; the partial run is kept as version {stopped}."
                )

        self.trainer.submit(Command(apply, "restructure", f"checkout {version}"))

    def rewind(self, version: str) -> None:
        """Start a new round from ``version`` (KAN 2.0 naming; one version)."""
        self._check_version(version)

        def apply() -> None:
            self.model.rewind(version)
            self._changed()

        self.trainer.submit(Command(apply, "restructure", f"rewind {version}"))

    def _check_version(self, version: str) -> None:
        if not isinstance(version, str) or version not in self.model.history:
            known = ", ".join(v.id for v in self.model.history)
            raise ValueError(f"version {version!r} does not exist; versions: {known}")

    def _changed(self) -> None:
        """After an edit: clear the error, redraw everything in one message."""
        with self.hold_sync():
            if self.error:
                self.error = {}
            self._push_all()
        self._update_static()

    def _ensure_input(self) -> None:
        """suggest/fix/prune read the model's last input: give it the training data."""
        try:
            self.model.cached_input()
        except ValueError:
            if self.dataset is None:
                raise ValueError("this needs data: create the widget with a dataset") from None
            with torch.no_grad():
                self.model(self.dataset["train_input"].to(self.model.dtype))

    def _edge_index(self, l: int, i: int, j: int) -> int:
        for e, edge in enumerate(self.structure["edges"]):
            if (edge["l"], edge["i"], edge["j"]) == (l, i, j):
                return e
        raise ValueError(f"edge ({l}, {i}, {j}) is not drawn")

    def _on_selected(self, change: dict) -> None:
        if not change["new"]:
            self.candidates = []

    # ------------------------------------------------------------------ outputs
    def close(self) -> None:
        """Stop training and close the comm."""
        trainer = self.__dict__.get("trainer")  # None if __init__ failed early
        if trainer is not None:
            trainer.stop()
        super().close()


def _model_listener(widget: KANWidget) -> Callable[[str], None]:
    """Redraw ``widget`` when its model changes from Python (``model.prune()`` in a cell);
    holds the widget weakly so a closed widget is not kept alive by its model."""
    ref = weakref.ref(widget)

    def on_model_event(event: str) -> None:
        w = ref()
        if w is None:
            widget_model.remove_listener(on_model_event)
            return
        trainer = w.trainer
        if trainer.applying or trainer.state != "idle":
            return  # widget actions and training frames redraw themselves
        w.refresh()

    widget_model = widget.model
    return on_model_event
