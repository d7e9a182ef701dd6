"""kanwidget.sharing without a browser: script lookup, inlining, and the exported page's text.

The browser side (the page really renders the diagram offline) is tests/browser/test_sharing.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kanwidget import sharing

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def test_named_anywidget_names_the_single_anonymous_define() -> None:
    js = 'var a = 1;\ndefine(["@jupyter-widgets/base"], widget_default);\n'
    out = sharing._named_anywidget(js)
    assert out == 'var a = 1;\ndefine("anywidget", ["@jupyter-widgets/base"], widget_default);\n'


def test_named_anywidget_refuses_an_unexpected_build() -> None:
    with pytest.raises(ValueError, match="found 2"):
        sharing._named_anywidget("define([], a); define([], b);")


def test_inline_safe_keeps_scripts_from_closing_the_tag() -> None:
    assert sharing._inline_safe('s = "</script>"; t = "</SCRIPT"') == (
        's = "<\\/script>"; t = "<\\/SCRIPT"'
    )


def test_find_widget_scripts_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="require.js .*npm install"):
        sharing.find_widget_scripts(tmp_path)


def test_find_widget_scripts_accepts_a_flat_folder(tmp_path: Path) -> None:
    for name in ("require.js", "embed-amd.js", "anywidget.js"):
        (tmp_path / name).write_text("// " + name)
    found = sharing.find_widget_scripts(tmp_path)
    assert found.embed == tmp_path / "embed-amd.js"
    assert found.anywidget == tmp_path / "anywidget.js"


def _notebook_with_widget_state(path: Path) -> Path:
    import nbformat

    model_id = "a" * 32
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("w")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/plain": "KANWidget()",
                VIEW_MIME: {"version_major": 2, "version_minor": 0, "model_id": model_id},
            },
        )
    ]
    nb.cells.append(cell)
    nb.metadata["widgets"] = {
        STATE_MIME: {
            "version_major": 2,
            "version_minor": 0,
            "state": {
                model_id: {
                    "model_name": "AnyModel",
                    "model_module": "anywidget",
                    "model_module_version": "~0.11.*",
                    "state": {"_esm": "export default {render({el}) {}}", "beta": 3.0},
                }
            },
        }
    }
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def scripts_dir(tmp_path: Path) -> Path:
    """Tiny stand-ins for the three npm scripts (the real ones are ~4 MB)."""
    d = tmp_path / "js"
    d.mkdir()
    (d / "require.js").write_text("var requirejs = function () {}; // REQUIRE_MARKER")
    (d / "embed-amd.js").write_text('define("@jupyter-widgets/html-manager", [], {}); // EMBED')
    (d / "anywidget.js").write_text('// x </script>\ndefine(["@jupyter-widgets/base"], f);')
    return d


def test_export_html_inlines_the_scripts_and_keeps_the_state(
    tmp_path: Path, scripts_dir: Path
) -> None:
    nb = _notebook_with_widget_state(tmp_path / "nb.ipynb")
    out = sharing.export_html(nb, tmp_path / "out" / "nb.html", local_js_dir=scripts_dir)
    html = out.read_text()
    assert "REQUIRE_MARKER" in html and "// EMBED" in html
    assert 'define("anywidget", ["@jupyter-widgets/base"], f);' in html
    assert "x <\\/script>" in html  # escaped inside the inline script
    # No CDN script: neither nbconvert's require.js nor its widget manager URL.
    assert "require.min.js" not in html and "embed-amd.js" not in html
    assert "unpkg.com" not in html and "jsdelivr" not in html
    assert STATE_MIME in html and "export default {render" in html


def test_export_html_warns_when_the_notebook_has_no_widget_state(
    tmp_path: Path, scripts_dir: Path
) -> None:
    import nbformat

    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(path))
    with pytest.warns(UserWarning, match="no widget state"):
        sharing.export_html(path, tmp_path / "plain.html", local_js_dir=scripts_dir)


def test_command_line_writes_the_html_next_to_the_notebook(
    tmp_path: Path, scripts_dir: Path
) -> None:
    nb = _notebook_with_widget_state(tmp_path / "nb.ipynb")
    with pytest.raises(SystemExit) as done:
        sharing.main([str(nb), "--js-dir", str(scripts_dir)])
    assert done.value.code == 0
    assert "REQUIRE_MARKER" in (tmp_path / "nb.html").read_text()


def test_build_vendors_the_offline_scripts_next_to_the_bundle() -> None:
    """`npm run build` copies the three scripts into kanwidget/static/vendor/ (shipped in the
    wheel), so exporting works after a pip install without node_modules; they are the npm
    packages' own files, and the default search finds them first."""
    static = Path(sharing.__file__).resolve().parent / "static" / "vendor"
    found = sharing.find_widget_scripts()
    for key, (flat, in_node_modules) in sharing._SCRIPTS.items():
        path = getattr(found, key)
        assert path == static / flat
        original = Path(sharing.__file__).resolve().parents[1] / "node_modules" / in_node_modules
        if original.is_file():
            assert path.read_bytes() == original.read_bytes()
    assert "requirejs" in (static / "require.js").read_text()[:2000].lower()
