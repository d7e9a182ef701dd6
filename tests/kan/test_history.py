"""Tests of the version tree (kanwidget/kan/history.py) on synthetic model snapshots."""

from __future__ import annotations

import copy
import os
import sys
import threading
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kanwidget.kan import history_format
from kanwidget.kan.history import FORMAT, Version, VersionTree, parse_id

State = tuple[dict[str, Any], dict[str, torch.Tensor]]


def kan_state(seed: int = 0) -> State:
    """A snapshot shaped like a [2, 5, 1] KAN with grid 5, k 3 (pykan naming)."""
    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    for layer, (n_in, n_out) in enumerate([(2, 5), (5, 1)]):
        tensors[f"layers.{layer}.coef"] = torch.randn(n_in, n_out, 8, generator=gen)
        tensors[f"layers.{layer}.knots"] = torch.linspace(-2.2, 2.2, 12).repeat(n_in, 1)
        tensors[f"layers.{layer}.mask"] = torch.ones(n_in, n_out)
        tensors[f"layers.{layer}.sym_params"] = torch.zeros(n_in, n_out, 4, dtype=torch.float64)
    config = {"width": [[2, 0], [5, 0], [1, 0]], "grid": 5, "k": 3, "sym_names": [["0"] * 5] * 2}
    return config, tensors


def changed(state: State, **updates: torch.Tensor) -> State:
    config, tensors = state
    return config, {**tensors, **{k.replace("__", "."): v for k, v in updates.items()}}


def assert_state_equal(actual: State, expected: State) -> None:
    assert actual[0] == expected[0]
    assert actual[1].keys() == expected[1].keys()
    for name, tensor in expected[1].items():
        assert actual[1][name].dtype == tensor.dtype, name
        assert torch.equal(actual[1][name], tensor), name


def branched_tree() -> VersionTree:
    """0.0 -> 0.1 -> 0.2 and 0.1 -> 1.1 -> 1.2 (the KAN 2.0 relativistic-mass flow)."""
    tree = VersionTree()
    s0 = kan_state(0)
    tree.commit(*s0, "init", {"width": [2, 5, 1]}, n_edges=15)
    s1 = changed(s0, layers__0__coef=torch.full((2, 5, 8), 0.5))
    tree.commit(*s1, "fit", {"steps": 50}, train_loss=0.1, test_loss=0.2, n_edges=15)
    s2 = changed(s1, layers__1__mask=torch.tensor([[1.0], [0.0], [1.0], [1.0], [1.0]]))
    tree.commit(*s2, "prune_edge", {"edge": (1, 1, 0)}, n_edges=14)
    tree.rewind("0.1")
    s3 = changed(s1, layers__0__mask=torch.tensor([[1.0] * 5, [0.0] + [1.0] * 4]))
    tree.commit(*s3, "fit", {"steps": 20}, train_loss=0.05, test_loss=0.06, formula="x1 + 1")
    return tree


