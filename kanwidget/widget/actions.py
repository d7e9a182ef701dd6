"""Browser actions: one validated message -> one call of a KANWidget method.

Mixed into :class:`~kanwidget.widget.widget.KANWidget`.  Every message is checked by
:func:`messages.parse_message` first; any problem is answered through the ``error`` trait
(in the user's words where the UI could have prevented it) and the model is left alone.
A successful action clears the banner.  ``ping`` is the front end's heartbeat: the answer
(``{"pong": true}``) tells it the kernel still holds this widget.
"""

from __future__ import annotations

from typing import Any

from ..kan.pruning import check_edge
from .messages import MessageError, parse_message

#: the Fit options the toolbar shows and sends (``model.fit``'s names and defaults)
FIT_DEFAULTS: dict[str, Any] = {
    "steps": 50,
    "opt": "LBFGS",
    "lr": 1.0,
    "lamb": 0.0,
    "update_grid": True,
}


def fit_args(steps: int, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``fit_args`` trait: what the toolbar's Fit will use after ``fit(steps, **kwargs)``.

    Arguments outside the five shown (``batch``, ``lamb_l1``...) are listed under
    ``other`` as text, since the toolbar's Fit reuses them too.
    """
    args = dict(FIT_DEFAULTS, steps=int(steps))
    for k in ("opt", "lr", "lamb", "update_grid"):
        if k in kwargs:
            args[k] = kwargs[k]
    args["lr"], args["lamb"] = float(args["lr"]), float(args["lamb"])
    args["update_grid"] = bool(args["update_grid"])
    skip = set(FIT_DEFAULTS) | {"callback", "progress", "dataset"}
    other = {k: v for k, v in kwargs.items() if k not in skip}
    args["other"] = ", ".join(f"{k}={v!r}" for k, v in sorted(other.items()))
    return args


class BrowserActions:
    """The message boundary of KANWidget (``_on_msg``); see the module docstring."""

    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        """Handle one browser action; any problem is answered through ``error``."""
        self._in_browser_message += 1
        try:
            action, args = parse_message(content)
            if action == "ping":
                self.send({"pong": True})
                return
            seq = self._error_seq
            self._dispatch(action, args)
            if self._error_seq == seq and self.error and action != "preview":
                self.error = {}  # it worked: the banner of an earlier failure is out of date
        except MessageError as exc:
            self._set_error(f"the widget sent a request the kernel cannot use ({exc})")
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
            if self.trainer.running:
                raise RuntimeError("already training: press Stop (or wait) before fitting again")
            kwargs = dict(self._fit_kwargs)
            kwargs.update({k: args[k] for k in ("opt", "lr", "lamb", "update_grid") if k in args})
            self.fit(args["steps"], **kwargs)
        elif action in ("pause", "resume", "stop"):
            getattr(self, action)()
        elif action in ("checkout", "rewind"):
            getattr(self, action)(args["version"])
