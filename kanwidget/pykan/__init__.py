"""pykan 0.2.8's API on kanwidget: change ``kan`` to ``kanwidget.pykan`` in a pykan notebook.

``from kanwidget.pykan import *`` hands out what ``from kan import *`` does (the model
classes, pykan's utilities, and the third-party names pykan's modules leak: ``torch``,
``np``, ``plt``, sympy's names, ...), and the submodules mirror pykan's
(``kanwidget.pykan.utils``, ``.MultKAN``, ``.KANLayer``, ``.Symbolic_KANLayer``, ``.spline``,
``.hypothesis``, ``.compiler``, ``.LBFGS``, ``.MLP``, ``.experiment``, ``.feynman``).
Everything runs on kanwidget's implementations; ``kanwidget`` itself keeps a small namespace.

Not provided: pykan's private singularity lambdas ``f_inv``, ``f_sqrt``, ... (its symbolic
library's internals).
"""

# ruff: noqa: F401, F403, E402, I001
from sympy import *

from . import utils, spline, hypothesis, KANLayer as _kanlayer_module
from .MultKAN import *
from .utils import *
from .hypothesis import detect_separability, plot_tree, test_symmetry_var
from .compiler import kanpiler, expr2kan
from .feynman import get_feynman_dataset
from .MLP import MLP
from .spline import B_batch, extend_grid

__all__ = sorted(name for name in dir() if not name.startswith("_"))
