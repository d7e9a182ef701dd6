"""``kanwidget.discover`` on the 60 equations of ``shared/bench/feynman_public.csv``.

For each equation: 1000 training and 1000 held-out points uniform in the given ranges
(numpy ``default_rng(0)``, float64 labels), ``discover(budget=60, n_jobs=2)``; then the
returned ``best`` formula is checked: **recovered** = relative RMSE (RMSE / std of the truth)
< 1e-3 on 2000 fresh points in range **and** < 1e-2 on 2000 points with every range widened
by 20% on each side (points where the truth is not finite are dropped).  Formulas are
parsed with kanwidget's whitelist parser (every variable a Symbol, ``pi`` = sympy.pi,
``arcsin``/``ln`` mapped; no ``eval``).

The tutorial pipeline (width ``[n, 5, 1]``, model seed 0, float32 data: ``fit(lamb=1e-3)`` ->
``prune`` -> ``fit`` -> ``refine(20)`` -> ``fit`` -> ``auto_symbolic`` -> ``fit``, 50 LBFGS steps
per fit, pykan's defaults elsewhere), with the same criterion: ``--tutorial`` adds it through
kanwidget, ``--pykan-tutorial`` through pykan 0.2.8 (package ``kan``, its defaults, run in a
throwaway directory since it writes checkpoints to ``./model``).  An error
counts as not recovered and is recorded.  ``--tutorial-only`` runs only the pipelines (both
unless one is named) and writes ``benchmarks/results/bench_tutorial.json``, so a discover run
does not overwrite it; ``--out`` names another file (e.g. one per pipeline) and ``--stride n``
runs every n-th equation of the CSV (a sample fixed before any result is seen).

Results go to ``benchmarks/results/bench_discover.json`` (rewritten after every equation, so a
partial run keeps what it measured).  Run: ``python benchmarks/bench_discover.py``; the
pipelines alone: ``nice -n 15 python benchmarks/bench_discover.py --tutorial-only``.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sympy
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CSV = ROOT.parent / "shared" / "bench" / "feynman_public.csv"
OUT = Path(__file__).resolve().parent / "results" / "bench_discover.json"
TUTORIAL_OUT = OUT.with_name("bench_tutorial.json")


def load_equations(path: Path = CSV) -> list[dict]:
    from kanwidget.kan.symbolic.parse import parse_formula

    out = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            n = int(row["# variables"])
            names = [row[f"v{k}_name"] for k in range(1, n + 1)]
            ranges = [(float(row[f"v{k}_low"]), float(row[f"v{k}_high"])) for k in range(1, n + 1)]
            truth = parse_formula(row["Formula"], variables=names)
            out.append(
                {
                    "id": row["Filename"],
                    "formula": row["Formula"],
                    "names": names,
                    "ranges": ranges,
                    "truth": truth,
                }
            )
    return out


def _values(expr: sympy.Expr, names: list[str], cols: list[np.ndarray]) -> np.ndarray:
    symbols = [sympy.Symbol(v) for v in names]
    fn = sympy.lambdify(symbols, expr, "numpy")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = np.asarray(fn(*cols), dtype=np.complex128)
    out = np.broadcast_to(out, cols[0].shape)
    return np.where(np.abs(out.imag) > 1e-9 * (1 + np.abs(out.real)), np.nan, out.real)


def _sample(ranges, count: int, rng: np.random.Generator, widen: float = 0.0) -> list[np.ndarray]:
    return [rng.uniform(lo - widen * (hi - lo), hi + widen * (hi - lo), count) for lo, hi in ranges]


def dataset(eq: dict, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    cols = _sample(eq["ranges"], 2000, rng)
    y = _values(eq["truth"], eq["names"], cols)
    x = np.column_stack(cols)
    t = torch.tensor
    return {"train_input": t(x[:1000]), "train_label": t(y[:1000, None]),
            "test_input": t(x[1000:]), "test_label": t(y[1000:, None])}  # fmt: skip


def check(formula: sympy.Expr, eq: dict, variables: list[str] | None = None) -> dict:
    """Relative RMSE in range and on widened ranges; recovered flag."""
    names = variables or eq["names"]
    rng = np.random.default_rng(12345)
    errs = {}
    for label, widen in (("in_range", 0.0), ("widened", 0.2)):
        cols = _sample(eq["ranges"], 2000, rng, widen)
        truth = _values(eq["truth"], eq["names"], cols)
        ok = np.isfinite(truth)
        pred = _values(formula, names, [c[ok] for c in cols])
        truth = truth[ok]
        if not np.all(np.isfinite(pred)):
            errs[label] = float("inf")
        else:
            errs[label] = float(np.sqrt(np.mean((pred - truth) ** 2)) / (np.std(truth) + 1e-300))
    errs["recovered"] = bool(errs["in_range"] < 1e-3 and errs["widened"] < 1e-2)
    return errs


def tutorial(eq: dict, ds: dict) -> dict:
    """pykan's tutorial pipeline through kanwidget, model seed 0."""
    from kanwidget import KAN

    data = {k: v.float() for k, v in ds.items()}
    t0 = time.time()
    try:
        model = KAN([len(eq["names"]), 5, 1], grid=5, k=3, seed=0)
        model.fit(data, steps=50, lamb=1e-3, progress=False)
        model.prune()
        model.fit(data, steps=50, progress=False)
        model.refine(20)
        model.fit(data, steps=50, progress=False)
        model.auto_symbolic()
        model.fit(data, steps=50, progress=False)
        formula = model.symbolic_formula(var=eq["names"])[0][0]
        out = check(formula, eq)
        out["formula"] = str(formula)
    except Exception as exc:  # noqa: BLE001 - a crash is a miss, reported
        out = {"recovered": False, "error": f"{type(exc).__name__}: {exc}"}
    out["seconds"] = time.time() - t0
    return out


