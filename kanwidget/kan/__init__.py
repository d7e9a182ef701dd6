"""The torch KAN/MultKAN backend (no widget imports here)."""

from .dataset import create_dataset
from .network import KAN, MultKAN
from .train import StopTraining

__all__ = ["KAN", "MultKAN", "StopTraining", "create_dataset"]
