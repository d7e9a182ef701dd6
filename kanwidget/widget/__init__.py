"""The anywidget side of kanwidget: KANWidget and what feeds its synced traits."""

from ..discovery import viewer
from .widget import KANWidget

# `SweepResult.widget()` / `Discovery.widget()` show themselves through this (discovery/ never
# imports the widget)
viewer.register_viewer(KANWidget.from_discovery)

__all__ = ["KANWidget"]
