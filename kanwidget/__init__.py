"""kanwidget: a fast MultKAN backend and a live JupyterLab widget for it."""

from .discovery import Discovery, discover, sweep
from .kan import KAN, MultKAN, StopTraining, create_dataset
from .kan.compiler import kanpiler
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
