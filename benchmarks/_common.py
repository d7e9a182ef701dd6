"""Shared helpers for the benchmarks: thread setup, timing, pykan sandboxing, markdown tables.

Every benchmark runs in one process with a fixed number of torch threads (``--threads``,
default 1, printed in the header), float32, a warm-up and the median of repeated timings.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

if str(ROOT) not in sys.path:  # run from anywhere without installing
    sys.path.insert(0, str(ROOT))


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions, skip slow pykan runs")
    p.add_argument("--no-pykan", action="store_true", help="skip the pykan side")
    p.add_argument("--out", type=Path, default=None, help="markdown output file")
    p.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default=None,
        help="timing clock (default: cpu time with 1 thread, wall otherwise)",
    )
    return p


def setup(threads: int, clock: str | None = None) -> str:
    """Fix threads, dtype and clock; returns a header line describing the machine and settings."""
    torch.set_num_threads(threads)
    clock = set_clock(clock, threads)
    torch.set_default_dtype(torch.float32)
    try:
        import kan  # noqa: F401

        pykan = getattr(kan, "__version__", None) or _dist_version("pykan")
    except Exception:  # pragma: no cover - pykan is an optional peer
        pykan = "not installed"
    return (
        f"torch {torch.__version__}, threads={torch.get_num_threads()}, float32, clock={clock}, "
        f"pykan {pykan}, python {platform.python_version()}, "
        f"{platform.machine()} x{os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load avg {os.getloadavg()[0]:.1f}"
    )


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


CLOCK = {"name": "cpu"}


def set_clock(name: str | None, threads: int) -> str:
    """``cpu`` (process CPU time) or ``wall``.  Default: ``cpu`` with 1 thread, else ``wall``.

    On a shared machine CPU time is far steadier than wall time (it does not count the time
    the process waits for a core); with one torch thread the two agree on an idle machine.
    With several threads CPU time sums over threads, so wall time is the right clock then.
    """
    CLOCK["name"] = name or ("cpu" if threads == 1 else "wall")
    return CLOCK["name"]


def now() -> float:
    return time.process_time() if CLOCK["name"] == "cpu" else time.perf_counter()


def time_fn(fn: Callable[[], object], warmup: int = 3, reps: int = 20, max_seconds: float = 20.0):
    """Median time of ``fn()`` in seconds after ``warmup`` calls, on the chosen clock.

    Stops early (with at least 3 timed calls, or 1 if a single call exceeds ``max_seconds``)
    once the timed calls have used ``max_seconds``.  Returns ``(median, n_timed)``.
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    spent = 0.0
    for _ in range(max(1, reps)):
        t0 = now()
        fn()
        dt = now() - t0
        times.append(dt)
        spent += dt
        if spent > max_seconds and (len(times) >= 3 or dt > max_seconds):
            break
    return statistics.median(times), len(times)


@contextlib.contextmanager
def in_tempdir():
    """Run inside a throwaway working directory (pykan writes ./model, ./figures, ...)."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="kanbench-") as d:
        os.chdir(d)
        try:
            yield Path(d)
        finally:
            os.chdir(old)


@contextlib.contextmanager
def quiet_stdout():
    """Silence prints (pykan prints checkpoint messages)."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield


def fmt_ms(seconds: float | None) -> str:
    return (
        "—"
        if seconds is None
        else f"{seconds * 1e3:.2f}"
        if seconds < 0.1
        else f"{seconds * 1e3:.0f}"
    )


def fmt_ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den == 0:
        return "—"
    r = num / den
    return f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(str(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def write_result(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n")
    return path
