"""Version tree of a KAN: every structure-changing call is one version (KAN 2.0, sec. 4.3).

A version holds the model state *after* the call, as the ``(config, tensors)`` pair of
``model.snapshot()``, plus what the timeline shows (operation, arguments, losses, number of
active edges, formula, time). Ids follow the KAN 2.0 paper, ``round.step``:

* the first commit is ``0.0``; a commit on top of the current version ``r.s`` is ``r.(s+1)``;
* ``rewind(v)`` with ``v = r.s`` starts round ``R + 1`` (``R`` = the largest round so far):
  its first version ``(R+1).s`` is a copy of ``v`` whose parent is ``v``; commits continue
  ``(R+1).(s+1)``, ...;
* a commit whose id ``r.(s+1)`` already exists (after ``checkout`` of an older version)
  starts round ``R + 1`` instead, as ``(R+1).(s+1)``.

New rounds are always ``R + 1``, so no id is ever produced twice and nothing is
overwritten (pykan's ``rewind`` could overwrite a checkpoint). ``checkout`` moves the
current version without creating one.

Storage is compact: a tensor equal to the parent's tensor of the same name is shared, not
copied, and every stored tensor is a contiguous copy that owns its storage (never a view of
a bigger buffer). Nothing touches the disk unless ``save`` is called; ``save`` writes one
``torch.load(weights_only=True)``-safe file atomically.
"""

from __future__ import annotations

import copy
import importlib
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import torch

from kanwidget.kan import history_format
from kanwidget.kan.history_format import FORMAT, FORMAT_VERSION, parse_id, plain

__all__ = ["FORMAT", "FORMAT_VERSION", "Version", "VersionTree", "parse_id"]

Config = dict[str, Any]
Tensors = dict[str, torch.Tensor]
State = tuple[Config, Tensors]

_MISSING = object()


