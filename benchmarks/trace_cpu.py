"""Main-thread CPU time of a page's tasks, from a Chromium trace (bench_render.py).

Wall-clock task lengths (what a 'longtask' PerformanceObserver reports) grow with the
machine's load: on a shared 2-core VM at load 6 a task that needs 12 ms of CPU can last
50 ms. The trace's thread time (``tdur``) of each top-level ``RunTask`` is the work the
page itself did, so the benchmark reports both. Marks set with ``performance.mark`` in the
page (category ``blink.user_timing``) delimit the phases.
"""

from __future__ import annotations

import json
from typing import Any

CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing"]


def _events(trace: bytes | dict[str, Any]) -> list[dict[str, Any]]:
    data = json.loads(trace) if isinstance(trace, bytes | str) else trace
    return data["traceEvents"] if isinstance(data, dict) else data


def task_cpu(trace: bytes | dict[str, Any], start: str, end: str | None = None) -> list[float]:
    """CPU ms of every main-thread task from mark `start` to mark `end`.

    Parameters
    ----------
    trace : the JSON Playwright's ``browser.stop_tracing()`` returns
    start, end : ``performance.mark`` names; without `end`, only the task holding `start`;
        with `end`, the tasks that begin after mark `start` and before mark `end` (the task
        that sets `start` holds what came before it)

    Returns
    -------
    list of float, thread time in ms per task (wall ``dur`` where the trace has no ``tdur``),
    in the order the tasks ran; empty when the marks are missing.
    """
    ev = _events(trace)
    timing = [e for e in ev if "user_timing" in e.get("cat", "")]
    marks = {e["name"]: e for e in timing if e.get("name") in (start, end)}
    if start not in marks:
        return []
    tid, pid, t0 = marks[start]["tid"], marks[start]["pid"], marks[start]["ts"]
    if end is not None and end not in marks:
        return []
    main = (pid, tid)
    tasks = [e for e in ev if e.get("name") == "RunTask" and (e.get("pid"), e.get("tid")) == main]
    tasks = [e for e in tasks if e.get("ph") == "X"]
    out = []
    for e in sorted(tasks, key=lambda e: e["ts"]):
        holds = e["ts"] <= t0 <= e["ts"] + e.get("dur", 0)
        inside = end is not None and t0 < e["ts"] <= marks[end]["ts"]
        if (end is None and holds) or inside:
            out.append(e.get("tdur", e.get("dur", 0)) / 1000)
    return out
