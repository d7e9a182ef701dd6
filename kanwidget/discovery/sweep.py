"""``sweep``: train many configurations as parallel universes through joblib (KAN 2.0, sec. 4).

KAN 2.0 trains several seeds and shapes side by side and lets a person compare them.  Here
every configuration (a point of a parameter grid, or an explicit list) is one *universe*:
a KAN built from the configuration and trained through a pipeline (default: the pykan
tutorial's, see :mod:`.universe`).  The universes run through ``joblib.Parallel``, so the
engine is chosen outside the call:

* default: local worker processes (joblib's ``loky`` backend), ``n_jobs=-1`` = all cores;
* a ``dask.distributed`` cluster: ``with joblib.parallel_config(backend="dask"):`` while a
  ``distributed.Client`` is connected (``pip install kanwidget[distributed]``);
* a Ray cluster: ``from ray.util.joblib import register_ray; register_ray()`` and
  ``with joblib.parallel_config(backend="ray"):`` (Ray's joblib backend; not tested here).

Every task sets its worker's torch threads to ``threads_per_worker`` (default 1: one task
per core, no oversubscription), and a universe depends only on its configuration and the
data, so the same configurations give bitwise the same models whichever backend runs them.
Results come back as they finish (``return_as="generator_unordered"``, a tqdm.auto bar and
an optional ``callback`` per universe) and are put back in the configurations' order.

The returned :class:`SweepResult` is a list of :class:`~.universe.Universe` with a shared
``history``: a version tree whose root ``0.0`` (operation ``'sweep'``) holds the first
universe's initial model and where each successful universe is grafted as its own round(s)
(:func:`kanwidget.kan.graft.graft`), so one timeline and ``history.compare`` span them all.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from joblib import Parallel, delayed

from kanwidget.kan.graft import graft
from kanwidget.kan.history import VersionTree
from kanwidget.kan.train.data import DATASET_KEYS, require_dataset_keys
from kanwidget.kan.versions import jsonable

from . import viewer
from .configs import check_fit_kwargs, resolve_configs
from .universe import Pipeline, Universe, train_universe

__all__ = ["SweepResult", "sweep", "universe_tree"]


class SweepResult(list):
    """One :class:`~.universe.Universe` per configuration, in the configurations' order.

    Attributes
    ----------
    history : VersionTree
        Every successful universe as a branch of one tree (see the module docstring); its
        current version is the best universe's final version. ``universe.universe`` is the
        id of each universe's final version here.
    dataset : the dataset the sweep trained on (the widget draws activations from it)
    """

    def __init__(self, universes: Sequence[Universe], history: VersionTree, dataset: dict):
        super().__init__(universes)
        self.history = history
        self.dataset = dataset

    @property
    def configs(self) -> list[dict[str, Any]]:
        return [u.config for u in self]

    @property
    def failed(self) -> list[Universe]:
        """Universes whose pipeline raised (their ``error`` holds the traceback)."""
        return [u for u in self if u.error is not None]

    @property
    def candidates(self) -> list[Universe]:
        """Successful universes with a finite test RMSE (the Pareto panel's points)."""
        return [u for u in self if u.error is None and math.isfinite(u.test_rmse)]

    @property
    def front(self) -> list[Universe]:
        """Pareto front of (complexity, test RMSE) over the candidates, simplest first."""
        front: list[Universe] = []
        for u in sorted(self.candidates, key=lambda u: (u.complexity, u.test_rmse, u.index)):
            if not front or u.test_rmse < front[-1].test_rmse:
                front.append(u)
        return front

    @property
    def best(self) -> Universe | None:
        """The candidate with the lowest test RMSE (ties: the simpler, then the first)."""
        cands = self.candidates
        return min(cands, key=lambda u: (u.test_rmse, u.complexity, u.index)) if cands else None

    def widget(self, **kwargs: Any) -> Any:
        """The Pareto panel beside the diagram (``KANWidget.from_discovery(self)``)."""
        return viewer.show(self, **kwargs)

    def __repr__(self) -> str:
        return (
            f"SweepResult({len(self)} universes, {len(self.failed)} failed, "
            f"history {len(self.history)} versions)"
        )


def sweep(
    dataset: dict,
    grid: Mapping[str, Sequence[Any]] | None = None,
    configs: Sequence[Mapping[str, Any]] | None = None,
    pipeline: Pipeline | None = None,
    n_jobs: int = -1,
    progress: bool = True,
    callback: Callable[[Universe], Any] | None = None,
    threads_per_worker: int = 1,
    **fit_kwargs: Any,
) -> SweepResult:
    """Train every configuration as a parallel universe; results in the configurations' order.

    Parameters
    ----------
    dataset : pykan's dict (``train_input`` (N, n_in), ``train_label`` (N, n_out),
        ``test_input``, ``test_label``)
    grid : dict of lists; every combination is one configuration (scikit-learn
        ``ParameterGrid`` order: keys sorted, the last varying fastest)
    configs : explicit list of configuration dicts (instead of ``grid``)
    pipeline : ``pipeline(model, dataset, config)`` trains the fresh ``KAN`` of a configuration
        in place (or returns a KAN); default: the pykan tutorial pipeline. It must be
        picklable (a module-level function; notebooks' functions travel by cloudpickle)
    n_jobs : joblib workers (``-1`` = all cores / all cluster workers; ``1`` = in this process)
    progress : show a tqdm.auto bar over universes
    callback : ``callback(universe)`` in this process as each universe finishes (completion
        order; e.g. to show points as they arrive)
    threads_per_worker : torch threads of each task (default 1)
    **fit_kwargs : ``fit``'s arguments (``steps``, ``opt``, ``lr``, ...) for every fit, and
        model or pipeline keys as defaults of every configuration

    Returns
    -------
    SweepResult
        A list of :class:`~.universe.Universe` with ``.history``, ``.front``, ``.best``.

    Raises
    ------
    ValueError / TypeError
        Before any work: a bad dataset, neither or both of ``grid``/``configs``, an unknown
        key or argument, a bad width or one whose inputs are not the dataset's columns,
        ``n_jobs == 0``, ``threads_per_worker < 1``, a non-callable ``pipeline``.  A
        configuration that fails while training does not raise: its universe carries the
        traceback in ``error``. If a worker process dies (a segfault, out of memory), the
        unfinished configurations are run again one at a time, so only the one that kills
        its worker is reported (with joblib's error).
        An exception raised by ``callback`` propagates.
    """
    _check_dataset(dataset)
    if pipeline is not None and not callable(pipeline):
        raise TypeError(f"pipeline must be callable(model, dataset, config), got {pipeline!r}")
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero int (-1 = all cores), got {n_jobs!r}")
    if not isinstance(threads_per_worker, int) or threads_per_worker < 1:
        raise ValueError(f"threads_per_worker must be an int >= 1, got {threads_per_worker!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(universe), got {callback!r}")
    custom = pipeline is not None
    check_fit_kwargs(fit_kwargs, custom)
    shape = getattr(dataset["train_input"], "shape", ())
    n_inputs = int(shape[1]) if len(shape) == 2 else None  # else each universe reports it
    listed = resolve_configs(grid, configs, fit_kwargs, custom, n_inputs)

    universes: list[Universe | None] = [None] * len(listed)
    bar = _bar(len(listed), progress)

    def finished(universe: Universe) -> None:
        universes[universe.index] = universe
        if bar is not None:
            bar.update(1)
        if callback is not None:
            try:
                callback(universe)
            except Exception as exc:
                raise _CallbackError from exc

    def run(indices: Sequence[int]) -> None:
        tasks = (
            delayed(train_universe)(n, listed[n], dataset, pipeline, threads_per_worker)
            for n in indices
        )
        results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
        for universe in results:
            finished(universe)

    try:
        try:
            run(range(len(listed)))
        except _CallbackError:
            raise
        except Exception:  # a worker died (segfault, out of memory): find the culprit alone
            for n in [n for n, u in enumerate(universes) if u is None]:
                try:
                    run([n])
                except _CallbackError:
                    raise
                except Exception:
                    finished(Universe(index=n, config=listed[n], error=traceback.format_exc()))
    except _CallbackError as exc:
        raise exc.__cause__ from None  # the callback's own error, unchanged
    finally:
        if bar is not None:
            bar.close()
    done = [u for u in universes if u is not None]
    return SweepResult(done, universe_tree(done), dataset)


class _CallbackError(Exception):
    """Carries an exception of the user's callback past the worker-crash recovery."""


def universe_tree(universes: Sequence[Universe]) -> VersionTree:
    """A tree holding every successful universe's history as its own round(s).

    The root ``0.0`` (operation ``'sweep'``) is the first successful universe's initial
    model; each universe's root ``init`` hangs from it with its configuration in the
    arguments. Sets each universe's ``universe`` to the id of its final version; the tree's
    current version is the best universe's (lowest test RMSE).
    """
    tree = VersionTree()
    ok = [u for u in universes if u.model is not None]
    if not ok:
        return tree
    first = ok[0].model.history  # type: ignore[union-attr]
    root = first["0.0"]
    config, tensors = first.state("0.0")
    tree.commit(
        config, tensors, "sweep", {"universes": len(universes)},
        n_edges=root.n_edges, train_loss=root.train_loss, test_loss=root.test_loss,
    )  # fmt: skip
    for u in ok:
        source = u.model.history  # type: ignore[union-attr]
        mapping = graft(
            tree, source, "0.0", arguments={"universe": u.index, "config": jsonable(u.config)}
        )
        u.universe = mapping[source.current.id]
    best = min(ok, key=lambda u: (_finite_or_inf(u.test_loss), u.complexity, u.index))
    tree.checkout(best.universe)  # type: ignore[arg-type]
    return tree


def _check_dataset(dataset: Any) -> None:
    if not isinstance(dataset, Mapping):
        raise TypeError("dataset must be a dict with keys " + ", ".join(DATASET_KEYS))
    require_dataset_keys(dataset)


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="sweep", unit="universe")


def _finite_or_inf(value: float) -> float:
    return value if math.isfinite(value) else math.inf
