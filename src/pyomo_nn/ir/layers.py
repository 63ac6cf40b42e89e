"""Layer types of the network IR: plain numpy data that can evaluate itself.

Every layer works on flat per-sample vectors in C order (batch first), so reshapes and
flattens of the source graph leave the data untouched and need no layer of their own;
layers that need a tensor's shape (convolutions, pooling, transposes) carry it. Each layer
evaluates numbers (``forward``) and propagates boxes (``interval``) and declares its
:class:`~pyomo_nn.ir.kinds.Role`; what the later stages do with a kind (bounds, LP rows, the
Pyomo encoding, the export) is registered in its unit, :mod:`pyomo_nn.units`. Keeping
evaluation here makes every cross-check cheap.

*Affine* layers (:class:`AffineLayer`) compute ``sum_k M_k x_k + offset`` over their inputs
``x_k``; ``linear_maps()`` gives the matrices ``M_k`` (dense for ``Dense``, sparse otherwise)
and ``offset`` the constant. Their outputs are the tensors the bound engine bounds.
*Data-movement* layers (:class:`MovementLayer`: Concat, Transpose, Slice, Pad) copy values:
``gather(*input_sizes)`` says which.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from pyomo_nn.errors import ShapeMismatchError
from pyomo_nn.ir.checks import check_input_size, frozen_weights
from pyomo_nn.ir.kinds import Role, ValueWise
from pyomo_nn.ir.sparse import SparseMatrix


@dataclass(frozen=True, eq=False)
class Dense:
    """Affine layer ``y = W x + b`` with ``weight`` of shape (out, in) and ``bias`` (out,)."""

    role: ClassVar[Role] = Role.AFFINE

    name: str
    input: str
    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        weight = np.asarray(self.weight)
        bias = np.asarray(self.bias)
        if weight.ndim != 2:
            raise ShapeMismatchError(
                f"layer {self.name!r}: weight must be a 2-D (out, in) matrix, got shape {weight.shape}"
            )
        if bias.shape != (weight.shape[0],):
            raise ShapeMismatchError(
                f"layer {self.name!r}: bias shape {bias.shape} does not match the weight's "
                f"{weight.shape[0]} outputs"
            )
        object.__setattr__(self, "weight", frozen_weights(self.name, "weight", weight))
        object.__setattr__(self, "bias", frozen_weights(self.name, "bias", bias))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def in_features(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])

    @property
    def offset(self) -> np.ndarray:
        return self.bias

    def linear_maps(self) -> tuple[np.ndarray]:
        return (self.weight,)

    def output_size(self, input_size: int) -> int:
        check_input_size(self.name, self.input, self.in_features, input_size)
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

    def with_output_scaled(self, scale: np.ndarray, shift: np.ndarray) -> Dense:
        """This layer followed by ``y -> scale * y + shift`` (see :mod:`pyomo_nn.ir.fold`)."""
        return dataclasses.replace(self, weight=self.weight * scale[:, None], bias=self.bias * scale + shift)


@dataclass(frozen=True, eq=False)
class Elementwise:
    """``y = scale * x + shift`` value by value: an unfolded BatchNormalization, an input
    normalisation, a Mul/Add by constants that no neighbouring layer could absorb."""

    role: ClassVar[Role] = Role.AFFINE

    name: str
    input: str
    scale: np.ndarray
    shift: np.ndarray

    def __post_init__(self) -> None:
        scale = frozen_weights(self.name, "scale", np.ravel(self.scale))
        shift = frozen_weights(self.name, "shift", np.ravel(self.shift))
        if scale.shape != shift.shape:
            raise ShapeMismatchError(
                f"layer {self.name!r}: {scale.size} scale factors but {shift.size} shifts"
            )
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "shift", shift)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def offset(self) -> np.ndarray:
        return self.shift

    @cached_property
    def matrix(self) -> SparseMatrix:
        return SparseMatrix.diagonal(self.scale)

    def linear_maps(self) -> tuple[SparseMatrix]:
        return (self.matrix,)

    def output_size(self, input_size: int) -> int:
        check_input_size(self.name, self.input, self.scale.size, input_size)
        return self.scale.size

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.shift

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        low, high = lower * self.scale, upper * self.scale
        return np.minimum(low, high) + self.shift, np.maximum(low, high) + self.shift


@dataclass(frozen=True, eq=False)
class ReLU(ValueWise):
    """Element-wise ``max(0, x)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(lower, 0.0), np.maximum(upper, 0.0)


@runtime_checkable
class Layer(Protocol):
    """What every layer kind offers: its name, the tensors it reads, its role, and its numpy
    evaluation (the kinds: ``pyomo_nn.units.KINDS``)."""

    role: ClassVar[Role]

    @property
    def name(self) -> str: ...

    @property
    def inputs(self) -> tuple[str, ...]: ...

    def output_size(self, *input_sizes: int) -> int: ...

    def forward(self, *xs: np.ndarray) -> np.ndarray: ...

    def interval(self, *bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class AffineLayer(Layer, Protocol):
    """A layer of role ``AFFINE`` (Dense, Elementwise, Conv2d, AvgPool2d, Add): its output is
    ``sum_k linear_maps()[k] @ x_k + offset``."""

    @property
    def offset(self) -> np.ndarray: ...

    def linear_maps(self) -> tuple[np.ndarray | SparseMatrix, ...]: ...


class PiecewiseLayer(Layer, Protocol):
    """A layer of role ``PIECEWISE`` (ReLU, MaxPool2d): binaries in a MILP."""


@runtime_checkable
class MovementLayer(Layer, Protocol):
    """A layer of role ``MOVEMENT`` (Concat, Transpose, Slice, Pad): output value ``j`` is value
    ``gather(*input_sizes)[j]`` of its inputs one after another, or ``fill`` where that is -1."""

    @property
    def fill(self) -> float: ...

    def gather(self, *input_sizes: int) -> np.ndarray: ...


def interval_image(
    layer: Layer, boxes: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """The layer's interval image of the boxes of its input tensors (``boxes`` by tensor name)."""
    return layer.interval(*chain.from_iterable(boxes[name] for name in layer.inputs))
