"""``Sign``: ONNX's element-wise sign, -1, 0 or +1 (the activation of binarised networks)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.ir.kinds import ValueWise


@dataclass(frozen=True, eq=False)
class Sign(ValueWise):
    """Element-wise ``sign(x)``: +1 for x > 0, 0 at 0, -1 for x < 0 (ONNX ``Sign``). A
    binarised net's hidden neuron ``+1 if a >= 0 else -1`` is ``Sign(Sign(a) + 0.5)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sign(x)

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact: sign increases, so the image of [l, u] is {sign(l), ..., sign(u)}."""
        return np.sign(lower), np.sign(upper)
