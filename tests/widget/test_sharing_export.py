"""kanwidget.sharing without a browser: script lookup, inlining, and the exported page's text.

The browser side (the page really renders the diagram offline) is tests/browser/test_sharing.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kanwidget import cli, offline_scripts, sharing

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def test_named_anywidget_names_the_single_anonymous_define() -> None:
    js = 'var a = 1;\ndefine(["@jupyter-widgets/base"], widget_default);\n'
    out = offline_scripts.named_define(js, "anywidget")
    assert out == 'var a = 1;\ndefine("anywidget", ["@jupyter-widgets/base"], widget_default);\n'


def test_named_anywidget_refuses_an_unexpected_build() -> None:
    with pytest.raises(ValueError, match="found 2"):
        offline_scripts.named_define("define([], a); define([], b);", "anywidget")


def test_inline_safe_keeps_scripts_from_closing_the_tag() -> None:
    assert offline_scripts.inline_safe('s = "</script>"; t = "</SCRIPT"') == (
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


def _notebook_with_widget_state(path: Path, modules: tuple[str, ...] = (), tex: str = "") -> Path:
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
    if tex:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(tex))
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
    state = nb.metadata["widgets"][STATE_MIME]["state"]
    for k, module in enumerate(modules):
        state[f"{k:032d}"] = {
            "model_name": "FigureModel",
            "model_module": module,
            "model_module_version": "^0.6.1",
            "state": {"_view_module": module},
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
    (d / "mathjax.js").write_text("window.MATHJAX_MARKER = 1;")
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


def test_sharing_alias_writes_the_html_next_to_the_notebook(
    tmp_path: Path, scripts_dir: Path
) -> None:
    """`python -m kanwidget.sharing NOTEBOOK [OUT]`, the old command, still works."""
    nb = _notebook_with_widget_state(tmp_path / "nb.ipynb")
    with pytest.raises(SystemExit) as done:
        sharing.main([str(nb), "--js-dir", str(scripts_dir)])
    assert done.value.code == 0
    assert "REQUIRE_MARKER" in (tmp_path / "nb.html").read_text()
    with pytest.raises(SystemExit) as done:
        sharing.main([str(nb), str(tmp_path / "b.html"), "--js-dir", str(scripts_dir)])
    assert done.value.code == 0 and (tmp_path / "b.html").is_file()


def test_cli_export_writes_output_with_the_dark_theme(
    tmp_path: Path, scripts_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook_with_widget_state(tmp_path / "nb.ipynb")
    out = tmp_path / "site" / "page.html"
    with pytest.raises(SystemExit) as done:
        cli.main(
            ["export", str(nb), "-o", str(out), "--theme", "dark", "--js-dir", str(scripts_dir)]
        )
    assert done.value.code == 0
    html = out.read_text()
    assert 'data-jp-theme-name="JupyterLab Dark"' in html and "REQUIRE_MARKER" in html
    assert f"wrote {out}" in capsys.readouterr().out


def test_cli_export_reports_a_missing_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["export", str(tmp_path / "nope.ipynb")])
    assert done.value.code == 2
    assert "nope.ipynb: no such notebook" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "why"),
    [("not json\n", "it is not JSON"), ("{}", "it is not a valid notebook")],
    ids=["not-json", "no-cells"],
)
def test_cli_export_reports_a_file_that_is_not_a_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, why: str
) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text(text)
    with pytest.raises(SystemExit) as done:
        cli.main(["export", str(bad)])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert f"bad.ipynb: cannot read the notebook: {why}" in err and "Traceback" not in err
    assert not (tmp_path / "bad.html").exists()


def test_python_dash_m_kanwidget_export_runs_the_same_command(
    tmp_path: Path, scripts_dir: Path
) -> None:
    import subprocess
    import sys

    nb = _notebook_with_widget_state(tmp_path / "nb.ipynb")
    root = Path(sharing.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "kanwidget", "export", str(nb), "--js-dir", str(scripts_dir)],
        capture_output=True, text=True, cwd=root, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "REQUIRE_MARKER" in (tmp_path / "nb.html").read_text()


def test_console_script_is_declared() -> None:
    tomllib = pytest.importorskip("tomllib")

    root = Path(sharing.__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["kanwidget"] == "kanwidget.cli:main"


@pytest.mark.slow
def test_cli_export_execute_runs_the_notebook_and_stores_widget_state(
    tmp_path: Path, scripts_dir: Path
) -> None:
    import nbformat

    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from kanwidget import KAN, KANWidget\nw = KANWidget(KAN([2, 2, 1], seed=0))\nw"
        )
    ]
    path = tmp_path / "fresh.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(SystemExit) as done:
        cli.main(["export", str(path), "--execute", "--js-dir", str(scripts_dir)])
    assert done.value.code == 0
    html = (tmp_path / "fresh.html").read_text()
    # the exported page carries the state nbclient stored: the model with its 6 edges
    import json
    import re

    match = re.search(f'<script type="{re.escape(STATE_MIME)}">(.*?)</script>', html, re.S)
    assert match, "no widget state in the page"
    states = json.loads(match.group(1))["state"].values()
    [kan] = [s["state"] for s in states if "structure" in s["state"]]
    assert len(kan["structure"]["edges"]) == 2 * 2 + 2 * 1
    assert sorted(kan["frames"]) == ["0.0"]
    assert VIEW_MIME in html
    assert not nbformat.read(str(path), as_version=4).cells[0].outputs  # source untouched


def test_export_inlines_mathjax_only_when_the_notebook_has_tex(
    tmp_path: Path, scripts_dir: Path
) -> None:
    with_tex = _notebook_with_widget_state(tmp_path / "tex.ipynb", tex="Euler: $e^{i\\pi} = -1$")
    html = sharing.export_html(with_tex, tmp_path / "tex.html", scripts_dir).read_text()
    assert "MATHJAX_MARKER" in html and "cdnjs" not in html and "mathjax/2.7" not in html
    plain = _notebook_with_widget_state(tmp_path / "plain.ipynb")
    html = sharing.export_html(plain, tmp_path / "plain.html", scripts_dir).read_text()
    assert "MATHJAX_MARKER" not in html and "cdnjs" not in html


def test_export_inlines_the_amd_build_of_each_widget_module(
    tmp_path: Path, scripts_dir: Path
) -> None:
    """bqplot's figure and bqscales' scales come from their Python packages' own AMD builds."""
    for module in ("bqplot", "bqscales"):
        if offline_scripts.find_widget_module(module) is None:
            pytest.skip(f"{module} installs no nbextension here")
    nb = _notebook_with_widget_state(tmp_path / "nb.ipynb", modules=("bqplot", "bqscales"))
    assert sharing.widget_modules(__import__("nbformat").read(nb, as_version=4)) == [
        "bqplot",
        "bqscales",
    ]
    html = sharing.export_html(nb, tmp_path / "nb.html", scripts_dir).read_text()
    assert 'define("bqplot", ["@jupyter-widgets/base"]' in html
    assert 'define("bqscales", ["@jupyter-widgets/base"]' in html


