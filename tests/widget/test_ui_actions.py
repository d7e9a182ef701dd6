"""Issue 14's widget behaviour on the Python side: candidates tagged and recomputed, the
inspected edge cleared when pruned, the toolbar's Fit options, errors in the user's
words, "nothing to do" instead of empty versions, and what a checkout during training did."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from kanwidget.widget.dashboard import COLORS, TICK_FORMAT, LossChart, log_ticks
from kanwidget.widget.inspect import is_constant

FAST = {"opt": "Adam", "lr": 0.01, "update_grid": False}
CSS = Path(__file__).resolve().parents[2] / "js" / "widget.css"


def test_inspect_candidates_tagged_with_edge_version_and_step(widget, model):
    widget.select_edge(0, 1, 2)
    assert widget.candidates
    for c in widget.candidates:
        assert c["edge"] == [0, 1, 2] and c["version"] == model.version and c["step"] is None


def test_inspect_new_selection_clears_old_candidates_in_one_message(widget, monkeypatch):
    widget.select_edge(0, 0, 0)
    sent = []
    monkeypatch.setattr(widget, "_send", lambda msg, buffers=None: sent.append(msg))
    widget.trainer._active = True  # as if training: the suggestion is queued, not run
    try:
        widget.select_edge(0, 1, 1)
    finally:
        widget.trainer._active = False
        widget.trainer._queue.clear()
    [msg] = sent
    state = msg["state"]
    # selected and the emptied list travel together: the old edge's list is never shown
    assert state["selected"] == [0, 1, 1] and state["candidates"] == []


def test_inspect_candidates_recomputed_after_checkout(widget, model, dataset):
    widget.fit(steps=5, **FAST)
    widget.wait()
    widget.select_edge(0, 0, 0)
    trained = [(c["name"], c["r2"]) for c in widget.candidates]
    assert {c["version"] for c in widget.candidates} == {"0.1"}
    widget.checkout("0.0")
    assert {c["version"] for c in widget.candidates} == {"0.0"}
    assert [(c["name"], c["r2"]) for c in widget.candidates] != trained
    e = 0  # row of edge (0, 0, 0)
    np.testing.assert_array_equal(widget.candidates[0]["curve"]["x"], widget.curves["x"][e])


def test_inspect_candidates_recomputed_when_training_ends(widget, model):
    widget.select_edge(0, 0, 1)
    widget.fit(steps=3, **FAST)
    widget.wait()
    assert {(tuple(c["edge"]), c["version"], c["step"]) for c in widget.candidates} == {
        ((0, 0, 1), model.version, None)
    }


def test_inspect_pruning_the_selected_edge_clears_selection(widget, model):
    widget.select_edge(0, 1, 0)
    widget.prune_edge(0, 1, 0)
    assert widget.selected == [] and widget.candidates == []
    with pytest.raises(ValueError, match="pruned"):
        widget.select_edge(0, 1, 0)


def test_inspect_constant_edge_has_no_candidates(widget, model):
    # node (1, 0) loses both inputs: edge (1, 0, 0) sees a single value on the data
    widget.prune_edge(0, 0, 0)
    widget.prune_edge(0, 1, 0)
    widget.select_edge(1, 0, 0)
    assert widget.selected == [1, 0, 0] and widget.candidates == []
    assert is_constant(np.full(5, 0.3)) and not is_constant(np.linspace(0, 1e-3, 5))


def test_ui_fit_message_uses_the_toolbar_options(widget, model, monkeypatch):
    calls = []
    real_fit = model.fit

    def spy(dataset, **kwargs):
        calls.append({k: kwargs[k] for k in ("steps", "opt", "lr", "lamb", "update_grid")})
        return real_fit(dataset, **kwargs)

    monkeypatch.setattr(model, "fit", spy)
    msg = {"action": "fit", "steps": 3, "opt": "Adam", "lr": 0.02, "lamb": 0.001}
    widget._on_msg(widget, {**msg, "update_grid": False}, [])
    widget.wait()
    assert widget.error == {} and model.history.current.operation == "fit"
    assert calls == [{"steps": 3, "opt": "Adam", "lr": 0.02, "lamb": 0.001, "update_grid": False}]
    assert widget.fit_args == {
        "steps": 3, "opt": "Adam", "lr": 0.02, "lamb": 0.001, "update_grid": False, "other": ""
    }  # fmt: skip


def test_ui_fit_args_show_what_python_fit_used(widget):
    widget.fit(steps=2, lamb=0.01, batch=50, **FAST)
    widget.wait()
    args = widget.fit_args
    shown = (args["steps"], args["lamb"], args["opt"], args["update_grid"])
    assert shown == (2, 0.01, "Adam", False)
    assert args["other"] == "batch=50"


@pytest.mark.parametrize(
    "extra",
    [{"lr": 0}, {"lr": -1.0}, {"lamb": -0.1}, {"opt": "SGD"}, {"update_grid": 1}, {"lr": "1"}],
    ids=repr,
)
def test_ui_fit_message_bad_options_refused(widget, model, extra):
    n = len(model.history)
    widget._on_msg(widget, {"action": "fit", "steps": 3, **extra}, [])
    assert widget.error["message"].startswith("the widget sent a request the kernel cannot use")
    assert not widget.trainer.running and len(model.history) == n


def test_ui_error_banner_cleared_by_the_next_success(widget):
    widget._on_msg(widget, {"action": "checkout", "version": "7.7"}, [])
    assert "7.7" in widget.error["message"]
    widget._on_msg(widget, {"action": "select_edge", "edge": [0, 0, 0]}, [])
    assert widget.error == {}


def test_ui_nothing_to_do_on_an_empty_model(widget, model):
    for i in range(3):
        widget.prune_node(1, i)
    assert model.n_edges() == 0
    n = len(model.history)
    with pytest.raises(ValueError, match="nothing to train"):
        widget.fit(steps=2)
    with pytest.raises(ValueError, match="nothing to prune"):
        widget.prune()
    widget._on_msg(widget, {"action": "prune"}, [])
    assert "nothing to prune" in widget.error["message"]
    assert len(model.history) == n


def test_ui_checkout_during_training_says_what_happened(widget, model):
    widget.fit(steps=100_000, **FAST)
    while widget.trainer.step < 2:
        pass
    widget._on_msg(widget, {"action": "checkout", "version": "0.0"}, [])
    assert widget.wait(timeout=30)
    assert model.version == "0.0"
    note = widget.error
    assert note["level"] == "info"
    step = re.search(r"stopped at step (\d+) of 100000", note["message"])
    assert step and int(step.group(1)) >= 2
    assert "kept as version 0.1" in note["message"]
    assert [v.operation for v in model.history] == ["init", "fit"]


def test_ui_ping_answered_with_pong(widget, monkeypatch):
    sent = []
    monkeypatch.setattr(widget, "send", lambda content, buffers=None: sent.append(content))
    widget._on_msg(widget, {"action": "ping"}, [])
    assert sent == [{"pong": True}] and widget.error == {}


def test_ui_wait_returns_none_without_timeout(widget):
    widget.fit(steps=2, **FAST)
    assert widget.wait() is None  # `w.wait()` as a cell's last line prints nothing
    assert widget.wait(timeout=1) is True


@pytest.mark.parametrize(
    "lo, hi",
    [(0.0123, 0.0187), (1e-5, 1.0), (0.01, 0.1), (0.5, 0.5), (2e-3, 9e-2), (1e-30, 1e30)],
)
def test_dashboard_log_ticks_bracket_the_data_and_read_differently(lo, hi):
    ticks = log_ticks(lo, hi)
    assert 2 <= len(ticks) <= 6 and ticks == sorted(set(ticks))
    assert ticks[0] <= lo and ticks[-1] >= hi
    labels = [f"{t:.1e}" for t in ticks]  # d3 ".1~e" differs from this only in trailing zeros
    assert len(set(labels)) == len(labels)
    assert TICK_FORMAT == ".1~e"


def test_dashboard_colours_match_the_sparkline(widget):
    css = CSS.read_text()
    train = re.search(r"--kw-train:\s*(#[0-9a-f]{6})", css).group(1)
    test = re.search(r"--kw-test:\s*(#[0-9a-f]{6})", css).group(1)
    assert COLORS == [train, test]
    chart = LossChart(widget)
    assert list(chart.lines.colors) == COLORS
    chart.close()
