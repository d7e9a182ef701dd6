"""get_feynman_dataset against pykan 0.2.8's: same names and ids, variables, formula and
ranges; the data function equals the formula (and pykan's function wherever pykan's own
function equals its formula)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy
import torch

from kanwidget.pykan.feynman import feynman_names, get_feynman_dataset


def _pykan(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from kan.feynman import get_feynman_dataset as pykan_get

        return pykan_get(name)


def _sample(ranges, n_var, n=64):
    gen = torch.Generator().manual_seed(0)
    ranges = np.array(ranges, dtype=float)
    ranges = np.tile(ranges, (n_var, 1)) if ranges.ndim == 1 else ranges
    low, high = (torch.tensor(ranges[:, i], dtype=torch.float64) for i in (0, 1))
    return low + (high - low) * torch.rand(n, n_var, generator=gen, dtype=torch.float64)


def _close(a, b, tol=1e-9):
    a, b = a.detach().numpy(), b.detach().numpy()
    both = np.isfinite(a) & np.isfinite(b)
    same_finite = bool((np.isfinite(a) == np.isfinite(b)).all())
    return same_finite and np.allclose(a[both], b[both], rtol=tol, atol=tol)


def test_feynman_table_has_pykans_120_ids_and_test_row():
    names = feynman_names()
    assert len(names) == 121 and "test" in names
    for number in (1, 36, 120):
        assert get_feynman_dataset(number)[1] == _pykan(number)[1]
    assert get_feynman_dataset(np.int64(36))[1] == _pykan(36)[1]


@pytest.mark.parametrize("name", feynman_names())
def test_feynman_row_equals_pykans(name):
    symbol, expr, f, ranges = get_feynman_dataset(name)
    p_symbol, p_expr, p_f, p_ranges = _pykan(name)
    assert [str(s) for s in symbol] == [str(s) for s in p_symbol]
    assert expr == p_expr
    assert np.allclose(np.array(ranges, dtype=float), np.array(p_ranges, dtype=float))
    x = _sample(ranges, len(symbol))
    with np.errstate(all="ignore"):
        formula = sympy.lambdify(list(symbol), expr, "numpy")
        values = formula(*(x[:, i].numpy() for i in range(x.shape[1])))
        exact = torch.as_tensor(np.array(np.broadcast_to(values, (x.shape[0],)))).reshape(-1, 1)
    ours = f(x)
    assert ours.shape == (x.shape[0], 1)
    assert _close(ours, exact)
    try:
        theirs = p_f(x)
    except (IndexError, RuntimeError):  # pykan's function is broken for this row
        return
    theirs = theirs.reshape(-1, 1).to(torch.float64)
    if _close(theirs, exact, tol=1e-6):  # pykan's pi is float32
        assert _close(ours, theirs, tol=1e-6)


def test_feynman_unknown_name_is_refused():
    with pytest.raises(KeyError, match="no Feynman equation"):
        get_feynman_dataset("I.99.99")
    with pytest.raises(KeyError):
        get_feynman_dataset(121)
