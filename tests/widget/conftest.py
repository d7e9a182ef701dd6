"""Fixtures for the widget tests: small models and datasets (no kernel, no browser)."""

from __future__ import annotations

import pytest
import torch

from kanwidget import KAN, KANWidget, create_dataset


def _target(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:2] ** 2)


@pytest.fixture(scope="session")
def dataset() -> dict[str, torch.Tensor]:
    """exp(sin(pi x) + y^2) on [-1, 1]^2 (the quickstart's function), 200 + 200 rows."""
    return create_dataset(_target, 2, train_num=200, test_num=200, seed=0)


@pytest.fixture
def model() -> KAN:
    return KAN([2, 3, 1], grid=5, seed=0)


@pytest.fixture
def widget(model: KAN, dataset) -> KANWidget:
    w = KANWidget(model, dataset, in_vars=["x", "y"], out_vars=["f"])
    yield w
    w.stop()
    assert w.wait(timeout=30), "training thread did not finish"
    w.close()


@pytest.fixture
def mult_model() -> KAN:
    """A MultKAN with one sum and one multiplication node in the hidden layer."""
    return KAN([2, [1, 1], 1], grid=5, seed=0)
