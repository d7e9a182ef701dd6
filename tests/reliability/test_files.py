"""Saving never destroys the previous file, and files from a newer kanwidget are refused
with a clear message (issue 10)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from kanwidget import KAN
from kanwidget.kan import io
from kanwidget.kan.history import FORMAT_VERSION, VersionTree


def _save_history(model: KAN, path) -> None:
    model.history.save(path)


def _save_model(model: KAN, path) -> None:
    model.save(path)


SAVERS = [
    pytest.param(_save_history, id="history.save"),
    pytest.param(_save_model, id="model.save"),
]


@pytest.mark.parametrize("save", SAVERS)
def test_files_failed_rename_keeps_previous_file(save, model, tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save(model, path)
    old = path.read_bytes()
    model.prune_edge()  # a different model: the new file would differ

    def crash(*args, **kwargs):
        raise OSError("simulated crash between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        save(model, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]  # no temporary left
    assert KAN.load(path).version == "0.2"


@pytest.mark.parametrize("save", SAVERS)
def test_files_failed_write_keeps_previous_file(save, model, tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save(model, path)
    old = path.read_bytes()

    def half_written(obj, stream, *args, **kwargs):
        stream.write(b"PK\x03\x04 half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", half_written)
    with pytest.raises(OSError, match="No space left"):
        save(model, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


@pytest.mark.parametrize("method", ["history", "model"])
def test_files_process_killed_before_rename_keeps_previous_file(method, tmp_path):
    """A hard crash (os._exit, no cleanup) after the data was written but before the
    rename: the previous file is intact and loads."""
    path = tmp_path / "model.pt"
    KAN([2, 3, 1], seed=0).save(path)
    old = path.read_bytes()
    script = textwrap.dedent(f"""
        import os
        from kanwidget import KAN
        model = KAN([2, 5, 1], seed=1)
        model.remove_edge(0, 0, 0)
        os.replace = lambda *args: os._exit(3)  # the process dies mid-save
        target = model.history if {method!r} == "history" else model
        target.save({str(path)!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert done.returncode == 3, done.stderr.decode()[-2000:]
    assert path.read_bytes() == old
    assert KAN.load(path).width == [[2, 0], [3, 0], [1, 0]]


def test_files_newer_model_format_is_refused_clearly(model, tmp_path):
    path = tmp_path / "model.pt"
    model.save(path)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = io.FORMAT_VERSION + 1
    torch.save(payload, path)
    with pytest.raises(ValueError) as info:
        KAN.load(path)
    message = str(info.value)
    assert f"written by a newer kanwidget (format {io.FORMAT_VERSION + 1})" in message
    assert f"this one reads up to {io.FORMAT_VERSION}: upgrade kanwidget" in message


def test_files_newer_history_format_is_refused_clearly(model, tmp_path):
    path = tmp_path / "history.pt"
    state = model.history.to_state()
    state["format_version"] = FORMAT_VERSION + 3
    torch.save(state, path)
    for load in (VersionTree.load, KAN.load):
        with pytest.raises(
            ValueError,
            match=rf"newer kanwidget \(format {FORMAT_VERSION + 3}\); this one reads up to "
            rf"{FORMAT_VERSION}: upgrade",
        ):
            load(path)
