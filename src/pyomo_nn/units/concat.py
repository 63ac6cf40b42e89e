"""Concat on the channel axis: a data-movement kind (the inputs' values one after another)."""

from __future__ import annotations

from pyomo_nn.blocks.network_block import MOVED
from pyomo_nn.bounds.naive import movement_magnitude
from pyomo_nn.bounds.relaxation import MOVEMENT_COLUMNS
from pyomo_nn.bounds.symbolic import movement_step
from pyomo_nn.bounds.tightening import MOVEMENT_INPUTS
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Concat
from pyomo_nn.units.stages import register
from pyomo_nn.vnnlib.attack import MOVEMENT_GRADIENT


def export(writer: GraphWriter, layer: Concat, inputs: list[str], output: str) -> None:
    """Concat of the flat tensors on axis 1 (the channel axis of C-order tensors)."""
    writer.node("Concat", inputs, output, layer.name, axis=1)


register(
    Concat,
    naive=movement_magnitude,
    symbolic=movement_step,
    lp=MOVEMENT_COLUMNS,
    tightening=MOVEMENT_INPUTS,
    milp=MOVED,
    export=export,
    gradient=MOVEMENT_GRADIENT,
)
