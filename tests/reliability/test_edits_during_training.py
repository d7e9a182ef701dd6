"""Edits during training keep the history a consistent tree whose every version reproduces
its outputs (issue 10): a hypothesis state machine interleaves widget actions (select,
symbolify, prune edge/node, checkout), Python verbs on the model and training runs.

Every version's output on a probe batch is recorded when the version is created (a model
listener); at the end the tree is validated (ids unique, parents exist and come first,
``round.step`` rules: the saved-format decoder checks them all) and each version is
checked out and must reproduce its recorded output.
"""

from __future__ import annotations

import threading
from collections import Counter

import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kanwidget import KAN, KANWidget, create_dataset
from kanwidget.kan.history import VersionTree

from .conftest import target

DATA = create_dataset(target, 2, train_num=48, test_num=48, seed=1)
PROBE = torch.linspace(-1, 1, 15)[:, None].repeat(1, 2) * torch.tensor([1.0, -0.5])
NAMES = ["sin", "x", "x^2", "exp", "log", "sqrt", "0"]
STATS: Counter[str] = Counter()
EXPECTED_REFUSALS = (ValueError, RuntimeError)  # stale index / busy model: refused cleanly


class EditsDuringTraining(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model = KAN([2, 3, 1], grid=4, seed=0)
        self.model(DATA["train_input"])
        self.outputs: dict[str, torch.Tensor] = {"0.0": self.output()}
        self.model.add_listener(self.record)
        self.widget = KANWidget(self.model, DATA)

    def output(self) -> torch.Tensor:
        with torch.no_grad():
            return self.model._forward(PROBE.to(self.model.dtype))[0].clone()

    def record(self, event: str) -> None:
        if event != "checkout":
            self.outputs[self.model.version] = self.output()
            if threading.current_thread() is not threading.main_thread() and event != "fit":
                STATS["edits in the training thread"] += 1

    def edge(self, data) -> tuple[int, int, int]:
        l = data.draw(st.integers(0, self.model.depth - 1))
        layer = self.model.layers[l]
        return (
            l,
            data.draw(st.integers(0, layer.in_dim - 1)),
            data.draw(st.integers(0, layer.out_dim - 1)),
        )

    # ------------------------------------------------------------------ training
    @initialize()
    def start_training(self):
        self.widget.fit(steps=150, opt="Adam", lr=0.01)

    @rule(steps=st.integers(5, 150), opt=st.sampled_from(["Adam", "Adam", "LBFGS"]))
    def train(self, steps, opt):
        try:
            self.widget.fit(steps=steps, opt=opt, lr=0.01 if opt == "Adam" else 1.0)
        except RuntimeError:  # already training
            pass

    @rule()
    def wait(self):
        assert self.widget.wait(timeout=120)

    # ------------------------------------------------------------------ widget actions
    @rule(data=st.data())
    def select(self, data):
        self.widget.select_edge(*self.edge(data))

    @rule(data=st.data(), name=st.sampled_from(NAMES))
    def symbolify(self, data, name):
        try:
            self.widget.symbolify(*self.edge(data), name)
        except EXPECTED_REFUSALS:
            pass

    @rule(data=st.data())
    def prune_edge(self, data):
        try:
            self.widget.prune_edge(*self.edge(data))
        except EXPECTED_REFUSALS:
            pass

    @rule(i=st.integers(0, 2))
    def prune_node(self, i):
        try:
            self.widget.prune_node(1, i)
        except EXPECTED_REFUSALS:
            pass

    @rule(data=st.data())
    def checkout(self, data):
        ids = [v.id for v in self.model.history]
        try:
            self.widget.checkout(data.draw(st.sampled_from(ids)))
        except EXPECTED_REFUSALS:
            pass

    # ------------------------------------------------------------------ Python verbs
    @rule(data=st.data(), name=st.sampled_from(NAMES))
    def python_fix(self, data, name):
        try:
            self.model.fix_symbolic(*self.edge(data), name)
        except EXPECTED_REFUSALS:
            pass

    @rule(data=st.data())
    def python_remove_edge(self, data):
        try:
            self.model.remove_edge(*self.edge(data))
        except EXPECTED_REFUSALS:
            pass

    @rule(data=st.data())
    def python_rewind(self, data):
        ids = [v.id for v in self.model.history]
        try:
            self.model.rewind(data.draw(st.sampled_from(ids)))
        except EXPECTED_REFUSALS:
            pass

    # ------------------------------------------------------------------ checks
    @invariant()
    def tree_is_consistent(self):
        VersionTree.from_state(self.model.history.to_state())  # raises if not

    def teardown(self):
        widget, model = self.widget, self.model
        widget.stop()
        assert widget.wait(timeout=120)
        tree = VersionTree.from_state(model.history.to_state())
        ids = [v.id for v in tree]
        assert len(ids) == len(set(ids))
        for v in tree:
            assert v.parent is None or v.parent in ids[: ids.index(v.id)]
            model.checkout(v.id)
            torch.testing.assert_close(self.output(), self.outputs[v.id], rtol=1e-6, atol=1e-7)
        widget.close()


EditsDuringTraining.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
test_edits_during_training = EditsDuringTraining.TestCase


def test_edits_during_training_reached_the_training_thread():
    """The machine above really edits between training steps (not only while idle)."""
    if not STATS:
        EditsDuringTraining.TestCase("runTest").runTest()
    assert STATS["edits in the training thread"] > 0