def pykan_tutorial(eq: dict, ds: dict) -> dict:
    """The same pipeline through pykan 0.2.8 (``kan.KAN``), model seed 0."""
    import contextlib
    import io

    from _common import in_tempdir

    data = {k: v.float() for k, v in ds.items()}
    t0 = time.time()
    sink = io.StringIO()  # pykan prints and draws tqdm bars
    try:
        with in_tempdir(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            from kan import KAN as PykanKAN

            model = PykanKAN([len(eq["names"]), 5, 1], grid=5, k=3, seed=0)
            model.fit(data, opt="LBFGS", steps=50, lamb=1e-3)
            model = model.prune()
            model.fit(data, opt="LBFGS", steps=50)
            model = model.refine(20)
            model.fit(data, opt="LBFGS", steps=50)
            model.auto_symbolic()
            model.fit(data, opt="LBFGS", steps=50)
            formula = model.symbolic_formula(var=eq["names"])[0][0]
        formula = sympy.sympify(formula)
        out = check(formula, eq)
        out["formula"] = str(formula)
    except Exception as exc:  # noqa: BLE001 - a crash is a miss, reported
        out = {"recovered": False, "error": f"{type(exc).__name__}: {exc}"}
    out["seconds"] = time.time() - t0
    return out


PIPELINES = {"tutorial": tutorial, "pykan_tutorial": pykan_tutorial}


def run_pipelines(eqs: list[dict], names: list[str], out: Path) -> dict:
    """Only the tutorial pipelines (no discover): one row per equation, counts per pipeline."""
    rows: list[dict] = []
    summary: dict = {}
    for eq in eqs:
        ds = dataset(eq)
        row: dict = {"id": eq["id"], "truth": eq["formula"]}
        for name in names:
            row[name] = PIPELINES[name](eq, ds)
        rows.append(row)
        cells = [
            f"{name} {'YES' if row[name]['recovered'] else 'no '} {row[name]['seconds']:5.1f}s"
            + (f" ({row[name]['error'][:60]})" if "error" in row[name] else "")
            for name in names
        ]
        print(f"{eq['id']:10s} " + "  ".join(cells), flush=True)
        summary = summarise(rows, names)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, indent=1, default=str))
    return summary


def summarise(rows: list[dict], names: list[str]) -> dict:
    """Counts per pipeline: recovered, errors, R^2 > 0.999 in range; and the rows."""
    summary: dict = {"equations": len(rows)}
    for name in names:
        ran = [r[name] for r in rows if name in r]
        summary[f"{name}_equations"] = len(ran)
        summary[f"{name}_recovered"] = sum(res["recovered"] for res in ran)
        summary[f"{name}_errors"] = sum("error" in res for res in ran)
        summary[f"{name}_r2_999"] = sum(_r2(res) > 0.999 for res in ran)
    summary["rows"] = rows
    return summary


