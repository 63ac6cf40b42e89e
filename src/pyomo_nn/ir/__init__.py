"""Network IR: numpy layers and the graph that holds them."""

from pyomo_nn.ir.activations import LeakyReLU, Sigmoid, Softplus, Tanh
from pyomo_nn.ir.conv import Conv2d
from pyomo_nn.ir.kinds import Role, StageTable
from pyomo_nn.ir.layers import (
    AffineLayer,
    Dense,
    Elementwise,
    Layer,
    MovementLayer,
    PiecewiseLayer,
    ReLU,
    interval_image,
)
from pyomo_nn.ir.merge import Add, Concat
from pyomo_nn.ir.movement import Pad, Slice, Transpose
from pyomo_nn.ir.network import INPUT, Network
from pyomo_nn.ir.pooling import AvgPool2d, MaxPool2d, MaxPoolCandidates
from pyomo_nn.ir.sign import Sign
from pyomo_nn.ir.sparse import SparseMatrix

__all__ = [
    "INPUT",
    "Add",
    "AffineLayer",
    "AvgPool2d",
    "Concat",
    "Conv2d",
    "Dense",
    "Elementwise",
    "Layer",
    "LeakyReLU",
    "MaxPool2d",
    "MaxPoolCandidates",
    "MovementLayer",
    "Network",
    "Pad",
    "PiecewiseLayer",
    "ReLU",
    "Role",
    "Sigmoid",
    "Sign",
    "Slice",
    "Softplus",
    "SparseMatrix",
    "StageTable",
    "Tanh",
    "Transpose",
    "interval_image",
]
