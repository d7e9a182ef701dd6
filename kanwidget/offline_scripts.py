"""The JavaScript an exported page needs, found on this machine instead of a CDN.

nbconvert's HTML export asks public CDNs for five kinds of script when the page opens:
require.js, the widget manager (`@jupyter-widgets/html-manager`'s `embed-amd.js`), the
front end of every third-party widget module in the saved state (anywidget, bqplot,
bqscales, ...), and MathJax. This module finds local copies of each, so that
`kanwidget.sharing.export_html` can inline them:

* require.js, embed-amd.js, anywidget.js: the npm packages' own files, copied next to the
  bundle by `npm run build` (`kanwidget/static/vendor/`, shipped in the wheel), or a
  `node_modules` folder;
* other widget modules (bqplot, bqscales): the AMD build their Python package installs for
  the classic notebook (`<prefix>/share/jupyter/nbextensions/<module>/index.js`), which is
  the front end of exactly the installed Python version;
* MathJax: MathJax 3's single-file `tex-svg-full.js` (npm `mathjax`), vendored by the build
  as `mathjax.js`; SVG output needs no web fonts, so TeX renders with no network.

Every file is read as text and made safe to inline (`inline_safe`); AMD modules get their
name (`named_define`), because require.js accepts anonymous modules only from files it
loads itself.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "WidgetScripts",
    "find_mathjax",
    "find_widget_module",
    "find_widget_scripts",
    "inline_safe",
    "named_define",
]

# (flat file name, path inside node_modules) of each script the exported page needs.
SCRIPTS = {
    "requirejs": ("require.js", "requirejs/require.js"),
    "embed": ("embed-amd.js", "@jupyter-widgets/html-manager/dist/embed-amd.js"),
    "anywidget": ("anywidget.js", "anywidget/dist/index.js"),
}
MATHJAX = ("mathjax.js", "mathjax/es5/tex-svg-full.js")
# Modules the widget manager (embed-amd.js) already contains.
BUILT_IN_MODULES = frozenset(
    {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output", "anywidget"}
)


@dataclass(frozen=True)
class WidgetScripts:
    """Paths of the three scripts every offline widget page needs."""

    requirejs: Path
    embed: Path
    anywidget: Path


def default_dirs() -> list[Path]:
    """`$KANWIDGET_JS_DIR`, `kanwidget/static/vendor/`, the repository's `node_modules/`."""
    here = Path(__file__).resolve().parent
    dirs = [here / "static" / "vendor", here.parent / "node_modules"]
    env = os.environ.get("KANWIDGET_JS_DIR")
    return ([Path(env)] if env else []) + dirs


def _find(flat: str, in_node_modules: str, candidates: list[Path]) -> Path | None:
    for d in candidates:
        for p in (d / flat, d / in_node_modules):
            if p.is_file():
                return p
    return None


def find_widget_scripts(local_js_dir: str | os.PathLike[str] | None = None) -> WidgetScripts:
    """Locate require.js, html-manager's embed-amd.js and anywidget's AMD build.

    Parameters
    ----------
    local_js_dir
        A `node_modules` folder, or a folder with `require.js`, `embed-amd.js` and
        `anywidget.js`. None searches `default_dirs()`.

    Raises
    ------
    FileNotFoundError
        If a script is missing from every candidate folder.
    """
    candidates = [Path(local_js_dir)] if local_js_dir is not None else default_dirs()
    found: dict[str, Path] = {}
    for key, (flat, in_node_modules) in SCRIPTS.items():
        path = _find(flat, in_node_modules, candidates)
        if path is None:
            where = ", ".join(str(d) for d in candidates)
            raise FileNotFoundError(
                f"{flat} (npm: {in_node_modules.split('/')[0]}) not found in {where}; "
                "run `npm install` at the repository root or pass local_js_dir="
            )
        found[key] = path
    return WidgetScripts(**found)


def find_mathjax(local_js_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """MathJax 3's `tex-svg-full.js` (vendored as `mathjax.js`), or None if absent."""
    candidates = ([Path(local_js_dir)] if local_js_dir is not None else []) + default_dirs()
    return _find(*MATHJAX, candidates)


def find_widget_module(module: str) -> Path | None:
    """The AMD build (`nbextensions/<module>/index.js`) an installed widget package ships.

    Searched on Jupyter's data path (the environment's `share/jupyter` first), as the
    classic notebook would; None if no package installs one.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.@/-]+", module) or ".." in module:
        return None
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("nbextensions"):
        path = Path(base) / module / "index.js"
        if path.is_file():
            return path
    return None


def inline_safe(js: str) -> str:
    """JS text that cannot end its inline `<script>`: "</script" becomes "<\\/script"."""
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


def named_define(js: str, name: str) -> str:
    """Name the single anonymous `define([...], f)` of an AMD build `name`.

    Raises
    ------
    ValueError
        If the build does not hold exactly one anonymous `define([`.
    """
    matches = list(re.finditer(r"\bdefine\(\s*\[", js))
    if len(matches) != 1:
        raise ValueError(
            f"expected one anonymous define([...]) in the AMD build of {name}, found {len(matches)}"
        )
    m = matches[0]
    return js[: m.start()] + f"define({json.dumps(name)}, [" + js[m.end() :]
