"""Every example notebook in notebooks/ runs top to bottom in a real kernel and shows what its
text says it shows.

Each notebook is copied to a temporary directory and executed there with nbclient (kernel
``python3`` = this interpreter, so the repository's ``kanwidget``). A first cell is added to the
copy to check which ``kanwidget`` the kernel imports. The test asserts that no cell raises or
writes to stderr, that the notebook writes no files next to itself, that the widget state is
stored (so the executed notebook renders without a kernel), and a few values per notebook.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

PROBE = (
    "import sys, kanwidget\nprint('KANWIDGET', kanwidget.__file__)\nprint('PYTHON', sys.executable)"
)


def _text(cell) -> str:
    """Everything a code cell showed as text: stdout plus the text/plain of its results."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream" and out["name"] == "stdout":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return float(match.group(1))


# ------------------------------------------------------------------ per-notebook checks
def _check_quickstart(out: Callable[[str], str]) -> None:
    formula = out("quickstart-18")
    assert "sin" in formula and "exp" in formula, formula
    assert "3.1416" in formula, formula  # pi, rounded to four digits
    assert _number(r"active edges:\s*(\d+)", out("quickstart-10")) <= 4
    versions = out("quickstart-21")
    assert re.search(r"^\s*1\.4\s+rewind\s+parent\s+0\.4\b", versions, re.M), versions


def _check_branches(out: Callable[[str], str]) -> None:
    assert "now at 1.1 | parent 0.1" in out("branches-13")
    tree = out("branches-23")
    ids = re.findall(r"^\s*(\d+\.\d+)\s", tree, re.M)
    assert ids == ["0.0", "0.1", "0.2", "0.3", "1.1", "1.2", "1.3", "2.1", "2.2"], tree
    # the three branches hang off 0.1: 0.2, 1.1 and 2.1 are indented one level below it
    assert re.search(r"^ {8}1\.1\s+rewind", tree, re.M) and re.search(
        r"^ {8}2\.1\s+rewind", tree, re.M
    ), tree
    compare = out("branches-19")
    assert re.search(r"n_edges\s+A \(0\.3\) 9\s+B \(1\.3\) 11", compare), compare
    ratios = out("branches-20")
    a = _number(r"hypothesis A / control: ([\d.]+)x", ratios)
    b = _number(r"hypothesis B / control: ([\d.]+)x", ratios)
    # "A ends at more than twice the control's error"; "B ends within 1.5x of the control,
    # much closer to it than A"
    assert a > 2.0 and b < 1.5 and a > 1.5 * b, ratios
    assert "model is at 1.3 with 11 active edges" in out("branches-25")
    scores = out("branches-09")
    m0, v, c = (_number(rf"{name}\s+attribution ([\d.e+-]+)", scores) for name in ("m0", "v", "c"))
    assert c < 0.1 * min(m0, v), scores  # "c's is more than ten times smaller"
    hidden = [float(s) for s in re.search(r"hidden node scores: (.*)", scores).group(1).split()]
    top = max(hidden)
    assert sorted(hidden)[-2] < 0.01 * top, scores  # "the other two score below 1% of it"
    faint = _number(r"edge m0 -> hidden node 1: score ([\d.e+-]+)", scores)
    assert faint < 0.01 * m0, scores  # "below 1% of m0's"


def _check_branches_widget(state: dict) -> None:
    """The widget shown early on follows the model: after Run All it shows the last version
    checked out and the whole tree of 9 versions, each clickable (a stored frame)."""
    history = state["history"]
    assert history["current"] == "1.3"
    assert len(history["versions"]) == 9
    assert sorted(state["frames"]) == sorted(v["id"] for v in history["versions"])


