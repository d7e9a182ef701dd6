# ruff: noqa: E501  (one row per line reads best as a table)
"""The table of the table-driven atomicity test: for every public verb of ``KAN``, the
calls that must fail (bad indices, wrong types, unknown names, NaN data, wrong shapes,
missing data, unknown versions, a failure in the middle of the work) and one that must
succeed, with the number of versions it commits.

Each call gets ``(model, data)``: a private copy of the trained fixture model and of its
dataset.  Rows with ``make`` get the model it builds instead (e.g. one that has seen no
data: ``FRESH``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from kanwidget import KAN


@dataclass
class Row:
    verb: str
    label: str
    call: Callable[[KAN, dict], Any]
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None
    commits: int = 0  # versions a successful call commits
    make: Callable[[dict], KAN] | None = None  # builds the model instead of the fixture
    marks: list[Any] = field(default_factory=list)
    warns: type[Warning] | None = None  # a successful call that must warn (any category)

    @property
    def id(self) -> str:
        return f"{self.verb}:{self.label}"


def fail(verb, label, call, raises=(ValueError, TypeError), **kw) -> Row:
    return Row(verb, label, call, raises, **kw)


def ok(verb, call, commits, label="ok", **kw) -> Row:
    return Row(verb, label, call, None, commits, **kw)


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


def _with(data: dict, key: str, value: Any) -> dict:
    return {**data, key: value}


def _nan_input(data: dict) -> dict:
    x = data["train_input"].clone()
    x[3, 1] = float("nan")
    return _with(data, "train_input", x)


def _raise_at(step_to_fail: int, kind: type[BaseException] = ValueError) -> Callable:
    def callback(step: int, record: dict) -> None:
        if step == step_to_fail:
            raise kind(f"callback failed at step {step}")

    return callback


def _nan_loss_from(call: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """An MSE that turns NaN from its ``call``-th evaluation on (a diverging fit)."""
    count = [0]

    def loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        count[0] += 1
        mse = ((pred - y) ** 2).mean()
        return mse * float("nan") if count[0] >= call else mse

    return loss


def _one_sample(opt: str) -> Callable[[KAN, dict], Any]:
    def call(model: KAN, data: dict) -> Any:
        small = KAN([2, [0, 1], 1], seed=0)
        one = {k: v[:1] for k, v in data.items()}
        kwargs = {"opt": "Adam", "lr": 1e-2, "batch": 1} if opt == "Adam" else {}
        small.fit(one, steps=1, lamb=1e-3, progress=False, **kwargs)
        assert all(bool(torch.isfinite(p).all()) for p in small.parameters())
        model.fit(one, steps=1, lamb=1e-3, progress=False, **kwargs)
        assert all(bool(torch.isfinite(p).all()) for p in model.parameters())

    return call


def _diverge_late(model: KAN, data: dict) -> None:
    """Adam, finite for 2 steps then NaN: arch's rule keeps the last finite step."""
    model.fit(data, steps=5, opt="Adam", lr=1e-2, progress=False, update_grid=False,
              loss_fn=_nan_loss_from(3))  # fmt: skip
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _deep(data: dict) -> KAN:
    """A [2, 3, 3, 1] model that has seen the data (a failure in its second hidden layer
    comes after the first one was pruned)."""
    deep = KAN([2, 3, 3, 1], grid=5, seed=0)
    deep(data["train_input"])
    return deep


def FRESH(data: dict) -> KAN:  # noqa: N802 (a constant-like builder)
    return KAN([2, 3, 1], grid=5, seed=0)


EDGES_BAD = [(5, 0, 0), (0, 9, 0), (0, 0, 9), (-1, 0, 0), ("0", 0, 0), (True, 0, 0), (0.0, 0, 0)]


def _x(data: dict) -> torch.Tensor:
    return data["train_input"]


