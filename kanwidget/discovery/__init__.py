"""Discovery: parallel universes (``sweep``) and data -> verified formulas (issue 13).

Uses ``kanwidget.kan`` only, never ``kanwidget.widget``.
"""

from .sweep import SweepResult, sweep
from .universe import Universe

__all__ = ["SweepResult", "Universe", "sweep"]