def test_version_tree_kan2_relativistic_mass_flow() -> None:
    tree = VersionTree()
    s0 = kan_state(0)
    assert tree.commit(*s0, "init", {}).id == "0.0"
    s1 = changed(s0, layers__0__coef=torch.full((2, 5, 8), 0.5))
    v1 = tree.commit(*s1, "fit", {"steps": 50}, train_loss=0.1, test_loss=0.2, n_edges=15)
    assert (v1.id, v1.parent, v1.operation) == ("0.1", "0.0", "fit")
    s2 = changed(s1, layers__1__mask=torch.zeros(5, 1))  # mask the edge on gamma
    v2 = tree.commit(*s2, "prune_edge", {"edge": [1, 0, 0]}, n_edges=14)
    assert (v2.id, v2.parent) == ("0.2", "0.1")

    config, tensors = tree.rewind("0.1")
    v3 = tree.current
    assert (v3.id, v3.parent, v3.operation, v3.arguments) == (
        "1.1",
        "0.1",
        "rewind",
        {"version": "0.1"},
    )
    assert (v3.train_loss, v3.test_loss, v3.n_edges) == (0.1, 0.2, 15)
    assert_state_equal((config, tensors), s1)
    assert_state_equal(tree.state("1.1"), tree.state("0.1"))

    s4 = changed(s1, layers__0__mask=torch.zeros(2, 5))  # mask beta instead, train
    v4 = tree.commit(*s4, "fit", {"steps": 50}, train_loss=0.01)
    assert (v4.id, v4.parent) == ("1.2", "1.1")
    assert [v.id for v in tree] == ["0.0", "0.1", "0.2", "1.1", "1.2"]
    assert [v.id for v in tree.path("1.2")] == ["0.0", "0.1", "1.1", "1.2"]
    assert [v.id for v in tree.children("0.1")] == ["0.2", "1.1"]
    assert_state_equal(tree.state("0.2"), s2)  # the other branch is untouched


def test_commit_stores_a_copy_of_the_state() -> None:
    tree = VersionTree()
    config, tensors = kan_state(0)
    expected = kan_state(0)
    tree.commit(config, tensors, "init", {"edge": (0, 1, 2)})
    tensors["layers.0.coef"].add_(1.0)
    config["grid"] = 99
    assert_state_equal(tree.state("0.0"), expected)
    assert tree["0.0"].arguments == {"edge": [0, 1, 2]}  # tuples are stored as lists


def test_commit_converts_numpy_scalars_and_rejects_objects() -> None:
    tree = VersionTree()
    version = tree.commit({"lamb": np.float64(1e-3)}, {}, "fit", {"steps": np.int64(5)})
    assert version.arguments == {"steps": 5} and type(version.arguments["steps"]) is int
    assert type(tree.state("0.0")[0]["lamb"]) is float
    with pytest.raises(TypeError, match="arguments may only hold"):
        tree.commit({}, {}, "fit", {"fn": object()})
    with pytest.raises(TypeError, match="map str to Tensor"):
        tree.commit({}, {"coef": [1.0]}, "fit")  # type: ignore[dict-item]
    assert len(tree) == 1


def test_state_returns_copies_safe_to_mutate() -> None:
    tree = branched_tree()
    config, tensors = tree.state("0.1")
    tensors["layers.0.coef"].zero_()
    config["width"].append([7, 0])
    assert tree.state("0.1")[1]["layers.0.coef"].eq(0.5).all()
    assert tree.state("0.1")[0]["width"] == [[2, 0], [5, 0], [1, 0]]


def test_checkout_moves_current_without_new_version() -> None:
    tree = branched_tree()
    before = tree.as_dicts()
    config, tensors = tree.checkout("0.2")
    assert tree.current.id == "0.2"
    assert tree.as_dicts() == before
    assert tensors["layers.1.mask"][1, 0] == 0.0
    assert_state_equal((config, tensors), tree.state("0.2"))


def test_commit_after_checkout_of_old_version_starts_new_round() -> None:
    tree = branched_tree()  # rounds 0 and 1 exist
    s2 = tree.state("0.2")
    tree.checkout("0.1")
    v = tree.commit(*kan_state(5), "prune", {})
    assert (v.id, v.parent) == ("2.2", "0.1")  # 0.2 exists: a new round, never an overwrite
    tree.checkout("0.1")
    assert tree.commit(*kan_state(6), "prune", {}).id == "3.2"
    tree.checkout("1.2")
    assert tree.commit(*kan_state(7), "fit", {}).id == "1.3"  # 1.3 is free: same round
    assert_state_equal(tree.state("0.2"), s2)
    assert len({v.id for v in tree}) == len(tree) == 8


