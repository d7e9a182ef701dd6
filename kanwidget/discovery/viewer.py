"""How a discovery result (a ``SweepResult``, a ``Discovery``) finds its widget.

``kanwidget.discovery`` never imports ``kanwidget.widget`` (the wall in DESIGN.md): the
widget package registers its viewer here when it is imported (``kanwidget/widget/__init__.py``),
and ``result.widget()`` calls it.  ``import kanwidget`` loads the widget package lazily, so
``show`` imports it by name on first use (which registers the viewer): in a notebook
``result.widget()`` just works.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

_viewer: Callable[..., Any] | None = None


def register_viewer(viewer: Callable[..., Any]) -> None:
    """Set ``viewer(result, **kwargs)``, the function ``show`` calls."""
    global _viewer
    _viewer = viewer


def show(result: Any, **kwargs: Any) -> Any:
    """The registered viewer's widget for ``result``.

    Raises
    ------
    RuntimeError
        If no viewer is registered even after importing ``kanwidget.widget``.
    """
    if _viewer is None:
        importlib.import_module("kanwidget.widget")  # registers its viewer (lazy import)
    if _viewer is None:
        raise RuntimeError("no widget is registered: `import kanwidget.widget` first")
    return _viewer(result, **kwargs)