def _check_formulas(out: Callable[[str], str]) -> None:
    first = out("formulas-07").splitlines()[1]
    assert first.split()[0] in ("sin", "cos", "x^2"), first  # the tie the text explains
    r2 = {row.split()[0]: float(row.split()[1]) for row in out("formulas-07").splitlines()[1:]}
    assert all(r2.get(name, 0) > 0.9999 for name in ("sin", "cos", "x^2")), r2  # "tie at R^2 ~ 1"
    # "with lib=, the parabola wins clearly" (and sqrt on the outer edge)
    tables = out("formulas-09").split("edge (")[1:]
    assert [t.splitlines()[2].split()[0] for t in tables] == ["x^2", "x^2", "sqrt"], tables
    for t in tables[:2]:
        best, second = (float(t.splitlines()[k].split()[1]) for k in (2, 3))
        assert best > 0.999 and second < 0.9, t
    assert "chosen: ['x^2', 'x^2'] ['sqrt']" in out("formulas-11")
    assert "sqrt" in out("formulas-13")
    assert out("formulas-15").strip() == "1.0*dx**2 + 1.0*dy**2"  # Pythagoras
    assert "width [[2, 0], [1, 0], [1, 0]] | version 0.1 | edges 3" in out("formulas-17")
    compiled = out("formulas-19")
    assert "exp(y**2 + sin(pi*x))" in compiled
    assert "same as the input formula: True" in compiled
    before = _number(r"test RMSE ([\d.e+-]+)", out("formulas-21"))
    # "the RMSE is unchanged after both [expand_width and perturb]"
    assert _number(r"\| test RMSE ([\d.e+-]+)", out("formulas-23")) == before
    after = _number(r"after fine-tuning: test RMSE ([\d.e+-]+)", out("formulas-23"))
    assert before > 0.1 and after < 1e-3 * before
    assert "(1.0*y + 0.1)**2" in out("formulas-25")  # the missing 0.2*y term, found
    refused = out("formulas-29")
    assert refused.count("refused ") == 3, refused
    assert "pwned" not in refused.splitlines(), "the formula text was executed"
    scores = out("formulas-31")
    assert re.search(r"truth multiplicative interaction \(0,1\) 0\.000\s+\(0,2\) 0\.000", scores)
    # "the trained network shows them at about the level of its own error (~1e-2), an order
    # of magnitude below the real interaction of x_2 with x_3"
    kan = re.search(r"KAN\s+multiplicative interaction \(0,1\) ([\d.]+)\s+\(0,2\) ([\d.]+)"
                    r"\s+\(1,2\) ([\d.]+)", scores)  # fmt: skip
    assert kan, scores
    s01, s02, s12 = (float(g) for g in kan.groups())
    assert max(s01, s02) < 0.05 and s12 > 10 * max(s01, s02), scores
    structure = out("formulas-33")
    assert "multiplicative groups: [[0], [1, 2]]" in structure, structure
    assert "additive groups:       [[0, 1, 2]]" in structure, structure
    assert "x_2, x_3 enter as one combination: True" in structure, structure
    assert "x_1, x_2 enter as one combination: False" in structure, structure
    assert "[0, [1, 2]] -> *(x_1, F(x_2, x_3))" in out("formulas-35")


def _check_compiled_widget(state: dict) -> None:
    """The compiled model's widget follows it: after Run All it shows the fine-tuned model,
    and the compiled version (only symbolic edges) stays a click away in its timeline."""
    history = state["history"]
    ids = [v["id"] for v in history["versions"]]
    assert history["current"] == ids[-1] and len(ids) >= 4, ids
    assert sorted(state["frames"]) == sorted(ids)
    compiled = next(v["id"] for v in history["versions"] if v["operation"] == "kanpiler")
    edges = state["frames"][compiled]["structure"]["edges"]
    active = [e for e in edges if e["active"]]
    assert active and all(e["symbolic"] for e in active), compiled
    last = state["frames"][ids[-1]]["structure"]["edges"]
    assert any(e["active"] and not e["symbolic"] for e in last)  # perturb's spline branches


# (cell id of a widget's output, check of that widget's saved state)
WIDGET_CHECKS: dict[str, tuple[str, Callable[[dict], None]]] = {
    "02_branches.ipynb": ("branches-05", _check_branches_widget),
    "03_formulas.ipynb": ("formulas-21", _check_compiled_widget),
}


def _check_discovery(out: Callable[[str], str]) -> None:
    found = out("discovery-03")
    assert "equals the law: True" in found, found
    assert "budget 15 s, took " in found, found  # the time is printed, not asserted (load varies)
    front = out("discovery-05").splitlines()
    assert front and all(re.match(r"\s*\d+\s+rmse", line) for line in front), front
    assert re.search(r"KAN candidates: [1-9]", out("discovery-07"))


CHECKS: dict[str, Callable[[Callable[[str], str]], None]] = {
    "01_quickstart.ipynb": _check_quickstart,
    "02_branches.ipynb": _check_branches,
    "03_formulas.ipynb": _check_formulas,
    "04_discovery.ipynb": _check_discovery,
}


def test_every_notebook_has_checks():
    assert NOTEBOOKS, "no notebooks found"
    assert sorted(p.name for p in NOTEBOOKS) == sorted(CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, tmp_path: Path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{path.name} is stored with outputs; clear them before committing"
    )
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids), "cell ids must be unique"
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE, id="test-probe"))

    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    start = time.monotonic()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.monotonic() - start
    print(f"{path.name}: {elapsed:.1f} s")

    probe = _text(nb.cells.pop(0))
    assert f"KANWIDGET {REPO / 'kanwidget' / '__init__.py'}" in probe, probe

    cells = {c.id: c for c in nb.cells}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"cell {cell.id}: {out.get('evalue')}"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"cell {cell.id} wrote to stderr:\n{out['text']}"
            )
    assert sorted(p.name for p in workdir.iterdir()) == [], "the notebook wrote files"

    views = [o for c in nb.cells for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
    assert views, "no widget was displayed"
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for view in views:
        assert view["data"][WIDGET_VIEW]["model_id"] in state, "widget state not stored"

    CHECKS[path.name](lambda cell_id: _text(cells[cell_id]))
    if path.name in WIDGET_CHECKS:
        cell_id, check = WIDGET_CHECKS[path.name]
        [view] = [o for o in cells[cell_id].outputs if WIDGET_VIEW in o.get("data", {})]
        check(state[view["data"][WIDGET_VIEW]["model_id"]]["state"])
