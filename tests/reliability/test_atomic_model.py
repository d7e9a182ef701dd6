"""Table-driven atomicity test of every public verb of ``KAN`` (issue 10).

For each row of ``rows.ROWS``: a failing call raises the expected error and leaves the
model (state dict, masks, grids, symbolic names and parameters, cached data, loss log),
its history (ids, parents, operations, arguments, stored tensors, current version) and
the caller's dataset bit-identical; a successful call commits exactly the row's number of
versions, the new version being a child of the previous one holding the model's state.
The same success calls are then run with the history's commit failing (the work is done,
the version cannot be written): the model must roll back completely.
"""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch
from torch import nn

from kanwidget import KAN
from kanwidget.kan.history import VersionTree

from .rows import ROWS, SKIP, Row
from .state import dataset_state, differences, model_state, same_bits


def _params(rows: list[Row]):
    return [pytest.param(row, id=row.id, marks=row.marks) for row in rows]


def _model(row: Row, model: KAN, data: dict) -> KAN:
    return row.make(data) if row.make is not None else model


def public_verbs() -> set[str]:
    """Public callables of KAN that nn.Module does not define, plus ``forward``."""
    names = {
        name for name, value in inspect.getmembers(KAN)
        if not name.startswith("_") and name not in dir(nn.Module)
        and (callable(value) or isinstance(value, classmethod))
    }  # fmt: skip
    return names | {"forward"}


def test_atomic_table_covers_every_public_verb():
    covered = {row.verb for row in ROWS} | set(SKIP)
    missing = sorted(public_verbs() - covered)
    assert not missing, f"public KAN verbs without a row in tests/reliability/rows.py: {missing}"
    for verb in public_verbs() - set(SKIP):
        successes = [row for row in ROWS if row.verb == verb and row.raises is None]
        assert successes, f"{verb}: no success row"


@pytest.mark.parametrize("row", _params([r for r in ROWS if r.raises is not None]))
def test_atomic_failure_changes_nothing(row: Row, model: KAN, data: dict):
    model = _model(row, model, data)
    before, data_before = model_state(model), dataset_state(data)
    with pytest.raises(row.raises) as info:
        row.call(model, data)
    assert str(info.value).strip(), "the error must say what was wrong"
    assert differences(before, model_state(model)) == []
    assert differences(data_before, dataset_state(data)) == []
    model(data["train_input"][:4])  # the model still works


def _check_success(row: Row, model: KAN, data: dict) -> None:
    before, data_before = model_state(model), dataset_state(data)
    row.call(model, data)
    new = [v for v in model.history if v.id not in {h[0] for h in before["history"]}]
    assert len(new) == row.commits, [v.id for v in new]
    old = model_state(model)["history"][: len(before["history"])]
    assert differences(before["history"], old) == []  # earlier versions untouched
    if row.commits == 1:
        version = new[0]
        assert model.version == version.id
        rewound = version.operation == "rewind"
        assert version.parent == (version.arguments["version"] if rewound else before["version"])
        config, tensors = model.snapshot()
        assert version._config == config
        assert all(same_bits(version._tensors[k], t) for k, t in tensors.items())
    assert differences(data_before, dataset_state(data)) == []


@pytest.mark.parametrize("row", _params([r for r in ROWS if r.raises is None]))
def test_atomic_success_commits_exactly(row: Row, model: KAN, data: dict):
    model = _model(row, model, data)
    if row.warns is not None:
        with pytest.warns(row.warns):
            _check_success(row, model, data)
    else:
        _check_success(row, model, data)


class _CommitFailed(RuntimeError):
    pass


@pytest.mark.parametrize(
    "row", _params([r for r in ROWS if r.raises is None and r.commits == 1 and not r.marks])
)
def test_atomic_failed_commit_rolls_back(row: Row, model: KAN, data: dict, monkeypatch):
    model = _model(row, model, data)
    before, data_before = model_state(model), dataset_state(data)

    def broken_commit(self, *args, **kwargs):
        raise _CommitFailed("the version could not be recorded")

    monkeypatch.setattr(VersionTree, "commit", broken_commit)
    monkeypatch.setattr(VersionTree, "rewind", broken_commit)
    with warnings.catch_warnings(), pytest.raises(_CommitFailed):
        warnings.simplefilter("ignore")
        row.call(model, data)
    assert differences(before, model_state(model)) == []
    assert differences(data_before, dataset_state(data)) == []


def test_atomic_rollback_keeps_parameter_objects(model: KAN, data: dict):
    """An optimiser holding the parameters keeps working after a failed edit: values are
    restored into the same tensor objects."""
    params = list(model.parameters())
    values = [p.detach().clone() for p in params]
    with pytest.raises(ZeroDivisionError), model.operation("custom"):
        with torch.no_grad():
            for p in params:
                p.mul_(3)
        raise ZeroDivisionError("failed")
    assert all(a is b for a, b in zip(params, model.parameters()))
    assert all(same_bits(p.detach(), v) for p, v in zip(params, values))
