"""Layers that read several tensors: ``Add`` (skip connections) and ``Concat`` (on channels)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from pyomo_nn.errors import ShapeMismatchError
from pyomo_nn.ir.kinds import Role
from pyomo_nn.ir.sparse import SparseMatrix


def _check_inputs(name: str, inputs: tuple[str, ...]) -> tuple[str, ...]:
    inputs = tuple(inputs)
    if len(inputs) < 2:
        raise ShapeMismatchError(f"layer {name!r} needs at least two inputs, got {inputs}")
    return inputs


@dataclass(frozen=True, eq=False)
class Add:
    """Element-wise sum of tensors of ``size`` values each, e.g. a residual block's ``x + f(x)``."""

    role: ClassVar[Role] = Role.AFFINE

    name: str
    inputs: tuple[str, ...]
    size: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _check_inputs(self.name, self.inputs))
        object.__setattr__(self, "size", int(self.size))

    def output_size(self, *input_sizes: int) -> int:
        if any(size != self.size for size in input_sizes):
            sizes = dict(zip(self.inputs, input_sizes, strict=True))
            raise ShapeMismatchError(
                f"layer {self.name!r} adds {self.size} values per input but its inputs have sizes {sizes}"
            )
        return self.size

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return sum(xs[1:], start=xs[0])

    def interval(self, *bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact; ``bounds`` = (lower_0, upper_0, lower_1, upper_1, ...)."""
        return sum(bounds[2::2], start=bounds[0]), sum(bounds[3::2], start=bounds[1])

    @cached_property
    def offset(self) -> np.ndarray:
        return np.zeros(self.size)

    def linear_maps(self) -> tuple[SparseMatrix, ...]:
        identity = SparseMatrix.identity(self.size)
        return tuple(identity for _ in self.inputs)


@dataclass(frozen=True, eq=False)
class Concat:
    """Tensors joined along the channel axis: for flat per-sample vectors in C order, the
    vectors one after another."""

    role: ClassVar[Role] = Role.MOVEMENT
    fill: ClassVar[float] = 0.0

    name: str
    inputs: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _check_inputs(self.name, self.inputs))

    def output_size(self, *input_sizes: int) -> int:
        return sum(input_sizes)

    def gather(self, *input_sizes: int) -> np.ndarray:
        """Every input value once, in order (a data-movement layer, see :mod:`pyomo_nn.ir.movement`)."""
        return np.arange(sum(input_sizes))

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return np.concatenate(xs, axis=1)

    def interval(self, *bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``bounds`` = (lower_0, upper_0, lower_1, upper_1, ...)."""
        return np.concatenate(bounds[0::2]), np.concatenate(bounds[1::2])
