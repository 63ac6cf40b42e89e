"""Add, the sum of two or more tensors (a residual block's ``x + f(x)``): an affine kind with
one identity map per input."""

from __future__ import annotations

from pyomo_nn.blocks.network_block import AffineStage
from pyomo_nn.bounds.naive import affine_magnitude
from pyomo_nn.bounds.relaxation import AFFINE_ROWS
from pyomo_nn.bounds.symbolic import affine_step
from pyomo_nn.bounds.tightening import AFFINE_INPUTS
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Add
from pyomo_nn.ir.gradients import AFFINE_GRADIENT
from pyomo_nn.units.stages import register


def export(writer: GraphWriter, layer: Add, inputs: list[str], output: str) -> None:
    """A chain of two-input Adds."""
    total = inputs[0]
    for k, term in enumerate(inputs[1:], start=1):
        last = k == len(inputs) - 1
        total = writer.node(
            "Add", [total, term], output if last else f"{layer.name}.sum{k}", f"{layer.name}_{k}"
        )


register(
    Add,
    naive=affine_magnitude,
    symbolic=affine_step,
    lp=AFFINE_ROWS,
    tightening=AFFINE_INPUTS,
    milp=AffineStage("add"),
    export=export,
    gradient=AFFINE_GRADIENT,
)
