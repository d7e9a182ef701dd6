"""Render cost of the real widget bundle in headless Chromium (issue 14: a 500-edge model in
under 200 ms, training frames without long tasks over 50 ms).

Builds the synced state of real models (``build_payload``: curves, activations, attribution
scores) in Python, bundles ``benchmarks/render/entry.ts`` with esbuild, serves both on
localhost and reads the timings from the page (``performance.now`` and a long-task
observer), and the CPU time of the cold render's task and of every task of the stream from
a Chromium trace (trace_cpu.py: wall times grow with the machine's load, CPU times much
less); each case runs on a fresh (cold) page.  ``--screenshots`` also writes the PNGs of
docs/img/ (big model in light and dark, a 30-input model).
``--lab`` also trains a 515-edge model in a real JupyterLab (tests/browser/harness.py) with
a 'longtask' PerformanceObserver in the page and a trace, and reports every long task (and
the tasks' CPU times) while the training frames are drawn.
Usage: ``python benchmarks/bench_render.py [--screenshots] [--lab | --lab-only] [--baseline REV]``
(``--lab-only``: only the JupyterLab run, printed, the results file left as it is).
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch
from trace_cpu import CATEGORIES, task_cpu

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]  # fmt: skip


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def _wire(value: Any) -> Any:
    """numpy arrays -> {b64, dtype, shape} (the page turns them into DataViews)."""
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value, dtype=np.float32)
        return {
            "b64": base64.b64encode(a.tobytes()).decode(),
            "dtype": "float32",
            "shape": list(a.shape),
        }
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def _target(x: torch.Tensor) -> torch.Tensor:
    """A smooth law of the first four inputs; the other inputs do not matter (faint edges)."""
    return (torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2 + 0.5 * x[:, [2]] * x[:, [3]]).exp()


def case(name: str, width: list[int], steps: int, frames: int = 3, names: list[str] | None = None):
    """The widget state of a real model after `steps` Adam steps, plus training frames."""
    from kanwidget import KAN, create_dataset
    from kanwidget.widget.payload import DataSample, build_payload

    n_out = width[-1]
    law = lambda x: _target(x) * torch.linspace(1, 2, n_out)  # noqa: E731 - (B, n_out)
    data = create_dataset(law, n_var=width[0], train_num=256, test_num=64, seed=0)
    model = KAN(width, grid=5, seed=0)
    sample = DataSample.from_dataset(data)
    fit = dict(opt="Adam", lr=0.02, lamb=0.01, update_grid=False, progress=False)
    if steps:
        model.fit(data, steps=steps, **fit)
    payload = build_payload(model, sample, in_vars=names)
    moves = []
    for _ in range(frames):
        model.fit(data, steps=2, **fit)
        p = build_payload(model, sample, in_vars=names)
        moves.append({k: p[k] for k in ("curves", "samples", "scores")})
    state = {
        **payload,
        "training": {"state": "idle", "step": 0, "steps": 0},
        "selected": [],
        "candidates": [],
        "error": {},
        "show_pruned": False,
        "beta": 3.0,
    }
    return {"name": name, "state": _wire(state), "frames": _wire(moves)}


CASES = [  # name, width, Adam steps before the first frame
    ("[10,20,5] 300 edges, untrained", [10, 20, 5], 0),
    ("[8,16,16,1] 400 edges, untrained", [8, 16, 16, 1], 0),
    ("[10,20,15,1] 515 edges, untrained", [10, 20, 15, 1], 0),
    ("[10,20,15,1] 515 edges, trained (faint edges hidden)", [10, 20, 15, 1], 40),
]
STEMS = ["reynolds_number", "inlet_temperature", "wall_roughness", "pressure_drop",
         "viscosity_ratio", "prandtl_number"]  # fmt: skip
LONG_NAMES = [f"{w}_{k}" for k, w in enumerate(STEMS * 5)]


def serve(out: Path):
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"


def bundle(src: Path, out: Path, name: str) -> None:
    """esbuild benchmarks/render/entry.ts of the tree at `src` -> out/<name>.js (+ .css), with
    the compile hint of that tree's build.mjs when it has one (as its widget.js ships)."""
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    build = src / "build.mjs"
    hint = build.is_file() and "allFunctionsCalledOnLoad" in build.read_text()
    subprocess.run(
        [str(esbuild), str(src / "benchmarks/render/entry.ts"), "--bundle", "--minify",
         "--format=esm", "--define:define.amd=false", f"--outfile={out / (name + '.js')}"]
        + (["--banner:js=//# allFunctionsCalledOnLoad"] if hint else []),
        check=True, cwd=ROOT, capture_output=True,
    )  # fmt: skip
    shutil.copy(src / "js/widget.css", out / f"{name}.css")


