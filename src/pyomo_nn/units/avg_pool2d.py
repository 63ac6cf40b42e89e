"""AvgPool2d, ONNX AveragePool / GlobalAveragePool (and ReduceMean over the spatial axes): an
affine kind, the mean of each window as a sparse matrix."""

from __future__ import annotations

from pyomo_nn.blocks.network_block import AffineStage
from pyomo_nn.bounds.naive import affine_magnitude
from pyomo_nn.bounds.relaxation import AFFINE_ROWS
from pyomo_nn.bounds.symbolic import affine_step
from pyomo_nn.bounds.tightening import AFFINE_INPUTS
from pyomo_nn.exporters.onnx_exporter import DILATED_AVERAGE_POOL_OPSET, GraphWriter, window_attributes
from pyomo_nn.ir import AvgPool2d
from pyomo_nn.ir.gradients import AFFINE_GRADIENT
from pyomo_nn.units.stages import register


def export(writer: GraphWriter, layer: AvgPool2d, inputs: list[str], output: str) -> None:
    """Reshape to (batch, C, H, W), AveragePool, Flatten; dilations need opset 19."""
    name = layer.name
    image = writer.tensor(name, inputs[0], layer.input_shape)
    window = window_attributes(layer)
    if layer.dilations == (1, 1):
        del window["dilations"]
    else:
        writer.require_opset(DILATED_AVERAGE_POOL_OPSET)
    result = writer.node(
        "AveragePool",
        [image],
        f"{name}.out",
        name,
        kernel_shape=list(layer.kernel),
        **window,
        count_include_pad=int(layer.count_include_pad),
    )
    writer.flat(name, result, output)


register(
    AvgPool2d,
    naive=affine_magnitude,
    symbolic=affine_step,
    lp=AFFINE_ROWS,
    tightening=AFFINE_INPUTS,
    milp=AffineStage("avgpool"),
    export=export,
    gradient=AFFINE_GRADIENT,
)
