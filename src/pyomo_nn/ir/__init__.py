"""Network IR: numpy layers and the graph that holds them."""

from pyomo_nn.ir.layers import Dense, Layer, ReLU
from pyomo_nn.ir.network import INPUT, Network

__all__ = ["INPUT", "Dense", "Layer", "Network", "ReLU"]
