"""Dense, ``y = W x + b`` (ONNX Gemm): an affine kind, every stage but alpha and export generic."""

from __future__ import annotations

import numpy as np

from pyomo_nn.blocks.network_block import AffineStage
from pyomo_nn.bounds.naive import affine_magnitude
from pyomo_nn.bounds.relaxation import AFFINE_ROWS
from pyomo_nn.bounds.symbolic import affine_step
from pyomo_nn.bounds.tightening import AFFINE_INPUTS
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Dense
from pyomo_nn.ir.gradients import AFFINE_GRADIENT
from pyomo_nn.units.stages import register


class DenseAlpha:
    """alpha-CROWN's view of a Dense layer: exact, ``C y = (C W) x + C b``."""

    def relaxation(self, lower: np.ndarray, upper: np.ndarray, rows: int) -> None:
        return None

    def target_rows(self, layer: Dense, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return layer.weight[rows], layer.bias[rows]

    def backward(
        self, layer: Dense, current: np.ndarray, relaxation: None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, None]:
        return current @ layer.weight, current @ layer.bias, np.abs(current) @ np.abs(layer.bias), None

    def forward(
        self, layer: Dense, gradient: np.ndarray, before: np.ndarray, saved: None, relaxation: None
    ) -> tuple[np.ndarray, None]:
        return gradient @ layer.weight.T + layer.bias, None


def export(writer: GraphWriter, layer: Dense, inputs: list[str], output: str) -> None:
    """Gemm with the (out, in) weight transposed."""
    weight = writer.constant(f"{layer.name}.weight", layer.weight)
    bias = writer.constant(f"{layer.name}.bias", layer.bias)
    writer.node("Gemm", [inputs[0], weight, bias], output, layer.name, transB=1)


register(
    Dense,
    naive=affine_magnitude,
    symbolic=affine_step,
    alpha=DenseAlpha(),
    lp=AFFINE_ROWS,
    tightening=AFFINE_INPUTS,
    milp=AffineStage("dense"),
    export=export,
    gradient=AFFINE_GRADIENT,
    pruned_weights="weight",
)