def test_rewind_starts_round_after_the_largest() -> None:
    tree = branched_tree()
    tree.checkout("0.0")
    assert tree.rewind("0.2") and tree.current.id == "2.2"
    tree.rewind("0.0")
    assert (tree.current.id, tree.current.parent) == ("3.0", "0.0")
    assert tree.commit(*kan_state(3), "fit", {}).id == "3.1"


def test_getitem_unknown_id_raises_keyerror_listing_known() -> None:
    tree = branched_tree()
    with pytest.raises(KeyError, match=r"version '9\.9' does not exist; known: 0\.0, 0\.1, 0\.2"):
        tree["9.9"]
    for method in (tree.rewind, tree.checkout, tree.state, tree.path, tree.children):
        with pytest.raises(KeyError):
            method("4.2")
    with pytest.raises(ValueError, match="round.step"):
        tree["latest"]
    assert tree.current.id == "1.2" and len(tree) == 5
    assert "0.1" in tree and "9.9" not in tree and 0.1 not in tree


def test_getitem_truncates_long_list_of_known_ids() -> None:
    tree = VersionTree()
    for _ in range(30):
        tree.commit({}, {}, "fit")
    with pytest.raises(KeyError, match=r"0\.19, \.\.\. \(10 more\)") as info:
        tree["1.0"]
    assert "0.25" not in str(info.value)


def test_parse_id_accepts_only_int_dot_int() -> None:
    assert parse_id("12.30") == (12, 30)
    for bad in ("1", "1.2.3", "a.1", "-1.0", "01.2", " 1.2", 1.2, None):
        with pytest.raises(ValueError):
            parse_id(bad)


def test_current_of_empty_tree_raises_lookuperror() -> None:
    with pytest.raises(LookupError, match="empty"):
        _ = VersionTree().current


def test_commit_shares_unchanged_tensors_and_copies_changed_ones() -> None:
    tree = VersionTree()
    s0 = kan_state(0)
    tree.commit(*s0, "init")
    size0 = tree.nbytes()
    assert size0 == sum(t.numel() * t.element_size() for t in s0[1].values())
    new_coef = torch.full((2, 5, 8), 2.0)
    tree.commit(*changed(s0, layers__0__coef=new_coef), "fit")
    a, b = tree["0.0"]._tensors, tree["0.1"]._tensors
    for name in a:
        shares = a[name].untyped_storage().data_ptr() == b[name].untyped_storage().data_ptr()
        assert shares == (name != "layers.0.coef"), name
    assert tree.nbytes() == size0 + new_coef.numel() * 4
    # an equal tensor (a new object with the same values) is shared too
    tree.commit(*changed(s0, layers__0__coef=new_coef.clone()), "fit")
    assert tree["0.2"]._tensors["layers.0.coef"] is b["layers.0.coef"]
    tree.rewind("0.0")
    assert tree.nbytes() == size0 + new_coef.numel() * 4  # a rewind copies nothing


def test_commit_stores_owned_contiguous_copies_of_views() -> None:
    big = torch.arange(100_000, dtype=torch.float32).reshape(1000, 100)
    tree = VersionTree()
    tree.commit(
        {},
        {"row": big[3], "block_t": big[:4, :6].t(), "param": torch.nn.Parameter(big[5, :3])},
        "init",
    )
    for name, stored in tree["0.0"]._tensors.items():
        assert stored.is_contiguous() and not stored.requires_grad, name
        assert stored.untyped_storage().nbytes() == stored.numel() * stored.element_size(), name
    assert torch.equal(tree["0.0"]._tensors["block_t"], big[:4, :6].t())
    big.zero_()
    assert tree["0.0"]._tensors["row"][1] == 301.0


