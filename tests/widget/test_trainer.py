"""Background training: frames stream while fit runs in a thread, pause/resume/stop work,
edits requested during training are applied between optimiser steps, frames are throttled."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import torch

from kanwidget import KANWidget

FAST = {"opt": "Adam", "lr": 0.01, "update_grid": False}
FOREVER = 1_000_000


def until(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def count_changes(widget, name: str) -> list[int]:
    seen = [0]
    widget.observe(lambda change: seen.__setitem__(0, seen[0] + 1), names=name)
    return seen


def test_trainer_fit_returns_at_once_and_streams_frames(model, dataset):
    w = KANWidget(model, dataset, fps=1000)
    frames = count_changes(w, "curves")
    w.fit(steps=30, **FAST)
    # fit returned while the run goes on in the background (no wall-clock bound: CI is shared)
    assert w.training["state"] == "running" and w.training["steps"] == 30
    assert w.wait(timeout=60)
    assert frames[0] >= 3
    assert w.training == {"state": "idle", "step": 30, "steps": 30}
    assert w.loss["train"].shape == (30,) and model.version == "0.1"
    assert w.history["current"] == "0.1" and w.error == {}
    w.close()


def test_trainer_stop_ends_training_early(widget, model):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 3, what="3 steps")
    widget.stop()
    assert widget.wait(timeout=30)
    assert 3 <= widget.training["step"] < FOREVER and widget.training["state"] == "idle"
    assert [v.operation for v in model.history] == ["init", "fit"]
    assert len(model.loss_log["train_loss"]) == widget.training["step"]


def test_trainer_pause_blocks_and_resume_continues(widget):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 2, what="2 steps")
    widget.pause()
    until(lambda: widget.training["state"] == "paused", what="paused")
    step = widget.trainer.step
    time.sleep(0.3)
    assert widget.trainer.step == step
    widget.resume()
    until(lambda: widget.trainer.step > step + 2, what="steps after resume")
    assert widget.training["state"] == "running"
    widget.stop()
    assert widget.wait(timeout=30)


def test_trainer_ctrl_c_in_wait_stops_training_and_keeps_the_run(widget, model):
    # Ctrl-C on a cell blocked in w.wait(): training ends after the current step, its steps
    # are kept as the fit version, and the next cell finds the model idle (before, training
    # went on in the background while a second wait() returned at once: CPython marks a
    # thread whose join() was interrupted as finished)
    # Python's own Ctrl-C handler (what a kernel's interrupt raises); an earlier test or a
    # library of this process may have installed another, under which the wait would block
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 2, what="2 steps")
    guard = threading.Timer(60, widget.stop)  # never hang the suite if the signal is lost
    guard.start()
    try:
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            widget.wait()
    finally:
        guard.cancel()
        signal.signal(signal.SIGINT, previous)
    assert not widget.trainer.running and widget.training["state"] == "idle"
    assert [v.operation for v in model.history] == ["init", "fit"]
    assert len(model.loss_log["train_loss"]) == widget.training["step"] >= 2
    assert widget.wait(timeout=0) is True
    model.prune()  # the next cell's verb: no "changed by another thread"
    assert [v.operation for v in model.history] == ["init", "fit", "prune"]


def test_trainer_model_save_while_training_refused(widget, model, tmp_path):
    # the file would hold the half-trained parameters under the last committed version's id
    path = tmp_path / "model.pt"
    model.save(path)
    before = path.read_bytes()
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 2, what="2 steps")
    with pytest.raises(RuntimeError) as info:
        model.save(path)
    assert str(info.value).startswith("cannot save the model while another thread changes it")
    assert path.read_bytes() == before
    widget.stop()
    assert widget.wait(timeout=30)
    model.save(path)
    loaded = type(model).load(path)
    assert [v.operation for v in loaded.history] == ["init", "fit"] and loaded.version == "0.1"
    x = widget.dataset["test_input"]
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_trainer_stop_while_paused(widget):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 1, what="1 step")
    widget.pause()
    until(lambda: widget.training["state"] == "paused", what="paused")
    widget.stop()
    assert widget.wait(timeout=30) and widget.training["state"] == "idle"


def test_trainer_edit_queued_during_training_applies_between_steps(widget, model):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 2, what="2 steps")
    widget.prune_edge(0, 1, 0)  # queued: returns at once
    until(lambda: float(model.layers[0].mask[1, 0]) == 0, what="the edge to be pruned")
    step = widget.trainer.step
    until(lambda: widget.trainer.step > step + 2, what="training to continue")
    widget.stop()
    assert widget.wait(timeout=30)
    assert model.layers[0].mask[1, 0] == 0
    ops = [(v.id, v.parent, v.operation) for v in model.history]
    assert ops == [("0.0", None, "init"), ("0.1", "0.0", "remove_edge"), ("0.2", "0.1", "fit")]
    edge = next(e for e in widget.structure["edges"] if (e["l"], e["i"], e["j"]) == (0, 1, 0))
    assert edge["active"] is False and widget.history["current"] == "0.2"


def test_trainer_edit_queued_while_paused_applies(widget, model):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 1, what="1 step")
    widget.pause()
    until(lambda: widget.training["state"] == "paused", what="paused")
    widget.prune_node(1, 1)
    until(lambda: widget.history["current"] == "0.1", what="the prune to be drawn")
    assert float(model.layers[1].mask[1, 0]) == 0 and model.version == "0.1"
    assert widget.training["state"] == "paused"
    widget.stop()
    assert widget.wait(timeout=30)


def test_trainer_checkout_during_training_stops_then_applies(widget, model):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 2, what="2 steps")
    widget.checkout("0.0")
    assert widget.wait(timeout=30)
    assert [v.operation for v in model.history] == ["init", "fit"]
    assert model.version == "0.0" and widget.history["current"] == "0.0"


def test_trainer_bad_edit_during_training_goes_to_error(widget, model):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 1, what="1 step")
    widget.prune_edge(0, 0, 0)
    widget.prune_edge(0, 0, 0)  # valid when queued, already pruned when applied
    until(lambda: "already pruned" in widget.error.get("message", ""), what="the error")
    widget.stop()
    assert widget.wait(timeout=30)
    assert [v.operation for v in model.history] == ["init", "remove_edge", "fit"]


def test_trainer_refuses_second_fit(widget):
    widget.fit(steps=FOREVER, **FAST)
    with pytest.raises(RuntimeError, match="already training"):
        widget.fit(steps=5)
    widget._on_msg(widget, {"action": "fit", "steps": 5}, [])
    assert "already training" in widget.error["message"]
    widget._on_msg(widget, {"action": "stop"}, [])
    assert widget.wait(timeout=30)


def test_trainer_exception_in_thread_goes_to_error(widget, model):
    def loss_fn(pred, label):
        raise ValueError("a loss that fails")

    widget.fit(steps=5, loss_fn=loss_fn)
    assert widget.wait(timeout=30)
    assert widget.error["message"] == "training failed: ValueError: a loss that fails"
    assert widget.training["state"] == "idle" and len(model.history) == 1


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"opt": "SGD"}, ValueError, "opt must be 'LBFGS' or 'Adam', got 'SGD'"),
        ({"lr": -1}, ValueError, "lr must be a finite number >= 0, got -1"),
        ({"lamb": "a"}, ValueError, "lamb must be a finite number >= 0, got 'a'"),
        ({"batch": 0}, ValueError, "batch must be -1 or a positive int, got 0"),
        ({"step": 5}, TypeError, "fit got an unknown argument 'step' (did you mean 'steps'?)"),
    ],
    ids=repr,
)
def test_trainer_fit_bad_options_raise_in_the_cell(widget, model, options, error, message):
    # a typo or a bad value is the caller's mistake: raised by w.fit itself, before any
    # thread starts, and the toolbar keeps showing the last good options
    shown = dict(widget.fit_args)
    with pytest.raises(error) as info:
        widget.fit(steps=3, **options)
    assert str(info.value).startswith(message)
    assert not widget.trainer.running and widget.training["state"] == "idle"
    assert widget.fit_args == shown and widget.error == {} and len(model.history) == 1


def test_trainer_frames_are_throttled(model, dataset):
    w = KANWidget(model, dataset, fps=10)
    frames = count_changes(w, "curves")
    t0 = time.perf_counter()
    w.fit(steps=FOREVER, **FAST)
    time.sleep(1.0)
    w.stop()
    assert w.wait(timeout=30)
    elapsed = time.perf_counter() - t0
    print(f"\n{frames[0]} frames in {elapsed:.2f} s at fps=10 ({w.trainer.step} steps)")
    assert frames[0] <= 10 * elapsed + 2  # + the final full refresh
    assert frames[0] >= 3
    w.close()


def test_trainer_frames_sent_as_one_binary_message_from_the_thread(widget, monkeypatch):
    sent = []
    original = widget._send

    def spy(msg, buffers=None):
        state = msg.get("state", {})
        sent.append((threading.current_thread().name, set(state), len(buffers or [])))
        original(msg, buffers=buffers)

    monkeypatch.setattr(widget, "_send", spy)
    widget.trainer.fps = 1000
    widget.fit(steps=10, **FAST)
    assert widget.wait(timeout=30)
    frames = [s for s in sent if s[0] == "kanwidget-fit" and "curves" in s[1]]
    assert len(frames) >= 3
    for _, keys, n_buffers in frames:
        assert {"curves", "samples", "scores", "loss", "training"} <= keys
        assert n_buffers >= 8  # curves x/y, samples x/y, scores edge/node, loss train/test


def test_trainer_user_callback_can_stop(widget):
    calls = []

    def callback(step, record):
        calls.append(record["train_loss"])
        return step < 4

    widget.fit(steps=100, callback=callback, **FAST)
    assert widget.wait(timeout=30)
    assert len(calls) == 5 and widget.training["step"] == 5


def test_trainer_actions_idle_after_training(widget, model):
    widget.fit(steps=3, **FAST)
    assert widget.wait(timeout=30)
    n = len(model.history)
    widget.prune_edge(0, 0, 2)
    assert len(model.history) == n + 1 and model.layers[0].mask[0, 2] == 0
    assert torch.isfinite(torch.as_tensor(widget.curves["y"])).all()


def test_trainer_symbolify_and_select_during_training(widget, model):
    widget.fit(steps=FOREVER, **FAST)
    until(lambda: widget.trainer.step >= 2, what="2 steps")
    widget.symbolify(0, 0, 1, "x^2")
    widget.select_edge(0, 1, 0)
    assert widget.selected == [0, 1, 0]
    until(lambda: len(widget.candidates) > 0, what="candidates")
    until(lambda: widget.history["current"] == "0.1", what="the fix to be drawn")
    widget.stop()
    assert widget.wait(timeout=30)
    assert model.layers[0].sym_mask[0, 1] == 1 and model.layers[0].sym_names[0][1] == "x^2"
    assert [v.operation for v in model.history] == ["init", "fix_symbolic", "fit"]
    edge = next(e for e in widget.structure["edges"] if (e["l"], e["i"], e["j"]) == (0, 0, 1))
    assert edge["symbolic"] == "x^2" and widget.error == {}
