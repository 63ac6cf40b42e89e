"""Concat on the channel axis: a data-movement kind (the inputs' values one after another)."""

from __future__ import annotations

from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Concat
from pyomo_nn.units.data_movement import register_movement


def export(writer: GraphWriter, layer: Concat, inputs: list[str], output: str) -> None:
    """Concat of the flat tensors on axis 1 (the channel axis of C-order tensors)."""
    writer.node("Concat", inputs, output, layer.name, axis=1)


register_movement(Concat, export)
