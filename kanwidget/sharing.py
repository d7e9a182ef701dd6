"""Share an executed notebook as one self-contained HTML file that needs no CDN.

nbconvert's HTML export loads require.js, the Jupyter widget manager, the front end of
every widget module (anywidget, bqplot, ...) and MathJax from public CDNs when the page
opens. `export_html` writes the same page with all of them inlined instead (found by
`kanwidget.offline_scripts`), so the saved widget state (diagram, panels, timeline, the
dashboard's loss chart) and the TeX of markdown cells render from a local file on a
machine with neither Python nor internet access. `execute_notebook` runs a notebook
first with nbclient, which stores the widget state.

Example
-------
>>> from kanwidget.sharing import export_html
>>> export_html("executed.ipynb", "executed.html")  # doctest: +SKIP

From a shell: `kanwidget export NOTEBOOK [-o OUT.html] [--execute] [--theme dark]`
(also `python -m kanwidget export ...`; `python -m kanwidget.sharing NOTEBOOK [OUT]` is
kept as an alias). The notebook must hold widget state: run it with `--execute`,
nbclient or `jupyter nbconvert --execute` (which store it by default), or save it from
JupyterLab with "Save Widget State Automatically" on (`make lab` turns it on).
"""

from __future__ import annotations

import argparse
import os
import re
import warnings
from pathlib import Path
from typing import Any

from .offline_scripts import (
    BUILT_IN_MODULES,
    WidgetScripts,
    find_mathjax,
    find_widget_module,
    find_widget_scripts,
    inline_safe,
    named_define,
)

__all__ = ["WidgetScripts", "execute_notebook", "export_html", "find_widget_scripts", "main"]

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

