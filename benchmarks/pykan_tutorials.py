# ruff: noqa: E501, E731  (the lead's shared tool, kept close to /work/shared/bench)
"""pykan's own tutorial notebooks on kanwidget, with only the import changed.

Each notebook runs, one at a time, in a fresh copy of the extracted tree, as:
  pykan         the notebook as it is (pykan 0.2.8, package `kan`): the baseline
  kanwidget     the same notebook with its `kan` module paths pointed at $KAN_TARGET
                (default `kanwidget.pykan`: `from kan.utils import X` -> `from
                kanwidget.pykan.utils import X`), nothing else changed (a name it lacks is a
                failure to record, not to patch)
  kanwidget+ns  diagnostic, only for notebooks with `from kan import *`: as kanwidget, after
                an uncounted cell that defines the third-party names pykan's star import
                leaks (torch, np, plt, sympy's names, ...), so the gaps behind them show;
                kan's own names (ex_round, SYMBOLIC_LIB, ...) are still not supplied
Limits: 300 s a cell, 600 s a notebook (status 'slow' when either is hit),
OMP_NUM_THREADS=1, MPLBACKEND=Agg. After a failing cell the rest still run, so later
errors are listed too (they may be knock-on errors of the first).

Usage: .venv/bin/python benchmarks/pykan_tutorials.py [--target MODULE] [--variants V,..] SRC OUT [GLOB ...]
  --variants  which of pykan,kanwidget,kanwidget+ns to run (default: all three); the pykan
        baseline is slow (minutes per notebook): `make pykan-suite` runs kanwidget only
  SRC   pykan's tutorials: `fetch` github:KindXiaoming/pykan, then from its git directory
        `git archive HEAD docs hellokan.ipynb | tar -x -C SRC` (commit none of it)
  OUT   results.json, results.md and executed/<variant>/ (the executed notebooks)
  GLOB  notebooks to run, relative to SRC (default: all); ones already in results.json
        are skipped, so a run can be resumed or extended folder by folder.
The kernel is KERNEL_PYTHON's (default: the python running this script); an injected first
cell prints its sys.prefix, checked, then dropped from the stats.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

PY = os.environ.get("KERNEL_PYTHON", sys.executable)
# where `kan` imports are pointed for the kanwidget runs (KAN_TARGET=kanwidget to try the bare package)
TARGET = os.environ.get("KAN_TARGET", "kanwidget.pykan")
CELL_S, NOTEBOOK_S = 300, 600
VARIANTS = ("pykan", "kanwidget", "kanwidget+ns")
ALL_VARIANTS = VARIANTS  # the table's columns, whichever variants this run executes
LEAKED = """from sympy import *
import copy, glob, os, random, re, yaml, torch, numpy as np, pandas as pd, matplotlib.pyplot as plt, sympy
from torch import nn
from tqdm import tqdm
from sklearn.linear_model import LinearRegression"""

FROM_KAN = re.compile(r"^(\s*)from kan(?:\.[\w.]+)? import ", re.M)  # from kan[.X] import Y
IMPORT_KAN = re.compile(r"^(\s*)import kan(?:\.[\w.]+)?(?: as (\w+))?\s*$", re.M)


def to_kanwidget(src):
    # kan -> TARGET, kan.utils -> TARGET.utils, ...: the module path changes, nothing else
    src = re.sub(
        r"^(\s*)from kan(\.[\w.]+)? import ",
        lambda m: f"{m[1]}from {TARGET}{m[2] or ''} import ",
        src,
        flags=re.M,
    )
    return re.sub(
        r"^(\s*)import kan(\.[\w.]+)?(?: as (\w+))?\s*$",
        lambda m: f"{m[1]}import {TARGET}{m[2] or ''} as {m[3] or 'kan'}",
        src,
        flags=re.M,
    )


def kernel_prefix(tmp):
    """A python3 kernelspec whose argv is PY's, found first through JUPYTER_PATH."""
    subprocess.run(
        [PY, "-m", "ipykernel", "install", "--prefix", tmp, "--name", "python3"],
        check=True,
        capture_output=True,
    )
    os.environ["JUPYTER_PATH"] = os.path.join(tmp, "share", "jupyter")
    os.environ.update(OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run(
        [PY, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True
    ).stdout.strip()


def run(src, rel, variant, want_prefix, executed_dir):
    nb = nbformat.read(os.path.join(src, rel), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if variant != "pykan":
        for c in cells:
            c.source = to_kanwidget(c.source)
    probe = nbformat.v4.new_code_cell("import sys; print(sys.prefix)")
    setup = [nbformat.v4.new_code_cell(LEAKED)] if variant == "kanwidget+ns" else []
    nb.cells = [probe] + setup + cells
    r = dict(cells=len(cells), ok=0, first_fail=None, later_errors=[], status="ok", cell_s=[])
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        client = NotebookClient(
            nb,
            timeout=CELL_S,
            kernel_name="python3",
            shutdown_kernel="immediate",
            resources={"metadata": {"path": os.path.join(tmp, os.path.dirname(rel))}},
        )
        with client.setup_kernel():
            client.execute_cell(probe, 0)
            got = "".join(o.get("text", "") for o in probe.outputs).strip()
            assert got == want_prefix, f"kernel runs {got!r}, not {want_prefix!r}"
            for c in setup:
                client.execute_cell(c, 1)
            t0 = time.monotonic()
            for i, cell in enumerate(cells):
                left = NOTEBOOK_S - (time.monotonic() - t0)
                client.timeout = max(1, int(min(CELL_S, left)))
                t1 = time.monotonic()
                err, stop = None, False
                try:
                    client.execute_cell(cell, len(setup) + i + 1)
                except CellExecutionError as e:
                    err = (e.ename, e.evalue)
                except (CellTimeoutError, DeadKernelError) as e:  # the kernel is stuck or gone
                    err = (
                        type(e).__name__,
                        f"after {time.monotonic() - t1:.0f} s, notebook at {time.monotonic() - t0:.0f} s",
                    )
                    stop = True
                r["cell_s"].append(round(time.monotonic() - t1, 2))
                if err is None:
                    r["ok"] += 1
                elif r["first_fail"] is None:
                    r["first_fail"] = dict(
                        cell=i,
                        line=cell.source.strip().splitlines()[0][:120],
                        error=err[0],
                        message=str(err[1])[:200],
                    )
                    r["status"] = "slow" if err[0] == "CellTimeoutError" else "fail"
                else:
                    r["later_errors"].append([i, err[0], str(err[1])[:120]])
                if stop:
                    break
            r["seconds"] = round(time.monotonic() - t0, 1)
            if not stop:  # keep ipywidgets' final state (tqdm.auto bars) for pykan_compare.py
                client.set_widgets_metadata()
    nb.cells = nb.cells[1 + len(setup) :]
    os.makedirs(os.path.join(executed_dir, variant), exist_ok=True)
    nbformat.write(nb, os.path.join(executed_dir, variant, rel.replace("/", "__")))
    return r


def cell_text(r):
    if r["status"] == "ok":
        return f"ok {r['ok']}/{r['cells']}"
    f = r["first_fail"]
    head = "slow" if r["status"] == "slow" else "fail"
    msg = f["message"].replace("|", "\\|").replace("\n", " ")[:90]
    return f"{head} {r['ok']}/{r['cells']}; cell {f['cell']} `{f['line'][:50].replace('|', '/')}`: {f['error']}: {msg}"


def write_md(results, out):
    rows = [
        "| notebook | pykan | kanwidget | kanwidget+ns (diagnostic) | s: pykan / kanwidget / +ns |",
        "|---|---|---|---|---|",
    ]
    for rel, v in results.items():
        cols = [v.get(n) for n in ALL_VARIANTS]
        rows.append(
            f"| {rel} | "
            + " | ".join(cell_text(r) if r else "-" for r in cols)
            + " | "
            + " / ".join(str(r["seconds"]) if r else "-" for r in cols)
            + " |"
        )
    done = [v for v in results.values() if "kanwidget" in v]
    ok = lambda v, n: n in v and v[n]["status"] == "ok"
    rows += [
        "",
        f"notebooks: {len(done)}; ok on pykan: {sum(ok(v, 'pykan') for v in done)}; "
        f"ok on kanwidget: {sum(ok(v, 'kanwidget') for v in done)}; "
        f"fail on kanwidget but ok on pykan: {sum(ok(v, 'pykan') and not ok(v, 'kanwidget') for v in done)}; "
        f"ok on kanwidget+ns: {sum(ok(v, 'kanwidget+ns') for v in done)} "
        f"of {sum('kanwidget+ns' in v for v in done)} run",
    ]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(rows) + "\n")


def main(src, out, *globs):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "results.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    notebooks = [
        os.path.relpath(p, src)
        for g in (globs or ["**/*.ipynb"])
        for p in sorted(glob.glob(os.path.join(src, g), recursive=True))
        if ".ipynb_checkpoints" not in p
    ]
    with tempfile.TemporaryDirectory() as kdir:
        prefix = kernel_prefix(kdir)
        for rel in notebooks:
            star = any(
                re.search(r"^\s*from kan import \*", c.source, re.M)
                for c in nbformat.read(os.path.join(src, rel), as_version=4).cells
                if c.cell_type == "code"
            )
            for variant in VARIANTS:
                if variant in results.get(rel, {}) or (variant == "kanwidget+ns" and not star):
                    continue
                r = run(src, rel, variant, prefix, os.path.join(out, "executed"))
                print(rel, variant, cell_text(r), r["seconds"], "s", flush=True)
                results.setdefault(rel, {})[variant] = r
                json.dump(results, open(path, "w"), indent=1)
                write_md(results, out)


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--variants" in args:
        i = args.index("--variants")
        VARIANTS = tuple(args[i + 1].split(","))
        del args[i : i + 2]
    if "--target" in args:  # same as KAN_TARGET=...
        i = args.index("--target")
        TARGET = args[i + 1]
        del args[i : i + 2]
    main(*args)
