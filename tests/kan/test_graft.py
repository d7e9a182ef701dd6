"""graft: one model's version tree into a shared tree as new rounds (kanwidget.kan.graft)."""

from __future__ import annotations

import pytest
import torch

from kanwidget import KAN
from kanwidget.kan.graft import graft
from kanwidget.kan.history import VersionTree


def _branched_model(seed: int) -> KAN:
    """0.0 init -> 0.1 remove_edge -> 0.2 remove_edge; rewind 0.1 -> 1.1 -> 1.2 remove_edge."""
    model = KAN([2, 3, 1], grid=3, seed=seed)
    model.remove_edge(0, 0, 0)
    model.remove_edge(0, 1, 1)
    model.rewind("0.1")
    model.remove_edge(0, 1, 2)
    return model


def _shared_root() -> VersionTree:
    tree = VersionTree()
    config, tensors = KAN([2, 2, 1], grid=3, seed=9).snapshot()
    tree.commit(config, tensors, "sweep")
    return tree


def _same_state(tree_a: VersionTree, id_a: str, tree_b: VersionTree, id_b: str) -> bool:
    (config_a, tensors_a), (config_b, tensors_b) = tree_a.state(id_a), tree_b.state(id_b)
    return (
        config_a == config_b
        and tensors_a.keys() == tensors_b.keys()
        and all(torch.equal(tensors_a[k], tensors_b[k]) for k in tensors_a)
    )


def test_graft_shifts_rounds_and_steps_keeping_parents():
    source = _branched_model(0).history
    tree = _shared_root()
    mapping = graft(tree, source, "0.0", arguments={"universe": 0})
    assert mapping == {"0.0": "1.1", "0.1": "1.2", "0.2": "1.3", "1.1": "2.2", "1.2": "2.3"}
    for old, new in mapping.items():
        parent = source[old].parent
        assert tree[new].parent == ("0.0" if parent is None else mapping[parent])
        assert tree[new].operation == source[old].operation
        assert tree[new].n_edges == source[old].n_edges
        assert _same_state(tree, new, source, old)
    assert tree["1.1"].arguments["universe"] == 0
    assert tree.current.id == "0.0"  # the shared tree's current version does not move
    assert [v.id for v in source] == ["0.0", "0.1", "0.2", "1.1", "1.2"]  # source unchanged


def test_graft_second_universe_gets_the_next_rounds():
    tree = _shared_root()
    graft(tree, _branched_model(0).history, "0.0")
    second = graft(tree, _branched_model(1).history, "0.0")
    assert second["0.0"] == "3.1" and second["1.2"] == "4.3"
    assert [c.id for c in tree.children("0.0")] == ["1.1", "3.1"]


def test_graft_tree_round_trips_through_save_and_load(tmp_path):
    tree = _shared_root()
    graft(tree, _branched_model(0).history, "0.0")
    graft(tree, _branched_model(1).history, "0.0", final_only=True)
    path = tmp_path / "universes.pt"
    tree.save(path)
    loaded = VersionTree.load(path)  # load checks the round.step rule for every id
    assert [(v.id, v.parent) for v in loaded] == [(v.id, v.parent) for v in tree]
    assert _same_state(loaded, "3.1", tree, "3.1")


def test_graft_checkout_reproduces_the_source_model_output():
    model = _branched_model(2)
    tree = _shared_root()
    mapping = graft(tree, model.history, "0.0")
    x = torch.linspace(-1, 1, 20).reshape(10, 2)
    viewer = KAN([1, 1])
    viewer.history = tree
    for old, new in mapping.items():
        model.checkout(old)
        viewer.checkout(new)
        torch.testing.assert_close(viewer(x), model(x), rtol=0, atol=0)


def test_graft_final_only_adds_one_version():
    model = _branched_model(0)
    tree = _shared_root()
    mapping = graft(tree, model.history, "0.0", final_only=True)
    assert mapping == {"1.2": "1.1"}
    assert tree["1.1"].parent == "0.0" and len(tree) == 2
    assert _same_state(tree, "1.1", model.history, "1.2")


def test_graft_final_rewind_version_keeps_the_id_rule(tmp_path):
    model = KAN([2, 2, 1], grid=3, seed=0)
    model.remove_edge(0, 0, 0)
    model.rewind("0.1")  # current is the rewind version 1.1
    tree = _shared_root()
    assert graft(tree, model.history, "0.0", final_only=True) == {"1.1": "1.0"}
    tree.save(tmp_path / "t.pt")
    assert [v.id for v in VersionTree.load(tmp_path / "t.pt")] == ["0.0", "1.0"]


def test_graft_into_empty_tree_copies_ids_and_current():
    model = _branched_model(0)
    tree = VersionTree()
    mapping = graft(tree, model.history)
    assert all(old == new for old, new in mapping.items())
    assert tree.current.id == model.history.current.id == "1.2"


def test_graft_bad_arguments_change_nothing():
    tree = _shared_root()
    source = _branched_model(0).history
    with pytest.raises(KeyError, match="'7.7' does not exist"):
        graft(tree, source, "7.7")
    with pytest.raises(ValueError, match="needs parent"):
        graft(tree, source)
    with pytest.raises(ValueError, match="empty"):
        graft(VersionTree(), source, "0.0")
    with pytest.raises(ValueError, match="empty history"):
        graft(tree, VersionTree(), "0.0")
    assert [v.id for v in tree] == ["0.0"] and tree.current.id == "0.0"
