"""Pad (constant, edge or reflect) of a per-sample tensor, e.g. before a Conv or a pooling
layer: a data-movement kind whose padded values are a constant (a fixed variable in a MILP)
or copies of input values."""

from __future__ import annotations

import numpy as np

from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Pad
from pyomo_nn.units.data_movement import register_movement


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


register_movement(Pad, export)
