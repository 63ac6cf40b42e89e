"""Elementwise, ``y = scale * x + shift`` (an unfolded BatchNormalization or normalisation):
an affine kind with a diagonal sparse map."""

from __future__ import annotations

from pyomo_nn.blocks.network_block import AffineStage
from pyomo_nn.bounds.naive import affine_magnitude
from pyomo_nn.bounds.relaxation import AFFINE_ROWS
from pyomo_nn.bounds.symbolic import affine_step
from pyomo_nn.bounds.tightening import AFFINE_INPUTS
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Elementwise
from pyomo_nn.ir.gradients import AFFINE_GRADIENT
from pyomo_nn.units.stages import register


def export(writer: GraphWriter, layer: Elementwise, inputs: list[str], output: str) -> None:
    """Mul by the scale, then Add the shift."""
    name = layer.name
    scaled = writer.node(
        "Mul", [inputs[0], writer.constant(f"{name}.scale", layer.scale)], f"{name}.scaled", f"{name}_mul"
    )
    writer.node("Add", [scaled, writer.constant(f"{name}.shift", layer.shift)], output, name)


register(
    Elementwise,
    naive=affine_magnitude,
    symbolic=affine_step,
    lp=AFFINE_ROWS,
    tightening=AFFINE_INPUTS,
    milp=AffineStage("scale"),
    export=export,
    gradient=AFFINE_GRADIENT,
)