_TEMPLATE_NAME = "kanwidget_offline.html.j2"
# Extends nbconvert's "lab" template: every CDN <script src=...> becomes an inline script.
# MathJax goes first: it must not see require.js's `define`.
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}
{%- if resources.kanwidget_js.mathjax -%}
<script>window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], processEscapes: true},
  svg: {fontCache: "global"}
};</script>
<script>{{ resources.kanwidget_js.mathjax }}</script>
{%- endif -%}
<script>{{ resources.kanwidget_js.requirejs }}</script>
<script>{{ resources.kanwidget_js.anywidget }}</script>
{%- for module in resources.kanwidget_js.modules %}
<script>{{ module }}</script>
{%- endfor -%}
{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
{%- endblock html_head_js_mathjax -%}
{#- nbconvert >= 7.17 imports mermaid.js from cdnjs for mermaid outputs: none offline -#}
{%- block html_head_js_mermaidjs -%}
{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}
{%- if "widgets" in nb.metadata -%}
<script>{{ resources.kanwidget_js.embed }}</script>
{%- endif -%}
{% endblock jupyter_widgets %}
"""

# Markdown TeX delimiters, as JupyterLab and MathJax read them.
_TEX = re.compile(r"\$|\\\(|\\\[|\\begin\{")


def execute_notebook(
    notebook_path: str | os.PathLike[str], timeout: float = 600.0, kernel_name: str = "python3"
) -> Any:
    """Run every cell (in the notebook's folder) and return the notebook with widget state.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(notebook_path)
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        store_widget_state=True,
        resources={"metadata": {"path": str(path.resolve().parent)}},
    )
    client.execute()
    return nb


def widget_modules(nb: Any) -> list[str]:
    """Third-party widget modules (model and view) the notebook's saved widget state uses."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    modules: set[str] = set()
    for entry in state.values():
        modules.add(entry.get("model_module", ""))
        modules.add(entry.get("state", {}).get("_view_module", "") or "")
    return sorted(m for m in modules if m and m not in BUILT_IN_MODULES)


def has_tex(nb: Any) -> bool:
    """True if a markdown cell or an output may hold TeX for MathJax."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _TEX.search(cell.source):
            return True
        for out in cell.get("outputs", []):
            if "text/latex" in out.get("data", {}):
                return True
    return False


def _module_scripts(nb: Any) -> list[str]:
    scripts = []
    for module in widget_modules(nb):
        path = find_widget_module(module)
        if path is None:
            warnings.warn(
                f"no local front end for widget module {module!r} (no nbextensions/"
                f"{module}/index.js on Jupyter's data path): its widgets will not render "
                "offline",
                stacklevel=3,
            )
            continue
        scripts.append(named_define(path.read_text(encoding="utf-8"), module))
    return scripts


def export_html(
    notebook_path: str | os.PathLike[str] | Any,
    out_path: str | os.PathLike[str],
    local_js_dir: str | os.PathLike[str] | None = None,
    *,
    theme: str = "light",
) -> Path:
    """Write `notebook_path` as one HTML file whose widgets and TeX render offline.

    Parameters
    ----------
    notebook_path
        An executed notebook with widget state in its metadata (a path, or an
        ``nbformat.NotebookNode`` such as `execute_notebook` returns).
    out_path
        Where to write the HTML (parent folders are created).
    local_js_dir
        Where to find the widget manager's scripts and MathJax (see
        `kanwidget.offline_scripts.find_widget_scripts`).
    theme
        nbconvert's lab theme, "light" or "dark".

    Returns
    -------
    Path
        `out_path`.

    Raises
    ------
    FileNotFoundError
        If require.js, embed-amd.js or anywidget.js cannot be found.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    if theme not in ("light", "dark"):
        raise ValueError(f"theme must be 'light' or 'dark', got {theme!r}")
    scripts = find_widget_scripts(local_js_dir)
    if isinstance(notebook_path, (str, os.PathLike)):
        name = Path(notebook_path).stem
        nb = nbformat.read(str(notebook_path), as_version=4)
    else:
        nb, name = notebook_path, Path(out_path).stem
    if WIDGET_STATE_MIME not in nb.metadata.get("widgets", {}):
        warnings.warn(
            f"{name} holds no widget state: widgets will not render in the HTML "
            "(export with --execute, run it with nbclient, or save it from JupyterLab with "
            "'Save Widget State Automatically' on)",
            stacklevel=2,
        )
    mathjax = ""
    if has_tex(nb):
        found = find_mathjax(local_js_dir)
        if found is None:
            warnings.warn(
                "MathJax (npm: mathjax, es5/tex-svg-full.js) not found: TeX stays unrendered "
                "offline; run `npm install && npm run build`",
                stacklevel=2,
            )
        else:
            mathjax = found.read_text(encoding="utf-8")
    js = {
        "requirejs": scripts.requirejs.read_text(encoding="utf-8"),
        "embed": scripts.embed.read_text(encoding="utf-8"),
        "anywidget": named_define(scripts.anywidget.read_text(encoding="utf-8"), "anywidget"),
        "mathjax": mathjax,
    }
    exporter = HTMLExporter(
        template_name="lab",
        theme=theme,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    resources = {
        "kanwidget_js": {
            **{k: inline_safe(v) for k, v in js.items()},
            "modules": [inline_safe(m) for m in _module_scripts(nb)],
        },
        "metadata": {"name": name},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `kanwidget export` (also `python -m kanwidget.sharing`)."""
    parser.add_argument("notebook", type=Path, help="the .ipynb file")
    parser.add_argument("out_positional", type=Path, nargs="?", help=argparse.SUPPRESS)
    parser.add_argument(
        "-o", "--output", type=Path, default=None, help="the HTML file (default: NOTEBOOK.html)"
    )
    parser.add_argument(
        "--execute", action="store_true", help="run every cell first (stores the widget state)"
    )
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per cell with --execute"
    )
    parser.add_argument(
        "--js-dir", type=Path, default=None, help="node_modules or a folder with the scripts"
    )


def _unreadable(path: Path) -> str:
    """Why ``path`` is not a notebook nbformat can read ("" if it is one)."""
    import nbformat
    from nbformat import ValidationError
    from nbformat.reader import NotJSONError

    try:
        nbformat.read(str(path), as_version=4)
    except NotJSONError:
        return "it is not JSON"
    except (ValidationError, KeyError, TypeError, AttributeError) as exc:
        return f"it is not a valid notebook ({exc})"
    except UnicodeDecodeError:
        return "it is not UTF-8 text"
    return ""


def run_export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """`kanwidget export` with parsed ``args``; user mistakes exit through ``parser``."""
    if args.output is not None and args.out_positional is not None:
        parser.error("give the output once: either OUT or -o OUT")
    if not args.notebook.is_file():
        parser.error(f"{args.notebook}: no such notebook")
    why = _unreadable(args.notebook)
    if why:
        parser.exit(1, f"{parser.prog}: {args.notebook}: cannot read the notebook: {why}\n")
    out = args.output or args.out_positional or args.notebook.with_suffix(".html")
    source = args.notebook
    if args.execute:
        from nbclient.exceptions import CellExecutionError

        try:
            source = execute_notebook(args.notebook, timeout=args.timeout)
        except CellExecutionError as exc:
            parser.exit(1, f"{args.notebook}: a cell failed while executing:\n{exc}\n")
    try:
        export_html(source, out, args.js_dir, theme=args.theme)
    except FileNotFoundError as exc:
        parser.exit(1, f"{parser.prog}: {exc}\n")
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    """`python -m kanwidget.sharing NOTEBOOK [OUT.html] [options]`: alias of `kanwidget export`."""
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m kanwidget export", description="Export a notebook to offline HTML."
    )
    add_export_arguments(parser)
    run_export(parser.parse_args(sys.argv[1:] if argv is None else argv), parser)
    sys.exit(0)


if __name__ == "__main__":
    main()
