"""KAN universes of a discovery in joblib's loky worker processes, bounded by deadlines.

:class:`UniversePool` keeps exactly ``workers`` universes in flight (none waits in a queue)
while the main process does the regression, refills the pool as universes finish until
``search_end - 5`` s, and collects the results.  Collection never outlasts
``search_end + grace``: a universe still running then is abandoned and the pool's workers
are killed (joblib respawns them on the next use).  ``stop()`` is the early stop: queued
universes are dropped and running ones killed at once.

Uses joblib's own reusable executor (the pool ``sweep``'s ``Parallel`` uses): a bare loky
pool would become the shared one without joblib's temp-folder manager and break the next
``Parallel``.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, wait
from typing import Any

from . import clock
from .structure import UniverseResult, run_universe

START_MARGIN = 5.0  # no universe starts in the last seconds of the search


class UniversePool:
    """Run ``configs`` (see :func:`.structure.universe_configs`) in ``workers`` processes.

    Parameters
    ----------
    configs : universe configurations, in order
    kan_args : ``(x_train, y_train, x_test, y_test)`` float64 arrays
    search_end : deadline (a :func:`.clock.now` value) each universe gets (minus 1 s)
    workers : worker processes
    """

    def __init__(self, configs, kan_args, search_end: float, workers: int) -> None:
        from joblib.executor import get_memmapping_executor

        self.executor = get_memmapping_executor(workers)
        self.queue = list(enumerate(configs))
        self.kan_args = kan_args
        self.search_end = search_end
        self.workers = workers
        self.order: dict[Any, int] = {}
        self.pending: set = set()
        self.done: list = []
        self.stopped = False
        self._submit()

    def _submit(self) -> None:
        while (
            self.queue
            and len(self.pending) < self.workers
            and clock.now() < self.search_end - START_MARGIN
        ):
            k, cfg = self.queue.pop(0)
            f = self.executor.submit(
                run_universe, cfg, *self.kan_args, deadline=self.search_end - 1
            )
            self.order[f] = k
            self.pending.add(f)

    def stop(self) -> None:
        """Early stop: keep what has finished, drop the queue, kill running universes."""
        self.queue.clear()
        finished = {f for f in self.pending if f.done()}
        self.done.extend(finished)
        self.pending -= finished
        if self.pending:
            self.executor.terminate(kill_workers=True)
            self.stopped = True
        self.pending.clear()

    def collect(self, grace: float) -> list[UniverseResult]:
        """Wait for the universes until ``search_end + grace`` at most; results in config
        order (a crashed universe becomes a :class:`UniverseResult` with ``error``)."""
        limit = self.search_end + grace
        while self.pending and clock.now() < limit:
            finished, still = wait(
                self.pending, timeout=max(0.0, limit - clock.now()), return_when=FIRST_COMPLETED
            )
            self.done.extend(finished)
            self.pending = set(still)
            self._submit()
        if self.pending:  # a universe overran its deadline by more than `grace`: abandon it
            self.executor.terminate(kill_workers=True)
            self.stopped = True
            self.pending.clear()
        results = []
        for f in sorted(self.done, key=lambda f: self.order[f]):
            try:
                results.append(f.result())
            except Exception as exc:  # noqa: BLE001 - a crashed worker is one failed universe
                results.append(UniverseResult(config={}, error=f"{type(exc).__name__}: {exc}"))
        return results
