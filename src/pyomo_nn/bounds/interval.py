"""Interval arithmetic bounds: each layer's exact image of the previous layer's box."""

from __future__ import annotations

import numpy as np

from pyomo_nn.bounds.container import widen
from pyomo_nn.ir import INPUT, Dense, Network


def interval_bounds(
    network: Network, lower: np.ndarray, upper: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Propagate the input box layer by layer (what OMLT does); rounded outward per layer."""
    boxes = {INPUT: (lower, upper)}
    result = []
    for layer in network.layers:
        image = layer.interval(*boxes[layer.inputs[0]])
        if isinstance(layer, Dense):
            image = widen(*image)
            result.append(image)
        boxes[layer.name] = image
    return result
