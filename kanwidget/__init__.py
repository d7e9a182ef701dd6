"""kanwidget: a fast MultKAN backend and a live JupyterLab widget for it.

``KANWidget`` is imported on first use (PEP 562), so a worker process that only trains or
discovers (``sweep``, ``discover``) does not load anywidget and ipywidgets.
"""

from typing import TYPE_CHECKING, Any

from .discovery import Discovery, discover, sweep
from .kan import KAN, MultKAN, StopTraining, create_dataset
from .kan.compiler import kanpiler

if TYPE_CHECKING:
    from .widget import KANWidget

__all__ = [
    "Discovery",
    "KAN",
    "KANWidget",
    "MultKAN",
    "StopTraining",
    "create_dataset",
    "discover",
    "kanpiler",
    "sweep",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Load the widget module the first time ``kanwidget.KANWidget`` is asked for."""
    if name == "KANWidget":
        from .widget import KANWidget

        return KANWidget
    raise AttributeError(f"module 'kanwidget' has no attribute {name!r}")
