"""The network a MIP trains: :class:`BinarizedMLP`, and the checks of the training data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import InvalidArgumentError, TrainingDataError

ACTIVATIONS = ("sign", "step")


@dataclass(frozen=True)
class BinarizedMLP:
    """A multilayer perceptron with integer weights and a binary activation.

    ``hidden``: the sizes of the hidden layers (each >= 1). ``weights``: the integer values a
    weight (and, scaled, a bias) may take, e.g. ``(-1, 0, 1)`` (a binarised net with sparsity) or
    ``(-1, 1)``. ``activation``: ``"sign"`` (a hidden neuron is +1 if its pre-activation is
    >= 0, else -1) or ``"step"`` (1 or 0). ``bias``: whether the layers have integer biases,
    ranging over whatever a pre-activation can reach (``bias_bound`` caps them).
    ``real_weights=True``: the weights and biases are real numbers instead, ``weights`` giving
    their interval (e.g. ``(-1, 1)``); the hidden neurons stay binary (a binary net with real
    weights, Aftabi et al.), the MIP's only integers are the activations.
    The output layer is affine; the predicted class is the argmax of its scores (first on ties).
    """

    hidden: tuple[int, ...] = (16,)
    weights: tuple[int, ...] = (-1, 0, 1)
    activation: str = "sign"
    bias: bool = True
    bias_bound: int | None = None
    real_weights: bool = False

    def __post_init__(self) -> None:
        hidden = tuple(self.hidden) if not isinstance(self.hidden, int) else (self.hidden,)
        if not hidden or any(int(h) != h or h < 1 for h in hidden):
            raise InvalidArgumentError(
                f"hidden={self.hidden!r}: every hidden layer needs at least one neuron (a tuple of "
                "positive integers such as (16,))"
            )
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        try:
            values = tuple(self.weights)
        except TypeError:
            raise InvalidArgumentError(
                f"weights={self.weights!r}: a tuple of values such as (-1, 0, 1)"
            ) from None
        if self.real_weights:
            try:
                ends = tuple(float(v) for v in values)
            except (TypeError, ValueError):
                ends = ()
            if len(ends) != 2 or not all(np.isfinite(ends)) or not ends[0] < ends[1]:
                raise InvalidArgumentError(
                    f"weights={self.weights!r}: with real_weights=True give the interval (low, high), "
                    "low < high, both finite"
                )
            object.__setattr__(self, "weights", ends)
            self._check_rest()
            return
        if len(values) < 2:
            raise InvalidArgumentError(f"weights={self.weights!r}: give at least two integer values")
        for v in values:
            if isinstance(v, bool) or not float(v).is_integer():
                raise InvalidArgumentError(
                    f"weights={self.weights!r}: the weight set must be integers (e.g. (-1, 0, 1)); "
                    f"{v!r} is not"
                )
        values = tuple(sorted({int(v) for v in values}))
        if len(values) < 2:
            raise InvalidArgumentError(f"weights={self.weights!r}: give at least two different values")
        object.__setattr__(self, "weights", values)
        self._check_rest()

    def _check_rest(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise InvalidArgumentError(
                f"activation={self.activation!r}: choose one of {', '.join(ACTIVATIONS)}"
            )
        if self.bias_bound is not None and (int(self.bias_bound) != self.bias_bound or self.bias_bound < 0):
            raise InvalidArgumentError(f"bias_bound={self.bias_bound!r}: a non-negative integer or None")

    @property
    def integer_weights(self) -> bool:
        """Whether weights and biases are integers (else real, ``real_weights=True``)."""
        return not self.real_weights

    @property
    def contiguous(self) -> bool:
        """Whether the weight set is every integer between its ends, or an interval of reals
        (one variable per weight; otherwise one binary per weight and value)."""
        return self.real_weights or len(self.weights) == self.weights[-1] - self.weights[0] + 1

    @property
    def activation_values(self) -> tuple[int, int]:
        """The (off, on) values of a hidden neuron."""
        return (-1, 1) if self.activation == "sign" else (0, 1)


def check_features(X: object, width: int | None = None, name: str = "X") -> np.ndarray:
    """``X`` as a float (samples, features) array; NaN, infinite or wrong width is an error."""
    try:
        array = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TrainingDataError(f"{name}: not a numeric array ({exc})") from None
    if array.ndim == 1 and width is not None and array.size == width:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] == 0:
        raise TrainingDataError(f"{name}: expected a (samples, features) array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise TrainingDataError(f"{name}: contains NaN or infinite values")
    if width is not None and array.shape[1] != width:
        raise TrainingDataError(f"{name}: rows of {array.shape[1]} features, the network takes {width}")
    return array


def check_labels(y: object, n: int, classes: object | None) -> tuple[np.ndarray, np.ndarray]:
    """Labels as class indices and the classes; labels outside ``classes`` are an error."""
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise TrainingDataError(f"y: expected {n} labels (one per row of X), got shape {labels.shape}")
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise TrainingDataError("y: labels must be integers")
        labels = labels.astype(int)
    if labels.dtype.kind not in "iu":
        raise TrainingDataError(f"y: labels must be integers, got dtype {labels.dtype}")
    known = np.unique(labels) if classes is None else np.asarray(list(classes))
    if known.ndim != 1 or known.size < 2 or len(set(known.tolist())) != known.size:
        raise TrainingDataError(f"classes: need at least two different classes, got {known.tolist()}")
    outside = sorted(set(labels.tolist()) - set(known.tolist()))
    if outside:
        raise TrainingDataError(f"y: labels {outside[:5]} are outside the classes {known.tolist()}")
    index = {c: i for i, c in enumerate(known.tolist())}
    return np.array([index[c] for c in labels.tolist()], dtype=int), known


def classification_accuracy(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: object) -> float:
    """Fraction of the rows of ``X`` that ``predict`` labels as ``y`` (one label per row)."""
    labels = np.asarray(y)
    if labels.shape != (X.shape[0],):
        raise TrainingDataError(f"y: expected {X.shape[0]} labels, got shape {labels.shape}")
    return float(np.mean(predict(X) == labels))
