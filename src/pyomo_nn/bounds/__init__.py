"""Bound engine: valid pre-activation bounds that become the Big-M constants."""

from pyomo_nn.bounds.compute import DEFAULT_BOUND_METHOD, METHODS, compute_bounds
from pyomo_nn.bounds.container import Bounds

__all__ = ["DEFAULT_BOUND_METHOD", "METHODS", "Bounds", "compute_bounds"]
