"""Linear functions of a network's outputs, written as users write them: ``c @ y + d``,
``y[3] - y[5]``. :func:`outputs` gives the ``y``; anything that is not linear in it is an
error (branch and bound bounds linear functions only)."""

from __future__ import annotations

from numbers import Real

import numpy as np

from pyomo_nn.errors import InvalidArgumentError
from pyomo_nn.ir import Network


class LinearOutputs:
    """``coefficients @ y + offset`` for rows of coefficients over the ``size`` outputs
    (one row: a scalar function; ``y`` itself: the identity rows)."""

    __array_ufunc__ = None  # so that ``numpy_array @ y`` calls __rmatmul__

    def __init__(self, coefficients: np.ndarray, offset: np.ndarray) -> None:
        self.coefficients = np.atleast_2d(np.asarray(coefficients, dtype=np.float64))
        self.offset = np.atleast_1d(np.asarray(offset, dtype=np.float64))

    @property
    def size(self) -> int:
        return self.coefficients.shape[1]

    def is_scalar(self) -> bool:
        return self.coefficients.shape[0] == 1

    def __getitem__(self, index: int) -> LinearOutputs:
        return LinearOutputs(self.coefficients[index], self.offset[index])

    def __rmatmul__(self, weights: object) -> LinearOutputs:
        w = np.asarray(weights, dtype=np.float64)
        return LinearOutputs(w @ self.coefficients, w @ self.offset)

    def __add__(self, other: object) -> LinearOutputs:
        if isinstance(other, LinearOutputs):
            return LinearOutputs(self.coefficients + other.coefficients, self.offset + other.offset)
        return LinearOutputs(self.coefficients, self.offset + _constant(other))

    __radd__ = __add__

    def __neg__(self) -> LinearOutputs:
        return LinearOutputs(-self.coefficients, -self.offset)

    def __sub__(self, other: object) -> LinearOutputs:
        return self + (-other if isinstance(other, LinearOutputs) else -_constant(other))

    def __rsub__(self, other: object) -> LinearOutputs:
        return -self + other

    def __mul__(self, other: object) -> LinearOutputs:
        factor = _constant(other, "multiplied by")
        return LinearOutputs(self.coefficients * factor, self.offset * factor)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> LinearOutputs:
        return self * (1.0 / _constant(other, "divided by"))

    def __repr__(self) -> str:
        return f"LinearOutputs(rows={self.coefficients.shape[0]}, outputs={self.size})"


def outputs(network: Network) -> LinearOutputs:
    """The outputs ``y`` of ``network`` as a vector to write objectives with."""
    size = network.output_size
    return LinearOutputs(np.eye(size), np.zeros(size))


def _constant(value: object, how: str = "added to") -> float:
    if isinstance(value, LinearOutputs):
        raise InvalidArgumentError(
            f"an objective of outputs {how} outputs is not linear; branch and bound takes linear "
            "functions of the outputs (c @ y + d)"
        )
    if not isinstance(value, Real | np.floating | np.integer) or not np.isfinite(float(value)):
        raise InvalidArgumentError(f"objective terms must be finite numbers, got {value!r}")
    return float(value)
