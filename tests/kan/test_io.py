"""save / load round trips and corrupted files."""

import pytest
import torch

from kanwidget import KAN, create_dataset


@pytest.fixture
def model():
    data = create_dataset(lambda x: x[:, 0] * x[:, 1] + x[:, 2], 3)
    m = KAN([3, [2, 1], 1], grid=4, seed=0)
    m.fit(data, steps=5, progress=False)
    m.remove_edge(0, 2, 1)
    m.prune_input(active_inputs=[0, 1, 2])
    m.rewind("0.1")
    return m


def test_io_round_trip_identical_outputs_and_history(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)
    loaded = KAN.load(path)
    x = torch.rand(100, 3)
    assert torch.equal(loaded(x), model(x))
    assert [v.id for v in loaded.history] == [v.id for v in model.history]
    assert loaded.version == model.version == "1.1"
    assert loaded.history["1.1"].parent == "0.1"
    assert loaded.width == model.width and loaded.mult_arity == model.mult_arity
    assert loaded.loss_log == model.loss_log


def test_io_file_loads_with_weights_only(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)
    obj = torch.load(path, weights_only=True)
    assert obj["format"] == "kanwidget.model"
    for t in obj["tensors"].values():  # contiguous copies, not views of big buffers
        assert t.untyped_storage().nbytes() == t.numel() * t.element_size()


def test_io_after_prune_input_round_trips(tmp_path):
    data = create_dataset(lambda x: x[:, 0] ** 2, 3)
    m = KAN([3, 3, 1], grid=3, seed=0)
    m.fit(data, steps=5, progress=False)
    m.prune_input(active_inputs=[0, 2])
    m.save(tmp_path / "p.pt")
    loaded = KAN.load(tmp_path / "p.pt")
    x = torch.rand(10, 2)
    assert torch.equal(loaded(x), m(x)) and loaded.input_ids == [0, 2]


def test_io_truncated_file_gives_clear_error(model, tmp_path):
    path = tmp_path / "m.pt"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        KAN.load(path)


class _Payload:
    """A pickled object that is not plain data (what weights_only loading refuses)."""


@pytest.mark.parametrize("content", ["pickle", "garbage"])
def test_io_foreign_file_never_advises_an_unsafe_load(tmp_path, content):
    # torch's own message says to retry with weights_only=False, i.e. to unpickle (run) an
    # untrusted file; kanwidget's says what the file is and never repeats that advice
    path = tmp_path / "m.pt"
    if content == "pickle":
        torch.save({"x": _Payload()}, path)
    else:
        path.write_bytes(b"garbage")
    with pytest.raises(ValueError) as info:
        KAN.load(path)
    message = str(info.value)
    assert message.startswith(f"{str(path)!r} is not a readable kanwidget model")
    assert "weights_only" not in message and len(message.splitlines()) == 1
    if content == "pickle":
        assert message.endswith("it holds Python objects, which kanwidget never unpickles")
    else:
        assert message.endswith("(truncated or corrupted?): not a file torch.save wrote")


def test_io_not_a_model_file(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"hello": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a kanwidget model"):
        KAN.load(path)
    with pytest.raises(FileNotFoundError):
        KAN.load(tmp_path / "missing.pt")


def test_io_save_writes_only_the_target(model, tmp_path):
    model.save(tmp_path / "m.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_io_nothing_written_by_default(in_tmp_dir):
    data = create_dataset(lambda x: x[:, 0], 1, train_num=50, test_num=50)
    m = KAN([1, 2, 1], grid=3)
    m.fit(data, steps=2, progress=False)
    m.prune()
    m.plot()


def test_io_history_file_loads_as_model_with_whole_tree(model, tmp_path):
    path = tmp_path / "history.pt"
    model.history.save(path)
    loaded = KAN.load(path)
    assert [v.id for v in loaded.history] == [v.id for v in model.history]
    assert loaded.version == model.version == "1.1"
    x = torch.rand(50, 3)
    assert torch.equal(loaded(x), model(x))
    loaded.checkout("0.2")  # every version of the tree is there to browse
    model.checkout("0.2")
    assert torch.equal(loaded(x), model(x))


def test_io_truncated_history_file_gives_clear_error(model, tmp_path):
    path = tmp_path / "history.pt"
    model.history.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        KAN.load(path)
