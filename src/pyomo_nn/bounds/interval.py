"""Interval arithmetic bounds: each layer's exact image of the boxes of its inputs."""

from __future__ import annotations

import numpy as np

from pyomo_nn.bounds.container import widen
from pyomo_nn.ir import INPUT, Network, Role, interval_image


def interval_bounds(
    network: Network, lower: np.ndarray, upper: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Propagate the input box layer by layer (what OMLT does); affine layers' bounds are
    rounded outward."""
    boxes = {INPUT: (lower, upper)}
    result = []
    for layer in network.layers:
        image = interval_image(layer, boxes)
        if layer.role is Role.AFFINE:
            image = widen(*image)
            result.append(image)
        boxes[layer.name] = image
    return result