def test_nbytes_100_versions_of_kan_sized_model_stay_far_under_50mb() -> None:
    # ~1,500 small tensors totalling ~30k floats, like a [4,10,10,1] KAN with grid 5
    gen = torch.Generator().manual_seed(0)
    tensors = {f"edge{i}.coef": torch.randn(20, generator=gen) for i in range(1500)}
    per_version = sum(t.numel() for t in tensors.values()) * 4
    assert 100_000 < per_version < 150_000
    tree = VersionTree()
    tree.commit({"width": [4, 10, 10, 1]}, tensors, "init")
    for step in range(1, 100):
        for i in (step, step + 500, step + 1000):  # each version changes three edges
            tensors = {**tensors, f"edge{i}.coef": torch.randn(20, generator=gen)}
        tree.commit({"width": [4, 10, 10, 1]}, tensors, "fit", train_loss=1.0 / step)
    assert len(tree) == 100
    assert tree.nbytes() == per_version + 99 * 3 * 20 * 4  # 100 full copies would be 12 MB
    assert tree.nbytes() < 50e6


def test_compare_reports_exactly_the_changed_tensors_and_config() -> None:
    tree = branched_tree()
    diff = tree.compare("0.2", "1.2")
    assert diff["a"] == "0.2" and diff["b"] == "1.2"
    assert diff["changed_tensors"] == ["layers.0.mask", "layers.1.mask"]
    assert diff["changed_config"] == []
    assert diff["train_loss"] == (None, 0.05) and diff["n_edges"] == (14, 0)
    assert diff["formula"] == (None, "x1 + 1")
    assert tree.compare("0.1", "1.1")["changed_tensors"] == []
    config, tensors = tree.state("1.2")
    del tensors["layers.1.coef"]
    tensors["extra"] = torch.ones(1)
    tree.commit({**config, "grid": 10, "new": 1}, tensors, "refine")
    diff = tree.compare("1.2", "1.3")
    assert diff["changed_tensors"] == ["extra", "layers.1.coef"]
    assert diff["changed_config"] == ["grid", "new"]


def test_as_dicts_lists_metadata_in_creation_order() -> None:
    rows = branched_tree().as_dicts()
    assert [r["id"] for r in rows] == ["0.0", "0.1", "0.2", "1.1", "1.2"]
    assert [r["parent"] for r in rows] == [None, "0.0", "0.1", "0.1", "1.1"]
    assert set(rows[0]) == {
        "id", "parent", "operation", "arguments", "train_loss", "test_loss", "n_edges",
        "formula", "time",
    }  # fmt: skip
    assert rows[2]["arguments"] == {"edge": [1, 1, 0]}
    assert rows[0]["time"] <= rows[4]["time"]


def test_to_dataframe_indexes_by_id() -> None:
    pytest.importorskip("pandas")
    frame = branched_tree().to_dataframe()
    assert list(frame.index) == ["0.0", "0.1", "0.2", "1.1", "1.2"]
    assert frame.loc["1.2", "train_loss"] == 0.05 and frame.loc["0.2", "operation"] == "prune_edge"


def test_to_dataframe_time_is_a_readable_timestamp() -> None:
    pd = pytest.importorskip("pandas")
    tree = branched_tree()
    frame = tree.to_dataframe()
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"  # not seconds since 1970
    seconds = [row["time"] for row in tree.as_dicts()]
    assert list(frame["time"]) == [pd.Timestamp(t, unit="s", tz="UTC") for t in seconds]


def test_to_dataframe_without_pandas_raises_importerror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas.*as_dicts"):
        branched_tree().to_dataframe()


def assert_trees_equal(actual: VersionTree, expected: VersionTree) -> None:
    assert actual.as_dicts() == expected.as_dicts()
    assert actual.current.id == expected.current.id
    for version in expected:
        assert_state_equal(actual.state(version.id), expected.state(version.id))
    assert actual.nbytes() == expected.nbytes()  # sharing survives the round trip


