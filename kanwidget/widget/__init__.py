"""The anywidget side of kanwidget: KANWidget and what feeds its synced traits."""

from .widget import KANWidget

__all__ = ["KANWidget"]
