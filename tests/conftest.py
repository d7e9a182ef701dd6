"""Shared pytest set-up for tests/kan, tests/widget and tests/browser.

Per-area fixtures live in each folder's own conftest.py; this file only holds what every
area needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Before any test imports pyplot or a Jupyter package: no GUI backend, and opt in to
# platformdirs so jupyter_core does not raise its DeprecationWarning (filterwarnings=error).
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    """Absolute path of the repository (notebooks/, kanwidget/static/, ...)."""
    return REPO_ROOT


@pytest.fixture
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run the test inside an empty temporary working directory and return it.

    Lets a test assert that library code writes nothing to the current directory
    (pykan 0.2.8 drops ./model and ./figures there).
    """
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield cwd
    leftovers = sorted(p.name for p in cwd.iterdir())
    assert not leftovers, f"files written to the working directory: {leftovers}"


@pytest.fixture
def float64() -> Iterator[None]:
    """Make float64 torch's default dtype for one test (for finite-difference checks)."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)
