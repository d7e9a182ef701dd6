"""pykan's MultKAN methods on kanwidget's KAN (kan/compat.py, kan/compat_structure.py)."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch

from kanwidget import KAN, create_dataset

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def trained():
    data = create_dataset(lambda x: torch.sin(math.pi * x[:, [0]]) + x[:, [1]] ** 2, n_var=3,
                          train_num=300, test_num=100)  # fmt: skip
    model = KAN([3, 4, 1], grid=5, seed=0)
    model.fit(data, steps=15, lamb=1e-3, progress=False)
    return model, data


def test_get_act_get_fun_return_edge_pre_and_post_activations(trained):
    model, data = trained
    x = data["test_input"][:50]
    model.get_act(x)
    inputs, outputs = model.get_fun(0, 1, 2)
    order = torch.argsort(x[:, 1], stable=True)
    np.testing.assert_allclose(inputs, x[order, 1].numpy())
    want = model.layers[0].edge_activations(x)[order, 2, 1]
    np.testing.assert_allclose(outputs, want.detach().numpy(), rtol=1e-6, atol=1e-7)
    x_min, x_max, y_min, y_max = model.get_range(0, 1, 2, verbose=False)
    assert (x_min, x_max) == (inputs.min(), inputs.max())
    assert (y_min, y_max) == (outputs.min(), outputs.max())
    post = model.spline_postacts[0]  # pykan's (B, out, in)
    torch.testing.assert_close(post[:, 2, 1][order], want)
    torch.testing.assert_close(model.spline_preacts[1][:, 0, 3], model.acts[1][:, 3])
    model.get_act(data)  # a dataset: its train_input
    assert torch.equal(model.cache_data, data["train_input"])


def test_attribute_node_rows_sum_to_the_full_attribution(trained):
    model, data = trained
    model.get_act(data)
    full = model.attribute().copy()
    feature = model.feature_score.clone()
    rows = model.attribute(1)  # (4 hidden nodes, 3 inputs)
    assert rows.shape == (4, 3)
    torch.testing.assert_close(rows.sum(0), feature)  # linear in the seed
    for i in range(4):
        torch.testing.assert_close(model.attribute(1, i), rows[i])
    torch.testing.assert_close(model.attribute(2, 0), feature)  # the single output's row
    assert all(torch.equal(a, b) for a, b in zip(model.node_scores, full))
    with pytest.raises(ValueError, match="node layer"):
        model.attribute(0, 0)


def test_feature_interaction_groups_by_pykans_rule(trained):
    model, data = trained
    model.get_act(data)
    rows = model.attribute(1)
    groups = model.feature_interaction(1, neuron_th=1e-2, feature_th=1e-2)
    want: dict = {}
    for row in rows:
        if row.max() > 1e-2:
            key = tuple(int(k) for k in torch.where(row > row.max() * 1e-2)[0])
            want[key] = want.get(key, 0) + 1
    assert groups == want and sum(groups.values()) <= 4
    assert len(model.node_attribute()) == 2


def test_module_masks_exactly_the_cross_module_edges():
    model = KAN([3, 3, 2], grid=3, seed=0)
    versions = len(model.history)
    model.module(0, "[0,1]->[0,1]->[0]")
    m0, m1 = model.layers[0].mask, model.layers[1].mask
    inside_in, inside_mid, inside_out = {0, 1}, {0, 1}, {0}
    for i in range(3):
        for j in range(3):
            assert m0[i, j] == float((i in inside_in) == (j in inside_mid)), (i, j)
    for i in range(3):
        for j in range(2):
            assert m1[i, j] == float((i in inside_mid) == (j in inside_out)), (i, j)
    assert len(model.history) == versions + 1 and model.history.current.operation == "module"


@pytest.mark.parametrize("chain", ["[0,1]->[0,", "[0,1]>[0]", "[0]", "[a]->[0]", "[0,0]->[1]",
                                   "[5]->[0]"])  # fmt: skip
def test_module_malformed_chain_is_refused_and_model_untouched(chain):
    model = KAN([3, 3, 2], grid=3, seed=0)
    masks = [layer.mask.clone() for layer in model.layers]
    with pytest.raises(ValueError, match="module"):
        model.module(0, chain)
    assert all(torch.equal(a, layer.mask) for a, layer in zip(masks, model.layers))
    assert len(model.history) == 1


def test_module_even_chain_reads_pykans_pairs():
    model = KAN([2, [1, 1], 1], grid=3, seed=0)  # subnodes of layer 1: sum 0, product 1, 2
    model.module(0, "[0]->[1,2]")  # input 0 feeds the product's two factors only
    assert model.layers[0].mask.tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]


def test_set_mode_and_unfix_symbolic_all_round_trip(trained):
    model = trained[0].copy()
    x = torch.rand(64, 3) * 2 - 1
    before = model(x).detach()
    model.fix_symbolic(0, 0, 0, "sin")
    model.fix_symbolic(0, 1, 1, "x^2")
    n = len(model.history)
    model.unfix_symbolic_all()
    assert len(model.history) == n + 1
    assert model.layers[0].sym_mask.sum() == 0 and model.layers[0].mask[0, 0] == 1
    torch.testing.assert_close(model(x).detach(), before)
    model.set_mode(0, 2, 3, "s")
    assert model.layers[0].mask[2, 3] == 0 and model.layers[0].sym_mask[2, 3] == 1
    assert model.symbolic_fun[0].mask[3, 2] == 1  # pykan's (out, in) view
    assert model.symbolic_fun[0].funs_name[3][2] == "0"


def test_auto_swap_keeps_function_and_lowers_cost(trained):
    model = trained[0].copy()
    x = trained[1]["train_input"]
    model.get_act(x)
    model.swap(1, 0, 3)  # scramble
    model.get_act(x)
    before_out, before_cost = model(x).detach(), model.connection_cost()
    n = len(model.history)
    model.auto_swap()
    torch.testing.assert_close(model(x).detach(), before_out, rtol=1e-5, atol=1e-6)
    assert model.connection_cost() <= before_cost and len(model.history) == n + 1


def test_initialize_from_another_model_copies_functions():
    data = create_dataset(lambda x: torch.exp(x[:, [0]]) * x[:, [1]], n_var=2, train_num=200)
    coarse = KAN([2, 3, 1], grid=3, seed=0)
    coarse.fit(data, steps=10, progress=False)
    fine = KAN([2, 3, 1], grid=10, seed=1)
    fine.initialize_from_another_model(coarse, data["train_input"])
    assert [layer.num for layer in fine.layers] == [10, 10]
    x = data["test_input"]
    err = (fine(x) - coarse(x)).abs().max()
    assert err < 1e-3 * coarse(x).abs().max()
    assert len(fine.history) == 2 and fine.history.current.operation.startswith("initialize")


def test_numpy_ints_refine_grid_and_expand_width_arities():
    model = KAN([2, np.int64(3), 1], grid=np.int64(4), k=np.int32(3), seed=0)
    model.refine(grid=np.int64(8))
    assert model.grid == 8 and model.layers[1].num == 8
    x = torch.rand(20, 2)
    before = model(x).detach()
    n = len(model.history)
    model.expand_width(1, 2, sum_bool=False, mult_arity=[2, 3])
    assert model.width[1] == [3, 2] and model.mult_arity[1] == [2, 3]
    assert len(model.history) == n + 1
    torch.testing.assert_close(model(x).detach(), before)
    with pytest.raises(ValueError, match="mult_arity"):
        model.expand_width(1, 1, sum_bool=False, mult_arity=[2, 3])


def test_evaluate_speed_and_checkpoints(tmp_path, trained):
    model, data = trained
    ev = model.evaluate(data)
    with torch.no_grad():
        rmse = torch.sqrt(((model(data["test_input"]) - data["test_label"]) ** 2).mean())
    assert ev["test_loss"] == pytest.approx(float(rmse)) and ev["n_edge"] == model.n_edges()
    assert model.speed() is model and model.auto_save is False
    path = str(tmp_path / "ckpt")
    model.saveckpt(path)
    again = KAN.loadckpt(path)
    torch.testing.assert_close(again(data["test_input"]), model(data["test_input"]))


def test_plot_is_pyplots_current_figure_and_savefig_writes_it(tmp_path, trained):
    model, data = trained
    model.get_act(data)
    fig = model.plot(metric="forward_n", tick=True, sample=True, folder="./never-written")
    assert plt.gcf() is fig
    plt.savefig(tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 5000
    assert not (tmp_path / "never-written").exists()
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "$x_{1}$" in labels and "$y_{1}$" in labels  # pykan's unnamed-variable convention
    with pytest.raises(ValueError, match="metric"):
        model.plot(metric="sideways")


def test_plot_wide_model_width_capped_and_labels_fit():
    from kanwidget.kan.plot import MAX_WIDTH_IN

    model = KAN([30, 5, 1], grid=3, seed=0)
    names = [f"variable_{k}" for k in range(30)]
    fig = model.plot(in_vars=names)
    assert fig.get_size_inches()[0] <= MAX_WIDTH_IN
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts if t.get_text() in names]
    assert len(boxes) == 30
    boxes.sort(key=lambda b: b.x0)
    assert all(a.x1 <= b.x0 + 0.5 for a, b in zip(boxes, boxes[1:]))  # no overlap


def test_plot_edge_boxes_do_not_overlap():
    model = KAN([3, 4, 3], grid=3, seed=0)
    fig = model.plot()
    from matplotlib.patches import Rectangle

    boxes = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(boxes) == 24
    for layer_y in {b.get_y() for b in boxes}:
        row = sorted((b for b in boxes if b.get_y() == layer_y), key=lambda b: b.get_x())
        assert all(a.get_x() + a.get_width() <= b.get_x() for a, b in zip(row, row[1:]))


def test_tree_and_plot_tree_draw_a_figure_for_any_callable():
    from kanwidget.kan.hypothesis import symmetry_tree
    from kanwidget.kan.tree_plot import plot_tree, tree_layout

    x = torch.rand(200, 3, dtype=torch.float64) + 0.5

    def f(z):
        return torch.exp(z[:, [0]]) * (1 + (z[:, [1]] + z[:, [2]]) ** 2)

    fig = plot_tree(f, x)
    assert plt.gcf() is fig
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "*" in texts and "$x_{1}$" in texts
    leaves, inner = tree_layout(symmetry_tree(f, x))
    assert sorted(leaves) == [0, 1, 2] and inner[-1][2] == [0, 1, 2]
    assert plot_tree(f, x, style="box").axes[0].patches
    with pytest.raises(ValueError, match="style"):
        plot_tree(f, x, style="radial")


def test_plot_shows_once_in_ipython(monkeypatch):
    # under the inline backend the open figure is shown by the backend at the end of the cell,
    # so displaying the returned Figure adds nothing; a closed figure shows itself as a PNG
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setattr(matplotlib, "get_backend",
                        lambda: "module://matplotlib_inline.backend_inline")  # fmt: skip
    fig = KAN([2, 2, 1], grid=3, seed=0).plot()
    fig._ipython_display_()
    assert shown == []
    plt.close(fig)
    fig._ipython_display_()
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"


def test_numpy_edge_and_node_indices_are_ints_in_the_history():
    model = KAN([2, 3, 1], grid=3, seed=0)
    model(torch.rand(50, 2, generator=torch.Generator().manual_seed(0)))
    l, i = np.int64(0), np.int32(1)
    model.remove_edge(l, i, np.int64(2))
    assert model.layers[0].mask[1, 2] == 0
    assert model.history.current.arguments == {"l": 0, "i": 1, "j": 2}
    model.swap(np.int64(1), 0, np.int64(2))
    assert model.history.current.arguments == {"l": 1, "i1": 0, "i2": 2}
    with pytest.raises(ValueError, match="must be an int"):
        model.remove_edge(0.0, 0, 0)


def test_round_numbers_rounds_the_final_expression():
    # rounding lets sympy distribute 0.5682 * (0.5682 x^2 + 0.3) into new unrounded floats;
    # the result must have none left (03_formulas showed 1.76*sqrt(0.322864349184*dx**2 ...))
    import sympy

    from kanwidget.kan.symbolic.formula import round_numbers

    x = sympy.Symbol("x")
    expr = 1.76 * sympy.sqrt(sympy.Float(0.56823) * (sympy.Float(0.56823) * x**2 + 0.3))
    rounded = round_numbers(expr, 4)
    assert all(float(f) == round(float(f), 4) for f in rounded.atoms(sympy.Float))
    assert str(rounded) == "1.76*sqrt(0.3229*x**2 + 0.1705)"
    model = KAN([2, 1], grid=3, seed=0)
    model(torch.rand(100, 2, generator=torch.Generator().manual_seed(0)))
    model.auto_symbolic(lib=["x", "x^2", "sin"])
    (formula,), _ = model.symbolic_formula(round_digits=3)
    assert formula.atoms(sympy.Float)
    assert all(float(f) == round(float(f), 3) for f in formula.atoms(sympy.Float))
