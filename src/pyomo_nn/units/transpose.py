"""Transpose, a permutation of the axes of a per-sample tensor (tf2onnx writes one around
every Conv to switch between NHWC and NCHW): a data-movement kind."""

from __future__ import annotations

from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Transpose
from pyomo_nn.units.data_movement import register_movement


def export(writer: GraphWriter, layer: Transpose, inputs: list[str], output: str) -> None:
    """Reshape to (batch, *input_shape), Transpose (the batch axis stays first), Flatten."""
    tensor = writer.tensor(layer.name, inputs[0], layer.input_shape)
    perm = [0, *(axis + 1 for axis in layer.perm)]
    writer.flat(
        layer.name, writer.node("Transpose", [tensor], f"{layer.name}.out", layer.name, perm=perm), output
    )


register_movement(Transpose, export)
