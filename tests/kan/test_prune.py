"""Attribution (KAN 2.0 eq. 9) and pruning."""

import pytest
import torch
from torch.testing import assert_close

from kanwidget import KAN, create_dataset


@pytest.fixture(scope="module")
def square_data():
    return create_dataset(lambda x: x[:, 0] ** 2 + 0 * x[:, 1], 2)


@pytest.fixture
def trained(square_data):
    model = KAN([2, 5, 1], grid=5, seed=0)
    model.fit(square_data, steps=20, lamb=1e-3, progress=False)
    return model


def test_attribute_closed_form_single_layer():
    # one layer, one output: edge score = std(phi_i) / std(output) (subnode = output)
    model = KAN([3, 1], grid=5, seed=0)
    x = torch.rand(300, 3) * 2 - 1
    model(x)
    model.attribute()
    acts = model.layers[0].edge_activations(x)[:, 0, :]  # (B, in)
    expected = acts.std(0) / (model(x)[:, 0].std() + 1e-4)
    assert_close(model.edge_scores[0][0], expected, atol=1e-5, rtol=1e-4)
    assert_close(model.feature_score, expected, atol=1e-5, rtol=1e-4)


def test_attribute_unused_input_scores_near_zero(trained):
    trained.attribute()
    assert trained.feature_score[1] < 0.01 * trained.feature_score[0]


def test_prune_input_keeps_outputs_on_remaining_input(trained, square_data):
    x = square_data["test_input"]
    before = trained(x)
    trained.prune_input()
    assert trained.width[0] == [1, 0] and trained.input_ids == [0]
    assert (trained(x[:, trained.input_ids]) - before).abs().max() < 5e-3
    assert trained.history.current.operation == "prune_input"


def test_prune_shrinks_hidden_layer_and_keeps_fit(trained, square_data):
    x = square_data["test_input"]
    n_versions = len(trained.history)
    trained.prune()
    assert trained.width[1][0] < 5 and len(trained.history) == n_versions + 1
    rmse = torch.sqrt(((trained(x) - square_data["test_label"]) ** 2).mean())
    assert rmse < 0.05


def test_prune_node_manual_keeps_listed_nodes():
    model = KAN([2, 4, 1], grid=3, seed=0)
    x = torch.rand(50, 2)
    coef = model.layers[1].coef.detach().clone()
    model.prune_node(mode="manual", active_neurons_id=[[1, 3]])
    assert model.width[1] == [2, 0]
    assert_close(model.layers[1].coef, coef[[1, 3]])
    assert model(x).shape == (50, 1)


def test_prune_mult_node_removes_its_subnodes():
    model = KAN([2, [1, 2], 1], grid=3, seed=0)
    model.prune_node(mode="manual", active_neurons_id=[[0, 2]])
    assert model.width[1] == [1, 1] and model.mult_arity[1] == [2]
    assert model.layers[0].out_dim == 3 and model.layers[1].in_dim == 2


def test_prune_edge_masks_weak_edges(trained):
    trained.attribute()
    weak = trained.edge_scores[0][:, 1] < 3e-2  # edges leaving x1
    trained.prune_edge()
    assert torch.all(trained.layers[0].mask[1][weak] == 0)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda m: m.remove_edge(0, 2, 0),
            r"edge \(0, 2, 0\) does not exist: layer 0 has 2 inputs",
        ),
        (lambda m: m.remove_edge(0, 0, 7), "layer 0 has 5 outputs"),
        (lambda m: m.remove_edge(3, 0, 0), "the model has 2 layers"),
        (lambda m: m.remove_node(1, 9), r"node \(1, 9\) does not exist"),
    ],
)
def test_prune_bad_index_is_refused_and_model_untouched(trained, call, message):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    n_versions = len(trained.history)
    with pytest.raises(ValueError, match=message):
        call(trained)
    assert all(torch.equal(v, before[k]) for k, v in trained.state_dict().items())
    assert len(trained.history) == n_versions


def test_remove_edge_absorbs_constant_part(trained, square_data):
    x = square_data["test_input"]
    before = trained(x)
    for j in range(5):
        trained.remove_edge(0, 1, j)  # x1 carries (almost) nothing but a constant
    assert (trained(x) - before).abs().max() < 5e-3
