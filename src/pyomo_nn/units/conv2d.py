"""Conv2d, ONNX Conv (2-D, and 1-D as H = 1): an affine kind whose map is a sparse matrix of
the kernel's non-zero terms."""

from __future__ import annotations

from pyomo_nn.blocks.network_block import AffineStage
from pyomo_nn.bounds.naive import affine_magnitude
from pyomo_nn.bounds.relaxation import AFFINE_ROWS
from pyomo_nn.bounds.symbolic import affine_step
from pyomo_nn.bounds.tightening import AFFINE_INPUTS
from pyomo_nn.exporters.onnx_exporter import GraphWriter, window_attributes
from pyomo_nn.ir import Conv2d
from pyomo_nn.ir.gradients import AFFINE_GRADIENT
from pyomo_nn.units.stages import register


def export(writer: GraphWriter, layer: Conv2d, inputs: list[str], output: str) -> None:
    """Reshape to (batch, C, H, W), Conv, Flatten."""
    name = layer.name
    image = writer.tensor(name, inputs[0], layer.input_shape)
    weight = writer.constant(f"{name}.weight", layer.weight)
    bias = writer.constant(f"{name}.bias", layer.bias)
    result = writer.node(
        "Conv", [image, weight, bias], f"{name}.out", name, group=layer.groups, **window_attributes(layer)
    )
    writer.flat(name, result, output)


register(
    Conv2d,
    naive=affine_magnitude,
    symbolic=affine_step,
    lp=AFFINE_ROWS,
    tightening=AFFINE_INPUTS,
    milp=AffineStage("conv"),
    export=export,
    gradient=AFFINE_GRADIENT,
    pruned_weights="weight",
)
