"""Names of a model's inputs and outputs, one convention everywhere (pykan's).

Unnamed inputs are ``x_1 .. x_n`` and outputs ``y_1 .. y_m`` (1-based, as pykan's
``symbolic_formula`` and ``plot`` write them). After ``prune_input`` an input keeps the
number of its original column (``model.input_ids``); a compiled model (``kanpiler``)
keeps its formula's variable names (``model.input_names``). The widget's labels, the
stored SVG, ``model.plot()``, ``plot_tree`` and ``symbolic_formula`` all take their
defaults from here; :func:`tex` gives the matplotlib form (``$x_{1}$``).

- :func:`input_name`: the name of original input column ``k``.
- :func:`input_names` / :func:`output_names`: the names of the model's current nodes.
- :func:`tex`: a default name as TeX for matplotlib (other names are returned unchanged).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import KAN

_DEFAULT = re.compile(r"^([xy])_(\d+)$")


def input_name(k: int) -> str:
    """pykan's name of original input column ``k`` (0-based): ``x_{k+1}``."""
    return f"x_{k + 1}"


def output_name(j: int) -> str:
    """pykan's name of output ``j`` (0-based): ``y_{j+1}``."""
    return f"y_{j + 1}"


def input_names(model: KAN) -> list[str]:
    """Names of the model's input nodes, ``(n_in,)``: a compiled model's own names, else
    ``x_k`` with ``k`` the original (1-based) column, so pruned inputs leave gaps."""
    ids = list(model.input_ids)
    if model.input_names:
        return [model.input_names[k] for k in ids]
    return [input_name(k) for k in ids]


def output_names(model: KAN) -> list[str]:
    """Names of the model's output nodes, ``(n_out,)``: ``y_1 .. y_m``."""
    return [output_name(j) for j in range(model.n_nodes(model.depth))]


def tex(name: str) -> str:
    """A default name as matplotlib TeX (``x_12`` -> ``$x_{12}$``); other text unchanged."""
    match = _DEFAULT.match(name)
    return f"${match.group(1)}_{{{match.group(2)}}}$" if match else name
