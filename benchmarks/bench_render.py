"""Render cost of the real widget bundle in headless Chromium (issue 4: a 300-edge model in
under 100 ms).  Bundles ``benchmarks/render/entry.ts`` with esbuild, serves it on localhost
and reads the timings from the page.  Usage: ``python benchmarks/bench_render.py``."""

from __future__ import annotations

import functools
import http.server
import shutil
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]  # fmt: skip


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
        subprocess.run(
            [str(esbuild), str(ROOT / "benchmarks/render/entry.ts"), "--bundle", "--minify",
             "--format=esm", "--define:define.amd=false", f"--outfile={out / 'entry.js'}"],
            check=True, cwd=ROOT, capture_output=True,
        )  # fmt: skip
        shutil.copy(ROOT / "kanwidget/static/widget.css", out / "widget.css")
        (out / "index.html").write_text(
            '<!doctype html><link rel="stylesheet" href="widget.css">'
            '<body><script type="module" src="entry.js"></script></body>'
        )
        handler = functools.partial(_QuietHandler, directory=str(out))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_function("() => window.__result", timeout=60_000)
                result = page.evaluate("() => window.__result")
                browser.close()
        finally:
            server.shutdown()
    bundle_kb = (ROOT / "kanwidget/static/widget.js").stat().st_size / 1024
    lines = [
        "# bench_render",
        "",
        "Headless Debian Chromium, the esbuild bundle of js/ (widget.js "
        f"{bundle_kb:.1f} KB minified), a 300-edge [10, 20, 5] model with 48-point curves.",
        "",
        "| measure | ms |",
        "|---|---|",
        f"| first render (cold page) | {result['first']:.1f} |",
        f"| render, median of 10 | {statistics.median(result['renders']):.1f} |",
        f"| live curve update (300 edges), median of 10 | "
        f"{statistics.median(result['updates']):.1f} |",
        "",
        f"Edges drawn: {result['edges']} (target: render < 100 ms, bundle < 150 KB).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_render.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
