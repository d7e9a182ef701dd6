"""The pykan 0.2.8 defects listed in DESIGN.md that the backend owns, one test each."""

import pytest
import torch
from matplotlib.figure import Figure
from torch.testing import assert_close

from kanwidget import KAN, create_dataset


@pytest.fixture(scope="module")
def data():
    return create_dataset(lambda x: torch.sin(x[:, 0]) + x[:, 1] ** 2, 2, train_num=200)


def test_pykan_defect_no_files_written_and_prune_without_auto_save(in_tmp_dir, data):
    # pykan writes ./model on every call, and prune() crashes with auto_save=False
    model = KAN([2, 3, 1], grid=3, auto_save=False)
    model.fit(data, steps=2, progress=False)
    model.prune()
    model.refine(5)
    assert model.version == "0.3"  # in_tmp_dir asserts the working directory stayed empty


def test_pykan_defect_refine_and_prune_node_keep_history(data):
    # pykan returns new models from refine/prune_node, losing the history
    model = KAN([2, 3, 1], grid=3)
    model.fit(data, steps=2, progress=False)
    assert model.refine(6) is model and model.prune_node(threshold=0.0) is model
    assert [v.operation for v in model.history] == ["init", "fit", "refine", "prune_node"]


def test_pykan_defect_swap_swaps_functions(data):
    model = KAN([2, 3, 1], grid=3, seed=0)
    model.fit(data, steps=2, progress=False)
    x = data["test_input"]
    before = model(x)
    curve_in = model.layers[0].coef[:, 0].detach().clone()  # edges into node (1, 0)
    curve_out = model.layers[1].coef[0].detach().clone()  # edges out of node (1, 0)
    model.swap(1, 0, 2)
    assert_close(model.layers[0].coef[:, 2], curve_in)
    assert_close(model.layers[1].coef[2], curve_out)
    assert_close(model(x), before)


def test_pykan_defect_swap_refuses_mixed_kinds():
    model = KAN([2, [1, 1], 1])
    with pytest.raises(ValueError, match="different kinds"):
        model.swap(1, 0, 1)
    assert len(model.history) == 1


def test_pykan_defect_plot_returns_figure_without_files(in_tmp_dir, data):
    # pykan writes one PNG per edge to ./figures and needs plt.show()
    model = KAN([2, 3, 1], grid=3)
    model(data["train_input"])
    model.remove_edge(0, 0, 0)
    fig = model.plot()
    assert isinstance(fig, Figure)
    curves = fig.axes[0].collections[1]  # one small curve per active edge
    assert len(curves.get_segments()) == model.n_edges() == 8


def test_pykan_defect_fit_grid_update_no_zero_division(data):
    model = KAN([2, 3, 1], grid=3)
    results = model.fit(data, steps=4, stop_grid_update_step=3, grid_update_num=10, progress=False)
    assert len(results["train_loss"]) == 4