def baseline_tree(rev: str, into: Path) -> Path:
    """The js/ of git revision `rev` (and this entry.ts) in `into`, to time it side by side."""
    into.mkdir(parents=True, exist_ok=True)
    tar = subprocess.run(
        ["git", "archive", rev, "js", "build.mjs"], cwd=ROOT, check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar.stdout, check=True)
    (into / "benchmarks/render").mkdir(parents=True)
    shutil.copy(ROOT / "benchmarks/render/entry.ts", into / "benchmarks/render/entry.ts")
    return into


def page_dir(out: Path, cases: list[dict], baseline: str | None) -> None:
    bundle(ROOT, out, "entry")
    if baseline:
        bundle(baseline_tree(baseline, out / "base_tree"), out, "base")
    # JupyterLab's own theme variables (--jp-*), for screenshots as JupyterLab shows the widget
    themes = Path(sys.prefix) / "share/jupyter/lab/themes/@jupyterlab"
    for theme in ("light", "dark"):
        css = themes / f"theme-{theme}-extension/index.css"
        if css.exists():
            shutil.copy(css, out / f"theme-{theme}.css")
    (out / "index.html").write_text(
        '<!doctype html><meta charset="utf-8">'
        "<style>body{margin:8px;background:var(--jp-layout-color0,Canvas)}</style>"
        "<body><script type=module>const q = new URLSearchParams(location.search);"
        " const css = (h) => { const l = document.createElement('link'); l.rel = 'stylesheet';"
        " l.href = h; document.head.append(l); };"
        " if (q.get('theme')) css('theme-' + q.get('theme') + '.css');"
        " const b = q.get('bundle') || 'entry'; css(b + '.css'); import('./' + b + '.js');"
        "</script></body>"
    )
    (out / "states.json").write_text(json.dumps(cases))


def screenshots(browser: Any, url: str) -> list[Path]:
    """The PNGs of docs/img/: a trained 515-edge model (light, dark), a 30-input model, drawn
    with JupyterLab's light / dark theme variables."""
    from urllib.parse import quote

    IMG.mkdir(parents=True, exist_ok=True)
    shots = [
        (CASES[3][0], "light", "big_model_light.png"),
        (CASES[3][0], "dark", "big_model_dark.png"),
        ("[30,5,1] long input names", "light", "wide_inputs.png"),
    ]
    written = []
    for name, scheme, file in shots:
        # tall enough that the diagram (at most 85% of the height) is not cut
        page = browser.new_page(viewport={"width": 1600, "height": 1500}, color_scheme=scheme)
        page.goto(f"{url}?show=1&theme={scheme}&case={quote(name)}")
        page.wait_for_function("() => window.__shown", timeout=60_000)
        page.wait_for_timeout(300)
        path = IMG / file
        page.locator(".kanwidget").first.screenshot(path=str(path))
        written.append(path)
        page.close()
    return written


LAB_CELLS = [
    "import torch\n"
    "from kanwidget import KAN, KANWidget, create_dataset\n"
    "torch.set_num_threads(1)\n"
    "f = lambda x: (torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2"
    " + 0.5 * x[:, [2]] * x[:, [3]]).exp()\n"
    "data = create_dataset(f, n_var=10, train_num=256, test_num=64, seed=0)\n"
    "model = KAN([10, 20, 15, 1], grid=5, seed=0)\n"
    "w = KANWidget(model, data)\n"
    "w",
]
LAB_STEPS = 150

# In the page: record every long task, and count the animation frames in which the plots'
# curves were redrawn (= training frames drawn).
_OBSERVE = """() => {
  window.__long = [];
  window.__longAt = [];
  window.__frames = 0;
  window.__kwRoot = document.querySelector('.jp-Notebook .kanwidget');
  new PerformanceObserver((l) => l.getEntries().forEach((e) => {
    window.__long.push(e.duration);
    window.__longAt.push(e.startTime);
  })).observe({type: 'longtask', buffered: false});
  let pending = false;
  const svg = document.querySelector('.jp-Notebook .kanwidget .kw-svg');
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { window.__frames++; pending = false; });
  }).observe(svg, {attributes: true, attributeFilter: ['d'], subtree: true});
}"""


