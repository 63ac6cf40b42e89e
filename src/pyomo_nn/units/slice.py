"""Slice on static ranges (starts, ends, axes, steps known in the file): a data-movement kind."""

from __future__ import annotations

import numpy as np

from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Slice
from pyomo_nn.units.data_movement import register_movement


def export(writer: GraphWriter, layer: Slice, inputs: list[str], output: str) -> None:
    """Reshape to (batch, *input_shape), Slice (axes shifted past the batch axis), Flatten."""
    name = layer.name
    tensor = writer.tensor(name, inputs[0], layer.input_shape)
    ranges = [
        writer.constant(f"{name}.{part}", np.array(values, dtype=np.int64))
        for part, values in (
            ("starts", layer.starts),
            ("ends", layer.ends),
            ("axes", [axis + 1 for axis in layer.axes]),
            ("steps", layer.steps),
        )
    ]
    writer.flat(name, writer.node("Slice", [tensor, *ranges], f"{name}.out", name), output)


register_movement(Slice, export)