def _equal(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    same_kind = a.shape == b.shape and a.dtype == b.dtype and a.device == b.device
    return same_kind and torch.equal(a, b)


@dataclass(frozen=True)
class Version:
    """One node of the version tree.

    Attributes
    ----------
    id : str
        ``'round.step'``, e.g. ``'1.2'``.
    parent : str or None
        Id of the version this one was made from (None only for ``'0.0'``).
    operation : str
        The call that produced this state (``'init'``, ``'fit'``, ``'prune_edge'``,
        ``'rewind'``, ...); ``arguments`` holds its JSON-able arguments.
    train_loss, test_loss : float or None
        Losses of the state, if known.
    n_edges : int
        Number of active edges.
    formula : str or None
        Symbolic formula, if the model is symbolic.
    time : float
        Creation time (unix seconds).
    """

    id: str
    parent: str | None
    operation: str
    arguments: dict[str, Any]
    train_loss: float | None
    test_loss: float | None
    n_edges: int
    formula: str | None
    time: float
    _config: Config = field(repr=False, compare=False)
    _tensors: Tensors = field(repr=False, compare=False)

    @property
    def round(self) -> int:
        return parse_id(self.id)[0]

    @property
    def step(self) -> int:
        return parse_id(self.id)[1]

    def as_dict(self) -> dict[str, Any]:
        """Plain metadata (no state), as the widget's timeline draws it."""
        public = (f.name for f in fields(self) if not f.name.startswith("_"))
        return {name: copy.deepcopy(getattr(self, name)) for name in public}


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


class VersionTree:
    """All versions of one model, in creation order, with a current version.

    Mutations hold a re-entrant lock, so a training thread may commit while the kernel
    thread reads or checks out. Returned states are copies: mutating them never changes
    the history.
    """

    def __init__(self) -> None:
        self._versions: dict[str, Version] = {}
        self._children: dict[str, list[str]] = {}
        self._current: str | None = None
        self._max_round = 0
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ mutation
    def commit(
        self,
        config: Mapping[str, Any],
        tensors: Mapping[str, torch.Tensor],
        operation: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        train_loss: float | None = None,
        test_loss: float | None = None,
        n_edges: int = 0,
        formula: str | None = None,
    ) -> Version:
        """Record ``(config, tensors)`` as a child of the current version and make it current.

        The first commit is ``'0.0'``; otherwise the id is ``r.(s+1)`` for current ``r.s``,
        or ``(R+1).(s+1)`` if that id exists already. Tensors equal to the parent's tensor
        of the same name are shared with it; the others are copied.

        Raises
        ------
        TypeError
            If ``config``/``arguments`` are not JSON-like or ``tensors`` holds non-tensors.
        """
        plain_config = plain(config, "config")
        plain_arguments = plain(dict(arguments or {}), "arguments")
        with self._lock:
            parent = None if self._current is None else self._versions[self._current]
            if parent is None:
                new_id = "0.0"
            else:
                new_id = f"{parent.round}.{parent.step + 1}"
                if new_id in self._versions:
                    new_id = f"{self._max_round + 1}.{parent.step + 1}"
            return self._add(
                Version(
                    id=new_id,
                    parent=None if parent is None else parent.id,
                    operation=str(operation),
                    arguments=plain_arguments,
                    train_loss=_optional_float(train_loss),
                    test_loss=_optional_float(test_loss),
                    n_edges=int(n_edges),
                    formula=None if formula is None else str(formula),
                    time=time.time(),
                    _config=plain_config,
                    _tensors=self._store(tensors, parent),
                )
            )

    def rewind(self, version_id: str) -> State:
        """Start a new round from ``version_id``; return the new version's ``(config, tensors)``.

        The new version ``(R+1).s`` (``s`` = step of ``version_id``) has operation
        ``'rewind'``, parent ``version_id`` and exactly its state and metadata.
        """
        with self._lock:
            source = self[version_id]
            new = replace(  # shares the stored config and tensors: they are never mutated
                source,
                id=f"{self._max_round + 1}.{source.step}",
                parent=source.id,
                operation="rewind",
                arguments={"version": source.id},
                time=time.time(),
            )
            return self.state(self._add(new).id)

    def checkout(self, version_id: str) -> State:
        """Make ``version_id`` current (no new version); return its ``(config, tensors)``."""
        with self._lock:
            version = self[version_id]
            self._current = version.id
            return self.state(version.id)

    def _discard(self, version_ids: list[str]) -> None:
        """Remove versions that a failed operation committed (used by ``transaction``).

        Versions that still have children are kept (their states are reachable). Rounds
        are never reused: the next new round stays above every id handed out so far.
        """
        with self._lock:
            for vid in reversed(list(version_ids)):
                version = self._versions.get(vid)
                if version is None or self._children.get(vid):
                    continue
                del self._versions[vid]
                del self._children[vid]
                if version.parent is not None:
                    self._children[version.parent].remove(vid)
                if self._current == vid:
                    self._current = version.parent

    def _move_current(self, version_id: str | None) -> None:
        """Make ``version_id`` current without returning its state (rollback of a failed
        operation, whose model state is restored separately)."""
        with self._lock:
            if version_id is not None:
                version_id = self[version_id].id
            self._current = version_id

    def _add(self, version: Version) -> Version:
        self._versions[version.id] = version
        self._children[version.id] = []
        if version.parent is not None:
            self._children[version.parent].append(version.id)
        self._max_round = max(self._max_round, version.round)
        self._current = version.id
        return version

    @staticmethod
    def _store(tensors: Mapping[str, torch.Tensor], parent: Version | None) -> Tensors:
        previous = {} if parent is None else parent._tensors
        stored: Tensors = {}
        for name, tensor in tensors.items():
            if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
                raise TypeError(
                    f"tensors must map str to Tensor; {name!r} is {type(tensor).__name__}"
                )
            tensor = tensor.detach()
            old = previous.get(name)
            if old is not None and _equal(old, tensor):
                stored[name] = old
            else:  # an owned, contiguous copy: never a view of a bigger buffer
                stored[name] = tensor.clone(memory_format=torch.contiguous_format)
        return stored

    # ------------------------------------------------------------------ queries
    @property
    def current(self) -> Version:
        """The version the model is at. Raises ``LookupError`` if nothing was committed."""
        with self._lock:
            if self._current is None:
                raise LookupError("the history is empty: commit a first version")
            return self._versions[self._current]

    def __getitem__(self, version_id: str) -> Version:
        parse_id(version_id)
        with self._lock:
            version = self._versions.get(version_id)
            if version is None:
                ids = list(self._versions)
                known = ", ".join(ids[:20]) + (
                    f", ... ({len(ids) - 20} more)" if len(ids) > 20 else ""
                )
                raise KeyError(f"version {version_id!r} does not exist; known: {known or 'none'}")
            return version

    def __contains__(self, version_id: object) -> bool:
        return isinstance(version_id, str) and version_id in self._versions

    def __iter__(self) -> Iterator[Version]:
        with self._lock:
            return iter(list(self._versions.values()))

    def __len__(self) -> int:
        return len(self._versions)

    def __getstate__(self) -> dict[str, Any]:  # copy.deepcopy / pickle: locks do not copy
        with self._lock:
            return {key: value for key, value in self.__dict__.items() if key != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"VersionTree({len(self)} versions, current {self._current!r})"

    def children(self, version_id: str) -> list[Version]:
        """Direct children of ``version_id``, in creation order."""
        with self._lock:
            return [self._versions[c] for c in self._children[self[version_id].id]]

    def path(self, version_id: str) -> list[Version]:
        """Versions from the root ``'0.0'`` down to ``version_id`` (inclusive)."""
        with self._lock:
            chain = [self[version_id]]
            while chain[-1].parent is not None:
                chain.append(self._versions[chain[-1].parent])
        return chain[::-1]

    def state(self, version_id: str) -> State:
        """``(config, tensors)`` of ``version_id``, as copies that are safe to mutate."""
        with self._lock:
            version = self[version_id]
        config = copy.deepcopy(version._config)
        return config, {name: t.clone() for name, t in version._tensors.items()}

    def compare(self, a: str, b: str) -> dict[str, Any]:
        """Differences between versions ``a`` and ``b``.

        Returns
        -------
        dict
            ``a``, ``b`` (ids); ``train_loss``, ``test_loss``, ``n_edges``, ``formula`` as
            ``(value_a, value_b)`` pairs; ``changed_tensors`` and ``changed_config``: sorted
            names whose values differ or exist in only one of the two.
        """
        with self._lock:
            va, vb = self[a], self[b]
        names = sorted(set(va._tensors) | set(vb._tensors))
        keys = sorted(set(va._config) | set(vb._config))
        return {
            "a": va.id,
            "b": vb.id,
            "train_loss": (va.train_loss, vb.train_loss),
            "test_loss": (va.test_loss, vb.test_loss),
            "n_edges": (va.n_edges, vb.n_edges),
            "formula": (va.formula, vb.formula),
            "changed_tensors": [
                n for n in names if not _equal(va._tensors.get(n), vb._tensors.get(n))
            ],
            "changed_config": [
                k for k in keys if va._config.get(k, _MISSING) != vb._config.get(k, _MISSING)
            ],
        }

    def as_dicts(self) -> list[dict[str, Any]]:
        """Metadata of every version in creation order (see ``Version.as_dict``)."""
        return [version.as_dict() for version in self]

    def to_dataframe(self) -> Any:
        """The metadata as a ``pandas.DataFrame`` by id, ``time`` in UTC (needs pandas)."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError as exc:
            raise ImportError(
                "VersionTree.to_dataframe() needs pandas: `pip install pandas`, "
                "or use VersionTree.as_dicts()"
            ) from exc
        frame = pandas.DataFrame(self.as_dicts(), columns=history_format.METADATA)
        frame["time"] = pandas.to_datetime(frame["time"], unit="s", utc=True)
        return frame.set_index("id")

    def nbytes(self) -> int:
        """Total bytes of the unique tensors stored (shared tensors count once)."""
        with self._lock:
            unique = {id(t): t for v in self._versions.values() for t in v._tensors.values()}
        return sum(t.untyped_storage().nbytes() for t in unique.values())

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        """The whole tree as plain data (format in ``history_format``), e.g. to embed in a
        model file. The tensors are the stored ones: treat them as read-only."""
        with self._lock:
            versions, current = list(self._versions.values()), self._current
        records = [(v.as_dict(), copy.deepcopy(v._config), v._tensors) for v in versions]
        return history_format.encode(records, current)

    @classmethod
    def from_state(cls, state: Any) -> VersionTree:
        """Rebuild a tree from ``to_state()`` output.

        Raises
        ------
        ValueError
            If ``state`` is not a consistent history (wrong format tag, missing parent,
            malformed id, bad tensor index, ...). No partial tree is ever returned.
        """
        try:
            return cls._from_records(*history_format.decode(state))
        except (TypeError, KeyError, AttributeError, IndexError) as exc:
            raise ValueError(f"malformed version history: {exc}") from exc

    @classmethod
    def _from_records(
        cls, records: list[history_format.Record], current: str | None
    ) -> VersionTree:
        tree = cls()
        for meta, config, tensors in records:
            tree._add(Version(**meta, _config=config, _tensors=tensors))
        tree._current = current
        return tree

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole tree to one file, atomically (temporary file, fsync, rename: an
        interrupted save leaves the previous file intact).

        The file holds only dicts, lists, strings, numbers, None and tensors, so it loads
        with ``torch.load(path, weights_only=True)``.
        """
        history_format.write(self.to_state(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VersionTree:
        """Read a tree written by ``save``.

        Raises
        ------
        ValueError
            If the file is corrupted, truncated, not a kanwidget history, or describes an
            inconsistent tree; the message names the file. Nothing is half-loaded.
        """
        return cls._from_records(*history_format.read(path))
