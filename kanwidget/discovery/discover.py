"""``discover``: from data to verified formulas in one call, within a wall-clock budget.

The search runs two kinds of strategy side by side (KAN 2.0, sec. 4):

* **KAN universes** (:mod:`.structure`): (Mult)KANs of several widths and seeds, trained,
  pruned, tested for separability/symmetry (``describe_tree``), and made symbolic with a
  beam over each edge's library candidates.  With ``n_jobs != 1`` they run in joblib's loky
  worker processes (one torch thread each) while the main process does the regression.
* **Direct regression over candidate forms** (:mod:`.candidates`, :mod:`.terms`,
  :mod:`.wrapped`, :mod:`.rational`, :mod:`.termsum`, :mod:`.groupterms`): power laws
  from a fit on logarithms, ratios of two sums of monomials (``y Q = P``, linear in the
  coefficients), sums of up to three monomials each times a function of one input (of
  ``y``, ``y**2``, ``1/y`` or ``1/y**2``), sparse sums of products of simple factors
  under target transforms (``y, 1/y, y**2, 1/y**2, log|y|, sin y``), one or two
  power-law terms with free exponents times a function of one input,
  ``M1 * (c1 g(a M2 + b) + c2)``, and sums of monomials each times a function of one
  group (a ratio ``M2``, a signed input, a difference or sum of two inputs).  They are
  listed in ``FAMILIES``, simplest first, and run through :func:`.split.solve`: the quick
  ones and the fast direct ones (``DIRECT``) first, then the reductions that KAN 2.0's
  hypothesis tests on a KAN surrogate suggest (pair symmetries ``x_i -+*/ x_j`` replaced by
  one variable, a multiplicative power-law factor divided out; the smaller problems solved
  recursively, exactly on the data), then the other families.  The regression and the
  verification run with BLAS on one thread (:mod:`.threads`).

Every formula is then made exact where the data allow (:mod:`.constants`: float64 LM refit
of its constants on the training split, snapping to simple rationals and multiples of pi
when the held-out error allows) and verified on the held-out split (``test_input``,
``test_label``; :mod:`.verify`).  The front and ``best`` follow :mod:`.pareto`.

Phases, in order (recorded in ``Discovery.phases``): ``quick forms`` (power laws and
rational forms: milliseconds, verified at once), ``regression`` (every family, while the
KAN universes train in workers), ``kan universes``, ``verify`` (the universes' formulas).

**Budget.** 75% of it goes to search, the rest to refitting and verification.  Every phase
reads its deadline from :func:`.clock.now`: the families get fair shares of the search time,
universes stop training and reading formulas at theirs and are abandoned (their workers
killed) ``max(2, 0.1 budget)`` s after the search deadline, and the verification past the
budget is bounded (:mod:`.verify`).

**Early stop.** The regression's candidates are verified as soon as they are found.  When
one is *exact* -- held-out relative RMSE (RMSE / std) below the rounding level of the
labels, :func:`exact_tolerance` (``1e-9`` for float64 labels) -- and sits on the front of the
verified candidates, its error cannot be improved, and a phase still to come could only win
by an equally exact, simpler formula.  The families run simplest first and stop at the
first exact fit, and the KAN universes' formulas (an affine-wrapped library function on
every active edge, composed over layers) are not simpler than a regression's exact one, so
the remaining phases are skipped: after the quick forms, the regression and the universes;
after the regression, the universes not yet finished (their workers are killed).  This is a
rule about errors and the order of the phases, not about any law; ``early_stop=False``
keeps the full search.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy

from . import candidates as forms
from . import clock
from .clock import Phase
from .constants import snap, tidy
from .dataset import check_dataset
from .groupterms import group_terms
from .monomial import separable_forms
from .pareto import Candidate, choose_best, complexity, pareto_front
from .pool import UniversePool
from .rational import rational_forms
from .split import solve
from .structure import UniverseResult, run_universe, universe_configs
from .terms import monomial_terms
from .termsum import term_sums
from .threads import one_blas_thread
from .verify import LATE_SECONDS, LATE_TOP, REFIT_TOP, verify
from .wrapped import wrapped_forms

SEARCH_SHARE = 0.75
VERIFY_SHARE = 0.4  # of the time after the search: the regression's candidates' deadline
EARLY_STOP = 1e-9  # held-out relative RMSE of an exact candidate with float64 labels
EARLY_NOTE = "early stop: an exact candidate is on the front"
QUICK = 2  # the first QUICK families take milliseconds: the 'quick forms' phase
DIRECT = 4  # the first DIRECT families run before the split's reductions (fast ones)
QUICK_VERIFY = 0.05  # of the budget: verification of the quick forms' candidates
FAMILIES = (("power law", forms.power_laws), ("rational", rational_forms),
            ("M1 g(M2)", separable_forms), ("group terms", group_terms),
            ("sparse sum", forms.sparse_sums),
            ("term sums", term_sums), ("monomial terms", monomial_terms),
            ("wrapped form", wrapped_forms))  # fmt: skip


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
    phases : :class:`~kanwidget.discovery.clock.Phase` per phase, in order: ``'quick forms'``,
        ``'regression'``, ``'kan universes'``, ``'verify'``, each ``'done'``, ``'skipped'``
        or ``'stopped'`` with its start and duration (seconds since the call started)
    data : the float64 ``(x_train, y_train, x_test, y_test)``; seed : the first KAN seed
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
    phases: list[Phase] = field(default_factory=list)
    data: tuple | None = field(default=None, repr=False)  # (x_train, y_train, x_test, y_test)
    seed: int = 0

    def ensure_universe(self, seconds: float = 10.0) -> None:
        """Train one KAN universe now if the search trained none (an early stop after the
        quick forms), so the widget has a model and ``history`` a version; its formulas are
        not added to the candidates.  No-op if a universe has a model already.

        Parameters
        ----------
        seconds : wall-clock deadline of the universe's training and reading
        """
        if any(u.model is not None for u in self.universes) or self.data is None:
            return
        config = universe_configs(len(self.variables), count=1, seed=self.seed)[0]
        self.universes.append(run_universe(config, *self.data, deadline=clock.now() + seconds))
        self.history, _ = _history(self.universes)

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
        self.ensure_universe()  # an early stop may have skipped every universe
        return KANWidget.from_discovery(self)

    def __repr__(self) -> str:
        n = len(self.front)
        return f"Discovery(best={self.best.formula}, front={n}, elapsed={self.elapsed:.1f}s)"


def discover(
    dataset: dict,
    variables: Sequence[str] | None = None,
    budget: float = 60,
    n_jobs: int = -1,
    seed: int = 0,
    progress: bool = True,
    early_stop: bool = True,
) -> Discovery:
    """Search for the law behind ``dataset`` and return verified candidate formulas.

    Parameters
    ----------
    dataset : pykan's dict: ``train_input`` (N, n), ``train_label`` (N,) or (N, 1),
        ``test_input`` (M, n), ``test_label``; the test split is the held-out data every
        candidate is verified on
    variables : names of the n inputs (default ``x_1 .. x_n``); formulas use them as symbols
    budget : wall-clock seconds; the call returns within about this time (every phase
        checks its deadline; see the module docstring)
    n_jobs : worker processes for KAN universes (joblib convention: -1 = all cores;
        1 = everything in this process)
    seed : first KAN seed (universe k uses ``seed + k``)
    progress : show a tqdm progress bar
    early_stop : apply the early-stop rule (module docstring): an exact candidate from the
        regression ends the search; ``False`` always spends the search share of the budget

    Returns
    -------
    :class:`Discovery` (``phases`` records what each phase did)

    Raises
    ------
    ValueError
        bad dataset or variables (see :func:`check_dataset`), or ``budget <= 0``.
    """
    start = clock.now()
    x_tr, y_tr, x_te, y_te = check_dataset(dataset, variables)
    if not budget > 0:
        raise ValueError(f"budget must be a positive number of seconds, got {budget!r}")
    n = x_tr.shape[1]
    names = list(variables) if variables is not None else [f"x_{i + 1}" for i in range(n)]
    symbols = [sympy.Symbol(v) for v in names]
    end, search_end = start + budget, start + SEARCH_SHARE * budget
    tol = exact_tolerance(dataset["test_label"], y_te)
    from tqdm.auto import tqdm

    bar = tqdm(total=4, desc="discover", disable=not progress, leave=False)
    log = _PhaseLog(start)
    cands: list[Candidate] = []
    configs = universe_configs(n, count=6, seed=seed)
    universes: list[UniverseResult] = []
    hypotheses: list[str] = []
    workers = _workers(n_jobs)
    train, test = (x_tr, y_tr), (x_te, y_te)
    verify_end = search_end + VERIFY_SHARE * (end - search_end)  # regression's candidates

    def exact() -> bool:  # the early-stop rule
        return early_stop and _exact_on_front(cands, tol)

    def regress(families, depth: int, name: str, verify_share: float | None = None,
                done: int = 0) -> None:  # fmt: skip
        t = clock.now()
        if t > search_end:
            log.add(name, "skipped", t, "search deadline passed")
            return
        with np.errstate(all="ignore"), warnings.catch_warnings(), one_blas_thread():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow = a bad form
            found = solve(x_tr, y_tr, symbols, families, search_end, depth, hypotheses, QUICK,
                          DIRECT, done)  # fmt: skip
            raw = [(e, src, None) for e, src in found]
            now = clock.now()
            by = now + verify_share * budget if verify_share else max(verify_end, now + 1)
            cands.extend(verify(raw, symbols, train, test, by, late=1))  # the best is snapped
        log.add(name, "stopped" if clock.now() > search_end else "done", t)
        bar.update(1)

    kan_args = (x_tr, y_tr, x_te, y_te)
    regress(FAMILIES[:QUICK], 0, "quick forms", QUICK_VERIFY)  # may end everything at once
    if exact():
        log.add("regression", "skipped", clock.now(), EARLY_NOTE)
        log.add("kan universes", "skipped", clock.now(), EARLY_NOTE)
    elif workers == 1:
        t = clock.now()
        universes.append(
            run_universe(configs[0], *kan_args, deadline=min(search_end, t + 0.25 * budget))
        )
        regress(FAMILIES, 2, "regression", done=QUICK)
        for cfg in configs[1:]:
            if exact() or clock.now() + 2 > search_end:
                break
            universes.append(run_universe(cfg, *kan_args, deadline=search_end))
        status = "stopped" if exact() and len(universes) < len(configs) else "done"
        log.add("kan universes", status, t, EARLY_NOTE if status == "stopped" else "")
    else:
        t = clock.now()
        pool = UniversePool(configs, kan_args, search_end, workers - 1 or 1)
        regress(FAMILIES, 2, "regression", done=QUICK)
        if exact():
            pool.stop()
        universes = pool.collect(grace=max(2.0, 0.1 * budget))
        note = EARLY_NOTE if exact() else ("overran: workers killed" if pool.stopped else "")
        log.add("kan universes", "stopped" if pool.stopped else "done", t, note)
    bar.update(1)
    symbols_kan = {sympy.Symbol(f"x_{i + 1}"): s for i, s in enumerate(symbols)}
    raw = [
        (f.xreplace(symbols_kan), "kan", k) for k, res in enumerate(universes) for f in res.formulas
    ]
    history, ids = _history(universes)
    t = clock.now()
    models = {k: u.model for k, u in enumerate(universes)}
    early = exact()  # the universes' formulas are scored, not refitted: they cannot win
    with one_blas_thread():
        cands.extend(verify(raw, symbols, train, test, end, models, ids, 0 if early else REFIT_TOP))
    log.add("verify", "done", t, "scored only: " + EARLY_NOTE if early else "")
    bar.update(1)
    bar.close()
    if not cands:
        raise RuntimeError("no candidate could be evaluated within the budget; try a larger budget")
    cands = _unique(_snap_front(cands, symbols, train, test, end))
    front = pareto_front(cands)
    best = choose_best(front)
    fitted = [u for u in universes if u.model is not None]
    structure = min(fitted, key=lambda u: u.test_rmse).tree if fitted else None
    if structure is not None:
        structure = name_inputs(structure, names)
    return Discovery(
        front, best, cands, history, universes, structure, names, clock.now() - start,
        hypotheses, log.phases, (x_tr, y_tr, x_te, y_te), seed,
    )  # fmt: skip


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


def exact_tolerance(label: Any, y: np.ndarray) -> float:
    """Held-out relative RMSE below which a candidate is exact (the early-stop rule):
    ``max(1e-9, 8 eps |y|_max / std(y))`` with ``eps`` of the labels' dtype, i.e. the
    rounding level of the given labels (``1e-9`` for float64, about ``1e-6`` for float32)."""
    dtype = getattr(label, "dtype", np.float64)
    eps = 1.2e-7 if "float32" in str(dtype) or "float16" in str(dtype) else 2.3e-16
    if "float16" in str(dtype):
        eps = 1e-3
    std = float(np.std(y)) or 1.0
    return max(EARLY_STOP, 8 * eps * float(np.max(np.abs(y))) / std)


def _exact_on_front(cands: list[Candidate], tol: float) -> bool:
    """An exact candidate (rel. RMSE < ``tol``) sits on the front of the verified ones."""
    return any(c.rel_rmse < tol for c in pareto_front(cands))


def _snap_front(cands, symbols, train, test, end) -> list[Candidate]:
    """Snap the front's candidates that still hold float constants (an earlier phase's
    verification may have run out of time before snapping them), simplest first, until
    ``end``; a snapped one replaces its original (as in :func:`.constants.snap`, only when
    the held-out error allows).  Bounded like :mod:`.verify`: at most ``LATE_TOP`` snaps of
    ``LATE_SECONDS`` each past ``end``."""
    out = list(cands)
    std = float(np.std(test[1])) or 1.0
    late = LATE_TOP  # like the verification: the first few get LATE_SECONDS past ``end``
    for c in pareto_front(cands):
        if not c.formula.atoms(sympy.Float):
            continue
        if late == 0 and clock.now() > end - 0.3:
            break
        stop = max(end - 0.3, clock.now() + LATE_SECONDS) if late else end - 0.3
        late = max(0, late - 1)
        expr, err = snap(c.formula, symbols, train, test, deadline=stop)
        if expr != c.formula and np.isfinite(err):
            expr = tidy(expr)
            new = replace(c, formula=expr, complexity=complexity(expr), test_rmse=err * std,
                          r2=1.0 - err**2, rel_rmse=err)  # fmt: skip
            out[out.index(c)] = new
    return out


def _unique(cands: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    out = []
    for c in sorted(cands, key=lambda c: c.rel_rmse):
        key = sympy.srepr(c.formula)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


class _PhaseLog:
    def __init__(self, start: float) -> None:
        self.start = start
        self.phases: list[Phase] = []

    def add(self, name: str, status: str, t: float, note: str = "") -> None:
        now = clock.now()
        seconds = 0.0 if status == "skipped" else now - t
        self.phases.append(Phase(name, status, t - self.start, seconds, note))


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
