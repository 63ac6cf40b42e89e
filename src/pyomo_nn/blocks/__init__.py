"""Pyomo blocks that encode networks."""

from pyomo_nn.blocks.network_block import LayerStats, NetworkBlock

__all__ = ["LayerStats", "NetworkBlock"]
