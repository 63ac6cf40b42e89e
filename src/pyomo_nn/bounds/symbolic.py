"""Symbolic bounds: linear relaxations back-substituted to the input (DeepPoly / CROWN style).

For each affine layer, the pre-activations are written as linear functions of the input by
walking back through the network: a ReLU with bounds ``l < 0 < u`` is replaced by its
triangle relaxation (upper line ``u (a - l) / (u - l)``, lower line ``alpha * a`` with
``alpha = 1`` when ``u > -l`` else 0, as DeepPoly chooses), picking the upper or lower line
by the sign of each coefficient. The linear function is then maximised/minimised exactly
over the input box. The result is intersected with interval arithmetic, so it is never
looser. Cost: one matrix product per pair of layers, all neurons of a layer at once.
"""

from __future__ import annotations

import numpy as np

from pyomo_nn.bounds.container import widen
from pyomo_nn.ir import INPUT, Dense, Network, ReLU
from pyomo_nn.tolerances import SYMBOLIC_ROUNDING


def symbolic_bounds(
    network: Network,
    lower: np.ndarray,
    upper: np.ndarray,
    known: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pre-activation bounds of every Dense layer by back-substitution (rounded outward).

    ``known`` holds valid bounds of some Dense layers (e.g. tightened by LP); they are
    intersected in as each layer is reached, so later layers profit from them.
    """
    known = known or {}
    boxes: dict[str, tuple[np.ndarray, np.ndarray]] = {INPUT: (lower, upper)}
    result = []
    for layer in network.layers:
        source_box = boxes[layer.inputs[0]]
        if isinstance(layer, Dense):
            interval_lo, interval_hi = layer.interval(*source_box)
            sym_hi, margin_hi = _back_substitute(network, layer, boxes, maximise=True)
            sym_lo, margin_lo = _back_substitute(network, layer, boxes, maximise=False)
            lo, hi = widen(
                np.maximum(interval_lo, sym_lo - margin_lo), np.minimum(interval_hi, sym_hi + margin_hi)
            )
            if layer.name in known:
                lo, hi = np.maximum(lo, known[layer.name][0]), np.minimum(hi, known[layer.name][1])
            boxes[layer.name] = (lo, hi)
            result.append((lo, hi))
        else:
            boxes[layer.name] = layer.interval(*source_box)
    return result


def _relu_relaxation(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron: (upper slope, upper intercept, lower slope) of the ReLU's linear bounds."""
    split = (lower < 0) & (upper > 0)
    denominator = np.where(split, upper - lower, 1.0)
    upper_slope = np.where(split, upper / denominator, (lower >= 0).astype(float))
    upper_intercept = np.where(split, -upper * lower / denominator, 0.0)
    lower_slope = np.where(split, (upper > -lower).astype(float), (lower >= 0).astype(float))
    return upper_slope, upper_intercept, lower_slope


def _back_substitute(
    network: Network, layer: Dense, boxes: dict[str, tuple[np.ndarray, np.ndarray]], maximise: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Bound of ``layer``'s pre-activations over the input box (upper if ``maximise``), and a
    float error margin proportional to the magnitude of the terms summed."""
    by_name = {item.name: item for item in network.layers}
    coefficients = layer.weight.copy()
    constant = layer.bias.copy()
    magnitude = np.abs(layer.bias).copy()
    current = layer.input
    while current != INPUT:
        item = by_name[current]
        if isinstance(item, ReLU):
            upper_slope, upper_intercept, lower_slope = _relu_relaxation(*boxes[item.input])
            use_upper = coefficients > 0 if maximise else coefficients < 0
            slopes = np.where(use_upper, upper_slope, lower_slope)
            shift = np.where(use_upper, coefficients * upper_intercept, 0.0)
            constant = constant + shift.sum(axis=1)
            magnitude = magnitude + np.abs(shift).sum(axis=1)
            coefficients = coefficients * slopes
        else:
            constant = constant + coefficients @ item.bias
            magnitude = magnitude + np.abs(coefficients) @ np.abs(item.bias)
            coefficients = coefficients @ item.weight
        current = item.inputs[0]
    lower, upper = boxes[INPUT]
    positive, negative = np.maximum(coefficients, 0.0), np.minimum(coefficients, 0.0)
    if maximise:
        value = positive @ upper + negative @ lower + constant
    else:
        value = positive @ lower + negative @ upper + constant
    magnitude = magnitude + np.abs(coefficients) @ np.maximum(np.abs(lower), np.abs(upper))
    return value, SYMBOLIC_ROUNDING * magnitude * (coefficients.shape[1] + 1)
