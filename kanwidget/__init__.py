"""kanwidget: a fast MultKAN backend and a live JupyterLab widget for it."""

from .kan import KAN, MultKAN, StopTraining, create_dataset

__all__ = ["KAN", "MultKAN", "StopTraining", "create_dataset"]
__version__ = "0.1.0"
