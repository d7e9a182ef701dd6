"""pykan's ``experiment.runner1``: the rounds, the versions it evaluates and the values it
records (each equal to the model checked out at that version)."""

from __future__ import annotations

import numpy as np
import torch

from kanwidget import create_dataset
from kanwidget.pykan.experiment import runner1


def test_runner1_records_each_evaluated_version():
    data = create_dataset(lambda x: x[:, [0]] ** 2 + torch.sin(x[:, [1]]), 2, seed=0,
                          train_num=200, test_num=200)  # fmt: skip
    calls, seen = [], []

    def n_train(model, dataset):
        calls.append(model.version)
        x, y = dataset["test_input"], dataset["test_label"]
        with torch.no_grad():
            seen.append((float(torch.sqrt(((model(x) - y) ** 2).mean())), model.n_edges()))
        return torch.tensor(float(dataset["train_input"].shape[0]))

    result = runner1([2, 3, 1], data, grids=[3, 5], steps=2, prune_round=2, refine_round=1,
                     metrics=[n_train], seed=1)  # fmt: skip
    # pykan's ids: fit, prune (evaluated), refine, fit (evaluated); round 2 rewinds to '0.2'
    assert list(result["id"]) == ["0.2", "0.4", "1.4", "1.6"] == calls
    assert list(result["G"]) == [3, 3, 3, 3]  # refine j uses grids[j], as pykan
    assert np.array_equal(result["n_train"], np.full(4, 200.0))
    # test RMSE and active edges of the model at each evaluated version
    np.testing.assert_allclose(result["test_loss"], [s[0] for s in seen], rtol=1e-5)
    assert list(result["c"]) == [s[1] for s in seen]
    assert result["c"][2] <= result["c"][1]  # the second round prunes the pruned model again
