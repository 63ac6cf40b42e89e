"""Hidden activations besides ReLU: the smooth increasing ones (Sigmoid, Tanh, Softplus) and
LeakyReLU (piecewise linear, a binary per split neuron like ReLU).

They are encoded exactly, as nonlinear Pyomo expressions (for SCIP, Ipopt and other NLP or
global solvers); the bound methods relax them by two parallel lines over the box of their
input (``units/smooth.py``). Their role is :attr:`Role.PIECEWISE`: like ReLU they are
written by the block's encoding and relaxed, not read as affine maps, and their outputs are
not bounded tensors of their own (``interval`` gives them exactly: the functions increase).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit

from pyomo_nn.errors import InvalidWeightsError
from pyomo_nn.ir.kinds import ValueWise


@dataclass(frozen=True, eq=False)
class _Smooth(ValueWise):
    """``y = f(x)`` value by value, for an increasing smooth ``f``."""

    #: The ONNX operator and the name used in stats and messages.
    op: ClassVar[str] = ""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.function(x)

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.function(lower), self.function(upper)

    @staticmethod
    def function(x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def derivative(x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def where_slope(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (at most two) points where ``f' = k`` (NaN where there is none)."""
        raise NotImplementedError


def _logit(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p) - np.log1p(-p)


@dataclass(frozen=True, eq=False)
class Sigmoid(_Smooth):
    """``1 / (1 + exp(-x))``, ONNX Sigmoid in a hidden layer (a final one stays a marker)."""

    op: ClassVar[str] = "Sigmoid"

    @staticmethod
    def function(x: np.ndarray) -> np.ndarray:
        return expit(x)

    @staticmethod
    def derivative(x: np.ndarray) -> np.ndarray:
        s = expit(x)
        return s * (1 - s)

    @staticmethod
    def where_slope(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore"):
            root = np.sqrt(1 - 4 * k)
        return _logit((1 - root) / 2), _logit((1 + root) / 2)


@dataclass(frozen=True, eq=False)
class Tanh(_Smooth):
    """``tanh(x)``, ONNX Tanh."""

    op: ClassVar[str] = "Tanh"

    @staticmethod
    def function(x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    @staticmethod
    def derivative(x: np.ndarray) -> np.ndarray:
        return 1 - np.tanh(x) ** 2

    @staticmethod
    def where_slope(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.sqrt(1 - k)
            return -np.arctanh(t), np.arctanh(t)


@dataclass(frozen=True, eq=False)
class Softplus(_Smooth):
    """``log(1 + exp(x))``, ONNX Softplus."""

    op: ClassVar[str] = "Softplus"

    @staticmethod
    def function(x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, x)

    @staticmethod
    def derivative(x: np.ndarray) -> np.ndarray:
        return expit(x)

    @staticmethod
    def where_slope(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = _logit(k)
        return x, np.full_like(x, np.nan)


#: The smooth kinds, by ONNX operator.
SMOOTH_KINDS: dict[str, type[_Smooth]] = {kind.op: kind for kind in (Sigmoid, Tanh, Softplus)}


@dataclass(frozen=True, eq=False)
class LeakyReLU(ValueWise):
    """``max(x, alpha x)`` for ``0 <= alpha <= 1`` (ONNX LeakyRelu; ``alpha = 0`` is a ReLU):
    piecewise linear and increasing, encoded like ReLU with one binary per split neuron."""

    alpha: float = 0.01

    def __post_init__(self) -> None:
        if not (np.isfinite(self.alpha) and 0.0 <= self.alpha <= 1.0):
            raise InvalidWeightsError(
                f"LeakyReLU {self.name!r}: alpha {self.alpha!r} outside [0, 1] (then max(x, alpha x) is "
                "not the function; such a slope is not supported)"
            )

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, self.alpha * x)

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.forward(lower), self.forward(upper)
