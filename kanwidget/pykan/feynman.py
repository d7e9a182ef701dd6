"""pykan's ``kan.feynman`` is a table of 120 AI Feynman equations; it is not reproduced here.
``get_feynman_dataset`` raises with a pointer to the public source of the table."""

# ruff: noqa: F401, F403
import torch
from sympy import *


def get_feynman_dataset(name):
    """Not available in kanwidget (pykan's hard-coded table of AI Feynman equations).

    Raises
    ------
    NotImplementedError
        Always: take the equation from the AI Feynman table (Udrescu & Tegmark 2020,
        ``FeynmanEquations.csv``) and build the data with ``create_dataset``.
    """
    raise NotImplementedError(
        f"get_feynman_dataset({name!r}) is not provided by kanwidget: take the equation from "
        "the AI Feynman table (Udrescu & Tegmark 2020) and use create_dataset(f, n_var, ranges)"
    )
