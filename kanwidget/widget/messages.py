"""Validation of the action messages the browser sends (``model.send({...})`` in js/).

Every message is checked before anything touches the model: a dict with a known
``action``, exactly the keys that action takes, and values of the right type.  Range
checks (does the edge exist? is the name in the library?) are made by the widget's
action methods against the current model.  Contract: docs/widget_contract.md.
"""

from __future__ import annotations

import math
from typing import Any

# action -> {field: kind}; kinds are checked by _check_value
ACTIONS: dict[str, dict[str, str]] = {
    "select_edge": {"edge": "edge"},
    "symbolify": {"edge": "edge", "name": "name"},
    "prune_edge": {"edge": "edge"},
    "prune_node": {"node": "node"},
    "prune": {},
    "fit": {"steps": "steps"},
    "pause": {},
    "resume": {},
    "stop": {},
    "checkout": {"version": "version"},
    "rewind": {"version": "version"},
    "preview": {"edge": "edge"},
    "ping": {},
}
# keys an action may carry besides its required ones (the toolbar's Fit options)
OPTIONAL: dict[str, dict[str, str]] = {
    "fit": {"opt": "opt", "lr": "positive", "lamb": "nonnegative", "update_grid": "bool"},
}
OPTIMIZERS = ("LBFGS", "Adam")
MAX_STEPS = 100_000
MAX_TEXT = 64


class MessageError(ValueError):
    """A browser message that does not follow the contract."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_value(action: str, field: str, kind: str, value: Any) -> Any:
    where = f"{action!r} message: {field!r}"
    if kind in ("edge", "node"):
        n = 3 if kind == "edge" else 2
        if not isinstance(value, list) or len(value) != n or not all(map(_is_int, value)):
            shape = "[l, i, j]" if kind == "edge" else "[l, i]"
            raise MessageError(f"{where} must be {shape} ({n} ints), got {_short(value)}")
        return tuple(value)
    if kind == "steps":
        if not _is_int(value) or not 1 <= value <= MAX_STEPS:
            raise MessageError(f"{where} must be an int in 1..{MAX_STEPS}, got {_short(value)}")
        return value
    if kind == "opt":
        if value not in OPTIMIZERS:
            names = ", ".join(OPTIMIZERS)
            raise MessageError(f"{where} must be one of {names}, got {_short(value)}")
        return value
    if kind in ("positive", "nonnegative"):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = number and math.isfinite(value) and (value > 0 if kind == "positive" else value >= 0)
        if not ok:
            sign = "> 0" if kind == "positive" else ">= 0"
            raise MessageError(f"{where} must be a finite number {sign}, got {_short(value)}")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise MessageError(f"{where} must be true or false, got {_short(value)}")
        return value
    if kind in ("name", "version"):
        if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT:
            raise MessageError(f"{where} must be a non-empty string, got {_short(value)}")
        return value
    raise AssertionError(kind)


def parse_message(content: Any) -> tuple[str, dict[str, Any]]:
    """``content`` -> ``(action, arguments)``; :class:`MessageError` saying what is wrong."""
    if not isinstance(content, dict):
        raise MessageError(f"a message must be an object with an 'action', got {_short(content)}")
    action = content.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise MessageError(f"unknown action {_short(action)}; expected one of {', '.join(ACTIONS)}")
    fields = ACTIONS[action]
    optional = OPTIONAL.get(action, {})
    extra = sorted(map(str, set(content) - set(fields) - set(optional) - {"action"}))
    if extra:
        raise MessageError(f"{action!r} message has unexpected keys {extra}")
    missing = sorted(set(fields) - set(content))
    if missing:
        raise MessageError(f"{action!r} message is missing {missing}")
    args = {f: _check_value(action, f, kind, content[f]) for f, kind in fields.items()}
    for f, kind in optional.items():
        if f in content:
            args[f] = _check_value(action, f, kind, content[f])
    return action, args


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_function_name(name: Any) -> None:
    """ValueError unless ``name`` is a function of the symbolic library."""
    if not isinstance(name, str):
        raise ValueError(f"function name must be a string, got {name!r}")
    from ..kan.symbolic import get_library

    names = list(get_library())
    if name not in names:
        raise ValueError(f"unknown symbolic function {name!r}; available: {', '.join(names)}")
