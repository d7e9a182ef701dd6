"""Fuzz the widget's browser-message handler (issue 10): thousands of random and malformed
messages (wrong types, huge numbers, NaN, unknown actions, stale edges and versions,
missing and extra keys, nested junk), while idle and during training.

Nothing may escape the handler; an invalid message is answered through the ``error``
trait and leaves the model, its history and the dataset bit-identical.  Messages come
from a seeded ``random.Random`` so a failure replays exactly.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import torch

from kanwidget import KAN, KANWidget
from kanwidget.widget.messages import ACTIONS

from .state import dataset_state, differences, same_bits

N_IDLE = 1500
N_TRAINING = 600
NAMES = ["sin", "x", "x^2", "exp", "log", "sqrt", "1/x", "arcsin", "tanh", "0"]


def fingerprint(model: KAN) -> dict[str, Any]:
    """Cheap bit-level record of the model and its history (stored versions are immutable)."""
    config, tensors = model.snapshot()
    return {
        "config": config,
        "tensors": {k: t.clone() for k, t in tensors.items()},
        "version": model.version,
        "history": [(v.id, v.parent, v.operation) for v in model.history],
    }


def unchanged(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return (
        before["config"] == after["config"]
        and before["version"] == after["version"]
        and before["history"] == after["history"]
        and before["tensors"].keys() == after["tensors"].keys()
        and all(same_bits(t, after["tensors"][k]) for k, t in before["tensors"].items())
    )


def junk(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON-ish (and not only JSON) value."""
    kinds = ["int", "big", "float", "nan", "str", "none", "bool"]
    if depth < 3:
        kinds += ["list", "dict"]
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-5, 12)
    if kind == "big":
        return rng.choice([10**30, -(10**30), 2**63, 2**31, -1])
    if kind == "float":
        return rng.choice([0.5, -0.0, 1e308, -1e-308, 3.0, 1.0])
    if kind == "nan":
        return rng.choice([math.nan, math.inf, -math.inf])
    if kind == "str":
        return rng.choice(["", "0.1", "9.9", "x" * 5000, "sin", "é\u0000", "__class__", "1e3"])
    if kind == "none":
        return None
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "list":
        return [junk(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {str(junk(rng, depth + 1))[:10]: junk(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def field_value(rng: random.Random, kind: str, model: KAN, valid: bool) -> Any:
    if not valid:
        return junk(rng)
    if kind == "edge":
        l = rng.randrange(model.depth)
        layer = model.layers[l]
        return [l, rng.randrange(layer.in_dim), rng.randrange(layer.out_dim)]
    if kind == "node":
        l = rng.randrange(model.depth + 1)
        return [l, rng.randrange(model.n_nodes(l))]
    if kind == "name":
        return rng.choice(NAMES)
    if kind == "version":
        return rng.choice([v.id for v in model.history])
    if kind == "steps":
        return rng.randint(1, 3)
    raise AssertionError(kind)


def message(rng: random.Random, model: KAN, allow_fit: bool) -> tuple[Any, bool]:
    """A message and whether it is malformed by construction (must be refused)."""
    roll = rng.random()
    if roll < 0.1:
        return junk(rng), True  # not even an object with an action
    actions = [a for a in ACTIONS if allow_fit or a != "fit"]
    action = rng.choice(actions)
    fields = ACTIONS[action]
    content: dict[Any, Any] = {"action": action}
    malformed = False
    for field, kind in fields.items():
        bad = rng.random() < 0.4
        content[field] = field_value(rng, kind, model, valid=not bad)
        malformed |= bad and not _accidentally_valid(content[field], kind)
    roll = rng.random()
    if roll < 0.08 and fields:
        del content[rng.choice(list(fields))]
        malformed = True
    elif roll < 0.14:
        content[rng.choice(["extra", "edges", "Action", 3])] = junk(rng)
        malformed = True
    elif roll < 0.18:
        content["action"] = rng.choice(["fix", "SYMBOLIFY", "", None, 7, ["prune"], "__init__"])
        malformed = True
    elif roll < 0.22 and "edge" in fields:  # stale edge: beyond the current layer
        content["edge"] = [0, model.layers[0].in_dim + rng.randint(0, 3), 0]
        malformed = True
    elif roll < 0.26 and "version" in fields:
        content["version"] = rng.choice(["99.0", "0.999", "0.01", "1.-1", "0.1 "])
        malformed = True
    return content, malformed


def _accidentally_valid(value: Any, kind: str) -> bool:
    """Junk that happens to be well-formed is not counted as malformed (its range is)."""
    if kind in ("edge", "node"):  # a random list of ints may name an existing edge/node
        n = 3 if kind == "edge" else 2
        return (
            isinstance(value, list)
            and len(value) == n
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
    if kind == "steps":
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000
    return isinstance(value, str) and 0 < len(value) <= 64


@pytest.fixture
def fuzz_widget(base_data):
    model = KAN([2, 3, 1], grid=5, seed=0)
    model.fit(base_data, steps=2, progress=False)
    w = KANWidget(model, {k: v.clone() for k, v in base_data.items()})
    yield w
    w.stop()
    assert w.wait(timeout=60)
    w.close()


def send(w: KANWidget, content: Any) -> int:
    """Deliver one message; return the error sequence number afterwards."""
    w._on_msg(w, content, [])  # must not raise
    return w._error_seq


def test_message_fuzz_idle(fuzz_widget):
    w, model, rng = fuzz_widget, fuzz_widget.model, random.Random(20261129)
    data_before = dataset_state(w.dataset)
    refused = changed = 0
    for _ in range(N_IDLE):
        content, malformed = message(rng, model, allow_fit=rng.random() < 0.02)
        before, seq = fingerprint(model), w._error_seq
        new_seq = send(w, content)
        if w.trainer.running:  # a valid 'fit': let it finish, it changed the model legally
            w.stop()
            assert w.wait(timeout=60)
            continue
        after = fingerprint(model)
        if new_seq != seq:  # refused: nothing changed, the banner says why
            refused += 1
            assert w.error["message"]
            assert unchanged(before, after), content
        else:
            assert not malformed, f"malformed message accepted: {content!r}"
            changed += not unchanged(before, after)
    assert differences(data_before, dataset_state(w.dataset)) == []
    assert refused > N_IDLE // 3 and changed > 10  # the fuzzer reached both outcomes
    _check_tree(model)
    model(w.dataset["train_input"])


def test_message_fuzz_during_training(fuzz_widget):
    w, model, rng = fuzz_widget, fuzz_widget.model, random.Random(7)
    data_before = dataset_state(w.dataset)
    w.fit(steps=100_000, opt="Adam", lr=1e-3, update_grid=False)
    sent = refused = 0
    while sent < N_TRAINING:
        if not w.trainer.running:  # a checkout/rewind/prune stopped it: train again
            w.wait(timeout=60)
            w.fit(steps=100_000, opt="Adam", lr=1e-3, update_grid=False)
        content, malformed = message(rng, model, allow_fit=True)
        seq = w._error_seq
        send(w, content)
        sent += 1
        if malformed:
            assert w._error_seq != seq, f"malformed message not refused: {content!r}"
            refused += 1
    w.stop()
    assert w.wait(timeout=60)
    assert refused > N_TRAINING // 5
    assert differences(data_before, dataset_state(w.dataset)) == []
    _check_tree(model)
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _check_tree(model: KAN) -> None:
    """ids unique, parents exist and come first, current exists."""
    ids = [v.id for v in model.history]
    assert len(ids) == len(set(ids))
    seen: set[str] = set()
    for v in model.history:
        assert v.parent is None or v.parent in seen
        seen.add(v.id)
    assert model.version in seen
