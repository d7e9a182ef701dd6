"""Discovery: parallel universes and data -> verified formulas (issue 13)."""

from .discover import Discovery, discover

__all__ = ["Discovery", "discover"]
