"""Input checks of :func:`~kanwidget.discovery.discover`: pykan's dataset dict to float64
numpy arrays, with a clear error for each way it can be unusable."""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from kanwidget.kan.symbolic.parse import CONSTANTS, FUNCTIONS
from kanwidget.kan.train.data import require_dataset_keys

MIN_ROWS = 10


def _as_array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(
            value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float64
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dataset[{name!r}] must be a numeric array or tensor: {exc}") from exc
    return arr


def _check_name(k: int, name: str) -> None:
    """A variable name must read back as that variable in the formula's text: an
    identifier, not a Python keyword, not a function or constant of the formula parser."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(
            f"variables[{k}] = {name!r} is not a name a formula can use (letters, digits and "
            "_, not starting with a digit, not a Python keyword); e.g. "
            f"{_suggest(name)!r}"
        )
    if name in FUNCTIONS or name in CONSTANTS:
        kind = "function" if name in FUNCTIONS else "constant"
        raise ValueError(
            f"variables[{k}] = {name!r} would read as the {kind} {name} in a formula's text; "
            f"rename it, e.g. {name + '_'!r}"
        )


def _suggest(name: str) -> str:
    text = re.sub(r"\W+", "_", name.strip()).strip("_") or "x"
    text = text if text[0].isalpha() else "x_" + text
    return text + "_" if keyword.iskeyword(text) else text


def check_dataset(dataset: Any, variables: Sequence[str] | None) -> tuple[np.ndarray, ...]:
    """Validate pykan's dataset dict; return float64 ``x_train, y_train, x_test, y_test``.

    Raises
    ------
    ValueError
        missing keys, wrong shapes, NaN/inf, fewer than 10 rows, a constant target, or
        ``variables`` whose length differs from the number of inputs, or that are not
        distinct identifiers that read back as themselves (not a keyword, not a function or
        constant of the formula parser such as ``sin`` or ``pi``).
    """
    if not isinstance(dataset, dict):
        raise ValueError(
            "dataset must be pykan's dict with train_input, train_label, test_input, "
            f"test_label (arrays or tensors), got a {type(dataset).__name__}; from a table: "
            "kanwidget.pykan.create_dataset_from_data(df[inputs], df[target]) splits it "
            "(80% train), then discover(dataset, variables=inputs)"
        )
    require_dataset_keys(dataset)
    out = []
    for split in ("train", "test"):
        x, y = (
            _as_array(dataset[f"{split}_input"], f"{split}_input"),
            _as_array(dataset[f"{split}_label"], f"{split}_label"),
        )
        if x.ndim != 2:
            raise ValueError(f"{split}_input must be 2-D (samples, inputs), got shape {x.shape}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"{split}_label must be (samples,) or (samples, 1), got shape {y.shape}; "
                "discover fits one output"
            )
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"{split}_input has {x.shape[0]} rows but {split}_label has {y.shape[0]}"
            )
        if x.shape[0] < MIN_ROWS:
            raise ValueError(
                f"{split} split has {x.shape[0]} rows; discover needs at least {MIN_ROWS}"
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError(
                f"{split} split contains NaN or inf; remove or impute those rows first"
            )
        out += [x, y]
    if out[0].shape[1] != out[2].shape[1]:
        raise ValueError(
            f"train_input has {out[0].shape[1]} inputs but test_input has {out[2].shape[1]}"
        )
    if float(np.std(out[1])) == 0.0:
        raise ValueError("the training target is constant: there is no law to discover")
    n = out[0].shape[1]
    if variables is not None and len(list(variables)) != n:
        raise ValueError(f"variables has {len(list(variables))} names for {n} inputs")
    if variables is not None:
        names = list(variables)
        for k, name in enumerate(names):
            if not isinstance(name, str):
                raise ValueError(f"variables[{k}] must be a str, got {name!r}")
            if not name.strip():
                raise ValueError(f"variables[{k}] must be a non-empty str, got {name!r}")
            _check_name(k, name)
        for name in names:
            if names.count(name) > 1:
                raise ValueError(
                    f"variables must be distinct: {name!r} names {names.count(name)} inputs"
                )
    return tuple(out)
