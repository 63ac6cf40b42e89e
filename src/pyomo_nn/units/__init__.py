"""One unit per layer kind: what every stage does with the kind, side by side.

A layer kind is its IR class (numpy data, ``forward``, ``interval`` and its ``role``, in
:mod:`pyomo_nn.ir`) and its unit here, which registers one entry per stage
(:data:`~pyomo_nn.units.stages.STAGES`): naive, symbolic and alpha bounds, the LP/MILP
relaxation rows, which inputs need tightening, how it enters a ``NetworkBlock`` (and its
Big-M rows if it is piecewise), its ONNX nodes, its gradient for the attack, and the weights
the Rounder prunes. ``tests/test_layer_contract.py`` walks every kind in :data:`KINDS` through
every stage. Adding a kind: docs/extending.md, "New layer kind".

The package's ``__init__`` imports this one, so the tables are filled before any stage runs.
"""

from pyomo_nn.units import (
    add,
    avg_pool2d,
    concat,
    conv2d,
    dense,
    elementwise,
    leaky_relu,
    max_pool2d,
    pad,
    relu,
    sigmoid,
    sign,
    slice,
    softplus,
    tanh,
    transpose,
)
from pyomo_nn.units.stages import KINDS, STAGES, register

__all__ = [
    "KINDS",
    "STAGES",
    "add",
    "avg_pool2d",
    "concat",
    "conv2d",
    "dense",
    "elementwise",
    "leaky_relu",
    "max_pool2d",
    "pad",
    "register",
    "relu",
    "sigmoid",
    "sign",
    "slice",
    "softplus",
    "tanh",
    "transpose",
]
