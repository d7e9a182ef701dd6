"""Sharing: an executed quickstart keeps the widget state and renders as HTML with no kernel.

The quickstart is executed once with nbclient (which stores widget state in the notebook
metadata), then exported two ways and opened in headless Chromium from local files only
(every request to another host is aborted and recorded):

- `kanwidget.sharing.export_html`: one self-contained file, scripts inlined, opened from file://;
- plain nbconvert `HTMLExporter` pointed at require.js / embed-amd.js / anywidget.js that a
  local HTTP server serves next to the page (what `jupyter nbconvert --to html
  --HTMLExporter.require_js_url=require.js --HTMLExporter.widget_renderer_url=embed-amd.js`
  gives a user).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import REPO_ROOT, SCREENSHOT_DIR, guard_network

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (REPO_ROOT / "kanwidget" / "widget" / "widget.py").exists(),
        reason="kanwidget/widget/widget.py not written yet",
    ),
]

STATE_MIME = "application/vnd.jupyter.widget-state+json"
QUICKSTART = REPO_ROOT / "notebooks" / "01_quickstart.ipynb"
# Synced traits of docs/widget_contract.md that the saved state must carry.
TRAITS = (
    "structure",
    "curves",
    "samples",
    "scores",
    "loss",
    "training",
    "selected",
    "candidates",
    "history",
    "error",
    "show_pruned",
    "beta",
)
# MathJax is the one CDN script nbconvert's lab template keeps; its absence only leaves
# TeX in markdown cells unrendered.
ALLOWED_EXTERNAL = ("mathjax",)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart executed by nbclient in a temporary directory (widget state stored)."""
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path_factory.mktemp("sharing")
    nb = nbformat.read(str(QUICKSTART), as_version=4)
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"  # two cores: keep torch from oversubscribing them
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=180,
        store_widget_state=True,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute(env=env)
    out = work / "quickstart_executed.ipynb"
    nbformat.write(nb, str(out))
    return out


def kanwidget_states(nb_path: Path) -> list[dict[str, Any]]:
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    states = nb.metadata["widgets"][STATE_MIME]["state"]
    return [
        s for s in states.values() if s["model_name"] == "AnyModel" and "structure" in s["state"]
    ]


def test_executed_notebook_stores_kanwidget_state(executed: Path) -> None:
    [entry] = kanwidget_states(executed)
    state = entry["state"]
    missing = [t for t in TRAITS if t not in state]
    assert not missing, f"traits missing from the saved widget state: {missing}"
    assert state["_esm"], "anywidget's _esm (the bundle) is not in the saved state"
    # Binary arrays are saved as base64 buffers, not JSON lists.
    paths = {tuple(b["path"]) for b in entry.get("buffers", [])}
    assert ("curves", "x", "view") in paths and ("curves", "y", "view") in paths, paths
    assert all(b["encoding"] == "base64" for b in entry["buffers"])
    versions = [v["id"] for v in state["history"]["versions"]]
    assert versions[0] == "0.0" and len(versions) >= 3, versions


def test_executed_output_carries_a_static_svg(executed: Path) -> None:
    """Viewers without a widget manager (code hosts, VS Code) show the SVG of the same output."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    bundles = [
        o["data"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert bundles, "no widget output in the executed quickstart"
    svg = bundles[0].get("image/svg+xml", "")
    svg = "".join(svg) if isinstance(svg, list) else svg
    assert svg.lstrip().startswith("<svg") and "</svg>" in svg


def expected_counts(nb_path: Path) -> tuple[int, int]:
    """(edges drawn, versions) implied by the saved state."""
    [entry] = kanwidget_states(nb_path)
    state = entry["state"]
    edges = state["structure"]["edges"]
    drawn = len(edges) if state["show_pruned"] else sum(1 for e in edges if e["active"])
    return drawn, len(state["history"]["versions"])


def open_offline(browser: Any, url: str, local_prefixes: tuple[str, ...]) -> tuple[Any, list[str]]:
    """A page on `url` whose requests outside `local_prefixes` are aborted and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked = guard_network(context, local_prefixes)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(url)
    return page, blocked


def assert_renders(page: Any, nb_path: Path, blocked: list[str], name: str) -> None:
    n_edges, n_versions = expected_counts(nb_path)
    try:
        page.locator("[data-edge]").first.wait_for(timeout=30_000)
        page.wait_for_function(
            "(n) => document.querySelectorAll('[data-edge]').length === n",
            arg=n_edges,
            timeout=10_000,
        )
        assert page.locator("[data-version]").count() == n_versions
        # Curves came through the base64 buffers: every drawn edge has a path.
        empty = page.evaluate(
            "() => [...document.querySelectorAll('[data-edge] .kw-thumb-curve')]"
            ".filter(p => !(p.getAttribute('d') || '').length).length"
        )
        assert empty == 0, f"{empty} edges have no curve"
    finally:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        widget = page.locator(".kanwidget")
        target = SCREENSHOT_DIR / f"{name}.png"
        if widget.count():
            widget.first.screenshot(path=str(target))
        else:
            page.screenshot(path=str(target), full_page=True)
    external = [u for u in blocked if not any(a in u for a in ALLOWED_EXTERNAL)]
    assert not external, f"the page asked for non-local resources: {external}"
    assert not page.errors, page.errors


def test_export_html_renders_offline_from_file(
    executed: Path, browser: Any, tmp_path: Path
) -> None:
    from kanwidget.sharing import export_html

    out = export_html(executed, tmp_path / "quickstart.html")
    page, blocked = open_offline(browser, out.as_uri(), ("file:", "data:", "blob:"))
    try:
        assert_renders(page, executed, blocked, "quickstart_html_inline")
    finally:
        page.context.close()


@pytest.fixture
def local_http(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served on a free localhost port (quiet, threaded); yields (folder, base url)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    root = tmp_path / "site"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_nbconvert_html_with_locally_served_widget_scripts(
    executed: Path, browser: Any, local_http: tuple[Path, str]
) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    from kanwidget.sharing import find_widget_scripts

    root, base = local_http
    scripts = find_widget_scripts()
    # require.js resolves the widget manager's `require(["anywidget"])` to ./anywidget.js.
    shutil.copy(scripts.requirejs, root / "require.js")
    shutil.copy(scripts.embed, root / "embed-amd.js")
    shutil.copy(scripts.anywidget, root / "anywidget.js")
    exporter = HTMLExporter(
        template_name="lab", require_js_url="require.js", widget_renderer_url="embed-amd.js"
    )
    body, _ = exporter.from_notebook_node(nbformat.read(str(executed), as_version=4))
    (root / "quickstart.html").write_text(body, encoding="utf-8")
    page, blocked = open_offline(browser, base + "quickstart.html", (base, "data:", "blob:"))
    try:
        assert_renders(page, executed, blocked, "quickstart_html_served")
    finally:
        page.context.close()
