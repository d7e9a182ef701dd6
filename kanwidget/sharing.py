"""Share an executed notebook as one self-contained HTML file that needs no CDN.

nbconvert's HTML export loads require.js, the Jupyter widget manager
(`@jupyter-widgets/html-manager`'s `embed-amd.js`) and anywidget's AMD module from public
CDNs when the page opens. `export_html` writes the same page with those three scripts
inlined instead, so the saved widget state (diagram, panels, timeline) renders from a
local file on a machine with neither Python nor internet access.

The scripts come from npm packages: pass `local_js_dir` (a `node_modules` folder, or a
folder holding `require.js`, `embed-amd.js` and `anywidget.js`); by default the
repository's `node_modules/` (after `npm install`) or `kanwidget/static/vendor/` is used.

Example
-------
>>> from kanwidget.sharing import export_html
>>> export_html("executed.ipynb", "executed.html")  # doctest: +SKIP

The notebook must hold widget state: run it with nbclient / `jupyter nbconvert --execute`
(which store it by default) or save it from JupyterLab with "Save Widget State
Automatically" on.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WidgetScripts", "export_html", "find_widget_scripts", "main"]

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

# (flat file name, path inside node_modules) of each script the exported page needs.
_SCRIPTS = {
    "requirejs": ("require.js", "requirejs/require.js"),
    "embed": ("embed-amd.js", "@jupyter-widgets/html-manager/dist/embed-amd.js"),
    "anywidget": ("anywidget.js", "anywidget/dist/index.js"),
}

_TEMPLATE_NAME = "kanwidget_offline.html.j2"
# Extends nbconvert's "lab" template: the three CDN <script src=...> become inline scripts.
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}
<script>{{ resources.kanwidget_js.requirejs }}</script>
<script>{{ resources.kanwidget_js.anywidget }}</script>
{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}
{%- if "widgets" in nb.metadata -%}
<script>{{ resources.kanwidget_js.embed }}</script>
{%- endif -%}
{% endblock jupyter_widgets %}
"""


@dataclass(frozen=True)
class WidgetScripts:
    """Paths of the three scripts an offline widget page needs."""

    requirejs: Path
    embed: Path
    anywidget: Path


def _default_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    dirs = [here / "static" / "vendor", here.parent / "node_modules"]
    env = os.environ.get("KANWIDGET_JS_DIR")
    return ([Path(env)] if env else []) + dirs


def find_widget_scripts(local_js_dir: str | os.PathLike[str] | None = None) -> WidgetScripts:
    """Locate require.js, html-manager's embed-amd.js and anywidget's AMD build.

    Parameters
    ----------
    local_js_dir
        A `node_modules` folder, or a folder with `require.js`, `embed-amd.js` and
        `anywidget.js`. None searches `$KANWIDGET_JS_DIR`, `kanwidget/static/vendor/`
        and the repository's `node_modules/`.

    Raises
    ------
    FileNotFoundError
        If a script is missing from every candidate folder.
    """
    candidates = [Path(local_js_dir)] if local_js_dir is not None else _default_dirs()
    found: dict[str, Path] = {}
    for key, (flat, in_node_modules) in _SCRIPTS.items():
        for d in candidates:
            for p in (d / flat, d / in_node_modules):
                if p.is_file():
                    found[key] = p
                    break
            if key in found:
                break
        if key not in found:
            where = ", ".join(str(d) for d in candidates)
            raise FileNotFoundError(
                f"{flat} (npm: {in_node_modules.split('/')[0]}) not found in {where}; "
                "run `npm install` at the repository root or pass local_js_dir="
            )
    return WidgetScripts(**found)


def _inline_safe(js: str) -> str:
    # An inline <script> ends at the first "</script"; "<\/script" means the same to JS.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


def _named_anywidget(js: str) -> str:
    """anywidget's AMD build is one anonymous `define([...], f)`; name it "anywidget".

    require.js only accepts anonymous modules from files it loads itself; an inline
    script must name its module.
    """
    matches = list(re.finditer(r"\bdefine\(\s*\[", js))
    if len(matches) != 1:
        raise ValueError(
            f"expected one anonymous define([...]) in anywidget's AMD build, found {len(matches)}"
        )
    m = matches[0]
    return js[: m.start()] + 'define("anywidget", [' + js[m.end() :]


def export_html(
    notebook_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    local_js_dir: str | os.PathLike[str] | None = None,
    *,
    theme: str = "light",
) -> Path:
    """Write `notebook_path` as one HTML file whose widgets render offline.

    Parameters
    ----------
    notebook_path
        An executed notebook with widget state in its metadata.
    out_path
        Where to write the HTML (parent folders are created).
    local_js_dir
        Where to find the widget manager's scripts (see `find_widget_scripts`).
    theme
        nbconvert's lab theme, "light" or "dark".

    Returns
    -------
    Path
        `out_path`.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    scripts = find_widget_scripts(local_js_dir)
    nb = nbformat.read(str(notebook_path), as_version=4)
    if WIDGET_STATE_MIME not in nb.metadata.get("widgets", {}):
        import warnings

        warnings.warn(
            f"{notebook_path} holds no widget state: widgets will not render in the HTML "
            "(execute it with nbclient, or save it from JupyterLab with "
            "'Save Widget State Automatically' on)",
            stacklevel=2,
        )
    js = {
        "requirejs": scripts.requirejs.read_text(encoding="utf-8"),
        "embed": scripts.embed.read_text(encoding="utf-8"),
        "anywidget": _named_anywidget(scripts.anywidget.read_text(encoding="utf-8")),
    }
    exporter = HTMLExporter(
        template_name="lab",
        theme=theme,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    resources = {
        "kanwidget_js": {k: _inline_safe(v) for k, v in js.items()},
        "metadata": {"name": Path(notebook_path).stem},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m kanwidget.sharing NOTEBOOK [OUT.html] [--js-dir DIR] [--theme dark]`."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m kanwidget.sharing",
        description="Export an executed notebook to one HTML file whose widgets render offline.",
    )
    parser.add_argument("notebook", type=Path)
    parser.add_argument("out", type=Path, nargs="?", help="default: NOTEBOOK with .html")
    parser.add_argument("--js-dir", type=Path, default=None, help="node_modules or script folder")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    args = parser.parse_args(argv)
    out = args.out or args.notebook.with_suffix(".html")
    export_html(args.notebook, out, args.js_dir, theme=args.theme)
    parser.exit(0, f"wrote {out}\n")


if __name__ == "__main__":
    main()