def test_save_load_round_trips_a_branched_tree(tmp_path: Any) -> None:
    tree = branched_tree()
    tree.checkout("0.2")
    path = tmp_path / "history.pt"
    tree.save(path)
    assert os.listdir(tmp_path) == ["history.pt"]  # no .tmp left behind
    loaded = VersionTree.load(path)
    assert_trees_equal(loaded, tree)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT and raw["format_version"] == 1
    assert len(raw["tensors"]) < 5 * 8  # unique tensors only
    loaded.checkout("0.1")
    assert loaded.commit(*kan_state(1), "fit").id == "2.2"  # round 1 is known after load


def test_to_state_from_state_round_trips_without_a_file() -> None:
    tree = branched_tree()
    assert_trees_equal(VersionTree.from_state(tree.to_state()), tree)
    empty = VersionTree.from_state(VersionTree().to_state())
    assert len(empty) == 0


def test_save_failure_keeps_the_previous_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.pt"
    branched_tree().save(path)
    before = path.read_bytes()

    def broken_save(obj: Any, handle: Any) -> None:
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        VersionTree().save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["history.pt"]


def corrupt_truncate(path: Any) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def corrupt_garbage(path: Any) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(5000))


def as_list(path: Any) -> None:
    torch.save([1, 2, 3], path)


FILE_CORRUPTIONS = {
    "truncated": (corrupt_truncate, "corrupted, truncated"),
    "garbage": (corrupt_garbage, "corrupted, truncated"),
    "not a dict": (as_list, "format tag None"),
}
# Edits of a valid saved dict that make the tree inconsistent, and the expected message.
STATE_EDITS = {
    "missing parent": (lambda s: s["versions"][2].update(parent="7.7"), "parent '7.7'"),
    "parent saved later": (lambda s: s["versions"].reverse(), "not the root"),
    "bad id": (lambda s: s["versions"][1].update(id="x"), "round.step"),
    "id breaks rule": (lambda s: s["versions"][2].update(id="0.5"), "cannot be a child"),
    "duplicate id": (lambda s: s["versions"].append(s["versions"][1]), "twice"),
    "wrong tag": (lambda s: s.update(format="pykan"), "format tag 'pykan'"),
    "newer format": (lambda s: s.update(format_version=99), "upgrade"),
    "bad tensor index": (lambda s: s["versions"][0]["tensors"].update(x=99), "name or index"),
    "missing field": (lambda s: s["versions"][3].pop("operation"), "'operation' is missing"),
    "unknown current": (lambda s: s.update(current="5.5"), "current version '5.5'"),
}


@pytest.mark.parametrize("kind", list(FILE_CORRUPTIONS) + list(STATE_EDITS))
def test_load_bad_file_raises_valueerror_naming_it(tmp_path: Any, kind: str) -> None:
    tree = branched_tree()
    path = tmp_path / "history.pt"
    tree.save(path)
    before = tree.as_dicts()
    if kind in FILE_CORRUPTIONS:
        corrupt, message = FILE_CORRUPTIONS[kind]
        corrupt(path)
    else:
        edit, message = STATE_EDITS[kind]
        state = torch.load(path, weights_only=True)
        edit(state)
        torch.save(state, path)
    with pytest.raises(ValueError, match=message) as info:
        VersionTree.load(path)
    assert str(path) in str(info.value)
    assert tree.as_dicts() == before and tree.current.id == "1.2"


@pytest.mark.parametrize("kind", list(STATE_EDITS))
def test_from_state_inconsistent_state_raises_valueerror(kind: str) -> None:
    edit, message = STATE_EDITS[kind]
    state = branched_tree().to_state()
    edit(state)
    with pytest.raises(ValueError, match=message):
        VersionTree.from_state(state)


def test_from_state_rejects_garbage_with_valueerror() -> None:
    for garbage in (None, 3, "x", {"format": FORMAT}, {"format": FORMAT, "format_version": 1}):
        with pytest.raises(ValueError):
            VersionTree.from_state(garbage)


def test_load_missing_file_raises_filenotfounderror(tmp_path: Any) -> None:
    with pytest.raises(FileNotFoundError):
        VersionTree.load(tmp_path / "absent.pt")


