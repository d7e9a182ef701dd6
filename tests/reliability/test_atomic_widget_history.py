"""Table-driven atomicity test of every public verb of ``KANWidget`` and of the history
(``model.history``, a ``VersionTree``), idle and during training (issue 10).

A failing call raises (or, for work done in the training thread, sets the widget's error
banner) and leaves the model, its history and the dataset bit-identical; a successful one
commits exactly the row's number of versions.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from kanwidget import KAN, KANWidget
from kanwidget.kan.history import VersionTree

from .state import dataset_state, differences, model_state


@dataclass
class Case:
    verb: str
    label: str
    call: Callable[[Any], Any]
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None
    commits: int = 0
    banner: bool = False  # the error shows in the widget after wait() instead of raising
    setup: Callable[[Any], Any] | None = None  # run before the state is recorded

    @property
    def id(self) -> str:
        return f"{self.verb}:{self.label}"


BAD = (ValueError, TypeError, KeyError, RuntimeError)
EDGES = [(5, 0, 0), (0, 9, 0), (0, 0, 9), (-1, 0, 0), ("0", 0, 0), (0.0, 0, 0)]
VERSIONS = ["9.9", "x", "", None, 0.1]

WIDGET_CASES = [
    Case("fit", "steps < 0", lambda w: w.fit(steps=-1), BAD),
    Case("fit", "steps str", lambda w: w.fit(steps="3"), BAD),
    Case("fit", "NaN dataset", lambda w: w.fit(steps=1, dataset=_nan(w.dataset)), BAD),
    Case("fit", "unknown argument", lambda w: w.fit(steps=2, stepz=1), TypeError),
    Case("fit", "diverged at step 0", banner=True,
         call=lambda w: w.fit(steps=3, opt="Adam", loss_fn=lambda p, y: (p - y).sum() * torch.nan)),
    Case("fit", "ok", lambda w: w.fit(steps=2), None, 1),
    *[Case("select_edge", f"edge {e}", lambda w, e=e: w.select_edge(*e), BAD) for e in EDGES],
    Case("select_edge", "ok", lambda w: w.select_edge(0, 1, 0)),
    *[Case("symbolify", f"edge {e}", lambda w, e=e: w.symbolify(*e, "sin"), BAD) for e in EDGES],
    Case("symbolify", "name", lambda w: w.symbolify(0, 0, 0, "sinus"), BAD),
    Case("symbolify", "name type", lambda w: w.symbolify(0, 0, 0, ["sin"]), BAD),
    Case("symbolify", "ok", lambda w: w.symbolify(0, 0, 0, "sin"), None, 1),
    *[Case("prune_edge", f"edge {e}", lambda w, e=e: w.prune_edge(*e), BAD) for e in EDGES],
    Case("prune_edge", "already pruned", lambda w: w.prune_edge(0, 1, 2), BAD,
         setup=lambda w: w.prune_edge(0, 1, 2)),
    Case("prune_edge", "ok", lambda w: w.prune_edge(0, 1, 2), None, 1),
    *[Case("prune_node", f"node {n}", lambda w, n=n: w.prune_node(*n), BAD)
      for n in [(3, 0), (1, 7), (-1, 0), ("1", 0)]],  # fmt: skip
    Case("prune_node", "ok", lambda w: w.prune_node(1, 1), None, 1),
    Case("prune", "threshold type", lambda w: w.prune(node_th="high"), BAD),
    Case("prune", "ok", lambda w: w.prune(), None, 1),
    *[Case("checkout", f"version {v!r}", lambda w, v=v: w.checkout(v), BAD) for v in VERSIONS],
    Case("checkout", "ok", lambda w: w.checkout("0.0")),
    *[Case("rewind", f"version {v!r}", lambda w, v=v: w.rewind(v), BAD) for v in VERSIONS],
    Case("rewind", "ok", lambda w: w.rewind("0.0"), None, 1),
    Case("stop", "idle", lambda w: w.stop()),
    Case("pause", "idle", lambda w: w.pause()),
    Case("resume", "idle", lambda w: w.resume()),
    Case("wait", "idle", lambda w: w.wait(timeout=1)),
    Case("refresh", "ok", lambda w: w.refresh()),
    Case("dashboard", "ok", lambda w: w.dashboard()),
    # constructors of another widget: the fixture's widget, model and data stay as they were
    Case("from_discovery", "empty history", lambda w: KANWidget.from_discovery(
        SimpleNamespace(front=[], best=None, history=VersionTree())), ValueError),
    Case("from_discovery", "no history", lambda w: KANWidget.from_discovery(
        SimpleNamespace(front=[], best=None)), AttributeError),
    Case("from_discovery", "ok", lambda w: _discovery(w)),
    Case("from_sweep", "grid type", lambda w: KANWidget.from_sweep(w.dataset, grid="seeds"), BAD),
]  # fmt: skip


def _discovery(w: KANWidget) -> None:
    """A widget on a copy of the fixture's history (the fixture's model is not shared)."""
    result = SimpleNamespace(front=[], best=None, history=w.model.copy().history)
    KANWidget.from_discovery(result, w.dataset).close()


# during training (paused, so the model holds still): refused at once, nothing changes
TRAINING_CASES = [
    Case("fit", "while training", lambda w: w.fit(steps=2), RuntimeError),
    Case("model verb", "prune from another thread", lambda w: w.model.prune(), RuntimeError),
    Case("model verb", "fix_symbolic from another thread",
         lambda w: w.model.fix_symbolic(0, 0, 0, "sin"), RuntimeError),  # fmt: skip
    Case("model verb", "rewind from another thread", lambda w: w.model.rewind("0.0"), RuntimeError),
    *[Case("symbolify", f"edge {e}", lambda w, e=e: w.symbolify(*e, "sin"), BAD)
      for e in EDGES[:3]],
    Case("symbolify", "name", lambda w: w.symbolify(0, 0, 0, "sinus"), BAD),
    Case("prune_edge", "edge", lambda w: w.prune_edge(0, 9, 0), BAD),
    Case("prune_node", "node", lambda w: w.prune_node(1, 9), BAD),
    Case("checkout", "unknown", lambda w: w.checkout("9.9"), BAD),
    Case("rewind", "unknown", lambda w: w.rewind("9.9"), BAD),
    Case("select_edge", "edge", lambda w: w.select_edge(0, 0, 9), BAD),
]  # fmt: skip


def _nan(dataset: dict) -> dict:
    x = dataset["train_input"].clone()
    x[0, 0] = torch.nan
    return {**dataset, "train_input": x}


def public(cls: type) -> set[str]:
    """Public methods defined by ``cls`` itself (not inherited from the widget framework)."""
    return {
        name for name, value in vars(cls).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or isinstance(value, classmethod))
    }  # fmt: skip


# public names that are not verbs on the model, with the reason
WIDGET_SKIP = {"close": "ends the widget itself (stop + close the comm); every fixture's teardown"}


def test_atomic_widget_table_covers_every_public_verb():
    missing = public(KANWidget) - {c.verb for c in WIDGET_CASES} - set(WIDGET_SKIP)
    assert not missing, f"KANWidget verbs without a row: {sorted(missing)}"


@pytest.fixture
def widget(base_model, data):
    model = base_model.copy()
    w = KANWidget(model, data)
    yield w
    w.stop()
    assert w.wait(timeout=60)
    w.close()


def _snapshot(w: KANWidget):
    return model_state(w.model), dataset_state(w.dataset)


@pytest.mark.parametrize("case", WIDGET_CASES, ids=lambda c: c.id)
def test_atomic_widget_verb(case: Case, widget: KANWidget):
    if case.setup is not None:
        case.setup(widget)
    before, data_before = _snapshot(widget)
    n_before, seq = len(widget.model.history), widget._error_seq
    if case.raises is not None:
        with pytest.raises(case.raises):
            case.call(widget)
    else:
        result = case.call(widget)
        if case.verb == "dashboard":
            result.close()
    assert widget.wait(timeout=60)
    if case.raises is not None or case.banner:
        assert differences(before, model_state(widget.model)) == []
        if case.banner:
            assert widget._error_seq > seq and widget.error["message"]
    else:
        assert len(widget.model.history) - n_before == case.commits
        assert not widget.error
    assert differences(data_before, dataset_state(widget.dataset)) == []


@pytest.fixture(scope="module")
def paused_widget(base_model, base_data):
    """A widget paused in the middle of a long Adam fit (the model holds still)."""
    w = KANWidget(base_model.copy(), {k: v.clone() for k, v in base_data.items()})
    w.fit(steps=100_000, opt="Adam", lr=1e-3, update_grid=False)
    w.pause()
    deadline = time.monotonic() + 60
    while w.trainer.state != "paused":
        assert time.monotonic() < deadline, "training did not pause"
        time.sleep(0.01)
    yield w
    w.stop()
    assert w.wait(timeout=60)
    w.close()


@pytest.mark.parametrize("case", TRAINING_CASES, ids=lambda c: c.id)
def test_atomic_widget_verb_during_training(case: Case, paused_widget: KANWidget):
    w = paused_widget
    before, data_before = _snapshot(w)
    with pytest.raises(case.raises) as info:
        case.call(w)
    assert str(info.value)
    assert w.trainer.state == "paused"
    assert differences(before, model_state(w.model)) == []
    assert differences(data_before, dataset_state(w.dataset)) == []


# ---------------------------------------------------------------------------- history
def _garbage(tmp_path) -> str:
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"\x00not a history" * 20)
    return str(path)


def _newer(model: KAN, tmp_path) -> str:
    state = model.history.to_state()
    state["format_version"] = 99
    path = tmp_path / "newer.pt"
    torch.save(state, path)
    return str(path)


HISTORY_CASES = [
    *[Case(verb, f"id {v!r}", lambda m, t, verb=verb, v=v: getattr(m.history, verb)(v), BAD)
      for verb in ("checkout", "rewind", "children", "path", "state")
      for v in ["9.9", "x", None, 0.1, "0.01"]],
    Case("checkout", "ok", lambda m, t: m.history.checkout("0.1")),
    Case("rewind", "ok", lambda m, t: m.history.rewind("0.1"), None, 1),
    Case("children", "ok", lambda m, t: m.history.children("0.0")),
    Case("path", "ok", lambda m, t: m.history.path("0.2")),
    Case("state", "ok", lambda m, t: m.history.state("0.2")),
    Case("compare", "unknown", lambda m, t: m.history.compare("0.0", "9.9"), BAD),
    Case("compare", "ok", lambda m, t: m.history.compare("0.0", "0.2")),
    Case("commit", "config", lambda m, t: m.history.commit({"a": object()}, {}, "x"), BAD),
    Case("commit", "tensors", lambda m, t: m.history.commit({}, {"a": 1.0}, "x"), BAD),
    Case("commit", "arguments", lambda m, t: m.history.commit({}, {}, "x", {"f": print}), BAD),
    Case("commit", "ok", lambda m, t: m.history.commit(*m.snapshot(), "custom"), None, 1),
    Case("save", "missing folder", lambda m, t: m.history.save(t / "no" / "h.pt"), OSError),
    Case("save", "a folder", lambda m, t: m.history.save(t), OSError),
    Case("save", "ok", lambda m, t: m.history.save(t / "h.pt")),
    Case("load", "missing", lambda m, t: VersionTree.load(t / "missing.pt"), OSError),
    Case("load", "garbage", lambda m, t: VersionTree.load(_garbage(t)), ValueError),
    Case("load", "newer format", lambda m, t: VersionTree.load(_newer(m, t)), ValueError),
    Case("load", "ok", lambda m, t: (m.history.save(t / "h.pt"), VersionTree.load(t / "h.pt"))),
    Case("from_state", "empty", lambda m, t: VersionTree.from_state({}), ValueError),
    Case("from_state", "missing parent", lambda m, t: VersionTree.from_state(_orphan(m)),
         ValueError),
    Case("from_state", "ok", lambda m, t: VersionTree.from_state(m.history.to_state())),
    Case("to_state", "ok", lambda m, t: m.history.to_state()),
    Case("as_dicts", "ok", lambda m, t: m.history.as_dicts()),
    Case("nbytes", "ok", lambda m, t: m.history.nbytes()),
    Case("to_dataframe", "ok", lambda m, t: m.history.to_dataframe()),
]  # fmt: skip


def _orphan(model: KAN) -> dict:
    state = model.history.to_state()
    state["versions"][1]["parent"] = "7.7"
    return state


def test_atomic_history_table_covers_every_public_verb():
    missing = public(VersionTree) - {c.verb for c in HISTORY_CASES}
    assert not missing, f"VersionTree verbs without a row: {sorted(missing)}"


@pytest.mark.parametrize("case", HISTORY_CASES, ids=lambda c: c.id)
def test_atomic_history_verb(case: Case, model: KAN, tmp_path):
    before = model_state(model)
    if case.raises is not None:
        with pytest.raises(case.raises) as info:
            case.call(model, tmp_path)
        assert str(info.value)
        assert differences(before, model_state(model)) == []
        if case.label == "newer format":
            assert "newer kanwidget (format 99)" in str(info.value)
            assert "upgrade kanwidget" in str(info.value)
    else:
        case.call(model, tmp_path)
        after = model_state(model)
        assert len(after["history"]) - len(before["history"]) == case.commits
        assert differences(before["history"], after["history"][: len(before["history"])]) == []
