"""In a real ipykernel: frames sent from the training thread reach the front end as binary
comm messages while the kernel is idle, and a browser action sent during training is
handled between optimiser steps."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("ipykernel")
jupyter_client = pytest.importorskip("jupyter_client")

REPO = Path(__file__).resolve().parents[2]

SETUP = textwrap.dedent(
    f"""
    import sys; sys.path.insert(0, {str(REPO)!r})
    import torch
    from kanwidget import KAN, KANWidget, create_dataset
    ds = create_dataset(lambda x: x[:, :1] * x[:, 1:], 2, train_num=200, test_num=200)
    model = KAN([2, 3, 1], grid=5, seed=0)
    w = KANWidget(model, ds)
    display(w)
    print("COMM", w.model_id)
    w.fit(steps=1_000_000, opt="Adam", lr=0.01, update_grid=False)
    """
)


def _execute(kc, code: str, timeout: float = 120) -> str:
    """Run ``code``; return its stdout (raises on error)."""
    msg_id = kc.execute(code)
    out = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            raise AssertionError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)
    raise AssertionError("cell timed out")


@pytest.mark.slow
def test_kernel_thread_frames_and_browser_action_during_training():
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    km.start_kernel(extra_arguments=["--HistoryManager.enabled=False"])
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        out = _execute(kc, SETUP)
        comm_id = out.split("COMM", 1)[1].split()[0]
        # the cell has ended: the kernel is idle while the thread trains and sends frames
        frames, binary = 0, 0
        end = time.monotonic() + 30
        while frames < 5 and time.monotonic() < end:
            msg = kc.get_iopub_msg(timeout=30)
            content = msg["content"]
            if msg["msg_type"] == "comm_msg" and content.get("comm_id") == comm_id:
                state = content["data"].get("state", {})
                if "curves" in state:
                    frames += 1
                    binary += len(msg["buffers"]) >= 8
        assert frames >= 5 and binary == frames
        # a browser click during training: prune edge (0, 1, 0)
        action = {"method": "custom", "content": {"action": "prune_edge", "edge": [0, 1, 0]}}
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": action}))
        check = textwrap.dedent(
            """
            import time
            t = time.monotonic()
            while float(model.layers[0].mask[1, 0]) != 0 and time.monotonic() - t < 30:
                time.sleep(0.01)
            w.stop(); w.wait(60)
            print("RESULT", [v.operation for v in model.history], w.trainer.frames, w.error)
            """
        )
        result = _execute(kc, check)
        assert "RESULT ['init', 'remove_edge', 'fit']" in result, result
        assert result.rstrip().endswith("{}"), result
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