def test_version_tree_deepcopy_is_independent() -> None:
    tree = branched_tree()
    clone = copy.deepcopy(tree)
    assert_trees_equal(clone, tree)
    clone.commit(*kan_state(9), "fit")
    assert len(clone) == 6 and len(tree) == 5 and tree.current.id == "1.2"


def test_commit_from_many_threads_keeps_ids_unique() -> None:
    tree = VersionTree()
    tree.commit({}, {"w": torch.zeros(3)}, "init")

    def work(seed: int) -> None:
        for i in range(50):
            tree.commit({}, {"w": torch.full((3,), float(seed * 100 + i))}, "fit")
            if i % 10 == 0:
                tree.rewind("0.0")
            tree.as_dicts()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tree) == 1 + 8 * 55
    assert len({v.id for v in tree}) == len(tree)
    assert_consistent(list(tree))


def assert_consistent(versions: list[Version]) -> None:
    """Ids unique; parents exist and come earlier; ids follow the round.step rule."""
    seen: dict[str, Version] = {}
    for version in versions:
        assert version.id not in seen
        round_, step = parse_id(version.id)
        if not seen:
            assert (version.id, version.parent) == ("0.0", None)
        else:
            assert version.parent in seen
            parent_round, parent_step = parse_id(version.parent)
            max_round = max(parse_id(i)[0] for i in seen)
            rewind = version.operation == "rewind"
            if round_ == parent_round:
                assert not rewind and step == parent_step + 1
            else:
                assert round_ == max_round + 1 and step == parent_step + (0 if rewind else 1)
        seen[version.id] = version


NAMES = ["a", "b", "c", "d"]
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("commit"), st.dictionaries(st.sampled_from(NAMES), st.integers(0, 2))),
        st.tuples(st.just("rewind"), st.integers(0, 1000)),
        st.tuples(st.just("checkout"), st.integers(0, 1000)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_version_tree_random_operations_keep_tree_consistent(operations: list[Any]) -> None:
    tree = VersionTree()
    state: State = ({"n": 0}, {name: torch.zeros(2, dtype=torch.float64) for name in NAMES})
    tree.commit(*state, "init")
    expected = {"0.0": state}
    for n, (kind, arg) in enumerate(operations, start=1):
        ids = [v.id for v in tree]
        if kind == "commit":
            base = expected[tree.current.id][1]
            updates = {name: torch.full((2,), float(value)) for name, value in arg.items()}
            state = ({"n": n}, {**base, **{k: v.double() for k, v in updates.items()}})
            expected[tree.commit(*state, "fit", {"n": n}).id] = state
        elif kind == "rewind":
            source = ids[arg % len(ids)]
            assert_state_equal(tree.rewind(source), expected[source])
            assert tree.current.parent == source
            expected[tree.current.id] = expected[source]
        else:
            target = ids[arg % len(ids)]
            assert_state_equal(tree.checkout(target), expected[target])
            assert len(tree) == len(ids)
        assert tree.current.id in expected
    versions = list(tree)
    assert [v.id for v in versions] == list(expected)  # creation order, no overwrite
    assert_consistent(versions)
    for version in versions:
        path = tree.path(version.id)
        assert path[0].id == "0.0" and path[-1].id == version.id
        assert all(child.parent == parent.id for parent, child in zip(path, path[1:], strict=False))
        assert_state_equal(tree.state(version.id), expected[version.id])
    assert_trees_equal(VersionTree.from_state(tree.to_state()), tree)


def test_history_format_write_is_loadable_with_weights_only(tmp_path: Any) -> None:
    path = tmp_path / "h.pt"
    history_format.write(branched_tree().to_state(), path)
    records, current = history_format.read(path)
    assert current == "1.2" and [meta["id"] for meta, _, _ in records][-1] == "1.2"