def _r2(res: dict) -> float:
    """R^2 on the in-range points, from the relative RMSE (R^2 = 1 - rel_rmse^2)."""
    rel = res.get("in_range", float("inf"))
    return 1.0 - rel * rel if np.isfinite(rel) else float("-inf")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=60)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--only", default=None, help="comma-separated equation ids")
    p.add_argument("--start", type=int, default=0, help="first equation (index)")
    p.add_argument("--stop", type=int, default=None, help="last equation + 1 (index)")
    p.add_argument(
        "--stride", type=int, default=1, help="every n-th equation of [start, stop): a fixed sample"
    )
    p.add_argument("--tutorial", action="store_true", help="also run the tutorial pipeline")
    p.add_argument(
        "--pykan-tutorial", action="store_true", help="also run the tutorial pipeline on pykan"
    )
    p.add_argument(
        "--tutorial-only",
        action="store_true",
        help="run only the tutorial pipelines (both unless one is named); no discover",
    )
    p.add_argument(
        "--out", type=Path, default=None, help=f"default {OUT.name} ({TUTORIAL_OUT.name})"
    )
    p.add_argument("--csv", type=Path, default=CSV)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from kanwidget import discover

    eqs = load_equations(args.csv)
    if args.only:
        keep = set(args.only.split(","))
        eqs = [e for e in eqs if e["id"] in keep]
    eqs = eqs[args.start : args.stop : args.stride]
    if args.tutorial_only:
        chosen = {"tutorial": args.tutorial, "pykan_tutorial": args.pykan_tutorial}
        names = [n for n, flag in chosen.items() if flag] or list(PIPELINES)
        summary = run_pipelines(eqs, names, args.out or TUTORIAL_OUT)
        print("; ".join(f"{n} {summary[f'{n}_recovered']}/{len(eqs)}" for n in names))
        return 0
    args.out = args.out or OUT
    rows = []
    for eq in eqs:
        ds = dataset(eq)
        t0 = time.time()
        try:
            d = discover(
                ds, variables=eq["names"], budget=args.budget, n_jobs=args.n_jobs, progress=False
            )
            res = check(d.best.formula, eq)
            res.update(formula=str(d.best.formula), source=d.best.source, structure=d.structure)
            res["phases"] = [
                {"name": p.name, "status": p.status, "start": round(p.start, 2),
                 "seconds": round(p.seconds, 2), "note": p.note}
                for p in d.phases
            ]  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - reported as a miss
            res = {"recovered": False, "error": f"{type(exc).__name__}: {exc}"}
        res["seconds"] = time.time() - t0
        res["id"], res["truth"] = eq["id"], eq["formula"]
        if args.tutorial:
            res["tutorial"] = tutorial(eq, ds)
        if args.pykan_tutorial:
            res["pykan_tutorial"] = pykan_tutorial(eq, ds)
        rows.append(res)
        err_in, err_wide = res.get("in_range", float("nan")), res.get("widened", float("nan"))
        shown = res.get("formula", res.get("error"))
        flag = "YES" if res["recovered"] else "no "
        print(
            f"{eq['id']:10s} {flag} {res['seconds']:6.1f}s {err_in:.2e} {err_wide:.2e} "
            f"{res.get('source', '')}: {shown}",
            flush=True,
        )
        tut = sum(r["tutorial"]["recovered"] for r in rows) if args.tutorial else None
        pyk = sum(r["pykan_tutorial"]["recovered"] for r in rows) if args.pykan_tutorial else None
        summary = {
            "budget": args.budget,
            "n_jobs": args.n_jobs,
            "equations": len(rows),
            "recovered": sum(r["recovered"] for r in rows),
            "median_seconds": statistics.median(r["seconds"] for r in rows),
            "tutorial_recovered": tut,
            "pykan_tutorial_recovered": pyk,
            "rows": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1, default=str))
    line = f"recovered {summary['recovered']}/{len(rows)}; median {summary['median_seconds']:.1f} s"
    if args.tutorial:
        line += f"; tutorial pipeline {summary['tutorial_recovered']}/{len(rows)}"
    if args.pykan_tutorial:
        line += f"; pykan tutorial pipeline {summary['pykan_tutorial_recovered']}/{len(rows)}"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
