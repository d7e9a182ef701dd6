"""Training: ``fit`` as one loop over an engine (objective + optimiser), grid updates, refine."""

from .data import check_dataset
from .grid import refine, update_grid_from_samples
from .loop import StopTraining, fit
from .objective import regularization

__all__ = [
    "StopTraining",
    "check_dataset",
    "fit",
    "refine",
    "regularization",
    "update_grid_from_samples",
]
