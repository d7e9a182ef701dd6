"""A ``kanwidget.pykan.KAN`` comes back as itself from every way of storing or copying a
model (checkpoints, ``save``/``load``, history files, checkout, copy, deepcopy, pickle), so
its next ``fit`` keeps pykan's step-0 grid rule: the parameters after it equal, bit for bit,
those of the same fit on the model that was never stored."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import kanwidget
from kanwidget.kan import io
from kanwidget.pykan import KAN, create_dataset, kanpiler


def _expsin(x):
    return torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)


@pytest.fixture(scope="module")
def data():
    return create_dataset(_expsin, n_var=2, train_num=200, test_num=100, seed=0)


@pytest.fixture
def model(data):
    m = KAN(width=[2, 5, 1], grid=3, k=3, seed=1)
    m.fit(data, steps=2, lamb=0.01, progress=False)
    return m


def _after_fit(model, data) -> dict[str, torch.Tensor]:
    model.fit(data, steps=2, lamb=0.01, progress=False)
    return {name: t.detach().clone() for name, t in model.state_dict().items()}


def _assert_same_next_fit(reloaded, original, data):
    assert type(reloaded) is KAN
    got, want = _after_fit(reloaded, data), _after_fit(original, data)
    assert got.keys() == want.keys()
    for name in want:
        assert torch.equal(got[name], want[name]), name


def _strip_class(path):
    """Rewrite ``path`` as a file of the format before classes were recorded."""
    obj = torch.load(path, weights_only=True)
    configs = [obj["config"]] if "config" in obj else [v["config"] for v in obj["versions"]]
    for config in configs:
        del config["model_class"]
    torch.save(obj, path)


def test_pykan_reload_checkpoint_keeps_class_and_next_fit(model, data, tmp_path):
    model.saveckpt(str(tmp_path / "ckpt"))
    _assert_same_next_fit(KAN.loadckpt(str(tmp_path / "ckpt")), model, data)


def test_pykan_reload_save_load_keeps_class_and_next_fit(model, data, tmp_path):
    model.save(tmp_path / "m.kan")
    assert torch.load(tmp_path / "m.kan", weights_only=True)["config"]["model_class"] == (
        "kanwidget.pykan.KAN"
    )
    loaded = kanwidget.KAN.load(tmp_path / "m.kan")  # the base class's load: the file decides
    assert loaded.version == model.version
    _assert_same_next_fit(loaded, model, data)


def test_pykan_reload_history_file_then_checkout_keeps_class(model, data, tmp_path):
    model.fit(data, steps=2, progress=False)
    model.history.save(tmp_path / "h.kan")
    loaded = io.load(tmp_path / "h.kan")
    assert type(loaded) is KAN
    loaded.checkout("0.1")
    model.checkout("0.1")
    _assert_same_next_fit(loaded, model, data)


@pytest.mark.parametrize(
    "duplicate",
    [
        lambda m: m.copy(),
        copy.deepcopy,
        lambda m: pickle.loads(pickle.dumps(m)),
    ],
    ids=["copy", "deepcopy", "pickle"],
)
def test_pykan_reload_copies_keep_class_and_next_fit(model, data, duplicate):
    _assert_same_next_fit(duplicate(model), model, data)


def test_pykan_reload_a_base_class_rebuild_would_differ(model, data, tmp_path):
    """The check above can fail: the same file read as kanwidget's own class (an old file,
    without the class name) loads as before and fits differently (input-only step 0)."""
    model.save(tmp_path / "m.kan")
    _strip_class(tmp_path / "m.kan")
    old = io.load(tmp_path / "m.kan")
    assert type(old) is kanwidget.KAN
    got, want = _after_fit(old, data), _after_fit(model, data)
    assert not torch.equal(got["layers.1.knots"], want["layers.1.knots"])


def test_pykan_reload_old_history_file_loads_as_base_class(model, tmp_path):
    model.history.save(tmp_path / "h.kan")
    _strip_class(tmp_path / "h.kan")
    old = io.load(tmp_path / "h.kan")
    assert type(old) is kanwidget.KAN
    x = torch.rand(20, 2)
    assert torch.equal(old(x), model(x))


def test_pykan_reload_unlisted_class_name_is_refused(model, tmp_path):
    model.save(tmp_path / "m.kan")
    obj = torch.load(tmp_path / "m.kan", weights_only=True)
    obj["config"]["model_class"] = "os.system"
    torch.save(obj, tmp_path / "m.kan")
    with pytest.raises(ValueError, match=r"unknown model class 'os.system'"):
        io.load(tmp_path / "m.kan")


def test_pykan_reload_does_not_seed_the_global_rng(model, tmp_path):
    model.save(tmp_path / "m.kan")
    torch.manual_seed(123)
    want = torch.rand(3)
    torch.manual_seed(123)
    io.load(tmp_path / "m.kan")
    assert torch.equal(torch.rand(3), want)


def test_pykan_reload_model_classes_table_names_each_class_by_its_own_name():
    for name in io.MODEL_CLASSES:
        assert io.model_class(name).model_class_name == name
    assert io.model_class("kanwidget.pykan.KAN") is KAN


def test_pykan_reload_kanpiler_builds_the_pykan_class(tmp_path):
    model = kanpiler(None, "x*y + sin(x)")
    assert type(model) is KAN
    model.save(tmp_path / "c.kan")
    loaded = io.load(tmp_path / "c.kan")
    assert type(loaded) is KAN
    x = torch.rand(20, 2, dtype=torch.float64)
    torch.testing.assert_close(loaded(x), x[:, [0]] * x[:, [1]] + torch.sin(x[:, [0]]))
