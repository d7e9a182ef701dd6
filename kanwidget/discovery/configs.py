"""Configurations of a sweep: grid expansion and the checks made before any work starts.

A configuration is a dict whose keys fall into three groups:

* **model** keys, the arguments of ``KAN(...)`` (``width`` incl. MultKAN widths such as
  ``[2, [0, 1], 1]``, ``grid``, ``k``, ``seed``, ``mult_arity``, ``base_fun``, ...);
* **pipeline** keys, read by the default (pykan tutorial) pipeline: ``lamb`` (first fit's
  regularisation), ``node_th``/``edge_th`` (prune thresholds), ``refine`` (grid of the
  refine step, None to skip it), ``lib`` (symbolic library: names, None = all),
  ``weight_simple``, ``r2_threshold``, ``symbolic`` (False stops before auto_symbolic);
* **fit** keys, the arguments of ``KAN.fit`` (``steps``, ``opt``, ``lr``, ``batch``, ...).

``expand_grid`` orders combinations as scikit-learn's ``ParameterGrid`` does (keys sorted,
the last key varying fastest), so a grid always yields the same list.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from kanwidget.kan.network import KAN, normalize_width
from kanwidget.kan.train.options import fit_options

Config = dict[str, Any]

MODEL_KEYS = frozenset(
    name
    for name, p in inspect.signature(KAN.__init__).parameters.items()
    if p.kind is p.POSITIONAL_OR_KEYWORD and name not in ("self", "device")
)
PIPELINE_DEFAULTS: Config = {
    "lamb": 1e-3,
    "node_th": 1e-2,
    "edge_th": 3e-2,
    "refine": 20,
    "lib": None,
    "weight_simple": 0.8,
    "r2_threshold": 0.0,
    "symbolic": True,
}
PIPELINE_KEYS = frozenset(PIPELINE_DEFAULTS)
# fit's own arguments; the pipeline owns lamb, callback and progress (off in workers)
FIT_KEYS = frozenset(inspect.signature(fit_options).parameters) - {"lamb"}
KNOWN_KEYS = MODEL_KEYS | PIPELINE_KEYS | FIT_KEYS


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[Config]:
    """Every combination of ``grid``'s values, in scikit-learn ``ParameterGrid`` order.

    Raises
    ------
    TypeError
        ``grid`` is not a dict with string keys, or a value is not a list/tuple.
    ValueError
        A value list is empty.
    """
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict of lists, got {type(grid).__name__}")
    keys = sorted(grid)
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"grid keys must be strings, got {key!r}")
        values = grid[key]
        if not isinstance(values, (list, tuple)):
            raise TypeError(
                f"grid[{key!r}] must be a list of values to try, got {values!r}; "
                f"write {{{key!r}: [{values!r}]}} for a single value"
            )
        if not values:
            raise ValueError(f"grid[{key!r}] is empty: give at least one value")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def resolve_configs(
    grid: Mapping[str, Sequence[Any]] | None,
    configs: Sequence[Mapping[str, Any]] | None,
    defaults: Mapping[str, Any],
    custom_pipeline: bool,
    n_inputs: int | None = None,
) -> list[Config]:
    """The list of configurations a sweep runs, each completed with ``defaults``.

    ``defaults`` are the sweep's keyword arguments; a configuration's own value wins.
    ``n_inputs`` (the dataset's input columns, if given): every width must take that many
    inputs (else every universe would fail with the same traceback).

    Raises
    ------
    ValueError / TypeError
        Neither or both of ``grid`` and ``configs``; a configuration that is not a dict; a
        key that neither KAN, ``fit`` nor the default pipeline knows (a custom pipeline may
        read extra keys, so they are allowed with one); a width that is not a KAN width,
        or whose inputs are not ``n_inputs``.
    """
    if (grid is None) == (configs is None):
        raise ValueError("give exactly one of grid= (a dict of lists) or configs= (a list)")
    if grid is not None:
        listed = expand_grid(grid)
    else:
        if isinstance(configs, Mapping) or not isinstance(configs, Sequence):
            raise TypeError(f"configs must be a list of dicts, got {type(configs).__name__}")
        listed = []
        for n, config in enumerate(configs):
            if not isinstance(config, Mapping):
                raise TypeError(f"configs[{n}] must be a dict, got {type(config).__name__}")
            listed.append(dict(config))
        if not listed:
            raise ValueError("configs is empty: give at least one configuration")
    if not custom_pipeline:
        unknown = sorted({key for config in listed for key in config} - KNOWN_KEYS)
        if unknown:
            raise ValueError(
                f"unknown configuration keys {unknown}; known: model {sorted(MODEL_KEYS)}, "
                f"pipeline {sorted(PIPELINE_KEYS)}, fit {sorted(FIT_KEYS)} "
                "(a custom pipeline= may read other keys)"
            )
    out = [{**defaults, **config} for config in listed]
    for n, config in enumerate(out):
        if "width" in config:
            try:
                width = normalize_width(config["width"])
            except ValueError as exc:
                raise ValueError(f"configuration {n} ({config}): {exc}") from None
            if n_inputs is not None and width[0][0] != n_inputs:
                raise ValueError(
                    f"configuration {n}: width {config['width']!r} takes {width[0][0]} inputs, "
                    f"but the dataset has {n_inputs} input columns (train_input's shape[1])"
                )
    return out


def check_fit_kwargs(kwargs: Mapping[str, Any], custom_pipeline: bool) -> None:
    """Keyword arguments of ``sweep`` beyond its own: each must be a known key (see above).

    Raises
    ------
    TypeError
        An argument name that KAN, ``fit`` and the default pipeline do not know.
    """
    if custom_pipeline:
        return
    unknown = sorted(set(kwargs) - KNOWN_KEYS)
    if unknown:
        raise TypeError(
            f"sweep() got unexpected arguments {unknown}; it passes fit's arguments "
            f"{sorted(FIT_KEYS)} to fit and model/pipeline keys to every configuration"
        )


def split(config: Mapping[str, Any]) -> tuple[Config, Config, Config, Config]:
    """``config`` -> (model kwargs, pipeline settings with defaults, fit kwargs, the rest)."""
    model = {k: v for k, v in config.items() if k in MODEL_KEYS}
    pipeline = {**PIPELINE_DEFAULTS, **{k: v for k, v in config.items() if k in PIPELINE_KEYS}}
    fit_kwargs = {k: v for k, v in config.items() if k in FIT_KEYS}
    rest = {k: v for k, v in config.items() if k not in KNOWN_KEYS}
    return model, pipeline, fit_kwargs, rest
