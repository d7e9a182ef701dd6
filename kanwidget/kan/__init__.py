"""The torch KAN/MultKAN backend (no widget imports here)."""

from .dataset import create_dataset
from .network import KAN, MultKAN
from .train import StopTraining
from .verbs import borrow_docs

borrow_docs()

__all__ = ["KAN", "MultKAN", "StopTraining", "create_dataset"]
