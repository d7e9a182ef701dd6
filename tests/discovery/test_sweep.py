"""kanwidget.sweep: parallel universes through joblib (loky and a dask.distributed cluster)."""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Iterator

import joblib
import pytest
import torch

from kanwidget import KAN, create_dataset, sweep
from kanwidget.discovery.configs import expand_grid

sweep_module = importlib.import_module("kanwidget.discovery.sweep")  # the name is the function

# tiny universes: 2 LBFGS steps per fit, refine to grid 4, a 2-function library
TINY = {"steps": 2, "refine": 4}
GRID = {
    "seed": [0, 1],
    "width": [[2, 2, 1], [2, [0, 1], 1]],
    "lamb": [0.0, 1e-3],
    "grid": [3],
    "lib": [["x", "x^2"]],
}


@pytest.fixture(scope="module")
def dataset() -> dict[str, torch.Tensor]:
    return create_dataset(lambda x: x[:, :1] * x[:, 1:], n_var=2, train_num=40, test_num=40)


@pytest.fixture(scope="module")
def loky_result(dataset):
    return sweep(dataset, grid=GRID, n_jobs=2, progress=False, **TINY)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    )  # fmt: skip
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _fingerprint(universe) -> tuple:
    state = universe.model.state_dict()
    return (
        universe.config, universe.train_loss, universe.test_loss, universe.n_edges,
        str(universe.formula), universe.universe, [v.id for v in universe.model.history],
        {name: t.clone() for name, t in state.items()},
    )  # fmt: skip


def test_sweep_loky_and_dask_give_identical_universes(dataset, loky_result, dask_client):
    workers = dask_client.scheduler_info()["workers"]
    assert dask_client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    with joblib.parallel_config(backend="dask"):
        on_dask = sweep(dataset, grid=GRID, n_jobs=-1, progress=False, **TINY)
    assert len(loky_result) == len(on_dask) == 8
    assert not loky_result.failed and not on_dask.failed
    for a, b in zip(loky_result, on_dask, strict=True):
        fa, fb = _fingerprint(a), _fingerprint(b)
        assert fa[:7] == fb[:7]  # losses compared with ==: bitwise the same floats
        assert fa[7].keys() == fb[7].keys()
        assert all(torch.equal(fa[7][k], fb[7][k]) for k in fa[7])
    assert [(v.id, v.parent, v.test_loss) for v in loky_result.history] == [
        (v.id, v.parent, v.test_loss) for v in on_dask.history
    ]


def test_sweep_results_follow_the_grid_order(loky_result):
    assert loky_result.configs == [{**TINY, **config} for config in expand_grid(GRID)]
    assert [u.index for u in loky_result] == list(range(8))


@torch.no_grad()
def test_sweep_universe_losses_are_the_models_rmse(dataset, loky_result):
    for u in loky_result:
        for split, value in (("train", u.train_loss), ("test", u.test_loss)):
            pred = u.model(dataset[f"{split}_input"])
            rmse = float(torch.sqrt(((pred - dataset[f"{split}_label"]) ** 2).mean()))
            assert value == pytest.approx(rmse, rel=1e-6)
        assert u.n_edges == u.model.n_edges()
        if u.formula is not None:  # a symbolic model's formula computes its output
            import sympy

            x = dataset["test_input"][:5].double()
            symbols = sorted(u.formula.free_symbols, key=str)
            f = sympy.lambdify(symbols, u.formula, "math")
            columns = [int(str(s).split("_")[1]) - 1 for s in symbols]
            expected = u.model(x.float())[:, 0].double()
            got = torch.tensor([f(*[float(row[c]) for c in columns]) for row in x], dtype=x.dtype)
            torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_sweep_history_holds_one_branch_per_universe(dataset, loky_result):
    tree = loky_result.history
    roots = tree.children("0.0")
    assert len(roots) == 8 and all(r.operation == "init" for r in roots)
    assert [r.arguments["universe"] for r in roots] == list(range(8))
    best = loky_result.best
    assert tree.current.id == best.universe
    assert best.test_loss == min(u.test_loss for u in loky_result)
    viewer = KAN([1, 1])
    viewer.history = tree
    x = dataset["test_input"]
    for root, u in zip(roots, loky_result, strict=True):
        chain = tree.path(u.universe)
        assert chain[1].id == root.id  # the universe's final version is on its own branch
        viewer.checkout(u.universe)
        torch.testing.assert_close(viewer(x), u.model(x), rtol=0, atol=0)
    tree.checkout(best.universe)
    diff = tree.compare(loky_result[0].universe, loky_result[1].universe)
    expected = (loky_result[0].test_loss, loky_result[1].test_loss)
    assert diff["test_loss"] == pytest.approx(expected, rel=1e-5)  # fit's last-step RMSE


def test_sweep_front_is_not_dominated(loky_result):
    front = loky_result.front
    assert front and all(u in loky_result.candidates for u in front)
    for u in loky_result.candidates:
        dominated = any(f.complexity <= u.complexity and f.test_rmse < u.test_rmse for f in front)
        assert u in front or dominated


@torch.no_grad()
def test_sweep_kan_pickles_across_processes(dataset, loky_result):
    model = loky_result[1].model  # trained, pruned, symbolic, with its history
    copy = pickle.loads(pickle.dumps(model))
    x = dataset["test_input"]
    torch.testing.assert_close(copy(x), model(x), rtol=0, atol=0)
    assert [v.id for v in copy.history] == [v.id for v in model.history]
    copy.checkout("0.0")  # the copy's history is usable (its lock was rebuilt)
    assert copy.n_edges() == model.history["0.0"].n_edges


