"""Drive a real JupyterLab and headless Chromium from tests (no network, no CDN).

`LabServer` starts `jupyter lab` on a free localhost port with a random token, a
throw-away config / settings / workspace dir and every outbound check (news, update
check, PyPI extension manager) turned off; `LabPage` wraps a Playwright page opened on
it with the few JupyterLab operations the tests need: open a notebook, run all its
cells, wait for the kernel, and execute code in the notebook's own kernel (through
`window.jupyterapp`, which the server exposes with `LabApp.expose_app_in_browser`).
The last section opens exported HTML with every non-local request aborted and checks
that the saved widget state is drawn.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("KANWIDGET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SCREENSHOT_DIR = Path(os.environ.get("KANWIDGET_SCREENSHOTS", "/tmp/kanwidget_screens"))

# Plugins that would reach the internet (or pop up a question) in a fresh JupyterLab.
DISABLED_PLUGINS = {
    "@jupyterlab/apputils-extension:announcements": True,
    "@jupyterlab/extensionmanager-extension": True,
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LabServer:
    """A JupyterLab server in a subprocess, serving `root_dir`; its log goes to `log_path`."""

    def __init__(self, root_dir: Path, work_dir: Path, startup_timeout: float = 90.0) -> None:
        self.root_dir = root_dir
        self.work_dir = work_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work_dir / "jupyterlab.log"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def _environment(self) -> dict[str, str]:
        dirs = {
            name: self.work_dir / name
            for name in ("config", "data", "runtime", "settings", "workspaces")
        }
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        (dirs["config"] / "labconfig").mkdir(exist_ok=True)
        (dirs["config"] / "labconfig" / "page_config.json").write_text(
            # No "build needed?" check: it runs node on JupyterLab's staging dir, slow and noisy.
            json.dumps(
                {
                    "disabledExtensions": DISABLED_PLUGINS,
                    "buildAvailable": False,
                    "buildCheck": False,
                }
            )
        )
        (dirs["config"] / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "LabApp": {
                        "news_url": None,
                        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                        "extension_manager": "readonly",
                        "expose_app_in_browser": True,
                    }
                }
            )
        )
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONPATH=os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            ),
            MPLBACKEND="Agg",
            # Two cores are shared with Chromium: keep torch from oversubscribing them.
            OMP_NUM_THREADS="1",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        env.pop("JUPYTER_TOKEN", None)
        return env

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
        if hasattr(os, "getuid") and os.getuid() == 0:
            cmd.append("--allow-root")  # CI and containers run as root
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.root_dir,
            env=self._environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                self.proc = None
                raise RuntimeError(
                    f"jupyter lab exited with {self.proc.returncode} during start-up:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(
                    f"{self.url}/api/status?token={self.token}", timeout=2
                ) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer /api/status in time:\n{self.log()}")

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """Call the server's REST API (`path` like "/api/kernels") and decode the JSON reply."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
        return json.loads(text) if text else None

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Shut the server (and the kernels it started) down; kill it if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.api("/api/shutdown", method="POST")
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 15)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, 9)
                    self.proc.wait(timeout=5)
        self._log.close()
        self.proc = None