def test_export_warns_about_a_module_with_no_local_build(tmp_path: Path, scripts_dir: Path) -> None:
    nb = _notebook_with_widget_state(tmp_path / "nb.ipynb", modules=("no-such-widgets",))
    with pytest.warns(UserWarning, match="'no-such-widgets'.*will not render offline"):
        sharing.export_html(nb, tmp_path / "nb.html", scripts_dir)


def test_build_vendors_the_offline_scripts_next_to_the_bundle() -> None:
    """`npm run build` copies the three scripts into kanwidget/static/vendor/ (shipped in the
    wheel), so exporting works after a pip install without node_modules; they are the npm
    packages' own files, and the default search finds them first."""
    static = Path(sharing.__file__).resolve().parent / "static" / "vendor"
    found = sharing.find_widget_scripts()
    for key, (flat, in_node_modules) in offline_scripts.SCRIPTS.items():
        path = getattr(found, key)
        assert path == static / flat
        original = Path(sharing.__file__).resolve().parents[1] / "node_modules" / in_node_modules
        if original.is_file():
            assert path.read_bytes() == original.read_bytes()
    assert "requirejs" in (static / "require.js").read_text()[:2000].lower()
    mathjax = offline_scripts.find_mathjax()
    assert mathjax == static / "mathjax.js"
    original = (
        Path(sharing.__file__).resolve().parents[1] / "node_modules" / offline_scripts.MATHJAX[1]
    )
    if original.is_file():
        assert mathjax.read_bytes() == original.read_bytes()