def test_sweep_failing_configuration_reports_traceback(dataset):
    seen = []
    result = sweep(
        dataset,
        configs=[{"seed": 0}, {"seed": 0, "opt": "SGD"}, {"seed": 1, "grid": 0}],
        n_jobs=2, progress=False, callback=seen.append, width=[2, 1, 1], **TINY,
    )  # fmt: skip
    assert sorted(u.index for u in seen) == [0, 1, 2]
    ok, bad_opt, bad_grid = result
    assert ok.error is None and ok.model is not None and ok.universe is not None
    assert "Traceback" in bad_opt.error and "ValueError: opt must be 'LBFGS' or 'Adam'" in (
        bad_opt.error
    )
    assert "in fit" in bad_opt.error  # the traceback reaches into the pipeline's fit
    assert "ValueError: grid must be an int >= 1" in bad_grid.error
    assert bad_opt.model is None and bad_opt.universe is None
    assert result.failed == [bad_opt, bad_grid]
    assert [c.id for c in result.history.children("0.0")] == ["1.1"]


def test_sweep_custom_pipeline_reads_its_own_keys(dataset):
    def pipeline(model, data, config):
        if config["tag"] == "boom":
            raise RuntimeError("boom in the pipeline")
        model.remove_edge(0, 0, 0)

    result = sweep(
        dataset, configs=[{"tag": "a"}, {"tag": "boom"}], pipeline=pipeline, n_jobs=1,
        progress=False, width=[2, 2, 1],
    )  # fmt: skip
    assert result[0].n_edges == 5 and result[0].formula is None
    assert result[1].error.rstrip().endswith("RuntimeError: boom in the pipeline")
    ops = [v.operation for v in result.history.path(result[0].universe)]
    assert ops == ["sweep", "init", "remove_edge"]


def test_sweep_bad_arguments_fail_before_any_work(dataset, monkeypatch):
    calls = []
    monkeypatch.setattr(sweep_module, "train_universe", lambda *a: calls.append(a))
    cases = [
        ({"grid": {"sed": [0]}}, ValueError, r"unknown configuration keys \['sed'\]"),
        ({"configs": [{"seed": 0, "lamda": 1}]}, ValueError, r"\['lamda'\]"),
        ({"grid": {"seed": 0}}, TypeError, r"grid\['seed'\] must be a list"),
        ({"grid": {"seed": []}}, ValueError, "is empty"),
        ({}, ValueError, "exactly one of grid="),
        ({"grid": {"seed": [0]}, "configs": [{}]}, ValueError, "exactly one of grid="),
        ({"configs": {"seed": 0}}, TypeError, "list of dicts"),
        ({"configs": [3]}, TypeError, r"configs\[0\] must be a dict"),
        ({"grid": {"width": [[2, "a", 1]]}}, ValueError, r"width\[1\]"),
        ({"grid": {"width": [[2, 1], [3, 1]]}}, ValueError, r"configuration 1: .* takes 3 inputs"),
        ({"grid": {"seed": [0]}, "stepz": 3}, TypeError, r"unexpected arguments \['stepz'\]"),
        ({"grid": {"seed": [0]}, "n_jobs": 0}, ValueError, "n_jobs"),
        ({"grid": {"seed": [0]}, "threads_per_worker": 0}, ValueError, "threads_per_worker"),
        ({"grid": {"seed": [0]}, "pipeline": "tutorial"}, TypeError, "pipeline must be"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            sweep(dataset, progress=False, **kwargs)
    with pytest.raises(ValueError, match="missing"):
        sweep({"train_input": dataset["train_input"]}, grid={"seed": [0]})
    assert calls == []


def test_sweep_expand_grid_matches_scikit_learn_parameter_grid():
    sklearn = pytest.importorskip("sklearn.model_selection")
    grid = {"seed": [0, 1, 2], "width": [[2, 5, 1], [2, [0, 1], 1]], "k": [3], "lamb": [0.0, 1e-2]}
    assert expand_grid(grid) == list(sklearn.ParameterGrid(grid))
    assert expand_grid(grid)[:2] == [
        {"k": 3, "lamb": 0.0, "seed": 0, "width": [2, 5, 1]},
        {"k": 3, "lamb": 0.0, "seed": 0, "width": [2, [0, 1], 1]},
    ]


def test_sweep_in_process_equals_worker_processes(dataset, loky_result, capsys):
    before = torch.get_num_threads()
    local = sweep(dataset, configs=loky_result.configs[:2], n_jobs=1, progress=True)
    assert torch.get_num_threads() == before  # the task's thread count is restored
    assert "2/2" in capsys.readouterr().err  # the tqdm bar counted both universes
    for a, b in zip(local, loky_result[:2], strict=True):
        fa, fb = _fingerprint(a), _fingerprint(b)
        assert fa[:7] == fb[:7]
        assert all(torch.equal(fa[7][k], fb[7][k]) for k in fa[7])


def test_sweep_worker_crash_fails_only_its_configuration(dataset):
    def pipeline(model, data, config):
        if config["tag"] == "crash":
            import os

            os._exit(3)  # the worker process dies: no Python exception to catch
        model.remove_edge(0, 0, 0)

    configs = [{"tag": "a"}, {"tag": "crash"}, {"tag": "b"}]
    result = sweep(dataset, configs=configs, pipeline=pipeline, n_jobs=2, progress=False,
                   width=[2, 2, 1])  # fmt: skip
    assert [u.error is None for u in result] == [True, False, True]
    assert "Traceback" in result[1].error and result[1].model is None
    assert [u.n_edges for u in (result[0], result[2])] == [5, 5]


def test_sweep_callback_error_propagates(dataset):
    def callback(universe):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        sweep(dataset, configs=[{"tag": 1}], pipeline=lambda m, d, c: None, n_jobs=1,
              progress=False, callback=callback)  # fmt: skip
