"""Discovery: parallel universes (``sweep``) and data -> verified formulas (``discover``).

Uses ``kanwidget.kan`` only, never ``kanwidget.widget``.
"""

from .discover import Discovery, discover
from .sweep import SweepResult, sweep
from .universe import Universe

__all__ = ["Discovery", "SweepResult", "Universe", "discover", "sweep"]
