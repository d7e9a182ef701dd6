"""Losses and formulas that pykan's tutorials print, pykan against kanwidget.pykan.

Reads the executed notebooks that benchmarks/pykan_tutorials.py writes (OUT/executed/pykan
and OUT/executed/kanwidget, or two separate OUT directories) and compares, cell by cell:
  fits      the final train/test loss of each `fit` (pykan's tqdm text on stderr; kanwidget's
            tqdm.auto bar, kept in the notebook's widget state), paired in order within a
            cell; kanwidget is 'as good' when its final test loss is at most 2x pykan's
  formulas  the plain-text results of cells that show a formula (`symbolic_formula`,
            `ex_round`, ...): 'equal' after rounding every number to 2 decimals, 'same form'
            when the text with numbers blanked is equal and each number is within 5%
            (or 0.05 absolute) of pykan's, else 'differ'
Only notebooks that ran to the end both ways are compared. With --stored SRC, notebooks
that ran on kanwidget but have no pykan run in PYKAN_OUT are compared against the outputs
stored in pykan's own notebooks under SRC (its authors' runs: other machine, other pykan
version; the 'baseline' column says which). Writes a markdown table.

Usage: .venv/bin/python benchmarks/pykan_compare.py [--stored SRC] PYKAN_OUT KANWIDGET_OUT TABLE.md
"""

from __future__ import annotations

import json
import math
import os
import re
import sys

import nbformat

LOSS = re.compile(r"train_loss:\s*([-+.\deE]+)\s*\|\s*test_loss:\s*([-+.\deE]+)")
STEPS = re.compile(r"(\d+)/(\d+)")
NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?")
FORMULA_CALLS = ("symbolic_formula", "ex_round", "formula")


def _fits_from_text(text: str) -> list[tuple[float, float]]:
    """Final (train, test) of each tqdm bar in a stream: a new bar starts when the step count
    goes back or its total changes."""
    fits: list[tuple[float, float]] = []
    current, last = None, None
    for segment in re.split(r"[\r\n]", text):
        loss, steps = LOSS.search(segment), STEPS.findall(segment)
        if not loss:
            continue
        step = (int(steps[-1][0]), int(steps[-1][1])) if steps else None
        if current is not None and step and last and (step[0] < last[0] or step[1] != last[1]):
            fits.append(current)
        current, last = (float(loss[1]), float(loss[2])), step or last
    if current is not None:
        fits.append(current)
    return fits


