"""Pad (constant, edge or reflect) of a per-sample tensor, e.g. before a Conv or a pooling
layer: a data-movement kind whose padded values are a constant (a fixed variable in a MILP)
or copies of input values."""

from __future__ import annotations

import numpy as np

from pyomo_nn.blocks.network_block import MOVED
from pyomo_nn.bounds.naive import movement_magnitude
from pyomo_nn.bounds.relaxation import MOVEMENT_COLUMNS
from pyomo_nn.bounds.symbolic import movement_step
from pyomo_nn.bounds.tightening import MOVEMENT_INPUTS
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Pad
from pyomo_nn.units.stages import register
from pyomo_nn.vnnlib.attack import MOVEMENT_GRADIENT


def export(writer: GraphWriter, layer: Pad, inputs: list[str], output: str) -> None:
    """Reshape to (batch, *input_shape), Pad (nothing on the batch axis), Flatten."""
    name = layer.name
    rank = len(layer.input_shape)
    pads = [0, *layer.pads[:rank], 0, *layer.pads[rank:]]
    arguments = [
        writer.tensor(name, inputs[0], layer.input_shape),
        writer.constant(f"{name}.pads", np.array(pads)),
    ]
    if layer.mode == "constant":
        arguments.append(writer.constant(f"{name}.value", np.array(layer.value)))
    writer.flat(name, writer.node("Pad", arguments, f"{name}.out", name, mode=layer.mode), output)


register(
    Pad,
    naive=movement_magnitude,
    symbolic=movement_step,
    lp=MOVEMENT_COLUMNS,
    tightening=MOVEMENT_INPUTS,
    milp=MOVED,
    export=export,
    gradient=MOVEMENT_GRADIENT,
)
