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
import numpy as np
import torch
import traitlets

from ..kan.network import KAN
from ..kan.pruning import check_edge, check_node
from ..kan.train import check_dataset
from .codec import ArrayDict, ArrayList
from .messages import MessageError, check_function_name, parse_message
from .payload import (
    DataSample,
    build_arrays,
    build_candidate,
    build_history,
    build_loss,
    build_payload,
    build_structure,
)
from .static_svg import diagram_svg
from .trainer import Command, Trainer, TrainerHooks

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_FALLBACK_ESM = """
export default { render({ el }) {
  el.textContent = "kanwidget: kanwidget/static/widget.js is missing; run `npm run build`.";
} };
"""
IDLE = {"state": "idle", "step": 0, "steps": 0}


class KANWidget(anywidget.AnyWidget):
    """Interactive diagram of a KAN: edge curves, activations, scores, history; trains live.

    Parameters
    ----------
    model : KAN (edited in place by the actions)
    dataset : pykan dataset dict (``train_input``, ...) or None; needed for ``fit``,
        activation samples and attribution scores
    in_vars, out_vars : names of the inputs / outputs (default ``x1..``, ``y1..``)
    beta : edge opacity is ``tanh(beta * score)`` (pykan)
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
    #: [{name, r2, complexity, params, formula, curve: {x, y}}] for the selected edge
    candidates = ArrayList()
    #: {versions: [...], current: "r.s"}
    history = traitlets.Dict().tag(sync=True)
    #: {message, seq} of the last error, {} if none
    error = traitlets.Dict().tag(sync=True)
    #: draw pruned edges ghosted
    show_pruned = traitlets.Bool(False).tag(sync=True)
    #: opacity = tanh(beta * score)
    beta = traitlets.Float(3.0).tag(sync=True)

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
            check_dataset(model, dataset)
        if self._esm is _FALLBACK_ESM:
            warnings.warn(
                "kanwidget/static/widget.js is missing: the widget shows a placeholder. "
                "Build the front end with `npm run build` (or `make build`).",
                stacklevel=2,
            )
        self.model = model
        self.dataset = dataset
        self.in_vars = list(in_vars) if in_vars is not None else None
        self.out_vars = list(out_vars) if out_vars is not None else None
        self._data = DataSample.from_dataset(dataset)
        self._lock = threading.RLock()  # model access outside the training thread
        self._error_seq = 0
        self._display_handles: list[Any] = []  # outputs showing this widget (see _update_static)
        self._in_browser_message = 0
        self._fit_kwargs: dict[str, Any] = {}
        self._dashboard: Any = None
        hooks = TrainerHooks(
            model=lambda: self.model, lock=self._lock, redraw=self._push,
            report_error=self._set_error,
        )  # fmt: skip
        self.trainer = Trainer(hooks, fps)
        payload = build_payload(model, self._data, self.in_vars, self.out_vars)
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
            if structure:
                self.structure = build_structure(model, self.in_vars, self.out_vars)
                if self.selected and not self._edge_exists(self.selected):
                    self.selected, self.candidates = [], []
            if arrays:
                built = build_arrays(model, self._data)
                self.curves, self.samples, self.scores = (
                    built["curves"], built["samples"], built["scores"],
                )  # fmt: skip
            if history:
                self.history = build_history(model)
            if loss:
                self.loss = build_loss(model)
            if training:
                self.training = {
                    "state": trainer.state,
                    "step": trainer.step,
                    "steps": trainer.steps,
                }

    def refresh(self) -> None:
        """Redraw everything from the model (after editing the model outside the widget)."""
        self.trainer.submit(Command(self._push_all, "read", "refresh"))

    def _push_all(self) -> None:
        self._push(structure=True, arrays=True, history=True, loss=True, training=True)

    def _set_error(self, message: str) -> None:
        self._error_seq += 1
        self.error = {"message": str(message), "seq": self._error_seq}

    def _edge_exists(self, edge) -> bool:
        try:
            check_edge(self.model, *edge)
            return True
        except ValueError:
            return False

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
        self._fit_kwargs = dict(fit_kwargs)
        self.trainer.start(steps, dataset, **fit_kwargs)

    def stop(self) -> None:
        """End training after the current step."""
        self.trainer.stop()

    def pause(self) -> None:
        self.trainer.pause()

    def resume(self) -> None:
        self.trainer.resume()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until training (and edits queued during it) has finished; True if it has."""
        done = self.trainer.wait(timeout)
        if done:
            self._update_static()
        return done

    # ------------------------------------------------------------------ edge actions
    def select_edge(self, l: int, i: int, j: int) -> None:
        """Inspect edge (l, i, j): sets ``selected`` and fills ``candidates`` (suggest_symbolic)."""
        check_edge(self.model, l, i, j)
        self.selected = [l, i, j]
        self.trainer.submit(Command(lambda: self._suggest(l, i, j), "read", "suggest"))

    def _suggest(self, l: int, i: int, j: int) -> None:
        if list(self.selected) != [l, i, j]:
            return  # another edge was selected meanwhile
        check_edge(self.model, l, i, j)
        self._ensure_input()
        found = self.model.suggest_symbolic(l, i, j)
        e = self._edge_index(l, i, j)
        xs = torch.as_tensor(np.asarray(self.curves["x"][e]), dtype=torch.float64)
        self.candidates = [build_candidate(c, xs) for c in found]

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
            self._ensure_input()
            self.model.prune(node_th, edge_th)
            self._changed()

        self.trainer.submit(Command(apply, "restructure", "prune"))

    # ------------------------------------------------------------------ history
    def checkout(self, version: str) -> None:
        """Load version ``version`` (no new version; stops training first)."""
        self._check_version(version)

        def apply() -> None:
            self.model.checkout(version)
            self._changed()

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

    # ------------------------------------------------------------------ messages
    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        """Handle one browser action; any problem is answered through ``error``."""
        self._in_browser_message += 1
        try:
            action, args = parse_message(content)
            self._dispatch(action, args)
        except MessageError as exc:
            self._set_error(str(exc))
        except Exception as exc:  # the message boundary: never let an action crash the comm
            if not getattr(exc, "_kanwidget_reported", False):
                self._set_error(str(exc) or type(exc).__name__)
        finally:
            self._in_browser_message -= 1

    def _dispatch(self, action: str, args: dict[str, Any]) -> None:
        if action in ("select_edge", "prune_edge", "symbolify", "preview"):
            l, i, j = args["edge"]
            if action == "select_edge":
                self.select_edge(l, i, j)
            elif action == "prune_edge":
                self.prune_edge(l, i, j)
            elif action == "symbolify":
                self.symbolify(l, i, j, args["name"])
            else:
                check_edge(self.model, l, i, j)  # hover: nothing to compute
        elif action == "prune_node":
            self.prune_node(*args["node"])
        elif action == "prune":
            self.prune()
        elif action == "fit":
            self.fit(args["steps"], **self._fit_kwargs)
        elif action in ("pause", "resume", "stop"):
            getattr(self, action)()
        elif action in ("checkout", "rewind"):
            getattr(self, action)(args["version"])

    # ------------------------------------------------------------------ outputs
    def dashboard(self):
        """The widget above a live bqplot loss chart (train/test RMSE, log scale)."""
        import ipywidgets

        from .dashboard import LossChart

        if self._dashboard is None:
            self._dashboard = LossChart(self)
        return ipywidgets.VBox([self, self._dashboard.figure])

    def close(self) -> None:
        """Stop training and close the comm."""
        trainer = self.__dict__.get("trainer")  # None if __init__ failed early
        if trainer is not None:
            trainer.stop()
        super().close()

    def _ipython_display_(self) -> None:
        """Display the live view, keeping a handle on the output so the static SVG stored
        beside it (what renderers without widgets show) can follow the model."""
        from IPython.display import display

        data, meta = self._repr_mimebundle_()
        handle = display(data, metadata=meta, raw=True, display_id=True)
        if handle is not None:
            self._display_handles.append(handle)

    def _update_static(self) -> None:
        """Refresh the stored SVG after a change made from Python (a notebook cell).

        Updating an output re-creates the live view in JupyterLab, so this is skipped for
        clicks in the widget and off the kernel's main thread (edits applied during
        training); ``wait()`` and the next Python-side action catch up.
        """
        if (
            not self._display_handles
            or self._in_browser_message
            or threading.current_thread() is not threading.main_thread()
        ):
            return
        data, meta = self._repr_mimebundle_()
        for handle in self._display_handles:
            handle.update(data, metadata=meta, raw=True)

    def _repr_mimebundle_(self, **kwargs: Any):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle or {}, {})
        data = dict(data)
        data["image/svg+xml"] = diagram_svg(
            self.structure, self.curves, self.scores, self.beta, self.show_pruned
        )
        return data, meta


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
