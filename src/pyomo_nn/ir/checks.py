"""Validation shared by the IR layers: finite, bounded, read-only weights; positive integer settings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pyomo_nn.errors import InvalidWeightsError, ShapeMismatchError
from pyomo_nn.tolerances import MAX_ABS_WEIGHT


def frozen_weights(layer: str, label: str, values: np.ndarray) -> np.ndarray:
    """``values`` as a read-only float64 array; NaN, infinite or too large entries are refused."""
    array = np.array(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise InvalidWeightsError(
            f"layer {layer!r}: {bad} {label} entries are NaN or infinite; "
            "retrain or repair the network before encoding it"
        )
    check_magnitude(f"layer {layer!r}", label, array)
    array.setflags(write=False)
    return array


def check_magnitude(where: str, label: str, array: np.ndarray) -> None:
    """Refuse entries beyond :data:`~pyomo_nn.tolerances.MAX_ABS_WEIGHT` (no sound Big-M
    encoding); ``where`` starts the message (e.g. ``layer 'dense_0'``)."""
    if array.size == 0 or np.max(np.abs(array)) <= MAX_ABS_WEIGHT:
        return
    index = np.unravel_index(int(np.argmax(np.abs(array))), array.shape)
    bad = int(np.count_nonzero(np.abs(array) > MAX_ABS_WEIGHT))
    raise InvalidWeightsError(
        f"{where}: {label} entries beyond +-{MAX_ABS_WEIGHT:.0e} ({bad} of {array.size}), the largest "
        f"{array[index]:.6g} at index {tuple(int(i) for i in index)}; a MILP cannot encode such weights "
        "soundly (float64 rounding of a row exceeds the solver's feasibility tolerance). Check that "
        "the file is not corrupt, or rescale the network (e.g. normalise its inputs or outputs) so that "
        "every weight and bias stays below that bound"
    )


def int_tuple(layer: str, label: str, values: Sequence[int], length: int, minimum: int) -> tuple[int, ...]:
    """``values`` as a tuple of ``length`` integers, each at least ``minimum``."""
    result = tuple(int(v) for v in values)
    if len(result) != length or any(v < minimum for v in result):
        raise ShapeMismatchError(
            f"layer {layer!r}: {label} must be {length} integers >= {minimum}, got {tuple(values)}"
        )
    return result


def check_input_size(layer: str, source: str, expected: int, actual: int) -> None:
    """Refuse an input tensor whose size differs from what the layer reads."""
    if actual != expected:
        raise ShapeMismatchError(
            f"layer {layer!r} expects {expected} inputs but its input {source!r} has {actual}"
        )
