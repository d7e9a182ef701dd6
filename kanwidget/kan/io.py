"""Save and load a whole model: structure, tensors, symbolic edges, user functions, history.

The file is one ``torch.save`` of plain containers and tensors, so it loads with
``torch.load(weights_only=True)`` (no pickled code).  Writes are atomic (temporary file in
the same folder, fsync, rename), so an interrupted save leaves the previous file intact.
Tensors are saved as contiguous copies, never views of larger buffers.

Each snapshot names its model class (``config["model_class"]``, e.g. ``kanwidget.pykan.KAN``,
whose ``fit`` follows pykan's step-0 grid rule); loading looks the name up in the fixed table
:data:`MODEL_CLASSES` (never an import path read from the file) and rebuilds that class.
Files written before the name was recorded load as :class:`kanwidget.KAN`.
"""

from __future__ import annotations

import importlib
import os
import pickle
from typing import TYPE_CHECKING, Any

import torch

from . import history_format
from .history import FORMAT as HISTORY_FORMAT
from .history import VersionTree

if TYPE_CHECKING:
    from .network import KAN

FORMAT = "kanwidget.model"
FORMAT_VERSION = 1

#: the model classes a file may name: name -> (module, attribute).  A subclass not listed
#: here is saved under its nearest listed base's name (its ``model_class_name``).
MODEL_CLASSES: dict[str, tuple[str, str]] = {
    "kanwidget.KAN": ("kanwidget.kan.network", "KAN"),
    "kanwidget.pykan.KAN": ("kanwidget.pykan.MultKAN", "KAN"),
}
DEFAULT_MODEL_CLASS = "kanwidget.KAN"  # files that name no class


def _library_state() -> list[dict[str, Any]]:
    from .symbolic.library import library_state

    return library_state()


def _load_library_state(state: list[dict[str, Any]]) -> None:
    from .symbolic.library import load_library_state

    load_library_state(state)


def save(model: KAN, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` atomically (the folder must exist; ``FileNotFoundError``
    otherwise). An error or a crash during the write leaves a previous file at ``path``
    intact. Refused (``RuntimeError``) while another thread, e.g. a widget's training,
    changes the model: the file would hold half-trained parameters."""
    from .transaction import held

    with held(model, "save the model"):
        config, tensors = model.snapshot()
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": config,
            "tensors": {k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()},
            "history": model.history.to_state(),
            "library": _library_state(),
        }
    history_format.write(payload, path)


def _why(exc: Exception) -> str:
    """One line on why ``torch.load`` failed, without torch's advice to retry with
    ``weights_only=False`` (that would run code from an untrusted file)."""
    text = str(exc)
    if isinstance(exc, pickle.UnpicklingError) and "weights_only" in text:
        if "Unsupported global" in text:
            objects = "it holds Python objects, which kanwidget never unpickles"
            return f"(not a kanwidget file): {objects}"
        return "(truncated or corrupted?): not a file torch.save wrote"
    first = (text.strip().splitlines() or [type(exc).__name__])[0]
    return f"(truncated or corrupted?): {first}"


def load(path: str | os.PathLike[str], map_location: Any = "cpu") -> KAN:
    """Read a model written by :func:`save`, or the version history written by
    ``model.history.save`` (the model is then the history's current version).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is truncated, corrupted, or not a kanwidget model or history.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for bad bytes
        raise ValueError(f"{path!r} is not a readable kanwidget model {_why(exc)}") from exc
    tag = obj.get("format") if isinstance(obj, dict) else None
    if tag not in (FORMAT, HISTORY_FORMAT):
        raise ValueError(f"{path!r} is not a kanwidget model file (format tag missing)")
    supported = history_format.FORMAT_VERSION if tag == HISTORY_FORMAT else FORMAT_VERSION
    history_format.check_format_version(obj.get("format_version"), supported, repr(path))
    try:
        if tag == HISTORY_FORMAT:
            history = VersionTree.from_state(obj)
            model = _build(*history.state(history.current.id))
        else:
            history = VersionTree.from_state(obj["history"])
            _load_library_state(obj.get("library", []))
            model = _build(obj["config"], obj["tensors"])
    except ValueError as exc:
        raise ValueError(f"{path!r} holds an inconsistent model: {exc}") from exc
    except (KeyError, TypeError, RuntimeError, AttributeError, LookupError) as exc:
        raise ValueError(f"{path!r} holds an inconsistent model: {exc!r}") from exc
    model.history = history
    return model


def model_class(name: str) -> type[KAN]:
    """The class a saved ``config["model_class"]`` names.

    Raises
    ------
    ValueError
        If ``name`` is not a key of :data:`MODEL_CLASSES`.
    """
    if not isinstance(name, str) or name not in MODEL_CLASSES:
        raise ValueError(f"unknown model class {name!r}: a file may name {sorted(MODEL_CLASSES)}")
    module, attribute = MODEL_CLASSES[name]
    return getattr(importlib.import_module(module), attribute)


def _build(config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> KAN:
    """A model of the class the snapshot names, with its structure and tensors."""
    from .network import KAN

    cls = model_class(config.get("model_class", DEFAULT_MODEL_CLASS))
    # kanwidget's constructor, not the subclass's: loading never seeds the global RNGs (the
    # pykan class's __init__ does, as pykan's MultKAN(seed=...) does)
    model = cls.__new__(cls)
    KAN.__init__(
        model,
        config["width"],
        grid=config["grid"][0],
        k=config["k"],
        mult_arity=config["mult_arity"],
        dtype=getattr(torch, config["dtype"]),
    )
    model.restore(config, tensors)
    return model
