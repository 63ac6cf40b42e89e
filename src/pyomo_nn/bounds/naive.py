"""Norm-product bounds of the thesis, Propositions 2.1 and 2.2: loose, instant, always valid."""

from __future__ import annotations

import numpy as np

from pyomo_nn.bounds.container import widen
from pyomo_nn.ir import INPUT, Dense, Network


def naive_bounds(
    network: Network, lower: np.ndarray, upper: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Symmetric bounds ``|a^(l)| <= ||W^(l)||_inf * ||h^(l-1)||_inf + ||b^(l)||_inf``.

    Prop. 2.1 starts from ``||h^(0)||_inf = ||x||_inf`` over the box; Prop. 2.2 carries the
    worst bound of a layer into the next (``||relu(a)||_inf <= ||a||_inf``). ``||W||_inf``
    is the induced norm: the largest absolute row sum. Rounded outward like every method.
    """
    magnitude = {INPUT: float(np.max(np.maximum(np.abs(lower), np.abs(upper))))}
    result = []
    for layer in network.layers:
        incoming = magnitude[layer.inputs[0]]
        if isinstance(layer, Dense):
            row_norm = float(np.max(np.sum(np.abs(layer.weight), axis=1)))
            bound = row_norm * incoming + float(np.max(np.abs(layer.bias)))
            result.append(widen(np.full(layer.out_features, -bound), np.full(layer.out_features, bound)))
            magnitude[layer.name] = bound
        else:
            magnitude[layer.name] = incoming
    return result
