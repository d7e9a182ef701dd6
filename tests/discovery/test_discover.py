"""discover: recovers simple unseen laws exactly, keeps its budget, rejects bad input."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import sympy
import torch

from kanwidget import Discovery, discover
from kanwidget.discovery import clock
from kanwidget.discovery.constants import evaluate, refit, simple_numbers, snap
from kanwidget.discovery.pareto import Candidate, choose_best, complexity, pareto_front
from kanwidget.discovery.verify import LATE_SECONDS, LATE_TOP

torch.set_num_threads(1)


def _dataset(fn, ranges, n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.uniform(lo, hi, 2 * n) for lo, hi in ranges])
    y = fn(*x.T)
    t = torch.tensor
    return {
        "train_input": t(x[:n]),
        "train_label": t(y[:n, None]),
        "test_input": t(x[n:]),
        "test_label": t(y[n:, None]),
    }


def _assert_law(d: Discovery, truth: sympy.Expr, names, ranges):
    """The best formula equals the truth symbolically or within 1e-6 relative RMSE on fresh
    points in range and on ranges widened by 20% each side (extrapolation)."""
    symbols = [sympy.Symbol(v) for v in names]
    if sympy.simplify(d.best.formula - truth) == 0:
        return
    rng = np.random.default_rng(99)
    for widen in (0.0, 0.2):
        x = np.column_stack(
            [rng.uniform(lo - widen * (hi - lo), hi + widen * (hi - lo), 2000) for lo, hi in ranges]
        )
        want = evaluate(truth, symbols, x)
        got = evaluate(d.best.formula, symbols, x)
        rel = np.sqrt(np.mean((got - want) ** 2)) / np.std(want)
        assert rel < 1e-6, (d.best.formula, widen, rel)


CASES = [
    ("power law", "3*a*b**2/c", ["a", "b", "c"], [(1, 3), (1, 3), (1, 3)]),
    ("quotient", "a/(b + c)", ["a", "b", "c"], [(1, 2), (1, 2), (1, 2)]),
    ("sum of two terms", "a*b + c**2", ["a", "b", "c"], [(-2, 2), (-2, 2), (-2, 2)]),
    ("sine", "2*a*sin(b)", ["a", "b"], [(1, 3), (0, 3)]),
    ("exp", "a*exp(-b/2)", ["a", "b"], [(1, 3), (0, 3)]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "text", "names", "ranges"), CASES, ids=[c[0] for c in CASES])
def test_discover_recovers_unseen_law(kind, text, names, ranges):
    symbols = [sympy.Symbol(v) for v in names]
    truth = sympy.sympify(text, locals=dict(zip(names, symbols, strict=True)))  # test's own literal
    fn = sympy.lambdify(symbols, truth, "numpy")
    d = discover(_dataset(fn, ranges), variables=names, budget=20, n_jobs=1, progress=False)
    _assert_law(d, truth, names, ranges)
    assert d.best in d.front
    assert d.best.formula.free_symbols <= set(symbols)


def _ticking_clock(monkeypatch, step=0.02):
    """A deterministic time source: every read advances it by ``step`` seconds."""
    ticks = itertools.count()
    monkeypatch.setattr(clock, "now", lambda: 1000.0 + step * next(ticks))


# the verification's documented overrun past the budget (verify module docstring), plus a
# few clock reads of evaluation
OVERRUN = 2 * LATE_TOP * LATE_SECONDS + 0.5


@pytest.mark.slow
def test_discover_keeps_budget_and_fills_front(monkeypatch):
    fn = lambda a, b, c, d: np.sin(a * b) + np.exp(c) / (1 + d**2)  # noqa: E731
    ds = _dataset(fn, [(-1, 1)] * 4)
    _ticking_clock(monkeypatch)
    d = discover(ds, budget=6, n_jobs=1, progress=False)
    assert d.elapsed <= 6 + OVERRUN  # by the injected clock: no wall-clock bound
    assert [p.name for p in d.phases] == ["quick forms", "regression", "kan universes", "verify"]
    assert all(p.status != "skipped" for p in d.phases)  # no exact law here: nothing skipped
    assert d.variables == ["x_1", "x_2", "x_3", "x_4"]
    cx = [c.complexity for c in d.front]
    errs = [c.test_rmse for c in d.front]
    assert cx == sorted(cx) and errs == sorted(errs, reverse=True)
    assert all(c.test_rmse >= min(errs) for c in d.candidates)
    kan = [c for c in d.candidates if c.universe is not None]
    assert kan, "KAN universes must contribute candidates"
    for c in kan:
        assert c.universe in d.history and c.model is not None
    y = ds["test_label"].numpy()[:, 0]
    pred = evaluate(
        d.best.formula, [sympy.Symbol(v) for v in d.variables], ds["test_input"].numpy()
    )
    np.testing.assert_allclose(np.sqrt(np.mean((pred - y) ** 2)), d.best.test_rmse, rtol=1e-9)
    np.testing.assert_allclose(d.best.r2, 1 - np.mean((pred - y) ** 2) / np.var(y), rtol=1e-9)


def _good():
    return _dataset(lambda a, b: a * b, [(1, 2), (1, 2)], n=50)


@pytest.mark.parametrize(
    ("mutate", "variables", "match"),
    [
        (lambda d: d["train_input"].__setitem__((0, 0), float("nan")), None, "NaN or inf"),
        (lambda d: d["test_label"].__setitem__((3, 0), float("inf")), None, "NaN or inf"),
        (
            lambda d: d.update(train_input=d["train_input"][:5], train_label=d["train_label"][:5]),
            None,
            "at least 10",
        ),
        (lambda d: d.update(train_label=torch.ones_like(d["train_label"])), None, "constant"),
        (lambda d: None, ["a"], "variables has 1 names for 2 inputs"),
        (lambda d: None, ["a", "a"], "variables must be distinct: 'a' names 2 inputs"),
        (lambda d: None, ["a", 2], r"variables\[1\] must be a str, got 2"),
        (lambda d: None, ["a", ""], r"variables\[1\] must be a non-empty str"),
        (lambda d: None, ["pi", "b"], r"variables\[0\] = 'pi' would read as the constant pi"),
        (lambda d: None, ["a", "sin"], r"'sin' would read as the function sin.*'sin_'"),
        (lambda d: None, ["x-1", "b"], r"'x-1' is not a name a formula can use.*'x_1'"),
        (lambda d: None, ["a", "lambda"], r"'lambda' is not a name.*'lambda_'"),
        (lambda d: d.update(train_input=d["train_input"][:, 0]), None, "2-D"),
        (lambda d: d.update(train_label=torch.ones(50, 2)), None, "one output"),
        (lambda d: d.update(test_label=d["test_label"][:20]), None, "rows"),
        (lambda d: d.pop("test_label"), None, "missing"),
    ],
)
def test_discover_rejects_bad_input(mutate, variables, match):
    ds = _good()
    mutate(ds)
    with pytest.raises(ValueError, match=match):
        discover(ds, variables=variables, budget=1, n_jobs=1, progress=False)


def test_discover_table_says_how_to_build_the_dict_and_that_way_works():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.uniform(1, 2, (60, 2)), columns=["a", "b"])
    df["y"] = df["a"] * df["b"]
    with pytest.raises(ValueError) as info:
        discover(df, budget=1, n_jobs=1, progress=False)
    message = str(info.value)
    assert "got a DataFrame" in message and "create_dataset_from_data" in message
    # what the message says to do: columns in, the DataFrame's own names as variables
    from kanwidget.pykan import create_dataset_from_data

    ds = create_dataset_from_data(df[["a", "b"]], df["y"])
    assert ds["train_input"].dtype == torch.float64 and ds["train_input"].shape == (48, 2)
    d = discover(ds, variables=["a", "b"], budget=5, n_jobs=1, progress=False)
    assert d.best.formula == sympy.Symbol("a") * sympy.Symbol("b")


def test_discover_rejects_bad_budget_and_jobs():
    with pytest.raises(ValueError, match="budget"):
        discover(_good(), budget=0, n_jobs=1, progress=False)
    with pytest.raises(ValueError, match="n_jobs"):
        discover(_good(), budget=1, n_jobs=0, progress=False)


def test_constants_refit_and_snap_make_formula_exact():
    a, b = sympy.symbols("a b")
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 2, (200, 2))
    y = x[:, 0] ** 2 / (4 * np.pi * x[:, 1])
    rough = sympy.Float(0.07) * a**2 / b + sympy.Float(0.01)
    fitted = refit(rough, [a, b], x[:100], y[:100])
    snapped, err = snap(fitted, [a, b], (x[:100], y[:100]), (x[100:], y[100:]))
    assert sympy.simplify(snapped - a**2 / (4 * sympy.pi * b)) == 0
    assert err < 1e-12


def test_constants_refit_stops_at_deadline_unchanged():
    a = sympy.Symbol("a")
    x = np.linspace(1, 2, 50)[:, None]
    rough = sympy.Float(0.5) * a**2
    assert refit(rough, [a], x, 3 * x[:, 0] ** 2, deadline=time.time() - 1) == rough
    fitted = refit(rough, [a], x, 3 * x[:, 0] ** 2)
    assert abs(float(fitted.coeff(a**2)) - 3) < 1e-12


def test_simple_numbers_finds_rationals_and_pi_multiples():
    assert simple_numbers(0.75)[0] == sympy.Rational(3, 4)
    assert sympy.pi / 2 in simple_numbers(float(np.pi) / 2)
    assert 1 / (4 * sympy.pi) in simple_numbers(1 / (4 * np.pi))
    assert simple_numbers(0.123456789)[:1] != [sympy.Rational(1, 8)]


def test_pareto_front_and_best_rule():
    a = sympy.Symbol("a")

    def cand(expr, rel):
        return Candidate(expr, complexity(expr), rel, 1 - rel**2, rel, "test")

    c1, c2, c3, c4 = (
        cand(a, 0.5),
        cand(2 * a + 1, 1e-3),
        cand(sympy.sin(a) + a**2, 1.2e-3),
        cand(sympy.exp(a) * a + 3 * a**2, 1e-9),
    )
    front = pareto_front([c1, c2, c3, c4])
    assert front == [c1, c2, c4]  # c3 is more complex and less accurate than c2
    assert choose_best(front) is c4  # exact fits beat approximants
    assert choose_best([c1, c2]) is c2
    c5 = cand(a + 1, 1.4e-3)
    assert choose_best(pareto_front([c2, c5])) is c5  # simpler, within 1.5x of the lowest error
    assert complexity(3 * a) == 3


@pytest.mark.slow
def test_discover_in_workers_leaves_the_pool_usable_by_sweep():
    """discover(n_jobs=2) then sweep(n_jobs=2) in one session: both use joblib's reusable pool
    (a bare loky pool left behind by discover broke every later sweep)."""
    from kanwidget import sweep

    ds = _dataset(lambda a, b: a * b, [(1, 2), (1, 2)], n=200)
    d = discover(ds, budget=8, n_jobs=2, progress=False, early_stop=False)
    assert sympy.simplify(d.best.formula - sympy.Symbol("x_1") * sympy.Symbol("x_2")) == 0
    # an early stop kills the universes' running worker: the pool must stay usable too
    quotient = _dataset(lambda a, b, c: a / (b + c), [(1, 2)] * 3, n=200)
    d = discover(quotient, budget=30, n_jobs=2, progress=False)
    assert d.best.rel_rmse < 1e-9
    configs = [{"width": [2, 1, 1], "seed": 0}, {"width": [2, 2, 1], "seed": 1}]
    res = sweep({k: v.float() for k, v in ds.items()}, configs=configs, n_jobs=2, steps=2,
                progress=False)  # fmt: skip
    assert [u.error for u in res] == [None, None]
    assert all(np.isfinite(u.test_loss) for u in res)


def test_discover_stops_early_on_an_exact_power_law():
    """An exact power law is verified in the first phase; the phases that could only add
    more complex candidates are recorded as skipped (no wall time involved)."""
    names = ["p", "q", "r"]
    ds = _dataset(lambda p, q, r: 0.5 * p**3 * np.sqrt(q) / r**2, [(1, 3)] * 3)
    d = discover(ds, variables=names, budget=60, n_jobs=1, progress=False)
    p, q, r = sympy.symbols(names)
    assert sympy.simplify(d.best.formula - p**3 * sympy.sqrt(q) / (2 * r**2)) == 0
    assert d.best.rel_rmse < 1e-9
    status = {ph.name: ph.status for ph in d.phases}
    assert status == {"quick forms": "done", "regression": "skipped",
                      "kan universes": "skipped", "verify": "done"}  # fmt: skip
    assert d.universes == [] and "early stop" in d.phases[1].note
    assert len(d.history) == 0
    d.ensure_universe(seconds=3)  # what d.widget() does first: the diagram needs a model
    assert len(d.universes) == 1 and d.universes[0].model is not None
    assert len(d.history) == 1 and d.best.rel_rmse < 1e-9  # the answer is unchanged


@pytest.mark.slow
def test_discover_stops_universes_once_the_regression_is_exact():
    """A sum of a product with a sine and a square is neither a power law nor a rational
    form: the regression finds it, and the KAN universes still to come are not run (their
    phase is 'stopped' with the early-stop note)."""
    names = ["u", "v", "w"]
    ds = _dataset(lambda u, v, w: u * np.sin(v) + w**2, [(1, 2)] * 3)
    d = discover(ds, variables=names, budget=60, n_jobs=1, progress=False)
    u, v, w = sympy.symbols(names)
    assert sympy.simplify(d.best.formula - (u * sympy.sin(v) + w**2)) == 0
    status = {ph.name: ph.status for ph in d.phases}
    assert status["quick forms"] == "done" and status["regression"] == "done"
    kan = next(ph for ph in d.phases if ph.name == "kan universes")
    assert kan.status == "stopped" and "early stop" in kan.note
    assert 1 <= len(d.universes) < 6  # the first universe ran, the other five did not


def test_discover_skips_what_a_slow_phase_left_no_time_for(monkeypatch):
    """A regression family that overruns the whole budget (simulated with the injected
    clock) leaves no time: no further universe starts, verification stays bounded."""
    import importlib

    module = importlib.import_module("kanwidget.discovery.discover")
    now = [1000.0]
    monkeypatch.setattr(clock, "now", lambda: now[0])

    def stuck(x, y, symbols, expired):
        now[0] += 100.0  # this family "takes" 100 s of a 10 s budget
        return []

    quick = module.FAMILIES[: module.QUICK]
    monkeypatch.setattr(module, "FAMILIES", (*quick, ("stuck", stuck)))
    ds = _dataset(lambda a, b: np.exp(a) + a * b, [(1, 2), (1, 2)], n=100)
    d = discover(ds, budget=10, n_jobs=1, progress=False)
    status = {ph.name: ph.status for ph in d.phases}
    assert status["regression"] == "stopped"
    assert len(d.universes) == 1  # the one before the regression; none after it
    verify = d.phases[-1]
    assert verify.name == "verify" and verify.seconds == 0.0  # the frozen clock: no waiting
    assert d.elapsed == pytest.approx(100.0)


def test_exact_tolerance_follows_the_labels_precision():
    from kanwidget.discovery.discover import exact_tolerance

    y = np.linspace(1.0, 2.0, 100)
    assert exact_tolerance(torch.tensor(y), y) == 1e-9
    tol32 = exact_tolerance(torch.tensor(y, dtype=torch.float32), y)
    assert tol32 == pytest.approx(8 * 1.2e-7 * 2.0 / np.std(y))
    assert exact_tolerance(y, y) == 1e-9  # numpy float64 labels
