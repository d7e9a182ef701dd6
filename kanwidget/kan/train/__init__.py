"""Training: ``fit`` as one loop over an engine (objective + optimiser), grid updates, refine."""

from .loop import (
    StopTraining,
    check_dataset,
    fit,
    refine,
    regularization,
    update_grid_from_samples,
)

__all__ = [
    "StopTraining",
    "check_dataset",
    "fit",
    "refine",
    "regularization",
    "update_grid_from_samples",
]