def lab_training(browser: Any) -> dict[str, Any]:
    """Long tasks in a real JupyterLab page while a [10, 20, 15, 1] widget trains."""
    import time

    sys.path.insert(0, str(ROOT))
    from tests.browser.harness import LabServer, widget_page

    with tempfile.TemporaryDirectory() as tmp:
        root, work = Path(tmp) / "root", Path(tmp) / "work"
        root.mkdir()
        work.mkdir()
        server = LabServer(root, work)
        server.start()
        try:
            with widget_page(browser, server, root, "render.ipynb", LAB_CELLS, 1600) as lab:
                lab.page.wait_for_timeout(1500)  # first render and its settle relayout done
                lab.page.evaluate(_OBSERVE)
                browser.start_tracing(page=lab.page, categories=CATEGORIES)
                lab.page.evaluate("() => performance.mark('kw-stream-start')")
                t0 = time.monotonic()
                lab.execute(
                    f"w.fit(steps={LAB_STEPS}, opt='Adam', lr=0.02, lamb=0.01,"
                    " update_grid=False); w.wait()",
                    timeout=600,
                )
                seconds = time.monotonic() - t0
                end = lab.page.evaluate("() => performance.mark('kw-train-end').startTime")
                # the last frame, the settle relayout, and the output's re-render after the
                # kernel refreshed the stored SVG (the view moved back in, reattach.ts)
                lab.page.wait_for_timeout(1500)
                lab.page.evaluate("() => performance.mark('kw-stream-end')")
                trace = browser.stop_tracing()
                cpu = task_cpu(trace, "kw-stream-start", "kw-train-end")
                after = task_cpu(trace, "kw-train-end", "kw-stream-end")
                long = lab.page.evaluate("() => window.__long")
                at = lab.page.evaluate("() => window.__longAt")
                frames = lab.page.evaluate("() => window.__frames")
                kept = lab.page.evaluate(
                    "() => document.querySelector('.jp-Notebook .kanwidget') === window.__kwRoot"
                )
        finally:
            server.stop()
    load = os.getloadavg()[0]
    return {
        "seconds": seconds, "frames": frames, "long": long, "cpu": cpu + after, "load": load,
        "long_after": [d for d, t in zip(long, at, strict=True) if t >= end],
        "cpu_after": after, "kept": kept,
    }  # fmt: skip


