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
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import REPO_ROOT, assert_renders, kanwidget_states, open_offline

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (REPO_ROOT / "kanwidget" / "widget" / "widget.py").exists(),
        reason="kanwidget/widget/widget.py not written yet",
    ),
]

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
    "frames",
)


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
    # every version's drawn data, for time travel without a kernel, well under 1 MB
    assert sorted(state["frames"]) == sorted(versions)
    frame_b64 = sum(len(b["data"]) for b in entry["buffers"] if b["path"][0] == "frames")
    frame_json = len(json.dumps(state["frames"]))
    print(
        f"\nframes of {len(versions)} versions: {frame_b64 / 1e3:.0f} KB of base64 arrays"
        f" + {frame_json / 1e3:.0f} KB of JSON"
    )
    assert frame_b64 + frame_json < 250_000


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
