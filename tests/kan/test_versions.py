"""Every structure-changing call is exactly one version holding the state after the call;
the KAN 2.0 hypothesis-testing flow (train, branch, rewind) on a real model."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kanwidget import KAN, create_dataset


@pytest.fixture(scope="module")
def data():
    # relativistic mass m = m0 / sqrt(1 - v^2 / c^2), inputs (m0, v, c)
    def mass(x):
        return x[:, 0] / torch.sqrt(1 - (x[:, 1] / x[:, 2]) ** 2)

    return create_dataset(mass, 3, ranges=[[0.5, 1.5], [0.0, 0.6], [1.0, 1.5]], seed=0)


@pytest.fixture
def model(data):
    m = KAN([3, 3, 1], grid=3, seed=0)
    m.fit(data, steps=3, progress=False)
    return m


CALLS = {
    "fit": lambda m, d: m.fit(d, steps=2, progress=False),
    "refine": lambda m, d: m.refine(6),
    "prune": lambda m, d: m.prune(node_th=0.0, edge_th=0.0),
    "prune_node": lambda m, d: m.prune_node(mode="manual", active_neurons_id=[[0, 2]]),
    "prune_edge": lambda m, d: m.prune_edge(threshold=0.05),
    "prune_input": lambda m, d: m.prune_input(active_inputs=[0, 1]),
    "remove_edge": lambda m, d: m.remove_edge(0, 1, 2),
    "remove_node": lambda m, d: m.remove_node(1, 1),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_versions_each_call_commits_the_state_after_it(model, data, name):
    n_before, parent = len(model.history), model.version
    returned = CALLS[name](model, data)
    assert len(model.history) == n_before + 1
    version = model.history.current
    assert version.parent == parent and version.operation == name
    if name != "fit":
        assert returned is model  # pykan's `model = model.prune()` keeps working
    config, tensors = model.history.state(version.id)
    now_config, now_tensors = model.snapshot()
    assert config == now_config
    assert tensors.keys() == now_tensors.keys()
    assert all(torch.equal(tensors[k], now_tensors[k]) for k in tensors)
    assert version.n_edges == model.n_edges()


def test_versions_relativistic_mass_flow(data):
    model = KAN([3, 3, 1], grid=3, seed=0)
    model.fit(data, steps=5, progress=False)
    assert model.version == "0.1"
    state_01 = model.history.state("0.1")
    model.remove_edge(0, 2, 0)  # mask an edge on gamma's path, retrain
    model.fit(data, steps=2, progress=False)
    assert model.version == "0.3"
    model.rewind("0.1")
    assert model.version == "1.1" and model.history["1.1"].parent == "0.1"
    config, tensors = model.snapshot()
    assert config == state_01[0]
    assert all(torch.equal(tensors[k], state_01[1][k]) for k in tensors)
    model.remove_edge(0, 1, 0)  # mask beta's edge this time, retrain
    model.fit(data, steps=2, progress=False)
    assert model.version == "1.3" and model.history["1.2"].parent == "1.1"
    assert [v.id for v in model.history] == ["0.0", "0.1", "0.2", "0.3", "1.1", "1.2", "1.3"]


def test_versions_checkout_moves_without_new_version(model, data):
    model.remove_edge(0, 0, 0)
    n = len(model.history)
    model.checkout("0.1")
    assert model.version == "0.1" and len(model.history) == n
    assert model.layers[0].mask[0, 0] == 1
    model.remove_edge(0, 0, 1)  # 0.2 exists already: a new round, never an overwrite
    assert model.version == "1.2" and model.history["1.2"].parent == "0.1"
    assert model.history["0.2"].operation == "remove_edge"


def test_versions_rewind_unknown_id_leaves_model(model):
    before = model.snapshot()[1]
    with pytest.raises(KeyError, match="does not exist"):
        model.rewind("7.7")
    assert all(torch.equal(v, before[k]) for k, v in model.snapshot()[1].items())


def test_versions_losses_recorded(model):
    version = model.history["0.1"]
    assert version.train_loss is not None and math.isfinite(version.train_loss)
    assert version.train_loss == model.loss_log["train_loss"][2]


def test_versions_history_stays_compact():
    model = KAN([4, 10, 10, 1], grid=5, seed=0)
    data = create_dataset(lambda x: x.sum(1), 4, train_num=100, test_num=100)
    for step in range(50):  # every fit changes every coefficient
        model.fit(data, opt="Adam", steps=1, lr=1e-3, progress=False, update_grid=False)
        model.remove_edge(step % 2, step % 4, step % 10)
    assert len(model.history) == 101
    per_version = sum(t.numel() * t.element_size() for t in model.snapshot()[1].values())
    assert model.history.nbytes() < 50 * 2**20
    assert model.history.nbytes() < 60 * per_version  # remove_edge versions share most tensors


def test_versions_losses_follow_the_branch(data):
    model = KAN([3, 3, 1], grid=3, seed=0)
    model.fit(data, steps=4, progress=False)
    log_01 = {k: list(v) for k, v in model.loss_log.items()}
    model.fit(data, steps=6, progress=False)
    model.remove_edge(0, 0, 0)
    # a non-fit version records the loss of the model as it is after the call
    x, y = data["test_input"], data["test_label"]
    with torch.no_grad():
        rmse = float(torch.sqrt(((model(x) - y) ** 2).mean()))
    assert model.history.current.test_loss == pytest.approx(rmse, rel=1e-5)
    model.rewind("0.1")
    assert model.loss_log == log_01  # the loss curve of that branch, not the newest one
    model.remove_edge(0, 1, 0)
    assert model.history.current.test_loss != model.history["0.3"].test_loss


def test_versions_losses_none_before_any_fit():
    model = KAN([2, 2, 1], grid=3)
    model.remove_edge(0, 0, 0)
    assert model.history.current.train_loss is None


OPS = st.lists(
    st.tuples(st.sampled_from(["remove_edge", "fit", "rewind", "checkout"]), st.integers(0, 50)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(ops=OPS)
def test_versions_random_operations_keep_tree_consistent(ops):
    data = create_dataset(lambda x: x[:, 0] * x[:, 1], 2, train_num=64, test_num=32)
    model = KAN([2, 2, 1], grid=3, seed=0)
    for op, n in ops:
        ids = [v.id for v in model.history]
        if op == "remove_edge":
            model.remove_edge(n % 2, (n // 2) % 2, (n // 4) % model.layers[n % 2].out_dim)
        elif op == "fit":
            model.fit(data, opt="Adam", steps=1, lr=0.01, progress=False, update_grid=False)
        elif op == "rewind":
            model.rewind(ids[n % len(ids)])
        else:
            model.checkout(ids[n % len(ids)])
        # the model is exactly its current version
        config, tensors = model.history.state(model.version)
        now_config, now_tensors = model.snapshot()
        assert config == now_config
        assert all(torch.equal(tensors[k], now_tensors[k]) for k in tensors)
    ids = [v.id for v in model.history]
    assert len(ids) == len(set(ids)) and ids[0] == "0.0"
    seen = set()
    for version in model.history:  # parents exist and were created earlier
        assert version.parent is None or version.parent in seen
        seen.add(version.id)
