"""The discovery's time source and its log of phases.

Every deadline of :func:`~kanwidget.discovery.discover` (search, reductions, constant refits,
verification) is read through :func:`now`, so a test can replace the clock (monkeypatch
``kanwidget.discovery.clock.now``) and check the budget logic deterministically, without
wall-clock bounds.  KAN universes run in worker processes keep the real clock there.

:class:`Phase` records what each phase of a discovery did: ``'done'``, ``'skipped'`` (not
started: the budget was spent, or an exact candidate made it unnecessary), or
``'stopped'`` (started, then cut at a deadline or by the early-stop rule).
"""

from __future__ import annotations

import time
from dataclasses import dataclass


def now() -> float:
    """Seconds since the epoch (``time.time()``); the single time source of discovery."""
    return time.time()


@dataclass
class Phase:
    """One phase of a discovery.

    Attributes
    ----------
    name : e.g. ``'power law'``, ``'regression'``, ``'kan universes'``, ``'verify'``
    status : ``'done'``, ``'skipped'`` or ``'stopped'``
    start : seconds since the call started (by :func:`now`)
    seconds : duration (0 when skipped)
    note : why it was skipped or stopped, if it was
    """

    name: str
    status: str
    start: float
    seconds: float = 0.0
    note: str = ""
