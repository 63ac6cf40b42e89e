"""Bound engine: valid pre-activation bounds that become the Big-M constants."""

from pyomo_nn.bounds.compute import METHODS, compute_bounds
from pyomo_nn.bounds.container import Bounds

__all__ = ["METHODS", "Bounds", "compute_bounds"]
