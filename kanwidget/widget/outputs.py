"""What a KANWidget shows outside its live view: the static SVG stored beside it (for
renderers without widgets: code hosts, VS Code, a notebook reopened without its state) and
the bqplot dashboard.  Mixed into ``KANWidget`` (``widget.py``)."""

from __future__ import annotations

from typing import Any

from .static_svg import diagram_svg


class WidgetOutputs:
    """Outputs of a ``KANWidget``: it provides the traits, the trainer and the display handles."""

    def dashboard(self: Any):
        """The widget above a live bqplot loss chart (train/test RMSE, log scale)."""
        import ipywidgets

        from .dashboard import LossChart

        if self._dashboard is None:
            self._dashboard = LossChart(self)
        return ipywidgets.VBox([self, self._dashboard.figure])

    def _ipython_display_(self: Any) -> None:
        """Display the live view, keeping a handle on the output so the static SVG stored
        beside it (what renderers without widgets show) can follow the model."""
        from IPython.display import display

        data, meta = self._repr_mimebundle_()
        self._static_dirty = False
        handle = display(data, metadata=meta, raw=True, display_id=True)
        if handle is not None:
            self._display_handles.append(handle)

    def _update_static(self: Any) -> None:
        """Refresh the stored SVG after the drawn model changed, whether a notebook cell or a
        click in the widget changed it, so a saved notebook's picture (what renderers
        without widgets show) matches the widget.

        Skipped while training runs (frames would re-render the output ten times a second);
        the run's end catches up. In JupyterLab the update re-renders the output: the front
        end moves the live view, as the user left it (zoom, pan, scroll, inspector, focus),
        into the new output instead of building a new one (js/reattach.ts).
        """
        if not self._display_handles or not self._static_dirty or self.trainer.state != "idle":
            return
        self._static_dirty = False
        data, meta = self._repr_mimebundle_()
        for handle in self._display_handles:
            handle.update(data, metadata=meta, raw=True)

    def _repr_mimebundle_(self: Any, **kwargs: Any):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle or {}, {})
        data = dict(data)
        data["image/svg+xml"] = diagram_svg(
            self.structure, self.curves, self.scores, self.beta, self.show_pruned
        )
        return data, meta
