"""Norm-product bounds of the thesis, Propositions 2.1 and 2.2: loose, instant, always valid."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pyomo_nn.bounds.container import widen
from pyomo_nn.ir import INPUT, AffineLayer, Layer, MovementLayer, Network, Role, SparseMatrix, StageTable

#: ``magnitude(layer, incoming)``: a bound on ``max |value|`` of the layer's output from those of
#: its inputs (``incoming``, one per input). Registered per kind by :mod:`pyomo_nn.units`.
MAGNITUDE: StageTable[Callable[[Layer, list[float]], float]] = StageTable("naive bounds")


def naive_bounds(
    network: Network, lower: np.ndarray, upper: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Symmetric bounds ``|a^(l)| <= ||W^(l)||_inf * ||h^(l-1)||_inf + ||b^(l)||_inf``.

    Prop. 2.1 starts from ``||h^(0)||_inf = ||x||_inf`` over the box; Prop. 2.2 carries the
    worst bound of a layer into the next (``||relu(a)||_inf <= ||a||_inf``; likewise for max
    pooling and concatenation). ``||W||_inf`` is the induced norm: the largest absolute row
    sum; a layer with several inputs adds their terms. Rounded outward like every method.
    """
    magnitude = {INPUT: float(np.max(np.maximum(np.abs(lower), np.abs(upper))))}
    result = []
    for layer in network.layers:
        incoming = [magnitude[source] for source in layer.inputs]
        bound = MAGNITUDE.stage_for(layer)(layer, incoming)
        if layer.role is Role.AFFINE:
            size = network.sizes[layer.name]
            result.append(widen(np.full(size, -bound), np.full(size, bound)))
        magnitude[layer.name] = bound
    return result


def affine_magnitude(layer: AffineLayer, incoming: list[float]) -> float:
    """``sum_k ||M_k||_inf * |x_k| + ||offset||_inf`` (thesis Prop. 2.1/2.2)."""
    terms = zip(layer.linear_maps(), incoming, strict=True)
    bound = sum(_induced_norm(matrix) * size for matrix, size in terms)
    return bound + float(np.max(np.abs(layer.offset), initial=0.0))


def largest_input(layer: Layer, incoming: list[float]) -> float:
    """For layers whose outputs are no larger than their inputs (ReLU, max pooling)."""
    return max(incoming)


def movement_magnitude(layer: MovementLayer, incoming: list[float]) -> float:
    """Copied values keep their bound; a constant ``fill`` (padding) adds its own."""
    return max([*incoming, abs(layer.fill)]) if layer.fill else max(incoming)


def _induced_norm(matrix: np.ndarray | SparseMatrix) -> float:
    sums = matrix.row_abs_sums() if isinstance(matrix, SparseMatrix) else np.sum(np.abs(matrix), axis=1)
    return float(np.max(sums, initial=0.0))
