"""Input domains: the region of inputs a question is asked over.

A domain knows per-input lower/upper bounds (``box(n)``); the network block uses them as
variable bounds and the bound engine as its starting box.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import ArrayLike

from pyomo_nn.errors import (
    EmptyDomainError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    ShapeMismatchError,
)


class InputDomain(ABC):
    """A set of network inputs described by (at least) a bounding box."""

    @abstractmethod
    def box(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-input (lower, upper) arrays of length ``size``, flat C order."""


def _fit(values: np.ndarray, size: int, label: str) -> np.ndarray:
    if values.size == 1:
        return np.full(size, float(values.ravel()[0]))
    if values.size != size:
        raise ShapeMismatchError(
            f"the domain's {label} has {values.size} values but the network has {size} inputs"
        )
    return values.ravel().astype(np.float64)


def _floats(values: ArrayLike, label: str) -> np.ndarray:
    """``values`` as a float array, or a typed error naming the argument."""
    message = f"{label} must be a number or an array of numbers, got {_short(values)}"
    if values is None:
        raise InvalidArgumentTypeError(message)
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidArgumentTypeError(message) from error


def _scalar(value: object, label: str) -> float:
    """A single real number, or a typed error naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidArgumentTypeError(f"{label} must be a single number, got {_short(value)}")
    return float(value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_nonempty(lower: np.ndarray, upper: np.ndarray, what: str) -> None:
    empty = np.flatnonzero(lower > upper)
    if empty.size:
        i = int(empty[0])
        raise EmptyDomainError(
            f"{what} is empty: {empty.size} inputs have lower > upper (first: input {i}, "
            f"lower {lower.flat[i]:g} > upper {upper.flat[i]:g}); widen the bounds"
        )
    if np.any(np.isnan(lower)) or np.any(np.isnan(upper)):
        raise EmptyDomainError(f"{what} has NaN bounds")


class Box(InputDomain):
    """``lower <= x <= upper`` element-wise; scalars apply to every input."""

    def __init__(self, lower: ArrayLike, upper: ArrayLike) -> None:
        self.lower = _floats(lower, "Box lower")
        self.upper = _floats(upper, "Box upper")
        if self.lower.size != 1 and self.upper.size != 1 and self.lower.size != self.upper.size:
            raise ShapeMismatchError(
                f"Box lower has {self.lower.size} values but upper has {self.upper.size}"
            )
        _check_nonempty(*np.broadcast_arrays(self.lower.ravel(), self.upper.ravel()), "Box")

    def box(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        return _fit(self.lower, size, "lower bound"), _fit(self.upper, size, "upper bound")

    def __repr__(self) -> str:
        return f"Box(lower={_describe(self.lower)}, upper={_describe(self.upper)})"


class LinfBall(InputDomain):
    """``||x - x0||_inf <= eps`` intersected with ``[lower, upper]`` (the thesis' "simple" region)."""

    def __init__(
        self, x0: ArrayLike, eps: float, lower: ArrayLike = -np.inf, upper: ArrayLike = np.inf
    ) -> None:
        eps = _scalar(eps, "LinfBall radius eps")
        if not np.isfinite(eps) or eps < 0:
            raise EmptyDomainError(f"LinfBall radius eps must be finite and >= 0, got {eps}")
        self.x0 = _floats(x0, "LinfBall centre x0").ravel()
        self.eps = eps
        self.lower = _floats(lower, "LinfBall lower")
        self.upper = _floats(upper, "LinfBall upper")
        self.box(self.x0.size)

    def box(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if self.x0.size != size:
            raise ShapeMismatchError(
                f"LinfBall centre has {self.x0.size} values but the network has {size} inputs"
            )
        lower = np.maximum(self.x0 - self.eps, _fit(self.lower, size, "lower bound"))
        upper = np.minimum(self.x0 + self.eps, _fit(self.upper, size, "upper bound"))
        _check_nonempty(lower, upper, f"LinfBall(eps={self.eps:g}) clipped to [lower, upper]")
        return lower, upper

    def __repr__(self) -> str:
        return (
            f"LinfBall(x0=<{self.x0.size} values>, eps={self.eps:g}, lower={_describe(self.lower)}, "
            f"upper={_describe(self.upper)})"
        )


def _describe(values: np.ndarray) -> str:
    return f"{float(values.ravel()[0]):g}" if values.size == 1 else f"<{values.size} values>"


class Neighbourhood(InputDomain):
    """The thesis' "neighbours" region around an image (section 3.2.1).

    Each pixel's bounds come from the mean ``m`` of its ``(2r+1) x (2r+1)`` window around
    ``x0`` (zero padded): ``[(1 - eps) m, min(upper, (1 + eps) m)]`` (ends swapped for a
    negative mean); a pixel whose window is all zero is fixed at exactly 0. Thesis values:
    ``radius=2``, ``eps=0.18`` (ch. 3) or 0.05 (ch. 4). ``x0`` is a 2-D image, or flat with
    ``shape=(height, width)`` (a flat square image needs no shape).
    """

    def __init__(
        self,
        x0: ArrayLike,
        eps: float,
        radius: int = 2,
        shape: tuple[int, int] | None = None,
        upper: float = 1.0,
    ) -> None:
        image = _floats(x0, "Neighbourhood image x0")
        eps = _scalar(eps, "Neighbourhood eps")
        radius = _window_radius(radius)
        if image.ndim != 2:
            side = round(float(np.sqrt(image.size)))
            shape = shape or ((side, side) if side * side == image.size else None)
            if shape is None or int(np.prod(shape)) != image.size:
                raise ShapeMismatchError(
                    f"Neighbourhood needs a 2-D image or shape=(height, width) matching {image.size} values"
                )
            image = image.reshape(shape)
        if not np.isfinite(eps) or eps < 0 or radius < 0:
            raise EmptyDomainError(
                f"Neighbourhood needs eps >= 0 and radius >= 0, got eps={eps}, radius={radius}"
            )
        self.x0 = image.ravel()
        self.eps = float(eps)
        self.radius = int(radius)
        means = _window_means(image, self.radius)
        means[_window_means((image != 0).astype(float), self.radius) == 0] = 0.0
        if np.all(image >= 0):
            means = np.maximum(means, 0.0)
        means = means.ravel()
        self.lower = np.minimum((1.0 - self.eps) * means, (1.0 + self.eps) * means)
        self.upper = np.minimum(
            _scalar(upper, "Neighbourhood upper"),
            np.maximum((1.0 - self.eps) * means, (1.0 + self.eps) * means),
        )
        _check_nonempty(self.lower, self.upper, "Neighbourhood (is upper below the pixel means?)")

    def box(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if size != self.x0.size:
            raise ShapeMismatchError(
                f"Neighbourhood image has {self.x0.size} pixels but the network has {size} inputs"
            )
        return self.lower.copy(), self.upper.copy()

    def __repr__(self) -> str:
        return f"Neighbourhood(x0=<{self.x0.size} values>, eps={self.eps:g}, radius={self.radius})"


def _window_radius(radius: object) -> int:
    """The window radius as an int; refuses fractions and non-numbers."""
    value = _scalar(radius, "Neighbourhood radius")
    if not value.is_integer():
        raise InvalidArgumentError(f"Neighbourhood radius must be a whole number of pixels, got {radius}")
    return int(value)


def _window_means(image: np.ndarray, radius: int) -> np.ndarray:
    """Mean over the (2r+1)^2 window around each pixel, zero padded (summed-area table)."""
    size = 2 * radius + 1
    table = np.zeros((image.shape[0] + 2 * radius + 1, image.shape[1] + 2 * radius + 1))
    table[1:, 1:] = np.pad(image, radius).cumsum(axis=0).cumsum(axis=1)
    height, width = image.shape
    total = (
        table[size : size + height, size : size + width]
        - table[:height, size : size + width]
        - table[size : size + height, :width]
        + table[:height, :width]
    )
    return total / size**2