ROWS: list[Row] = [
    # ---------------------------------------------------------------- fit
    fail("fit", "missing key", lambda m, d: m.fit(_without(d, "test_label"), steps=1)),
    fail("fit", "NaN input", lambda m, d: m.fit(_nan_input(d), steps=1)),
    fail("fit", "wrong columns", lambda m, d: m.fit(_with(d, "train_input", torch.ones(64, 3)))),
    fail("fit", "label columns", lambda m, d: m.fit(_with(d, "test_label", torch.ones(64, 2)))),
    fail("fit", "row mismatch", lambda m, d: m.fit(_with(d, "train_label", torch.ones(5, 1)))),
    fail("fit", "empty", lambda m, d: m.fit({k: v[:0] for k, v in d.items()}, steps=1)),
    fail("fit", "not a dict", lambda m, d: m.fit([d["train_input"]], steps=1)),
    fail("fit", "list values", lambda m, d: m.fit(_with(d, "train_input", [[0.0, 0.0]]))),
    fail("fit", "opt", lambda m, d: m.fit(d, opt="SGD", steps=1)),
    fail("fit", "steps<0", lambda m, d: m.fit(d, steps=-1)),
    fail("fit", "steps str", lambda m, d: m.fit(d, steps="3")),
    fail("fit", "batch 0", lambda m, d: m.fit(d, steps=1, batch=0, progress=False)),
    fail("fit", "unknown arg", lambda m, d: m.fit(d, steps=1, stepz=3)),
    fail("fit", "callback raises mid-fit",
         lambda m, d: m.fit(d, steps=4, progress=False, callback=_raise_at(2))),  # fmt: skip
    fail("fit", "interrupted (Ctrl-C) mid-fit",
         lambda m, d: m.fit(d, steps=4, progress=False, callback=_raise_at(2, KeyboardInterrupt)),
         KeyboardInterrupt),  # fmt: skip
    fail("fit", "diverged at step 0",
         lambda m, d: m.fit(d, steps=3, opt="Adam", progress=False, loss_fn=_nan_loss_from(1)),
         FloatingPointError),  # fmt: skip
    ok("fit", _diverge_late, 1, "diverged at step 2", warns=Warning),
    ok("fit", _one_sample("LBFGS"), 1, "one sample LBFGS"),
    ok("fit", _one_sample("Adam"), 1, "one sample Adam batch 1"),
    ok("fit", lambda m, d: m.fit(d, steps=2, progress=False), 1),
    # ---------------------------------------------------------------- grids
    fail("update_grid_from_samples", "shape", lambda m, d: m.update_grid_from_samples(_x(d)[:, :1])),
    fail("update_grid_from_samples", "NaN", lambda m, d: m.update_grid_from_samples(_nan_input(d)["train_input"])),
    fail("update_grid_from_samples", "type", lambda m, d: m.update_grid_from_samples([[0.0, 0.0]])),
    ok("update_grid_from_samples", lambda m, d: m.update_grid_from_samples(_x(d)), 1),
    fail("update_grid", "shape", lambda m, d: m.update_grid(torch.ones(3))),
    ok("update_grid", lambda m, d: m.update_grid(_x(d)), 1),
    fail("refine", "zero", lambda m, d: m.refine(0)),
    fail("refine", "str", lambda m, d: m.refine("10")),
    fail("refine", "float", lambda m, d: m.refine(7.5)),
    ok("refine", lambda m, d: m.refine(7), 1),
    # ---------------------------------------------------------------- attribution, pruning
    fail("attribute", "no data", lambda m, d: m.attribute(), make=FRESH),
    ok("attribute", lambda m, d: m.attribute(), 0),
    fail("attribute", "out_score length", lambda m, d: m.attribute(out_score=torch.ones(3))),
    ok("attribute", lambda m, d: m.attribute(out_score=torch.ones(1)), 0),
    fail("reg", "unknown metric", lambda m, d: m.reg("edge_sideways", 1.0, 2.0, 0.0, 0.0)),
    fail("reg", "no data", lambda m, d: m.reg(), make=FRESH),
    ok("reg", lambda m, d: m.reg("edge_backward", 1.0, 2.0, 0.5, 0.5), 0),
    fail("get_reg", "no data", lambda m, d: m.get_reg(), make=FRESH),
    ok("get_reg", lambda m, d: m.get_reg("node_backward", 1.0, 2.0, 0.0, 0.0), 0),
    fail("prune", "no data", lambda m, d: m.prune(), make=FRESH),
    fail("prune", "threshold str", lambda m, d: m.prune(node_th="high")),
    fail("prune", "edge_th None", lambda m, d: m.prune(edge_th=None)),
    ok("prune", lambda m, d: m.prune(), 1),
    fail("prune_node", "mode", lambda m, d: m.prune_node(mode="some")),
    fail("prune_node", "manual without ids", lambda m, d: m.prune_node(mode="manual")),
    fail("prune_node", "manual bad id", lambda m, d: m.prune_node(mode="manual", active_neurons_id=[[0, 7]])),
    fail("prune_node", "manual second layer bad",
         lambda m, d: m.prune_node(mode="manual", active_neurons_id=[[0], [0, 9]]), make=_deep),
    fail("prune_node", "no data", lambda m, d: m.prune_node(), make=FRESH),
    ok("prune_node", lambda m, d: m.prune_node(mode="manual", active_neurons_id=[[0, 2]]), 1),
    fail("prune_edge", "threshold None", lambda m, d: m.prune_edge(None)),
    fail("prune_edge", "no data", lambda m, d: m.prune_edge(), make=FRESH),
    ok("prune_edge", lambda m, d: m.prune_edge(), 1),
    fail("prune_input", "bad input", lambda m, d: m.prune_input(active_inputs=[5])),
    fail("prune_input", "none kept", lambda m, d: m.prune_input(active_inputs=[])),
    fail("prune_input", "threshold removes all", lambda m, d: m.prune_input(threshold=1e9)),
    fail("prune_input", "type", lambda m, d: m.prune_input(active_inputs=["a"])),
    ok("prune_input", lambda m, d: m.prune_input(active_inputs=[0]), 1),
    *[fail("remove_edge", f"edge {e}", lambda m, d, e=e: m.remove_edge(*e)) for e in EDGES_BAD],
    ok("remove_edge", lambda m, d: m.remove_edge(0, 1, 2), 1),
    fail("remove_node", "layer", lambda m, d: m.remove_node(9, 0)),
    fail("remove_node", "index", lambda m, d: m.remove_node(1, 9)),
    fail("remove_node", "type", lambda m, d: m.remove_node(1, "0")),
    ok("remove_node", lambda m, d: m.remove_node(1, 1), 1),
    fail("swap", "not hidden", lambda m, d: m.swap(0, 0, 1)),
    fail("swap", "index", lambda m, d: m.swap(1, 0, 7)),
    fail("swap", "kinds", lambda m, d: m.swap(1, 0, 1), make=lambda d: KAN([2, [1, 1], 1])),
    ok("swap", lambda m, d: m.swap(1, 0, 2), 1),
    # ---------------------------------------------------------------- symbolic
    *[fail("suggest_symbolic", f"edge {e}", lambda m, d, e=e: m.suggest_symbolic(*e)) for e in EDGES_BAD[:3]],
    fail("suggest_symbolic", "lib", lambda m, d: m.suggest_symbolic(0, 0, 0, lib="nope")),
    fail("suggest_symbolic", "no data", lambda m, d: m.suggest_symbolic(0, 0, 0), make=FRESH),
    ok("suggest_symbolic", lambda m, d: m.suggest_symbolic(0, 0, 0), 0),
    *[fail("fix_symbolic", f"edge {e}", lambda m, d, e=e: m.fix_symbolic(*e, "sin")) for e in EDGES_BAD],
    fail("fix_symbolic", "name", lambda m, d: m.fix_symbolic(0, 0, 0, "sinus")),
    fail("fix_symbolic", "name type", lambda m, d: m.fix_symbolic(0, 0, 0, None)),
    fail("fix_symbolic", "mode", lambda m, d: m.fix_symbolic(0, 0, 0, "sin", mode="half")),
    fail("fix_symbolic", "params", lambda m, d: m.fix_symbolic(0, 0, 0, "sin", False, params=(1, 2))),
    fail("fix_symbolic", "NaN params",
         lambda m, d: m.fix_symbolic(0, 0, 0, "sin", False, params=(1, 0, math.nan, 0))),  # fmt: skip
    fail("fix_symbolic", "params outside the domain",
         lambda m, d: m.fix_symbolic(0, 0, 0, "log", False, params=(1, 0, 1, 0))),  # fmt: skip
    fail("fix_symbolic", "no data", lambda m, d: m.fix_symbolic(0, 0, 0, "sin"), make=FRESH),
    ok("fix_symbolic", lambda m, d: m.fix_symbolic(0, 0, 0, "sin"), 1),
    *[fail("unfix_symbolic", f"edge {e}", lambda m, d, e=e: m.unfix_symbolic(*e)) for e in EDGES_BAD[:4]],
    ok("unfix_symbolic", lambda m, d: m.unfix_symbolic(1, 0, 0), 1),
    fail("auto_symbolic", "lib", lambda m, d: m.auto_symbolic(lib="nope")),
    fail("auto_symbolic", "empty lib", lambda m, d: m.auto_symbolic(lib=[])),
    fail("auto_symbolic", "threshold type (fails after some edges)",
         lambda m, d: m.auto_symbolic(r2_threshold="high")),  # fmt: skip
    fail("auto_symbolic", "no data", lambda m, d: m.auto_symbolic(), make=FRESH),
    ok("auto_symbolic", lambda m, d: m.auto_symbolic(lib=["x", "sin", "x^2"]), 1),
    fail("symbolic_formula", "var count", lambda m, d: m.symbolic_formula(var=["a"])),
    ok("symbolic_formula", lambda m, d: m.symbolic_formula(), 0),
    # ---------------------------------------------------------------- growth
    fail("expand_width", "layer", lambda m, d: m.expand_width(0, 1)),
    fail("expand_width", "count", lambda m, d: m.expand_width(1, 0)),
    fail("expand_width", "arity", lambda m, d: m.expand_width(1, 1, sum_bool=False, mult_arity=1)),
    ok("expand_width", lambda m, d: m.expand_width(1, 2), 1),
    ok("expand_depth", lambda m, d: m.expand_depth(), 1),
    fail("perturb", "mode", lambda m, d: m.perturb(mode="wild")),
    fail("perturb", "mag str (fails mid-way)", lambda m, d: m.perturb(mag="big", mode="all")),
    ok("perturb", lambda m, d: m.perturb(0.5, mode="all"), 1),
    # ---------------------------------------------------------------- versions
    *[fail(verb, f"id {v!r}", lambda m, d, verb=verb, v=v: getattr(m, verb)(v), (KeyError, ValueError, TypeError))
      for verb in ("rewind", "checkout") for v in ("9.9", "0.99", "x", "", 0.1, None, ["0.1"])],
    ok("rewind", lambda m, d: m.rewind("0.1"), 1),
    ok("checkout", lambda m, d: m.checkout("0.1"), 0),
    fail("restore", "empty config", lambda m, d: m.restore({}, {}), (KeyError, ValueError)),
    fail("restore", "bad tensors", lambda m, d: m.restore(m.snapshot()[0], {"x": torch.ones(1)}),
         (KeyError, RuntimeError, ValueError)),  # fmt: skip
    ok("restore", lambda m, d: m.restore(*m.history.state("0.1")), 0),
    fail("operation", "body raises", lambda m, d: _failing_operation(m), ZeroDivisionError),
    ok("operation", lambda m, d: _empty_operation(m), 1),
    ok("separate_versions", lambda m, d: _separate(m), 0),
    # ---------------------------------------------------------------- reads
    fail("forward", "shape", lambda m, d: m(torch.ones(4, 3))),
    fail("forward", "type", lambda m, d: m([[0.0, 0.0]])),
    fail("forward", "1-D", lambda m, d: m(torch.ones(2))),
    ok("forward", lambda m, d: m(_x(d)), 0),
    fail("forward_cache", "shape", lambda m, d: m.forward_cache(torch.ones(4, 3))),
    ok("forward_cache", lambda m, d: m.forward_cache(), 0),
    fail("cached_input", "no data", lambda m, d: m.cached_input(), make=FRESH),
    ok("cached_input", lambda m, d: m.cached_input(), 0),
    fail("check_input", "shape", lambda m, d: m.check_input(torch.ones(1, 5))),
    ok("check_input", lambda m, d: m.check_input(_x(d)), 0),
    fail("n_nodes", "layer", lambda m, d: m.n_nodes(9), IndexError),
    ok("n_nodes", lambda m, d: m.n_nodes(1), 0),
    fail("n_subnodes", "layer", lambda m, d: m.n_subnodes(9), IndexError),
    ok("n_subnodes", lambda m, d: m.n_subnodes(1), 0),
    fail("subnode_to_node", "subnode", lambda m, d: m.subnode_to_node(1, 9), IndexError),
    ok("subnode_to_node", lambda m, d: m.subnode_to_node(1, 2), 0),
    ok("n_edges", lambda m, d: m.n_edges(), 0),
    ok("snapshot", lambda m, d: m.snapshot(), 0),
    ok("copy", lambda m, d: m.copy(), 0),
    fail("add_listener", "not callable", lambda m, d: m.add_listener("redraw"), TypeError),
    ok("add_listener", lambda m, d: m.add_listener(lambda event: None), 0),
    ok("remove_listener", lambda m, d: m.remove_listener(print), 0),
    fail("plot", "kwarg", lambda m, d: m.plot(colour="red"), TypeError),
    ok("plot", lambda m, d: _plot(m), 0),
    # ---------------------------------------------------------------- files
    fail("save", "missing folder", lambda m, d: m.save("/nonexistent/folder/model.pt"), OSError),
    ok("save", lambda m, d: _save(m), 0),
    fail("load", "missing", lambda m, d: KAN.load("/nonexistent/model.pt"), FileNotFoundError),
    fail("load", "garbage", lambda m, d: KAN.load(_garbage()), ValueError),
    ok("load", lambda m, d: KAN.load(_save(m)), 0),
    # ---------------------------------------------------------------- pykan compatibility: reads
    fail("get_act", "shape", lambda m, d: m.get_act(torch.ones(4, 3))),
    fail("get_act", "type", lambda m, d: m.get_act([[0.0, 0.0]])),
    fail("get_act", "dict without train_input", lambda m, d: m.get_act(_without(d, "train_input")), KeyError),
    fail("get_act", "no data", lambda m, d: m.get_act(), make=FRESH),
    ok("get_act", lambda m, d: m.get_act(d), 0),
    *[fail("get_fun", f"edge {e}", lambda m, d, e=e: _closing(m.get_fun, *e)) for e in EDGES_BAD],
    fail("get_fun", "no data", lambda m, d: _closing(m.get_fun, 0, 0, 0), make=FRESH),
    ok("get_fun", lambda m, d: _closing(m.get_fun, 0, 1, 2), 0),
    *[fail("get_range", f"edge {e}", lambda m, d, e=e: m.get_range(*e)) for e in EDGES_BAD],
    fail("get_range", "no data", lambda m, d: m.get_range(0, 0, 0), make=FRESH),
    ok("get_range", lambda m, d: m.get_range(1, 2, 0), 0),
    fail("evaluate", "missing key", lambda m, d: m.evaluate(_without(d, "test_label")), KeyError),
    fail("evaluate", "wrong columns", lambda m, d: m.evaluate(_with(d, "test_input", torch.ones(64, 3)))),
    fail("evaluate", "label rows", lambda m, d: m.evaluate(_with(d, "test_label", torch.ones(5, 1)))),
    fail("evaluate", "not a dict", lambda m, d: m.evaluate([d["test_input"]])),
    ok("evaluate", lambda m, d: m.evaluate(d), 0),
    fail("feature_interaction", "layer 0", lambda m, d: m.feature_interaction(0)),
    fail("feature_interaction", "layer 9", lambda m, d: m.feature_interaction(9)),
    fail("feature_interaction", "layer str", lambda m, d: m.feature_interaction("1")),
    fail("feature_interaction", "no data", lambda m, d: m.feature_interaction(1), make=FRESH),
    ok("feature_interaction", lambda m, d: m.feature_interaction(1), 0),
    fail("node_attribute", "no data", lambda m, d: m.node_attribute(), make=FRESH),
    ok("node_attribute", lambda m, d: m.node_attribute(), 0),
    fail("connection_cost", "no data", lambda m, d: m.connection_cost(), make=FRESH),
    ok("connection_cost", lambda m, d: m.connection_cost(), 0),
    fail("tree", "shape", lambda m, d: _closing(m.tree, torch.ones(8, 3))),
    fail("tree", "style", lambda m, d: _closing(m.tree, style="circle")),
    fail("tree", "no data", lambda m, d: _closing(m.tree), make=FRESH),
    ok("tree", lambda m, d: _closing(m.tree), 0),
    fail("speed", "compile type", lambda m, d: m.speed(compile="yes")),
    ok("speed", lambda m, d: m.speed(), 0),
    # ---------------------------------------------------------------- pykan compatibility: files
    fail("saveckpt", "missing folder", lambda m, d: m.saveckpt("/nonexistent/folder/model"), OSError),
    ok("saveckpt", lambda m, d: _saveckpt(m), 0),
    fail("loadckpt", "missing", lambda m, d: KAN.loadckpt("/nonexistent/model"), FileNotFoundError),
    fail("loadckpt", "garbage", lambda m, d: KAN.loadckpt(_garbage(".kan")[: -len(".kan")]), ValueError),
    ok("loadckpt", lambda m, d: KAN.loadckpt(_saveckpt(m)), 0),
    # ---------------------------------------------------------------- pykan compatibility: structure
    *[fail("set_mode", f"edge {e}", lambda m, d, e=e: m.set_mode(*e, "s")) for e in EDGES_BAD],
    fail("set_mode", "mask_n str", lambda m, d: m.set_mode(0, 0, 0, "sn", mask_n="half")),
    fail("set_mode", "mode type", lambda m, d: m.set_mode(0, 0, 0, None)),
    ok("set_mode", lambda m, d: m.set_mode(0, 0, 0, "sn", mask_n=0.5), 1),
    ok("unfix_symbolic_all", lambda m, d: m.unfix_symbolic_all(), 1),
    fail("module", "malformed", lambda m, d: m.module(0, "[0,1]->[0")),
    fail("module", "no arrow", lambda m, d: m.module(0, "[0,1]")),
    fail("module", "empty group", lambda m, d: m.module(0, "[]->[0]")),
    fail("module", "letters", lambda m, d: m.module(0, "[a]->[0]")),
    fail("module", "repeated node", lambda m, d: m.module(0, "[0,0]->[1]")),
    fail("module", "not a string", lambda m, d: m.module(0, [[0], [1]])),
    fail("module", "node index", lambda m, d: m.module(0, "[0,5]->[0,1]->[0]")),
    fail("module", "second layer index (after the first is checked)", lambda m, d: m.module(0, "[0,1]->[0,1]->[3]")),
    fail("module", "too deep", lambda m, d: m.module(1, "[0,1]->[0,1]->[0]")),
    fail("module", "negative start", lambda m, d: m.module(-1, "[0]->[0]")),
    fail("module", "start str", lambda m, d: m.module("0", "[0]->[0]")),
    ok("module", lambda m, d: m.module(0, "[0,1]->[0,1]->[0]"), 1),
    fail("auto_swap", "no data (fails inside the operation)", lambda m, d: m.auto_swap(), make=FRESH),
    ok("auto_swap", lambda m, d: m.auto_swap(), 1),
    fail("initialize_from_another_model", "widths", lambda m, d: m.initialize_from_another_model(KAN([2, 4, 1], grid=3), _x(d))),
    fail("initialize_from_another_model", "not a model", lambda m, d: m.initialize_from_another_model("model", _x(d))),
    fail("initialize_from_another_model", "x shape",
         lambda m, d: m.initialize_from_another_model(KAN([2, 3, 1], grid=3, seed=1), torch.ones(8, 3))),
    fail("initialize_from_another_model", "x NaN",
         lambda m, d: m.initialize_from_another_model(KAN([2, 3, 1], grid=3, seed=1), _nan_input(d)["train_input"])),
    fail("initialize_from_another_model", "x type",
         lambda m, d: m.initialize_from_another_model(KAN([2, 3, 1], grid=3, seed=1), [[0.0, 0.0]])),
    ok("initialize_from_another_model",
       lambda m, d: m.initialize_from_another_model(KAN([2, 3, 1], grid=3, seed=1), _x(d)), 1),
]  # fmt: skip


