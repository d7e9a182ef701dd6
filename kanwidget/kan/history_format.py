"""Plain-data and on-disk format of a version history (see ``history.py`` for the tree).

A saved history is one dict holding only dicts, lists, strings, numbers, None and
tensors, so ``torch.load(path, weights_only=True)`` reads it without unpickling code::

    {"format": "kanwidget.history", "format_version": 1, "current": "1.2",
     "tensors": [t0, t1, ...],                      # each unique tensor once
     "versions": [{"id": "0.0", "parent": None, "operation": "init", "arguments": {},
                   "train_loss": None, "test_loss": None, "n_edges": 15, "formula": None,
                   "time": 1.7e9, "config": {...}, "tensors": {"layers.0.coef": 0, ...}},
                  ...]}                              # in creation order

``decode`` checks everything (types, tensor indices, that each parent comes earlier and
that ids follow the ``round.step`` rule) before anything is built, so a bad file never
half-loads. Writes are atomic: a temporary file in the same folder, fsync, then
``os.replace`` (see ``write``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from typing import Any

import torch

FORMAT = "kanwidget.history"
FORMAT_VERSION = 1

# A decoded version: (metadata as Version's public fields, config, tensors).
Record = tuple[dict[str, Any], dict[str, Any], dict[str, torch.Tensor]]

_ID = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_NONE = type(None)
# Fields of a saved version and the types accepted when decoding.
_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "parent": (str, _NONE),
    "operation": (str,),
    "arguments": (dict,),
    "train_loss": (int, float, _NONE),
    "test_loss": (int, float, _NONE),
    "n_edges": (int,),
    "formula": (str, _NONE),
    "time": (int, float),
    "config": (dict,),
    "tensors": (dict,),
}
METADATA = [name for name in _FIELDS if name not in ("config", "tensors")]


def parse_id(version_id: object) -> tuple[int, int]:
    """Split a version id ``'r.s'`` into ``(round, step)``.

    Raises
    ------
    ValueError
        If ``version_id`` is not a string of the form ``'<int>.<int>'``.
    """
    if isinstance(version_id, str):
        match = _ID.fullmatch(version_id)
        if match:
            return int(match[1]), int(match[2])
    raise ValueError(f"version id {version_id!r} is not of the form 'round.step', e.g. '0.1'")


def plain(value: Any, where: str) -> Any:
    """Deep copy of a JSON-like value that ``weights_only`` loading accepts.

    Tuples become lists and numpy/torch scalars become Python numbers.

    Raises
    ------
    TypeError
        If ``value`` holds anything else (``where`` names it in the message).
    """
    if value is None:
        return None
    for kind in (bool, int, float, str):  # kind(value): numpy.float64 -> float, etc.
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, (list, tuple)):
        return [plain(item, where) for item in value]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is not a string")
            out[key] = plain(item, where)
        return out
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return plain(value.item(), where)
    raise TypeError(
        f"{where} may only hold dict/list/str/int/float/bool/None, "
        f"got {type(value).__name__}: {str(value)[:60]}"
    )


def owns_storage(tensor: torch.Tensor) -> bool:
    """True if ``tensor`` is contiguous and its storage holds exactly its elements."""
    size = tensor.numel() * tensor.element_size()
    return tensor.is_contiguous() and tensor.untyped_storage().nbytes() == size


def encode(records: list[Record], current: str | None) -> dict[str, Any]:
    """The saved dict for versions given in creation order (tensors shared by identity)."""
    table = list({id(t): t for _, _, tensors in records for t in tensors.values()}.values())
    index = {id(t): i for i, t in enumerate(table)}
    versions = [
        meta | {"config": config, "tensors": {name: index[id(t)] for name, t in tensors.items()}}
        for meta, config, tensors in records
    ]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "current": current,
        "tensors": table,
        "versions": versions,
    }


def _expect(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


class NewerFormatError(ValueError):
    """A file written by a newer kanwidget than this one."""


def check_format_version(number: Any, supported: int, where: str = "") -> None:
    """ValueError unless ``number`` is a format version this kanwidget reads (1..supported);
    a newer one raises :class:`NewerFormatError` asking for an upgrade (``where`` names
    the file)."""
    if isinstance(number, int) and not isinstance(number, bool) and number > supported:
        raise NewerFormatError(
            f"{where + ' was ' if where else ''}written by a newer kanwidget (format {number}); "
            f"this one reads up to {supported}: upgrade kanwidget"
        )
    _expect(
        isinstance(number, int) and not isinstance(number, bool) and 1 <= number,
        f"format version {number!r} is not valid (this kanwidget reads 1..{supported})",
    )


def decode(state: Any) -> tuple[list[Record], str | None]:
    """Validate a saved dict and return its records (creation order) and current id.

    Raises
    ------
    ValueError
        Wrong format tag or version, a field missing or of the wrong type, a bad tensor
        index, a parent that is missing or comes later, an id breaking the ``round.step``
        rule, or an unknown current version.
    """
    tag = state.get("format") if isinstance(state, dict) else None
    _expect(tag == FORMAT, f"not a kanwidget version history (format tag {tag!r})")
    check_format_version(state.get("format_version"), FORMAT_VERSION)
    table, entries = state.get("tensors"), state.get("versions")
    _expect(
        isinstance(table, list) and all(isinstance(t, torch.Tensor) for t in table),
        "'tensors' must be a list of tensors",
    )
    _expect(isinstance(entries, list), "'versions' must be a list")
    # never keep a view of a bigger buffer, even if the file holds one
    table = [
        t if owns_storage(t) else t.clone(memory_format=torch.contiguous_format) for t in table
    ]
    records: list[Record] = []
    steps: dict[str, int] = {}  # id -> step of the versions decoded so far
    max_round = 0
    for entry in entries:
        _expect(isinstance(entry, dict), f"version entry {str(entry)[:60]} is not a dict")
        vid = entry.get("id")
        for key, types in _FIELDS.items():
            _expect(
                isinstance(entry.get(key, ...), types),
                f"version {vid!r}: field {key!r} is missing or has the wrong type",
            )
        (r, s), parent, rewind = parse_id(vid), entry["parent"], entry["operation"] == "rewind"
        _expect(vid not in steps, f"version {vid!r} appears twice")
        if not records:
            _expect(vid == "0.0" and parent is None, f"first version {vid!r} is not the root 0.0")
        else:
            _expect(parent in steps, f"version {vid!r}: parent {parent!r} is missing or later")
            pr, ps = parse_id(parent)
            same_round = r == pr and s == ps + 1 and not rewind
            new_round = r == max_round + 1 and s == ps + (not rewind)
            _expect(same_round or new_round, f"id {vid!r} cannot be a child of {parent!r}")
        refs = entry["tensors"]
        _expect(
            all(
                isinstance(name, str) and isinstance(i, int) and 0 <= i < len(table)
                for name, i in refs.items()
            ),
            f"version {vid!r}: a tensor name or index is invalid",
        )
        meta = {key: entry[key] for key in METADATA}
        meta["arguments"] = plain(meta["arguments"], f"version {vid!r} arguments")
        for key, convert in (("train_loss", float), ("test_loss", float), ("time", float)):
            meta[key] = None if meta[key] is None else convert(meta[key])
        config = plain(entry["config"], f"version {vid!r} config")
        records.append((meta, config, {name: table[i] for name, i in refs.items()}))
        steps[vid], max_round = s, max(max_round, r)
    current = state.get("current")
    _expect(
        current in steps if records else current is None,
        f"current version {current!r} is not in the history",
    )
    return records, current


def write(state: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """``torch.save`` ``state`` to ``path`` atomically.

    The bytes go to a fresh temporary file in the same folder, are flushed and fsync'ed,
    and only then ``os.replace`` puts the file in place (and the folder is fsync'ed): a
    crash or an error at any point leaves the previous file at ``path`` intact, and the
    temporary file is removed when Python can still do so.

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist. Other ``OSError`` (disk full, no
        permission) propagate; ``path`` is unchanged in every case.
    """
    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {target!r}: folder {folder!r} does not exist")
    if os.path.isdir(target):
        raise IsADirectoryError(f"cannot save to {target!r}: it is a folder")
    handle, temporary = tempfile.mkstemp(prefix=".kanwidget-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(state, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def read(path: str | os.PathLike[str]) -> tuple[list[Record], str | None]:
    """Load and ``decode`` a file written by ``write``.

    Raises
    ------
    ValueError
        If the file is corrupted, truncated, not a kanwidget history or inconsistent; the
        message names the file. ``OSError`` (e.g. a missing file) propagates unchanged.
    """
    name = os.fspath(path)
    try:
        state = torch.load(name, map_location="cpu", weights_only=True)
    except OSError:
        raise
    except Exception as exc:
        raise ValueError(
            f"cannot read version history {name!r}: the file is corrupted, truncated or "
            f"not a kanwidget history ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    if isinstance(state, dict) and state.get("format") == FORMAT:
        check_format_version(state.get("format_version"), FORMAT_VERSION, repr(name))
    try:
        return decode(state)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise ValueError(f"{name!r} is not a valid kanwidget version history: {exc}") from exc
