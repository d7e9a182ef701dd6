"""Transactions: every public operation on a KAN completes or changes nothing.

A database keeps a row intact when a statement fails; a KAN holds hours of a scientist's
attention, so its verbs get the same care.  :func:`transaction` snapshots everything a verb
can change (every module's parameters, buffers and submodules *by identity*, the tensors'
values, and the plain attributes: widths, symbolic names, input ids, loss log, cached input)
and, if the body raises, puts all of it back and re-raises:

* the state dict is bit-identical afterwards (values copied back into the *same* tensor
  objects, so an optimiser holding the parameters, e.g. a training loop whose callback ran
  the failed edit, keeps working on the restored values);
* the history's current version is restored and versions the failed call committed are
  discarded (versions committed by edits that ran *inside* it, through
  ``model.separate_versions()``, succeeded on their own and are kept as branches);
* only the outermost transaction of a thread snapshots; nested ones (``prune`` calling
  ``prune_node``) join it.  ``separate_versions`` starts a new outermost level, so an edit
  applied between training steps is atomic on its own.

A model is changed by one thread at a time: a verb called from another thread while a
transaction is open (e.g. ``model.prune()`` in a cell while a widget trains the model in
the background) raises ``RuntimeError`` at once and changes nothing, instead of racing the
optimiser or waiting for a paused training that only the (blocked) kernel could resume.

Public: :func:`transaction` (context manager), :func:`atomic` (method decorator),
:func:`new_level` (used by ``separate_versions``), :func:`held` (a read that must not see
a model another thread is changing, e.g. ``save``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from .network import KAN

F = TypeVar("F", bound=Callable[..., Any])

# attributes a rollback leaves alone: bookkeeping of the operation/transaction machinery,
# listeners (the widget), the history (restored through its own API) and torch's hooks
_KEEP = {"history", "_listeners", "_op_depth", "_parameters", "_buffers", "_modules", "training"}


def _owned(key: str) -> bool:
    return key not in _KEEP and "hook" not in key


def _copy_containers(value: Any) -> Any:
    """Copy lists/dicts/tuples/sets recursively; tensors and other objects by reference
    (verbs reassign them rather than mutate them; tensors held by modules are restored
    separately, by value)."""
    if isinstance(value, list):
        return [_copy_containers(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy_containers(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_containers(v) for k, v in value.items()}
    if isinstance(value, set):
        return set(value)
    return value


@dataclass
class _ModuleRecord:
    module: nn.Module
    parameters: dict[str, Any]
    buffers: dict[str, Any]
    modules: dict[str, Any]
    attributes: dict[str, Any]


class Snapshot:
    """Everything a verb may change on ``model`` (the history excepted), restorable in place.

    Parameters
    ----------
    model : KAN (any ``nn.Module`` works: all submodules are captured)
    """

    def __init__(self, model: nn.Module) -> None:
        self.records: list[_ModuleRecord] = []
        tensors: dict[int, tuple[Tensor, Tensor, bool]] = {}
        for module in model.modules():
            self.records.append(
                _ModuleRecord(
                    module,
                    dict(module._parameters),
                    dict(module._buffers),
                    dict(module._modules),
                    {k: _copy_containers(v) for k, v in vars(module).items() if _owned(k)},
                )
            )
            for t in (*module._parameters.values(), *module._buffers.values()):
                if t is not None and id(t) not in tensors:
                    tensors[id(t)] = (t, t.detach().clone(), t.requires_grad)
        self.tensors = list(tensors.values())

    def restore(self) -> None:
        """Put every module, attribute and tensor value back as captured."""
        for rec in self.records:
            m = rec.module
            for live, saved in ((m._parameters, rec.parameters), (m._buffers, rec.buffers),
                                (m._modules, rec.modules)):  # fmt: skip
                live.clear()
                live.update(saved)
            state = vars(m)
            for key in [k for k in state if _owned(k) and k not in rec.attributes]:
                del state[key]  # attributes the failed call added
            state.update(_copy_containers(rec.attributes))
        with torch.no_grad():
            for tensor, value, requires_grad in self.tensors:
                if tensor.shape == value.shape and tensor.dtype == value.dtype:
                    tensor.copy_(value)
                else:  # the call replaced the tensor's data (e.g. ``coef.data = ...``)
                    tensor.data = value.clone()
                if tensor.is_leaf:
                    tensor.requires_grad_(requires_grad)


@dataclass
class _Frame:
    """One open outermost transaction of a model on a thread."""

    snapshot: Snapshot
    n_versions: int
    current: str | None
    keep: set[str] = field(default_factory=set)  # ids committed by successful inner levels


class _ModelState:
    """Per-model transaction bookkeeping (kept outside the model so it deep-copies and
    pickles unchanged)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.local = threading.local()  # per thread: depth, frames

    def depth(self) -> int:
        return getattr(self.local, "depth", 0)

    def frames(self) -> list[_Frame]:
        if not hasattr(self.local, "frames"):
            self.local.frames = []
        return self.local.frames


