"""KAN construction and forward: closed forms, MultKAN products, bad input."""

import pytest
import torch
from torch.testing import assert_close

from kanwidget import KAN
from kanwidget.kan.network import normalize_width


def test_network_layer_is_sum_of_edge_functions():
    model = KAN([3, 4, 2], grid=5, seed=0)
    x = torch.rand(50, 3) * 2 - 1
    layer = model.layers[0]
    # forward = sum over inputs of per-edge activations (KAN eq. 2.6)
    assert_close(layer(x), layer.edge_activations(x).sum(-1), atol=1e-5, rtol=1e-5)


def test_network_edge_activation_closed_form():
    model = KAN([1, 1], grid=5, k=3, seed=0)
    layer = model.layers[0]
    with torch.no_grad():
        layer.coef.zero_()
        layer.scale_base.fill_(2.0)
    x = torch.linspace(-1, 1, 11)[:, None]
    assert_close(model(x), 2.0 * torch.nn.functional.silu(x))


def test_network_mult_nodes_multiply_subnodes():
    model = KAN([2, [1, 2], 1], grid=3, mult_arity=[[], [2, 3], []], seed=0)
    x = torch.rand(20, 2)
    trace = model.forward_cache(x)
    sub = trace.subnodes[0]  # (B, 1 + 2 + 3)
    expected = torch.stack([sub[:, 0], sub[:, 1] * sub[:, 2], sub[:, 3] * sub[:, 4] * sub[:, 5]], 1)
    assert_close(trace.nodes[1], expected)
    assert model.layers[0].out_dim == 6 and model.layers[1].in_dim == 3


def test_network_constructor_does_not_touch_global_rng_or_width():
    width = [2, [1, 1], 1]
    state = torch.random.get_rng_state()
    a, b = KAN(width, seed=3), KAN(width, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert width == [2, [1, 1], 1]
    assert_close(a.layers[0].coef, b.layers[0].coef)


def test_network_normalize_width():
    assert normalize_width([2, [3, 1], 1]) == [[2, 0], [3, 1], [1, 0]]


@pytest.mark.parametrize(
    "width, message",
    [([2], "at least 2"), ([2, "a", 1], "width\\[1\\]"), ([2, [0, 0], 1], "at least one node")],
)
def test_network_bad_width_is_refused(width, message):
    with pytest.raises(ValueError, match=message):
        KAN(width)


@pytest.mark.parametrize("grid", [0, -1, 2.5])
def test_network_bad_grid_is_refused(grid):
    with pytest.raises(ValueError, match="grid"):
        KAN([2, 1], grid=grid)


def test_network_wrong_input_width_names_the_shape():
    model = KAN([2, 3, 1])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"shape \(batch, 2\), got \(5, 3\)"):
        model(torch.rand(5, 3))
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_network_float64_and_float32():
    for dtype in (torch.float32, torch.float64):
        model = KAN([2, 3, 1], dtype=dtype)
        assert model(torch.rand(4, 2)).dtype == dtype


def test_network_structure_changes_commit_one_version_each():
    model = KAN([2, 3, 1], seed=0)
    model(torch.rand(100, 2) * 2 - 1)
    assert model.version == "0.0"
    model.remove_edge(0, 1, 2)
    assert model.version == "0.1" and model.layers[0].mask[1, 2] == 0
    model.remove_node(1, 0)
    assert model.version == "0.2" and model.layers[1].mask[0, 0] == 0
    assert model.history["0.2"].parent == "0.1"
    # the stored state is the state after the call
    config, tensors = model.history.state("0.1")
    assert tensors["layers.0.mask"][1, 2] == 0 and tensors["layers.1.mask"][0, 0] == 1


def test_network_affine_maps_apply_when_set():
    # the forward skips identity affine maps; a changed scale/bias must take effect again
    model = KAN([2, 3, 1], grid=3, seed=0)
    x = torch.rand(10, 2)
    base = model(x)
    with torch.no_grad():
        model.node_bias[1].add_(0.5)
    assert_close(model(x), base + 0.5)
    with torch.no_grad():
        model.node_bias[1].sub_(0.5)
        model.node_scale[1].mul_(2.0)
    assert_close(model(x), 2 * base)


def test_network_mask_change_takes_effect_after_full_mask_fast_path():
    model = KAN([2, 3, 1], grid=3, seed=0)
    x = torch.rand(20, 2)
    layer = model.layers[0]
    full = model(x)
    acts = layer.edge_activations(x)  # (B, out, in)
    acts[:, 2, 1] = 0
    with torch.no_grad():
        layer.mask[1, 2] = 0  # in place, as a user might
        assert_close(model(x), model.layers[1](acts.sum(-1)))
        layer.mask[1, 2] = 1
        assert_close(model(x), full)


def test_network_every_public_method_has_a_docstring():
    # `model.prune?` in a notebook must say what the verb does: the thin forwarding
    # methods (kan/verbs.py) show the docstring of the function they call
    import inspect

    from kanwidget.kan import io, pruning
    from kanwidget.kan.symbolic import ops

    module_names = set(dir(torch.nn.Module))
    missing = [
        name for name in dir(KAN)
        if not name.startswith("_") and name not in module_names
        and callable(getattr(KAN, name)) and not inspect.isclass(getattr(KAN, name))
        and len(inspect.getdoc(getattr(KAN, name)) or "") < 20
    ]  # fmt: skip
    assert missing == []
    assert KAN.prune.__doc__ == pruning.prune.__doc__
    assert KAN.fix_symbolic.__doc__ == ops.fix_symbolic.__doc__
    assert KAN.load.__doc__ == io.load.__doc__