def main() -> int:
    from urllib.parse import quote

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", action="store_true", help="also write docs/img/*.png")
    parser.add_argument("--baseline", help="also time the js/ of this git revision, side by side")
    parser.add_argument("--lab", action="store_true", help="also: long tasks in JupyterLab")
    parser.add_argument("--lab-only", action="store_true", help="only the JupyterLab run")
    parser.add_argument("--rounds", type=int, default=1, help="fresh pages per case (medians)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from playwright.sync_api import sync_playwright

    args.lab |= args.lab_only
    run = [] if args.lab_only else CASES
    cases = [case(n, w, s) for n, w, s in run]
    if args.screenshots:
        cases.append(case("[30,5,1] long input names", [30, 5, 1], 40, 1, LONG_NAMES))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        page_dir(out, cases, args.baseline)
        server, url = serve(out)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                bundles = ["entry", "base"] if args.baseline else ["entry"]
                for name, _, _ in [c for _ in range(args.rounds) for c in run]:
                    for b in bundles:  # interleaved, so both see the same machine load
                        page = browser.new_page(viewport={"width": 1400, "height": 1000})
                        browser.start_tracing(page=page, categories=CATEGORIES)
                        page.goto(f"{url}?case={quote(name)}&bundle={b}")
                        page.wait_for_function("() => window.__result", timeout=180_000)
                        r = page.evaluate("() => window.__result")
                        trace = browser.stop_tracing()
                        r["coldCpu"] = (task_cpu(trace, "kw-cold") or [float("nan")])[0]
                        r["coldRestCpu"] = task_cpu(trace, "kw-cold", "kw-cold-end")
                        r["streamCpu"] = task_cpu(trace, "kw-stream-start", "kw-stream-end")
                        r["name"] += "" if b == "entry" else f" (before, {args.baseline})"
                        results.append(r)
                        page.close()
                if args.screenshots:
                    for path in screenshots(browser, url):
                        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
                lab = lab_training(browser) if args.lab else None
                browser.close()
        finally:
            server.shutdown()
    text = report(merge(results), os.getloadavg()[0], lab, args.rounds)
    print(text)
    if args.lab_only:
        return 0  # the results file keeps the full table
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_render.md").write_text(text)
    return 0


def _long(wall: list[float]) -> str:
    """'N (max X)' of long tasks' wall times, pooled over rounds."""
    return f"{len(wall)} (max {max(wall):.0f})" if wall else "0"


def _cpu_long(cpu: list[float]) -> str:
    """'max X ms, N over 50 ms' of the tasks' CPU times."""
    return f"max {max(cpu):.0f}, {sum(t > 50 for t in cpu)} over 50" if cpu else "-"


def merge(results: list[dict]) -> list[dict]:
    """One row per case and bundle over the rounds: medians of the numbers, lists pooled."""
    rows: dict[str, list[dict]] = {}
    for r in results:
        rows.setdefault(r["name"], []).append(r)
    out = []
    for runs in rows.values():
        row = dict(runs[0])
        for k, v in row.items():
            if isinstance(v, list):
                row[k] = [x for r in runs for x in r[k]]
            elif isinstance(v, int | float) and not isinstance(v, bool):
                row[k] = statistics.median(r[k] for r in runs)
        out.append(row)
    return out


def report(
    results: list[dict], load: float, lab: dict[str, Any] | None = None, rounds: int = 1
) -> str:
    bundle_kb = (ROOT / "kanwidget/static/widget.js").stat().st_size / 1024
    med = statistics.median
    lines = [
        "# bench_render",
        "",
        f"Headless Debian Chromium, 1400x1000 viewport, the esbuild bundle of js/ (widget.js "
        f"{bundle_kb:.1f} KB minified); states of real models from `build_payload` (48-point "
        "curves, 48 activation samples per edge, attribution scores); a fresh page per case "
        f"and round ({rounds} round(s), interleaved; single values are medians over rounds). "
        "Times in ms: render = script + style + layout (forced), wall clock, and the CPU "
        "(main-thread time in Chromium's trace) of that task (the state's arrays are decoded "
        "in an earlier task, as ipywidgets does); first frame = until the next animation "
        "frame; all plots (cold) = until the first render's last slice of plots is drawn, "
        "with the long tasks (> 50 ms wall, the render's own included) until then and the "
        "longest CPU of the tasks after the render's; update = the task of one training "
        "frame (curves + samples + scores), all plots = until its last slice of plots is "
        "drawn; stream = 30 such frames at 10/s, with every long task (> 50 ms wall) the "
        "browser reported and the longest task's CPU time. "
        f"Load average at the end: {load:.1f} on {os.cpu_count()} cores (a shared VM: wall "
        "times grow with the load, CPU times much less; compare rows of one run, not runs).",
        "",
        "| model | plots shown of edges | first render (cold) | its CPU | first frame "
        "| all plots (cold) | long tasks until then | later tasks: CPU max "
        "| render (warm, median) | update (median) | update, all plots (median) "
        "| hover (median) | stream: frame max | long tasks in stream | stream: task CPU ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lt, clt = _long(r["longTasks"]), _long(r["coldLong"])
        rest = f"{max(r['coldRestCpu']):.1f}" if r["coldRestCpu"] else "-"
        lines.append(
            f"| {r['name']} | {r['shown']} of {r['edges']} | {r['first']:.1f} | "
            f"{r['coldCpu']:.1f} | {r['firstFrame']:.1f} | {r['coldAll']:.1f} | {clt} | "
            f"{rest} | {med(r['renders']):.1f} | "
            f"{med(r['updates']):.1f} | {med(r['settled']):.1f} | {med(r['hovers']):.1f} | "
            f"{max(r['frameScript']):.1f} | {lt} | {_cpu_long(r['streamCpu'])} |"
        )
    if lab:
        long = lab["long"]
        lines += [
            "",
            f"Real JupyterLab (1600 px page), `[10,20,15,1]` (515 edges) widget training "
            f"{LAB_STEPS} Adam steps in the kernel: {lab['seconds']:.1f} s, {lab['frames']} "
            f"frames drawn; long tasks in the page (PerformanceObserver 'longtask', wall): "
            f"{len(long)}" + (f", max {max(long):.0f} ms, median {statistics.median(long):.0f} ms"
                               if long else "")
            + f"; main-thread tasks by CPU time (trace): {_cpu_long(lab['cpu'])} ms"
            + f" (load average {lab['load']:.1f}). Of these, after training (the stored SVG "
            f"refreshed, the output re-rendered): {len(lab['long_after'])} long task(s)"
            + (f" (max {max(lab['long_after']):.0f} ms)" if lab["long_after"] else "")
            + f", by CPU {_cpu_long(lab['cpu_after'])} ms; the live view "
            + ("was kept (moved into the new output)." if lab["kept"] else "was REBUILT."),
        ]  # fmt: skip
    lines += ["", "Targets (issue 14): render of a 500-edge model < 200 ms; no long task > 50 ms "
              "while training frames stream."]  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
