"""Validation shared by the IR layers: finite read-only weights, positive integer settings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pyomo_nn.errors import InvalidWeightsError, ShapeMismatchError


def frozen_weights(layer: str, label: str, values: np.ndarray) -> np.ndarray:
    """``values`` as a read-only float64 array; NaN or infinite entries are refused."""
    array = np.array(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise InvalidWeightsError(
            f"layer {layer!r}: {bad} {label} entries are NaN or infinite; "
            "retrain or repair the network before encoding it"
        )
    array.setflags(write=False)
    return array


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
