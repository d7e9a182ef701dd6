"""Fixtures of the reliability tests: a small trained model with one symbolic edge."""

from __future__ import annotations

import pytest
import torch

from kanwidget import KAN, create_dataset

torch.set_num_threads(1)


def target(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:2] ** 2)


@pytest.fixture(scope="session")
def base_data() -> dict[str, torch.Tensor]:
    return create_dataset(target, 2, train_num=64, test_num=64, seed=0)


@pytest.fixture(scope="session")
def base_model(base_data) -> KAN:
    """[2, 3, 1] after a 3-step fit, with edge (1, 0, 0) fixed to x (versions 0.0-0.2)."""
    model = KAN([2, 3, 1], grid=5, seed=0)
    model.fit(base_data, steps=3, progress=False)
    model.fix_symbolic(1, 0, 0, "x")
    return model


@pytest.fixture
def data(base_data) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in base_data.items()}


@pytest.fixture
def model(base_model) -> KAN:
    return base_model.copy()