def _widget_texts(nb) -> dict[str, str]:
    """model id -> concatenated HTML text of each widget box (tqdm.auto bars)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    texts = {}
    for key, model in models.items():
        children = model.get("state", {}).get("children", [])
        parts = []
        for child in children:
            child_state = models.get(child.replace("IPY_MODEL_", ""), {}).get("state", {})
            parts.append(str(child_state.get("value", "")))
        texts[key] = " ".join(parts).replace("\u2007", " ")
    return texts


def extract(path: str) -> list[dict]:
    """Per code cell: {'fits': [(train, test), ...], 'formulas': [str, ...]}."""
    nb = nbformat.read(path, as_version=4)
    widgets = _widget_texts(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        fits, formulas, stream = [], [], []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                stream.append(out.get("text", ""))
                continue
            data = out.get("data", {})
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view:
                fits += _fits_from_text(widgets.get(view.get("model_id"), ""))
                continue
            text = str(data.get("text/plain", ""))
            if any(c in cell.source for c in FORMULA_CALLS) and "x_" in text and "<" not in text:
                formulas.append(text.strip())
        fits = _fits_from_text("".join(stream)) + fits
        cells.append({"fits": fits, "formulas": formulas})
    return cells


def rounded(formula: str) -> str:
    text = NUMBER.sub(lambda m: f"{round(float(m[0]), 2):g}", formula)
    return re.sub(r"\s+", "", text)


def formula_verdict(p: str | None, k: str | None) -> str:
    if p is None or k is None:
        return "unpaired"
    if rounded(p) == rounded(k):
        return "equal"
    blank = lambda s: re.sub(r"\s+", "", NUMBER.sub("#", s))  # noqa: E731
    a, b = [float(v) for v in NUMBER.findall(p)], [float(v) for v in NUMBER.findall(k)]
    if blank(p) == blank(k) and all(abs(x - y) <= max(0.05, 0.05 * abs(x)) for x, y in zip(a, b)):
        return "same form"
    return "differ"


def compare(pykan_out: str, kanwidget_out: str, stored: str | None = None) -> tuple:
    results = {}
    for out in (pykan_out, kanwidget_out):
        path = os.path.join(out, "results.json")
        if os.path.exists(path):
            for rel, v in json.load(open(path)).items():
                results.setdefault(rel, {}).update(v)
    ok = {rel: "run" for rel, v in results.items()
          if all(v.get(n, {}).get("status") == "ok" for n in ("pykan", "kanwidget"))}  # fmt: skip
    if stored:
        for rel, v in results.items():
            if "pykan" not in v and v.get("kanwidget", {}).get("status") == "ok":
                ok[rel] = "stored"
    fit_rows, formula_rows, skipped = [], [], []
    for rel in sorted(ok):
        name = rel.replace("/", "__")
        a = os.path.join(pykan_out, "executed", "pykan", name)
        if ok[rel] == "stored":
            a = os.path.join(str(stored), rel)
        b = os.path.join(kanwidget_out, "executed", "kanwidget", name)
        if not (os.path.exists(a) and os.path.exists(b)):
            skipped.append(rel)
            continue
        ca, cb = extract(a), extract(b)
        for i, (x, y) in enumerate(zip(ca, cb, strict=False)):
            for j in range(max(len(x["fits"]), len(y["fits"]))):
                p = x["fits"][j] if j < len(x["fits"]) else None
                k = y["fits"][j] if j < len(y["fits"]) else None
                fit_rows.append((rel, ok[rel], i, j, p, k))
            for j in range(max(len(x["formulas"]), len(y["formulas"]))):
                p = x["formulas"][j] if j < len(x["formulas"]) else None
                k = y["formulas"][j] if j < len(y["formulas"]) else None
                formula_rows.append((rel, ok[rel], i, p, k))
    return fit_rows, formula_rows, skipped


def fit_verdict(p, k) -> str:
    if p is None or k is None:
        return "unpaired"
    if not math.isfinite(k[1]):
        return "worse"
    if k[1] <= max(2 * p[1], 1e-12):
        return "ok"
    return "worse"


def write(fit_rows, formula_rows, skipped, path: str) -> None:
    short = lambda rel: os.path.basename(rel).replace(".ipynb", "")  # noqa: E731
    fmt = lambda f: "-" if f is None else f"{f[0]:.2e} / {f[1]:.2e}"  # noqa: E731
    verdicts = [fit_verdict(p, k) for *_, p, k in fit_rows]
    fverdicts = [formula_verdict(p, k) for *_, p, k in formula_rows]
    lines = [
        "# pykan's tutorials: printed losses and formulas, pykan 0.2.8 vs kanwidget.pykan",
        "",
        f"Fits: {len(fit_rows)} ({verdicts.count('ok')} as good: final test loss <= 2x pykan's; "
        f"{verdicts.count('worse')} worse; {verdicts.count('unpaired')} unpaired).  "
        f"Formulas: {len(formula_rows)} ({fverdicts.count('equal')} equal after rounding to 2 "
        f"decimals; {fverdicts.count('same form')} same form, numbers within 5%; "
        f"{fverdicts.count('differ')} differ; {fverdicts.count('unpaired')} unpaired).",
        "",
        "| notebook | baseline | cell | fit | pykan train / test | kanwidget train / test | ratio "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (rel, src, i, j, p, k), v in sorted(zip(fit_rows, verdicts), key=lambda r: r[1] == "ok"):
        ratio = f"{k[1] / p[1]:.2f}" if p and k and p[1] > 0 else "-"
        lines.append(f"| {short(rel)} | {src} | {i} | {j} | {fmt(p)} | {fmt(k)} | {ratio} | {v} |")
    lines += [
        "",
        "| notebook | baseline | cell | pykan formula | kanwidget formula | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for (rel, src, i, p, k), v in sorted(
        zip(formula_rows, fverdicts), key=lambda r: r[1] != "differ"
    ):
        cut = lambda s: "-" if s is None else s.replace("|", "\\|")[:160]  # noqa: E731
        lines.append(f"| {short(rel)} | {src} | {i} | `{cut(p)}` | `{cut(k)}` | {v} |")
    if skipped:
        lines += ["", "Not compared (executed notebook missing): " + ", ".join(skipped)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    args, src = sys.argv[1:], None
    if "--stored" in args:
        i = args.index("--stored")
        src = args[i + 1]
        del args[i : i + 2]
    pykan_out, kanwidget_out, table = args
    write(*compare(pykan_out, kanwidget_out, src), table)
    print(open(table).read().splitlines()[2])
