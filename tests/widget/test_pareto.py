"""The Pareto panel: payload values, from_discovery / from_sweep, checkout by point."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import sympy
import torch

from kanwidget import KANWidget, create_dataset, sweep
from kanwidget.widget.payload import build_structure, rounded

TINY = {"steps": 2, "refine": 4}
GRID = {"seed": [0, 1], "width": [[2, 2, 1], [2, [0, 1], 1]], "grid": [3], "lib": [["x", "x^2"]]}


@pytest.fixture(scope="module")
def data() -> dict[str, torch.Tensor]:
    return create_dataset(lambda x: x[:, :1] * x[:, 1:], n_var=2, train_num=40, test_num=40)


@pytest.fixture(scope="module")
def result(data):
    return sweep(data, grid=GRID, n_jobs=1, progress=False, **TINY)


def _close(w: KANWidget) -> None:
    w.stop()
    assert w.wait(timeout=60)
    w.close()


def test_pareto_payload_equals_the_sweep_universes(result):
    w = result.widget()
    try:
        p = w.pareto
        points = result.candidates
        assert len(points) == 4 and p["universe"] == [u.universe for u in points]
        symbolic = all(u.formula is not None for u in points)
        expected = [u.complexity if symbolic else u.n_edges for u in points]
        np.testing.assert_array_equal(p["complexity"], np.asarray(expected, np.float32))
        np.testing.assert_array_equal(
            p["error"], np.asarray([u.test_rmse for u in points], np.float32)
        )
        assert p["formula"] == [
            rounded(u.formula) if u.formula is not None else f"numeric KAN, {u.n_edges} edges"
            for u in points
        ]
        assert p["labels"]["complexity"] == ("formula size" if symbolic else "edges")
        assert points[p["best"]] is result.best
        front = [k for k, on in enumerate(p["front"]) if on]
        for k in range(len(points)):  # every point off the front is dominated by one on it
            dominated = any(
                expected[f] <= expected[k] and points[f].test_rmse < points[k].test_rmse
                for f in front
            )
            assert k in front or dominated
        assert w.model.version == result.best.universe
    finally:
        _close(w)


def test_pareto_click_checks_out_each_universe(result, data):
    w = KANWidget.from_discovery(result)
    try:
        x = data["test_input"]
        for u in result:
            w.checkout(u.universe)  # what a click on the point sends
            assert w.wait(timeout=60)
            assert w.model.version == u.universe == w.history["current"]
            assert w.structure == build_structure(u.model)
            with torch.no_grad():
                torch.testing.assert_close(w.model(x), u.model(x), rtol=0, atol=0)
            active = sum(e["active"] for e in w.structure["edges"])
            assert active == u.n_edges
    finally:
        _close(w)


def test_pareto_from_discovery_shaped_object(result, data):
    """Any object with front / best / history (the Discovery shape) is shown the same way."""
    x1, x2 = sympy.symbols("a b")
    u = result[1]
    kan = SimpleNamespace(formula=x1 * x2, complexity=3, test_rmse=2e-7, r2=1.0,
                          universe=u.universe, model=u.model)  # fmt: skip
    regression = SimpleNamespace(formula=sympy.sin(x1), complexity=2, test_rmse=0.3, r2=0.5,
                                 universe=None, model=None)  # fmt: skip
    d = SimpleNamespace(front=[regression, kan], best=kan, history=result.history,
                        variables=["a", "b"])  # fmt: skip
    w = KANWidget.from_discovery(d, data)
    try:
        p = w.pareto
        np.testing.assert_array_equal(p["complexity"], np.asarray([2, 3], np.float32))
        np.testing.assert_array_equal(p["error"], np.asarray([0.3, 2e-7], np.float32))
        assert p["formula"] == ["sin(a)", "a*b"] and p["latex"] == [r"\sin{\left(a \right)}", "a b"]
        assert p["universe"] == [None, u.universe] and p["best"] == 1 and p["front"] == [True, True]
        assert w.model.version == u.universe and w.in_vars == ["a", "b"]
    finally:
        _close(w)


def test_pareto_from_sweep_adds_points_as_universes_finish(data):
    w = KANWidget.from_sweep(data, grid={"seed": [0, 1], "width": [[2, 2, 1]], "grid": [3]},
                             n_jobs=1, symbolic=False, **TINY)  # fmt: skip
    try:
        done = w.sweep_future.result(timeout=600)
        assert len(w.pareto["universe"]) == 2
        x = data["test_input"]
        for version, u in zip(w.pareto["universe"], done, strict=True):  # n_jobs=1: in order
            assert w.model.history[version].parent is not None
            w.checkout(version)
            assert w.wait(timeout=60)
            with torch.no_grad():
                torch.testing.assert_close(w.model(x), u.model(x), rtol=0, atol=0)
        assert w.pareto["labels"]["complexity"] == "edges"
        assert [v["id"] for v in w.history["versions"]][0] == "0.0"
    finally:
        _close(w)


def test_pareto_empty_history_is_refused(result):
    from kanwidget.kan.history import VersionTree

    empty = SimpleNamespace(front=[], best=None, history=VersionTree())
    with pytest.raises(ValueError, match="no universe to show"):
        KANWidget.from_discovery(empty)


def test_pareto_state_travels_as_binary_buffers(result):
    from ipywidgets.widgets.widget import _remove_buffers

    w = result.widget()
    try:
        state, paths, buffers = _remove_buffers(w.get_state())
        assert ["pareto", "complexity", "view"] in paths and ["pareto", "error", "view"] in paths
        k = paths.index(["pareto", "error", "view"])
        decoded = np.frombuffer(bytes(buffers[k]), np.float32)
        np.testing.assert_array_equal(
            decoded, np.asarray([u.test_rmse for u in result.candidates], np.float32)
        )
        assert state["pareto"]["universe"] == [u.universe for u in result.candidates]
    finally:
        _close(w)