_STATES: weakref.WeakKeyDictionary[nn.Module, _ModelState] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def _state(model: nn.Module) -> _ModelState:
    with _STATES_LOCK:
        state = _STATES.get(model)
        if state is None:
            state = _STATES[model] = _ModelState()
        return state


@contextlib.contextmanager
def held(model: KAN, what: str) -> Iterator[None]:
    """Keep other threads from changing ``model`` while the body reads it (e.g. ``save``).

    Raises
    ------
    RuntimeError
        If another thread is changing the model (a widget training it).
    """
    state = _state(model)
    if not state.lock.acquire(blocking=False):
        raise RuntimeError(
            f"cannot {what} while another thread changes it (a widget training it?): "
            "call widget.stop() / widget.wait() first"
        )
    try:
        yield
    finally:
        state.lock.release()


def _history_ids(model: KAN) -> list[str]:
    return [v.id for v in model.history]


def _current(model: KAN) -> str | None:
    return model.history._current


@contextlib.contextmanager
def transaction(model: KAN) -> Iterator[None]:
    """Run the body atomically on ``model``: on any exception, restore the model and its
    history's current version, discard the versions the body committed, and re-raise.

    Raises
    ------
    RuntimeError
        If another thread is inside a transaction on the same model (nothing is changed).
    """
    state = _state(model)
    if state.depth() > 0:  # nested: the enclosing transaction covers this one
        state.local.depth += 1
        try:
            yield
        finally:
            state.local.depth -= 1
        return
    if not state.lock.acquire(blocking=False):
        raise RuntimeError(
            "the model is being changed by another thread (a widget training it?): "
            "call widget.stop() / widget.wait() first, or use the widget's methods, "
            "which apply edits between training steps"
        )
    frames = state.frames()
    try:
        frame = _Frame(Snapshot(model), len(model.history), _current(model))
        frames.append(frame)
        state.local.depth = 1
        try:
            yield
        except BaseException:
            _rollback(model, frame)
            raise
        finally:
            state.local.depth = 0
            frames.pop()
        if frames:  # inside separate_versions: the enclosing level must keep these ids
            added = set(_history_ids(model)[frame.n_versions :])
            for outer in frames:
                outer.keep |= added
    finally:
        state.lock.release()


def _rollback(model: KAN, frame: _Frame) -> None:
    frame.snapshot.restore()
    history = model.history
    added = _history_ids(model)[frame.n_versions :]
    history._discard([vid for vid in added if vid not in frame.keep])
    history._move_current(frame.current)
    for layer in model.layers:  # derived caches follow the restored names and masks
        layer._sym_groups = None


@contextlib.contextmanager
def new_level(model: KAN) -> Iterator[None]:
    """Inside an open transaction, let the next transaction of this thread be an outermost
    one (its own snapshot and rollback); see ``KAN.separate_versions``."""
    state = _state(model)
    depth = state.depth()
    state.local.depth = 0
    try:
        yield
    finally:
        state.local.depth = depth


def atomic(method: F) -> F:
    """Decorate a ``KAN`` method so the whole call runs in one :func:`transaction`."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with transaction(self):
            return method(self, *args, **kwargs)

    wrapper.__kanwidget_atomic__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
