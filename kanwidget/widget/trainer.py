"""Background training for KANWidget: ``model.fit`` in a daemon thread, throttled frames,
pause/resume/stop, and a command queue applied between optimiser steps.

ipywidgets delivers browser messages only while the kernel is idle, so a ``fit`` that
blocks the cell would freeze the diagram's controls.  Here ``fit`` runs in a thread and its
callback (called after every optimiser step) is the only place where the model changes
while training: queued edits (symbolify, prune an edge...) run there, one version each,
and a frame (curves, samples, scores, loss, progress) is pushed at most ``fps`` times a
second in one ``hold_sync()`` batch.  Edits that replace the model's layers (``prune``,
``checkout``, ``rewind``) would leave the optimiser holding stale parameters, so they stop
the training first and run after ``fit`` has returned.

The trainer knows nothing of the widget class: the widget hands it a :class:`TrainerHooks`
(the model, a lock, a redraw and an error reporter), and it reaches the widget only through
those.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..kan.train.options import as_int

if TYPE_CHECKING:
    from ..kan.network import KAN


@dataclass
class Command:
    """A queued request: ``apply()`` changes (or reads) the model.

    ``kind`` is ``"edit"`` (in place: safe between optimiser steps), ``"read"`` (no
    change) or ``"restructure"`` (replaces layers: only after training has stopped).
    """

    apply: Callable[[], Any]
    kind: str = "edit"
    label: str = ""


@dataclass
class TrainerHooks:
    """What the trainer may use of its owner (the widget).

    ``model()`` returns the model to train; ``lock`` guards the model against the main
    thread; ``redraw(structure=, arrays=, history=, loss=, training=)`` rebuilds and sends the
    chosen synced traits; ``report_error(message)`` shows an error.
    """

    model: Callable[[], KAN]
    lock: Any  # a threading.RLock: held while fit runs and while an idle command applies
    redraw: Callable[..., None]
    report_error: Callable[[str], None]


class Trainer:
    """Runs ``model.fit`` off the kernel's main thread.

    Parameters
    ----------
    hooks : the model, lock, redraw and error reporter of the owning widget
    fps : maximum frames per second pushed to the widget while training (default 10)
    """

    def __init__(self, hooks: TrainerHooks, fps: float = 10.0) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        self.hooks = hooks
        self.fps = float(fps)
        self.state = "idle"  # "idle" | "running" | "paused"
        self.step = 0
        self.steps = 0
        self.frames = 0  # frames pushed by the current/last run
        self.frame_seconds = 0.0  # thread CPU time spent on those frames
        self.result: dict[str, list[float]] | None = None
        self.applying = 0  # commands being applied right now
        self._cond = threading.Condition()
        self._queue: deque[Command] = deque()
        self._active = False  # a fit thread owns the model (guarded by _cond)
        self._paused = False
        self._stop = False
        self._thread: threading.Thread | None = None
        # set when no run is in progress: the end of _run, after its queued commands and
        # last redraw (Thread.join is not used: CPython marks a thread whose join() a Ctrl-C
        # interrupted as finished while it still runs)
        self._done = threading.Event()
        self._done.set()
        self._last_frame = 0.0

    # ------------------------------------------------------------------ control
    @property
    def running(self) -> bool:
        """True while a fit thread is training (or finishing its queued commands)."""
        with self._cond:
            return self._active

    def start(self, steps: int, dataset: dict, **fit_kwargs: Any) -> None:
        """Start ``model.fit(dataset, steps=steps, **fit_kwargs)`` in a daemon thread."""
        steps = as_int(steps, "steps", 0)  # numpy integers too, as model.fit
        fit_kwargs.pop("progress", None)  # no tqdm bar from a background thread
        with self._cond:
            if self._active:
                raise RuntimeError("the widget is already training: call stop() or wait() first")
            self._active, self._paused, self._stop = True, False, False
            self._done.clear()
        self.state, self.step, self.steps, self.frames = "running", 0, steps, 0
        self.frame_seconds = 0.0
        self.result = None
        self._last_frame = time.perf_counter()
        self.hooks.redraw(training=True)
        self._thread = threading.Thread(
            target=self._run, args=(steps, dataset, fit_kwargs), name="kanwidget-fit", daemon=True
        )
        self._thread.start()

    def pause(self) -> None:
        with self._cond:
            if self._active:
                self._paused = True
                self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        """Ask the fit to end after the current step (queued commands still run)."""
        with self._cond:
            if self._active:
                self._stop = True
            self._paused = False
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run (and its queued commands) has finished; True if it has.

        A ``KeyboardInterrupt`` (Ctrl-C on the waiting cell) stops the run after the
        current step, waits for it to commit its version, and is raised again.
        """
        try:
            return self._done.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            self._done.wait()
            raise

    def submit(self, command: Command) -> None:
        """Run ``command`` now if idle (its error is set on the widget *and* raised), else
        queue it for the training thread (its error is set on the widget)."""
        with self._cond:
            if self._active:
                self._queue.append(command)
                if command.kind == "restructure":
                    self._stop = True
                    self._paused = False
                self._cond.notify_all()
                return
        with self.hooks.lock:
            self._apply(command, reraise=True)

    # ------------------------------------------------------------------ thread
    def _run(self, steps: int, dataset: dict, fit_kwargs: dict[str, Any]) -> None:
        hooks = self.hooks
        user_callback = fit_kwargs.pop("callback", None)

        def callback(step: int, record: dict[str, float]) -> bool | None:
            self.step = step + 1
            if user_callback is not None and user_callback(step, record) is False:
                return False
            return self._between_steps()

        with hooks.lock:
            try:
                self.result = hooks.model().fit(
                    dataset, steps=steps, callback=callback, progress=False, **fit_kwargs
                )
            except Exception as exc:  # shown in the widget; the thread must not die silently
                hooks.report_error(f"training failed: {type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self._active = False
                    pending = list(self._queue)
                    self._queue.clear()
                self.state = "idle"
                for command in pending:
                    self._apply(command)
                try:
                    hooks.redraw(
                        structure=True, arrays=True, history=True, loss=True, training=True
                    )
                except Exception as exc:  # keep the thread's end clean; show what went wrong
                    hooks.report_error(f"redraw failed: {type(exc).__name__}: {exc}")
                finally:
                    self._done.set()

    def _between_steps(self) -> bool | None:
        """Inside ``fit``'s callback: apply queued commands, honour pause/stop, push a frame."""
        changed = self._drain()
        with self._cond:
            paused = self._paused and not self._stop
        if paused:
            self.state = "paused"
            self._frame(changed)
            changed = False
            while True:
                with self._cond:
                    if not self._paused or self._stop:
                        break
                    self._cond.wait(0.1)
                if self._drain():
                    self._frame(True)
            self.state = "running"
            self.hooks.redraw(training=True)
        with self._cond:
            if self._stop:
                return False
        now = time.perf_counter()
        if changed or now - self._last_frame >= 1.0 / self.fps:
            self._frame(changed)
        return None

    def _drain(self) -> bool:
        """Apply queued edits/reads in order, up to the first restructure; True if any ran."""
        ran = False
        while True:
            with self._cond:
                if not self._queue or self._queue[0].kind == "restructure":
                    return ran
                command = self._queue.popleft()
            with self.hooks.model().separate_versions():
                self._apply(command)
            ran = True

    def _apply(self, command: Command, reraise: bool = False) -> None:
        """Run one command; its error goes to the widget's ``error`` trait."""
        self.applying += 1  # the command redraws itself: model events are not echoed
        try:
            command.apply()
        except Exception as exc:
            label = f"{command.label} failed: " if command.label else ""
            self.hooks.report_error(f"{label}{exc}")
            if reraise:
                exc._kanwidget_reported = True  # type: ignore[attr-defined]
                raise
        finally:
            self.applying -= 1

    def _frame(self, structure: bool = False) -> None:
        """Push curves, samples, scores, loss and progress (and structure/history if changed)."""
        t0 = time.thread_time()
        self.hooks.redraw(
            structure=structure, arrays=True, history=structure, loss=True, training=True
        )
        self.frames += 1
        self.frame_seconds += time.thread_time() - t0
        self._last_frame = time.perf_counter()