def _failing_operation(model: KAN) -> None:
    with model.operation("custom"):
        model.remove_edge(0, 0, 0)
        model.layers[0].coef.data.mul_(2)
        raise ZeroDivisionError("the body of the operation failed")


def _empty_operation(model: KAN) -> None:
    with model.operation("custom"):
        model.remove_edge(0, 0, 0)
        model.remove_edge(0, 1, 0)


def _separate(model: KAN) -> None:
    with model.separate_versions():
        pass


def _plot(model: KAN) -> None:
    import matplotlib.pyplot as plt

    plt.close(model.plot())


_TMP: list[Any] = []


def _save(model: KAN) -> str:
    import tempfile

    folder = tempfile.TemporaryDirectory()
    _TMP.append(folder)
    path = f"{folder.name}/model.pt"
    model.save(path)
    return path


def _garbage(suffix: str = ".pt") -> str:
    import tempfile

    folder = tempfile.TemporaryDirectory()
    _TMP.append(folder)
    path = f"{folder.name}/garbage{suffix}"
    with open(path, "wb") as handle:
        handle.write(b"not a model" * 10)
    return path


def _closing(method: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call a drawing accessor and close the figures it opened."""
    import matplotlib.pyplot as plt

    try:
        return method(*args, **kwargs)
    finally:
        plt.close("all")


def _saveckpt(model: KAN) -> str:
    import tempfile

    folder = tempfile.TemporaryDirectory()
    _TMP.append(folder)
    path = f"{folder.name}/model"
    model.saveckpt(path)
    return path


# public names of KAN that are not verbs on a model's state, with the reason
SKIP: dict[str, str] = {}
