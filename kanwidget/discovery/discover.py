"""``discover``: from data to verified formulas in one call, within a wall-clock budget.

The search runs two kinds of strategy side by side (KAN 2.0, sec. 4):

* **KAN universes** (:mod:`.structure`): (Mult)KANs of several widths and seeds, trained,
  pruned, tested for separability/symmetry (``describe_tree``), and made symbolic with a
  beam over each edge's library candidates.  With ``n_jobs != 1`` they run in joblib's loky
  worker processes (one torch thread each) while the main process does the regression.
* **Direct regression over candidate forms** (:mod:`.candidates`, :mod:`.terms`,
  :mod:`.wrapped`): power laws from a fit on logarithms, sparse sums of products of simple
  factors under target transforms (``y, 1/y, y**2, 1/y**2, log|y|, sin y``), one or two
  power-law terms with free exponents times a function of one input, and
  ``M1 * (c1 g(a M2 + b) + c2)``.  They are listed in ``regression()`` and run through
  :func:`.split.solve`: the quick power laws first, then the reductions that KAN 2.0's
  hypothesis tests on a KAN surrogate suggest (pair symmetries ``x_i -+*/ x_j`` replaced
  by one variable, a multiplicative power-law factor divided out; the smaller problems
  solved recursively, exactly on the data), then the other families.

Every formula is then made exact where the data allow (:mod:`.constants`: float64 LM refit
of its constants on the training split, snapping to simple rationals and multiples of pi
when the held-out error allows) and verified on the held-out split (``test_input``,
``test_label``).  The front and ``best`` follow :mod:`.pareto`.

The budget is kept: 75% of it goes to search, the rest to refitting and verification;
unfinished universes are abandoned (their workers are stopped) at the search deadline.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from kanwidget.kan.train.data import require_dataset_keys

from . import candidates as forms
from .constants import evaluate, refit, rel_rmse, snap, tidy
from .monomial import separable_forms
from .pareto import Candidate, choose_best, complexity, pareto_front
from .split import solve
from .structure import UniverseResult, run_universe, universe_configs
from .terms import monomial_terms
from .wrapped import wrapped_forms

MIN_ROWS = 10
SEARCH_SHARE = 0.75
LATE_SECONDS = 0.3  # refit/snap time of each of the top 3 when the budget is spent


@dataclass
class Discovery:
    """The result of :func:`discover`.

    Attributes
    ----------
    front : list of :class:`~kanwidget.discovery.pareto.Candidate`, the Pareto front of
        complexity vs held-out RMSE, simplest first
    best : the candidate chosen on the front by :func:`~kanwidget.discovery.pareto.choose_best`
    candidates : every verified candidate (the front is a subset)
    history : ``kanwidget.kan.history.VersionTree`` with one version per KAN universe
        (the first is ``0.0``; the others branch from it, e.g. ``0.1``, ``1.1``, ``2.1``)
    universes : the :class:`~kanwidget.discovery.structure.UniverseResult` of every universe
    structure : ``describe_tree`` of the most accurate KAN universe (or None)
    variables : input names; elapsed : wall seconds used
    hypotheses : the hypothesis tests (on a KAN surrogate) that held and steered the search,
        one line each, e.g. ``'x1 - x2: pair symmetry (score 0.021); reduced problem solved
        exactly'`` (see :mod:`.split`)
    """

    front: list[Candidate]
    best: Candidate
    candidates: list[Candidate]
    history: Any
    universes: list[UniverseResult] = field(default_factory=list)
    structure: str | None = None
    variables: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    hypotheses: list[str] = field(default_factory=list)

    def widget(self) -> Any:
        """The Pareto panel and diagram for this discovery (``KANWidget.from_discovery``)."""
        try:
            from kanwidget.widget import KANWidget
        except ImportError as exc:  # pragma: no cover - the widget package is part of kanwidget
            raise RuntimeError("kanwidget.widget is not importable: " + str(exc)) from exc
        if not hasattr(KANWidget, "from_discovery"):
            raise RuntimeError(
                "this kanwidget has no KANWidget.from_discovery (the Pareto panel); "
                "inspect Discovery.front and Discovery.history instead"
            )
        return KANWidget.from_discovery(self)

    def __repr__(self) -> str:
        n = len(self.front)
        return f"Discovery(best={self.best.formula}, front={n}, elapsed={self.elapsed:.1f}s)"


def _as_array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(
            value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float64
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dataset[{name!r}] must be a numeric array or tensor: {exc}") from exc
    return arr


def check_dataset(dataset: Any, variables: Sequence[str] | None) -> tuple[np.ndarray, ...]:
    """Validate pykan's dataset dict; return float64 ``x_train, y_train, x_test, y_test``.

    Raises
    ------
    ValueError
        missing keys, wrong shapes, NaN/inf, fewer than 10 rows, a constant target, or
        ``variables`` whose length differs from the number of inputs.
    """
    if not isinstance(dataset, dict):
        raise ValueError(
            "dataset must be pykan's dict with train_input, train_label, test_input, test_label"
        )
    require_dataset_keys(dataset)
    out = []
    for split in ("train", "test"):
        x, y = (
            _as_array(dataset[f"{split}_input"], f"{split}_input"),
            _as_array(dataset[f"{split}_label"], f"{split}_label"),
        )
        if x.ndim != 2:
            raise ValueError(f"{split}_input must be 2-D (samples, inputs), got shape {x.shape}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"{split}_label must be (samples,) or (samples, 1), got shape {y.shape}; "
                "discover fits one output"
            )
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"{split}_input has {x.shape[0]} rows but {split}_label has {y.shape[0]}"
            )
        if x.shape[0] < MIN_ROWS:
            raise ValueError(
                f"{split} split has {x.shape[0]} rows; discover needs at least {MIN_ROWS}"
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError(
                f"{split} split contains NaN or inf; remove or impute those rows first"
            )
        out += [x, y]
    if out[0].shape[1] != out[2].shape[1]:
        raise ValueError(
            f"train_input has {out[0].shape[1]} inputs but test_input has {out[2].shape[1]}"
        )
    if float(np.std(out[1])) == 0.0:
        raise ValueError("the training target is constant: there is no law to discover")
    n = out[0].shape[1]
    if variables is not None and len(list(variables)) != n:
        raise ValueError(f"variables has {len(list(variables))} names for {n} inputs")
    return tuple(out)


def discover(
    dataset: dict,
    variables: Sequence[str] | None = None,
    budget: float = 60,
    n_jobs: int = -1,
    seed: int = 0,
    progress: bool = True,
) -> Discovery:
    """Search for the law behind ``dataset`` and return verified candidate formulas.

    Parameters
    ----------
    dataset : pykan's dict: ``train_input`` (N, n), ``train_label`` (N,) or (N, 1),
        ``test_input`` (M, n), ``test_label``; the test split is the held-out data every
        candidate is verified on
    variables : names of the n inputs (default ``x_1 .. x_n``); formulas use them as symbols
    budget : wall-clock seconds; the call returns within about this time
    n_jobs : worker processes for KAN universes (joblib convention: -1 = all cores;
        1 = everything in this process)
    seed : first KAN seed (universe k uses ``seed + k``)
    progress : show a tqdm progress bar

    Returns
    -------
    :class:`Discovery`

    Raises
    ------
    ValueError
        bad dataset or variables (see :func:`check_dataset`), or ``budget <= 0``.
    """
    start = time.time()
    x_tr, y_tr, x_te, y_te = check_dataset(dataset, variables)
    if not budget > 0:
        raise ValueError(f"budget must be a positive number of seconds, got {budget!r}")
    n = x_tr.shape[1]
    names = list(variables) if variables is not None else [f"x_{i + 1}" for i in range(n)]
    symbols = [sympy.Symbol(v) for v in names]
    search_end = start + SEARCH_SHARE * budget
    from tqdm.auto import tqdm

    bar = tqdm(total=5, desc="discover", disable=not progress, leave=False)
    raw: list[tuple[sympy.Expr, str, int | None]] = []  # (formula, source, universe index)
    configs = universe_configs(n, count=6, seed=seed)
    universes: list[UniverseResult] = []
    hypotheses: list[str] = []
    workers = _workers(n_jobs)

    def expired() -> bool:
        return time.time() > search_end

    def regression() -> None:
        families = (("power law", forms.power_laws), ("M1 g(M2)", separable_forms),
                    ("sparse sum", forms.sparse_sums), ("monomial terms", monomial_terms),
                    ("wrapped form", wrapped_forms))  # fmt: skip
        # the quick family, then reductions steered by hypothesis tests, then the others
        with np.errstate(all="ignore"), warnings.catch_warnings():  # overflow = a bad form
            warnings.simplefilter("ignore", RuntimeWarning)
            found = solve(x_tr, y_tr, symbols, families, end=search_end, notes=hypotheses)
        raw.extend((e, name, None) for e, name in found)
        bar.update(3)

    kan_args = (x_tr, y_tr, x_te, y_te)
    if workers == 1:
        first_end = min(search_end, start + 0.25 * budget)
        universes.append(run_universe(configs[0], *kan_args, deadline=first_end))
        bar.update(1)
        regression()
        for cfg in configs[1:]:
            if time.time() + 2 > search_end:
                break
            universes.append(run_universe(cfg, *kan_args, deadline=search_end))
    else:
        grace = max(2.0, 0.1 * budget)
        universes = _parallel_universes(
            configs, kan_args, search_end, workers - 1 or 1, regression, grace
        )
        bar.update(1)
    symbols_kan = {sympy.Symbol(f"x_{i + 1}"): s for i, s in enumerate(symbols)}
    for k, res in enumerate(universes):
        raw.extend((f.xreplace(symbols_kan), "kan", k) for f in res.formulas)
    history, ids = _history(universes)
    cands = _verify(raw, symbols, (x_tr, y_tr), (x_te, y_te), start + budget, universes, ids)
    bar.update(1)
    bar.close()
    front = pareto_front(cands)
    best = choose_best(front)
    fitted = [u for u in universes if u.model is not None]
    structure = min(fitted, key=lambda u: u.test_rmse).tree if fitted else None
    if structure is not None:
        structure = name_inputs(structure, names)
    return Discovery(
        front, best, cands, history, universes, structure, names, time.time() - start, hypotheses
    )


def name_inputs(tree: str, names: Sequence[str]) -> str:
    """``describe_tree`` text with pykan's input names ``x_1, x_2, ...`` replaced by ``names``
    (``x_k`` -> ``names[k - 1]``; ``x_10`` is never read as ``x_1``)."""
    return re.sub(r"\bx_(\d+)\b", lambda m: str(names[int(m.group(1)) - 1]), tree)


def _workers(n_jobs: int) -> int:
    import os

    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero int (joblib convention), got {n_jobs!r}")
    cpus = os.cpu_count() or 1
    return max(1, cpus + 1 + n_jobs) if n_jobs < 0 else n_jobs


def _parallel_universes(
    configs, kan_args, search_end, workers, regression, grace
) -> list[UniverseResult]:
    """KAN universes in loky workers while ``regression`` runs here; stop at ``search_end``."""
    from concurrent.futures import FIRST_COMPLETED, wait

    from joblib.executor import get_memmapping_executor

    # joblib's own reusable pool (the one `sweep`'s Parallel uses): a bare loky pool would
    # become the shared one without joblib's temp-folder manager and break the next Parallel
    executor = get_memmapping_executor(workers)
    queue = list(enumerate(configs))
    order: dict = {}
    pending: set = set()

    def submit() -> None:  # keep exactly `workers` universes in flight: none waits in a queue
        while queue and len(pending) < workers and time.time() < search_end - 5:
            k, cfg = queue.pop(0)
            f = executor.submit(run_universe, cfg, *kan_args, deadline=search_end - 1)
            order[f] = k
            pending.add(f)

    submit()
    regression()
    done: list = []
    while pending and time.time() < search_end + grace:
        finished, still = wait(
            pending, timeout=max(0.0, search_end + grace - time.time()), return_when=FIRST_COMPLETED
        )
        done.extend(finished)
        pending.clear()
        pending.update(still)
        submit()
    if pending:  # a universe overran its deadline by more than `grace`: abandon it
        executor.terminate(kill_workers=True)
    results = []
    for f in sorted(done, key=lambda f: order[f]):
        try:
            results.append(f.result())
        except Exception as exc:  # noqa: BLE001 - a crashed worker is one failed universe
            results.append(UniverseResult(config={}, error=f"{type(exc).__name__}: {exc}"))
    return results


def _history(universes: list[UniverseResult]) -> tuple[Any, dict[int, str]]:
    from kanwidget.kan.history import VersionTree

    tree = VersionTree()
    ids: dict[int, str] = {}
    first: str | None = None
    for k, res in enumerate(universes):
        if res.model is None:
            continue
        if first is not None:
            tree.checkout(first)
        config, tensors = res.model.snapshot()
        version = tree.commit(
            config, tensors, "universe",
            {"width": res.config.get("width"), "seed": res.config.get("seed")},
            test_loss=res.test_rmse, n_edges=res.model.n_edges(),
            formula=str(res.formulas[0]) if res.formulas else None,
        )  # fmt: skip
        first = first or version.id
        ids[k] = version.id
    return tree, ids


def _verify(raw, symbols, train, test, end, universes, ids) -> list[Candidate]:
    """Verify raw formulas on the held-out split (cheap) until ``end``; refit and snap the
    most accurate ones first while time is left; drop duplicates and failures.

    Past ``end`` only what is needed for one answer is done: evaluation stops once a finite
    candidate exists, and the top 3 get at most ``LATE_SECONDS`` each of refitting.
    """
    xt, yt = test
    scored = []
    for expr, source, k in raw:
        if not isinstance(expr, sympy.Expr) or expr.has(sympy.zoo, sympy.nan, sympy.oo):
            continue
        if time.time() > end - 0.2 and any(np.isfinite(s[0]) for s in scored):
            break
        scored.append((rel_rmse(evaluate(expr, symbols, xt), yt), expr, source, k))
    scored.sort(key=lambda s: s[0])
    out: list[Candidate] = []
    seen: set[str] = set()
    std = float(np.std(yt)) or 1.0
    for rank, (err, expr, source, k) in enumerate(scored):
        if not np.isfinite(err):
            continue
        now = time.time()
        if rank < 3 or (rank < 16 and now < end - 0.3):  # the top 3 get a little even when late
            stop = max(end - 0.3, now + LATE_SECONDS) if rank < 3 else end - 0.3
            fitted = refit(expr, symbols, *train, deadline=stop)
            fitted_err = rel_rmse(evaluate(fitted, symbols, xt), yt)
            if fitted_err <= err:
                expr, err = fitted, fitted_err
            stop = max(stop, time.time() + LATE_SECONDS) if rank < 3 else stop
            expr, err = snap(expr, symbols, train, test, deadline=stop)
        if rank == 0 or time.time() < end - 0.3:  # sympy's tidying is costly on big formulas
            expr = tidy(expr)
        key = sympy.srepr(expr)
        if key in seen or not np.isfinite(err):
            continue
        seen.add(key)
        model = universes[k].model if k is not None else None
        universe = ids.get(k) if k is not None else None
        out.append(
            Candidate(expr, complexity(expr), err * std, 1.0 - err**2, err, source, universe, model)
        )
    if not out:
        raise RuntimeError("no candidate could be evaluated within the budget; try a larger budget")
    return out
