"""Binary arrays on the wire: ndarray/Tensor <-> ``{"view", "dtype": "float32", "shape"}``.

Declared once: the traits :class:`ArrayDict` and :class:`ArrayList` own validation (every
array leaf becomes a C-contiguous float32 ``ndarray``) and carry the ``to_json`` /
``from_json`` pair that ipywidgets calls when it syncs them.  ipywidgets sends
``memoryview`` values as binary buffers, never as JSON lists (the mirror is ``js/codec.ts``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import traitlets

DTYPE = "float32"


def as_float32(value: Any) -> np.ndarray:
    """Tensor, ndarray or nested list -> C-contiguous float32 ``ndarray`` (copy only if needed)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().to("cpu", torch.float32).numpy()
    arr = np.asarray(value, dtype=np.float32)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def encode_array(value: Any) -> dict[str, Any]:
    """One array -> ``{"view": memoryview, "dtype": "float32", "shape": [...]}``."""
    arr = as_float32(value)
    return {"view": arr.reshape(-1).data.cast("B"), "dtype": DTYPE, "shape": list(arr.shape)}


def decode_array(value: dict[str, Any]) -> np.ndarray:
    """``{"view", "dtype", "shape"}`` (view: bytes, memoryview, JSON list) -> float32 ndarray."""
    view, shape = value["view"], value.get("shape")
    dtype = np.dtype(value.get("dtype", DTYPE))
    if isinstance(view, (list, tuple)):
        arr = np.asarray(view, dtype=dtype)
    else:
        arr = np.frombuffer(bytes(view), dtype=dtype)
    if shape is not None:
        arr = arr.reshape([int(s) for s in shape])
    return arr.astype(np.float32, copy=False)


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, torch.Tensor))


def _is_encoded(value: Any) -> bool:
    return isinstance(value, dict) and "view" in value and "shape" in value


def cast_arrays(value: Any) -> Any:
    """Validate: every ndarray/Tensor leaf of nested dicts/lists becomes float32 ``ndarray``."""
    if _is_array(value):
        return as_float32(value)
    if isinstance(value, dict):
        return {k: cast_arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [cast_arrays(v) for v in value]
    return value


def to_json(value: Any, widget: Any = None) -> Any:
    """Serializer: array leaves -> ``{view, dtype, shape}``; everything else unchanged."""
    if _is_array(value):
        return encode_array(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any, widget: Any = None) -> Any:
    """Deserializer: ``{view, dtype, shape}`` leaves -> float32 ``ndarray``."""
    if _is_encoded(value):
        return decode_array(value)
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


array_serialization = {"to_json": to_json, "from_json": from_json}


class ArrayDict(traitlets.Dict):
    """A synced dict whose array values travel as binary float32 (default ``{}``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_value={}, **kwargs)
        self.tag(sync=True, **array_serialization)

    def validate(self, obj: Any, value: Any) -> Any:
        return super().validate(obj, cast_arrays(value))


class ArrayList(traitlets.List):
    """A synced list (of dicts) whose array leaves travel as binary float32 (default ``[]``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_value=[], **kwargs)
        self.tag(sync=True, **array_serialization)

    def validate(self, obj: Any, value: Any) -> Any:
        return super().validate(obj, cast_arrays(value))
