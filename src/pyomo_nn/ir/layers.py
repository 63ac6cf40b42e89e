"""Layer types of the network IR: plain numpy data that can evaluate itself.

Every layer works on flat per-sample vectors in C order (batch first), so reshapes and
flattens of the source graph leave the data untouched and need no layer of their own.
Each layer evaluates numbers (``forward``) and propagates boxes (``interval``); the Pyomo
encoding of a layer lives in :mod:`pyomo_nn.blocks`, the bound methods in
:mod:`pyomo_nn.bounds`. Keeping evaluation here makes every cross-check cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import InvalidWeightsError, ShapeMismatchError


@dataclass(frozen=True, eq=False)
class Dense:
    """Affine layer ``y = W x + b`` with ``weight`` of shape (out, in) and ``bias`` (out,)."""

    name: str
    input: str
    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        weight = np.asarray(self.weight, dtype=np.float64)
        bias = np.asarray(self.bias, dtype=np.float64)
        if weight.ndim != 2:
            raise ShapeMismatchError(
                f"layer {self.name!r}: weight must be a 2-D (out, in) matrix, got shape {weight.shape}"
            )
        if bias.shape != (weight.shape[0],):
            raise ShapeMismatchError(
                f"layer {self.name!r}: bias shape {bias.shape} does not match the weight's "
                f"{weight.shape[0]} outputs"
            )
        for label, array in (("weight", weight), ("bias", bias)):
            if not np.all(np.isfinite(array)):
                bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
                raise InvalidWeightsError(
                    f"layer {self.name!r}: {bad} {label} entries are NaN or infinite; "
                    "retrain or repair the network before encoding it"
                )
        weight.setflags(write=False)
        bias.setflags(write=False)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "bias", bias)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def in_features(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])

    def output_size(self, input_size: int) -> int:
        if input_size != self.in_features:
            raise ShapeMismatchError(
                f"layer {self.name!r} expects {self.in_features} inputs but its input "
                f"{self.input!r} has {input_size}"
            )
        return self.out_features

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Batched evaluation: ``x`` has shape (batch, in)."""
        return x @ self.weight.T + self.bias

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact interval image of the box [lower, upper] (centre/radius form)."""
        centre = (upper + lower) / 2.0
        radius = (upper - lower) / 2.0
        mid = self.weight @ centre + self.bias
        spread = np.abs(self.weight) @ radius
        return mid - spread, mid + spread


@dataclass(frozen=True, eq=False)
class ReLU:
    """Element-wise ``max(0, x)``."""

    name: str
    input: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def output_size(self, input_size: int) -> int:
        return input_size

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(lower, 0.0), np.maximum(upper, 0.0)


Layer = Dense | ReLU
