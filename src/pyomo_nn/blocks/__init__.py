"""Pyomo blocks that encode networks."""

from pyomo_nn.blocks.network_block import LayerStats, NetworkBlock
from pyomo_nn.blocks.objective_bound import ObjectiveBound, bound_objective

__all__ = ["LayerStats", "NetworkBlock", "ObjectiveBound", "bound_objective"]
