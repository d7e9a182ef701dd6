"""One naming convention for unnamed variables (issue 14, item 27): pykan's ``x_1 ..`` and
``y_1 ..`` in the widget's structure, its stored SVG, its version frames, ``model.plot()``,
``plot_tree``, ``describe_tree`` and ``symbolic_formula``, also after ``prune_input``."""

from __future__ import annotations

import re

import matplotlib
import pytest
import torch

from kanwidget import KAN, KANWidget, create_dataset
from kanwidget.kan.names import input_names, output_names, tex

matplotlib.use("agg")


def _svg_labels(svg: str) -> list[str]:
    return re.findall(r'<text[^>]*text-anchor="middle">([^<]*)</text>', svg)


def _plot_labels(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture
def data3():
    return create_dataset(lambda x: x[:, :1] * x[:, 2:3] + x[:, 1:2], 3, train_num=64, seed=0)


def test_names_tex_converts_only_default_names() -> None:
    assert tex("x_1") == "$x_{1}$" and tex("y_12") == "$y_{12}$"
    assert tex("x1") == "x1" and tex("speed") == "speed" and tex("x_a") == "x_a"


def test_naming_widget_plot_and_formula_use_the_same_input_names(data3) -> None:
    import matplotlib.pyplot as plt

    model = KAN([3, 2, 1], grid=3, seed=0)
    model(data3["train_input"])
    w = KANWidget(model, data3)
    try:
        s = w.structure
        assert s["in_vars"] == ["x_1", "x_2", "x_3"] and s["out_vars"] == ["y_1"]
        node_labels = [n["label"] for n in s["nodes"] if n["label"]]
        assert node_labels == ["x_1", "x_2", "x_3", "y_1"]
        # the stored SVG (code hosts, VS Code) and the per-version frames say the same
        data, _ = w._repr_mimebundle_()
        assert _svg_labels(data["image/svg+xml"]) == node_labels
        frame = w.frames[model.version]["structure"]
        assert frame["in_vars"] == s["in_vars"]
    finally:
        w.close()
    fig = model.plot()
    texts = _plot_labels(fig)
    plt.close(fig)
    assert [t for t in texts if t.startswith("$")] == ["$x_{1}$", "$x_{2}$", "$x_{3}$", "$y_{1}$"]
    model.auto_symbolic(lib=["x", "x^2"])
    (formula,), variables = model.symbolic_formula()
    assert [str(v) for v in variables] == ["x_1", "x_2", "x_3"]
    assert {str(v) for v in formula.free_symbols} <= {"x_1", "x_2", "x_3"}


def test_naming_after_prune_input_keeps_original_numbers(data3) -> None:
    import matplotlib.pyplot as plt

    model = KAN([3, 2, 1], grid=3, seed=0)
    model(data3["train_input"])
    model.prune_input(active_inputs=[0, 2])
    assert input_names(model) == ["x_1", "x_3"] and output_names(model) == ["y_1"]
    w = KANWidget(model)
    try:
        assert w.structure["in_vars"] == ["x_1", "x_3"]
    finally:
        w.close()
    fig = model.plot()
    texts = _plot_labels(fig)
    plt.close(fig)
    assert "$x_{1}$" in texts and "$x_{3}$" in texts and "$x_{2}$" not in texts
    _, variables = model.symbolic_formula()
    assert [str(v) for v in variables] == ["x_1", "x_3"]


def test_naming_describe_tree_and_plot_tree_use_one_based_names() -> None:
    import matplotlib.pyplot as plt

    from kanwidget.kan.hypothesis import describe_tree

    def f(x: torch.Tensor) -> torch.Tensor:
        return x[:, :1] * (x[:, 1:2] + x[:, 2:3]) ** 2

    x = torch.rand(256, 3, dtype=torch.float64) + 0.5
    text = describe_tree(f, x)
    assert re.fullmatch(r"[*+F]\(.*\)", text), text
    assert set(re.findall(r"x_?\d+", text)) == {"x_1", "x_2", "x_3"}, text
    model = KAN([3, 2, 1], grid=3, seed=0)
    fig = model.tree(x.float())
    texts = _plot_labels(fig)
    plt.close(fig)
    assert {"$x_{1}$", "$x_{2}$", "$x_{3}$"} <= set(texts)


def test_naming_discover_names_the_structure_inputs() -> None:
    from kanwidget.discovery.discover import name_inputs

    names = [f"v{k}" for k in range(11)]
    assert name_inputs("*(x_1, F(x_10, x_11))", names) == "*(v0, F(v9, v10))"
    assert name_inputs("+(x_2, x_1)", ["m", "c"]) == "+(c, m)"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"in_vars": ["a"]}, ValueError, "in_vars has 1 name for the model's 3 inputs"),
        ({"in_vars": "abc"}, TypeError, "in_vars must be a list of names, e.g. ['x', 'y']"),
        ({"in_vars": ["a", 2, "c"]}, TypeError, "in_vars[1] must be a str, got 2"),
        ({"out_vars": ["f", "g"]}, ValueError, "out_vars has 2 names for the model's 1 output"),
        ({"beta": -1}, ValueError, "beta must be a finite number > 0"),
        ({"beta": float("nan")}, ValueError, "beta must be a finite number > 0"),
    ],
    ids=repr,
)
def test_widget_names_and_beta_checked_at_construction(data3, kwargs, error, message):
    # a wrong count used to be padded or cut silently (so labels sat on the wrong nodes) and
    # a negative beta drew every edge at opacity tanh(beta * score) < 0, i.e. not at all
    model = KAN([3, 2, 1], grid=3, seed=0)
    with pytest.raises(error) as info:
        KANWidget(model, data3, **kwargs)
    assert str(info.value).startswith(message)
    assert [v.operation for v in model.history] == ["init"]


def test_widget_after_prune_input_takes_the_original_columns(data3):
    # the widget draws every version (those before prune_input take all 3 columns), so its
    # dataset holds the original columns; fit gives the model its own (model.input_ids)
    model = KAN([3, 2, 1], grid=3, seed=0)
    model.fit(data3, steps=2, progress=False)
    model.prune_input(active_inputs=[0, 2])
    w = KANWidget(model, data3, in_vars=["a", "b", "c"])
    assert w.structure["in_vars"] == ["a", "c"]
    assert w.frames["0.0"]["structure"]["in_vars"] == ["a", "b", "c"]
    w.fit(steps=2, opt="Adam", lr=0.01, update_grid=False)
    assert w.wait(timeout=60) and w.error == {}
    assert [v.operation for v in model.history][-2:] == ["prune_input", "fit"]
    w.close()
    pruned = {k: v[:, [0, 2]] if k.endswith("input") else v for k, v in data3.items()}
    with pytest.raises(ValueError) as info:
        KANWidget(model, pruned)
    assert str(info.value).startswith(
        "the dataset has 2 input columns but version 0.0 of the model takes the original "
        "columns [0, 1, 2]: pass the dataset with all the original columns"
    )


def test_widget_live_prune_input_then_fit(data3):
    model = KAN([3, 2, 1], grid=3, seed=0)
    w = KANWidget(model, data3)
    w.fit(steps=2, opt="Adam", lr=0.01, update_grid=False)
    assert w.wait(timeout=60)
    model.prune_input(active_inputs=[1, 2])
    w.fit(steps=2, opt="Adam", lr=0.01, update_grid=False)  # was refused: "shape (batch, 2)"
    assert w.wait(timeout=60) and w.error == {}
    assert [v.operation for v in model.history] == ["init", "fit", "prune_input", "fit"]
    assert w.structure["in_vars"] == ["x_2", "x_3"]
    w.close()
