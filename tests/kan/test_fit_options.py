"""fit takes pykan 0.2.8's whole signature (kan/train/options.py): metrics, classification
with integer labels, numpy integers, coefficient penalties, feature_score after fit."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from kanwidget import KAN, create_dataset


@pytest.fixture(scope="module")
def data():
    return create_dataset(lambda x: x[:, :1] * x[:, 1:], 2, train_num=200, test_num=100, seed=0)


def test_fit_accepts_pykan_signature():
    from kan import MultKAN

    ours = inspect.signature(KAN([2, 1, 1]).fit)
    from kanwidget.kan.train.options import fit_options

    accepted = set(inspect.signature(fit_options).parameters) | set(ours.parameters)
    pykan = set(inspect.signature(MultKAN.fit).parameters) - {"self", "dataset"}
    assert pykan <= accepted, pykan - accepted


def test_fit_metrics_recorded_per_step_under_their_names(data):
    model = KAN([2, 3, 1], grid=5, seed=0)

    def train_rmse():
        return torch.sqrt(((model(data["train_input"]) - data["train_label"]) ** 2).mean())

    def constant():
        return 7

    hist = model.fit(data, steps=4, metrics=(train_rmse, constant), progress=False,
                     display_metrics=["train_rmse"])  # fmt: skip
    assert list(hist) == ["train_loss", "test_loss", "reg", "train_rmse", "constant"]
    assert hist["constant"] == [7.0] * 4 and len(hist["train_rmse"]) == 4
    # the metric runs after the step: the model's RMSE on the full training set
    assert hist["train_rmse"][-1] == pytest.approx(hist["train_loss"][-1], rel=1e-5)
    # numpy floats as in pykan: notebooks call `results['train_loss'][-1].item()`
    last = hist["train_loss"][-1]
    assert isinstance(last, float) and last.item() == float(last)
    assert model.loss_log["train_loss"][-1] == float(last)


def test_fit_numpy_integers_and_bad_values(data):
    model = KAN([2, 3, 1], grid=5, seed=0)
    hist = model.fit(data, steps=np.int64(3), batch=np.int32(50), grid_update_num=np.int64(2),
                     log=np.int64(1), progress=False)  # fmt: skip
    assert len(hist["train_loss"]) == 3
    before, n_versions = {k: v.clone() for k, v in model.state_dict().items()}, len(model.history)
    bad_arguments = [
        ({"steps": 2.5}, "steps"), ({"steps": -1}, "steps"), ({"batch": 0}, "batch"),
        ({"lr": float("nan")}, "lr"), ({"reg_metric": "edge_backward"}, "reg_metric"),
        ({"display_metrics": ["nope"]}, "display_metrics"), ({"opt": "SGD"}, "opt"),
    ]  # fmt: skip
    for bad, match in bad_arguments:
        with pytest.raises(ValueError, match=match):
            model.fit(data, progress=False, **bad)
    with pytest.raises(TypeError):
        model.fit(data, steps=1, no_such_argument=1, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert len(model.history) == n_versions


def test_fit_pykan_noop_arguments_change_nothing(data):
    a, b = KAN([2, 3, 1], grid=5, seed=0), KAN([2, 3, 1], grid=5, seed=0)
    ha = a.fit(data, steps=3, progress=False)
    hb = b.fit(data, steps=3, progress=False, singularity_avoiding=True, y_th=10.0,
               in_vars=["x", "y"], out_vars=["f"], beta=5, save_fig_freq=2,
               img_folder="./unused", reg_metric="edge_forward_spline_n")  # fmt: skip
    assert ha == hb


def test_fit_coefficient_penalties_follow_pykan(data):
    """lamb_coef / lamb_coefdiff add pykan's |coef| and |diff(coef)| means to the
    regulariser: the recorded reg grows by exactly those terms at the same parameters."""
    from kanwidget.kan.train.objective import coefficient_penalty

    model = KAN([2, 3, 1], grid=5, seed=0)
    plain = KAN([2, 3, 1], grid=5, seed=0)
    kw = {"opt": "Adam", "lr": 0.0, "steps": 1, "lamb": 1e-2, "update_grid": False,
          "progress": False}  # fmt: skip
    reg0 = plain.fit(data, **kw)["reg"][0]
    reg1 = model.fit(data, lamb_coef=0.5, lamb_coefdiff=0.25, **kw)["reg"][0]
    coef = model.layers[0].coef
    with torch.no_grad():
        by_hand = sum(0.5 * layer.coef.abs().mean(1).sum() + 0.25 * torch.diff(layer.coef).abs()
                      .mean(1).sum() for layer in model.layers)  # fmt: skip
    assert coef.shape[-1] == 5 + 3
    assert reg1 - reg0 == pytest.approx(float(by_hand), rel=1e-5)
    assert float(coefficient_penalty(model, 0.5, 0.25).detach()) == pytest.approx(float(by_hand))


def test_fit_sets_feature_score(data):
    model = KAN([2, 3, 1], grid=5, seed=0)
    assert model.feature_score is None
    model.fit(data, steps=3, progress=False)
    score = model.feature_score.clone()
    model.attribute()
    assert torch.equal(score, model.feature_score) and score.shape == (2,)


def test_fit_classification_two_moons_with_cross_entropy():
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=1000, noise=0.1, random_state=0)
    xt, yt = make_moons(n_samples=1000, noise=0.1, random_state=1)
    dataset = {
        "train_input": torch.tensor(x, dtype=torch.float32),
        "train_label": torch.tensor(y),  # 1-D int64 class indices
        "test_input": torch.tensor(xt, dtype=torch.float32),
        "test_label": torch.tensor(yt),
    }
    model = KAN([2, 2], grid=5, seed=0)

    def test_acc():
        pred = model(dataset["test_input"]).argmax(1)
        return (pred == dataset["test_label"]).float().mean()

    hist = model.fit(dataset, steps=20, loss_fn=torch.nn.CrossEntropyLoss(), metrics=(test_acc,),
                     progress=False)  # fmt: skip
    assert hist["test_acc"][-1] > 0.95
    model.prune_edge(threshold=1e-9)  # a later version: no RMSE of class indices, no crash
    with pytest.raises(ValueError, match="classification loss_fn"):
        KAN([2, 2], seed=0).fit(dataset, steps=1, progress=False)
    bad = dict(dataset, train_label=torch.tensor(y) + 5)
    with pytest.raises(ValueError, match="class indices outside"):
        KAN([2, 2], seed=0).fit(bad, steps=1, progress=False, loss_fn=torch.nn.CrossEntropyLoss())


def test_fit_save_fig_writes_one_image_per_saved_step(data, tmp_path):
    model = KAN([2, 3, 1], grid=5, seed=0)
    folder = tmp_path / "video"
    model.fit(data, steps=3, save_fig=True, save_fig_freq=2, img_folder=str(folder),
              in_vars=["a", "b"], progress=False)  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == ["0.jpg", "2.jpg"]


def test_fit_unknown_argument_names_the_closest(data):
    model = KAN([2, 2, 1], grid=3, seed=0)
    with pytest.raises(TypeError) as info:
        model.fit(data, step=5)
    assert str(info.value).startswith("fit got an unknown argument 'step' (did you mean 'steps'?)")
    with pytest.raises(TypeError) as info:
        model.fit(data, steps=1, zzz=1)
    assert str(info.value).startswith("fit got an unknown argument 'zzz'; it takes")
    assert [v.operation for v in model.history] == ["init"]