# JavaScript run in the page. `findPanel(path)` returns the open NotebookPanel for `path`.
_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
  }
  return null;
};
"""

_CELL_SUMMARY = (
    "(path) => {"
    + _FIND_PANEL
    + """
  const panel = findPanel(path);
  if (!panel) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  for (const cell of panel.content.widgets) {
    const m = cell.model;
    if (m.type !== 'code') continue;
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    const outputs = m.outputs.toJSON();
    const err = outputs.find((o) => o.output_type === 'error');
    cells.push({
      count: m.executionCount,
      pending: !!(prompt && prompt.textContent.includes('*')),
      error: err ? err.ename + ': ' + err.evalue : null,
    });
  }
  return {status: kernel ? kernel.status : 'none', cells};
}"""
)

_EXECUTE = (
    "async ([path, code]) => {"
    + _FIND_PANEL
    + """
  const panel = findPanel(path);
  const kernel = panel.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false, silent: false});
  let out = '';
  let error = null;
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === 'stream') out += msg.content.text;
    else if (t === 'execute_result') out += msg.content.data['text/plain'] + '\\n';
    else if (t === 'error') error = msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return {out, error};
}"""
)


LOCAL_PREFIXES = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "blob:")


def guard_network(context: Any, local: tuple[str, ...] = LOCAL_PREFIXES) -> list[str]:
    """Abort every request of `context` outside `local`; returns the (live) list of those URLs.

    Tests run offline; a request to another host is a bug (a CDN script, a news feed...).
    """
    blocked: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(local):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    return blocked


class CellError(AssertionError):
    """A notebook cell or kernel request raised; the message holds the Python error."""


class LabPage:
    """A Playwright page showing one notebook in the LabServer."""

    def __init__(self, page: Any, server: LabServer) -> None:
        self.page = page
        self.server = server
        self.path: str | None = None

    def open(self, notebook: str, timeout: float = 60.0) -> None:
        """Open `notebook` (relative to the server root) and wait for its kernel to be idle."""
        self.path = notebook
        self.page.goto(self.server.lab_url(notebook), timeout=timeout * 1000)
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell", timeout=timeout * 1000
        )
        self.page.wait_for_function(
            "(path) => {"
            + _FIND_PANEL
            + """
              const p = findPanel(path);
              return !!(p && p.sessionContext.session && p.sessionContext.session.kernel
                        && p.sessionContext.session.kernel.status === 'idle');
            }""",
            arg=notebook,
            timeout=timeout * 1000,
        )

    def command(self, name: str, args: dict[str, Any] | None = None) -> None:
        self.page.evaluate(
            "([name, args]) => window.jupyterapp.commands.execute(name, args)",
            [name, args or {}],
        )

    def cells(self) -> dict[str, Any]:
        summary = self.page.evaluate(_CELL_SUMMARY, self.path)
        assert summary is not None, f"notebook {self.path} is not open"
        return summary

    def run_all(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Run every cell (Run > Run All Cells); raise CellError on the first failing cell."""
        self.page.evaluate(
            "(path) => {"
            + _FIND_PANEL
            + "window.jupyterapp.shell.activateById(findPanel(path).id); }",
            self.path,
        )
        self.command("notebook:run-all-cells")
        deadline = time.monotonic() + timeout
        while True:
            s = self.cells()
            errors = [c["error"] for c in s["cells"] if c["error"]]
            if errors:
                raise CellError(f"cell failed in {self.path}: {errors[0]}")
            done = all(c["count"] is not None and not c["pending"] for c in s["cells"])
            if done and s["status"] == "idle":
                return s["cells"]
            if time.monotonic() > deadline:
                raise TimeoutError(f"cells still running after {timeout} s: {s}")
            time.sleep(0.25)

    def execute(self, code: str, timeout: float = 60.0) -> str:
        """Run `code` in the notebook's kernel (queued behind running cells); return its stdout."""
        result = self.page.evaluate(_EXECUTE, [self.path, code])
        if result["error"]:
            raise CellError(f"kernel error for {code!r}: {result['error']}")
        return str(result["out"])

    def shutdown_kernel(self) -> None:
        """Shut the notebook's kernel down (frees the CPU for the next test); never raises."""
        if self.path is None:
            return
        try:
            self.page.evaluate(
                "async (path) => {"
                + _FIND_PANEL
                + "const p = findPanel(path); if (p) await p.sessionContext.shutdown(); }",
                self.path,
            )
        except Exception:  # noqa: BLE001 (the page may already be gone)
            pass

    def wait_until(self, js: str, arg: Any = None, timeout: float = 30.0) -> Any:
        """Wait until the JS predicate `js` (called with `arg`) is truthy; return its value."""
        return self.page.wait_for_function(js, arg=arg, timeout=timeout * 1000).json_value()

    def screenshot(self, name: str, selector: str | None = None) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        out = SCREENSHOT_DIR / f"{name}.png"
        if selector:
            self.page.locator(selector).first.screenshot(path=str(out), timeout=10_000)
        else:
            self.page.screenshot(path=str(out), full_page=False)
        return out


# The quickstart's model in a widget: the notebook cell most browser tests start from.
WIDGET_CELL = (
    "import torch\n"
    "from kanwidget import KAN, KANWidget, create_dataset\n"
    "f = lambda x: torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)\n"
    "dataset = create_dataset(f, n_var=2, train_num=200, test_num=200)\n"
    "model = KAN([2, 3, 1], grid=5, seed=1)\n"
    "w = KANWidget(model, dataset)\n"
    "w"
)


@contextmanager
def widget_page(
    browser: Any,
    server: LabServer,
    root: Path,
    name: str,
    cells: list,
    width: int,
    height: int = 1000,
    run_timeout: float = 90,
) -> Iterator[LabPage]:
    """A fresh page (viewport `width` x `height` CSS px) on notebook `name` (written from
    `cells`), run once (within `run_timeout` s), with a drawn edge; network guarded; kernel
    shut down and page closed on exit."""
    write_notebook(root / name, cells)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(30_000)
    guard_network(context)
    lab = LabPage(context.new_page(), server)
    try:
        lab.open(name)
        lab.run_all(timeout=run_timeout)
        lab.page.locator("[data-edge]").first.wait_for(timeout=30_000)
        yield lab
    finally:
        lab.shutdown_kernel()
        context.close()


def write_notebook(path: Path, cells: list[str | tuple[str, str]]) -> Path:
    """Write a notebook of code cells (or `("markdown", text)` pairs) with a python3 kernelspec."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for c in cells:
        if isinstance(c, tuple):
            kind, text = c
            nb.cells.append(
                nbformat.v4.new_markdown_cell(text)
                if kind == "markdown"
                else nbformat.v4.new_code_cell(text)
            )
        else:
            nb.cells.append(nbformat.v4.new_code_cell(c))
    nbformat.write(nb, str(path))
    return path


# ------------------------------------------------------------------ exported HTML
STATE_MIME = "application/vnd.jupyter.widget-state+json"
# MathJax is the one CDN script nbconvert's lab template keeps; its absence only leaves
# TeX in markdown cells unrendered.
ALLOWED_EXTERNAL = ("mathjax",)


def kanwidget_states(nb_path: Path) -> list[dict[str, Any]]:
    """The saved states of every KANWidget model in the notebook's widget metadata."""
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    states = nb.metadata["widgets"][STATE_MIME]["state"]
    return [
        s for s in states.values() if s["model_name"] == "AnyModel" and "structure" in s["state"]
    ]


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
    """The page draws the saved KANWidget (edges, versions, curves) offline and error-free.

    Always leaves a screenshot of the widget in SCREENSHOT_DIR/<name>.png.
    """
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
