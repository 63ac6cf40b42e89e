"""Symbolic bounds: linear relaxations back-substituted to the input (DeepPoly / CROWN style).

For each affine layer, its outputs are written as linear functions of the input by walking
the graph backwards in reverse topological order. Every tensor collects the coefficients of
all its readers before it is passed on (a residual block's input gets both the skip and the
branch), then each layer type replaces its output by its input:

* affine layers (Dense, Conv2d, AvgPool2d, Elementwise, Add) by their linear maps;
* a ReLU with bounds ``l < 0 < u`` by its triangle relaxation (upper line
  ``u (a - l) / (u - l)``, lower line ``alpha * a`` with ``alpha = 1`` when ``u > -l`` else 0,
  as DeepPoly chooses), picking the upper or lower line by the sign of each coefficient;
* a max pool by ``y >= x_lead`` (the input with the largest lower bound) and an upper
  bound that is ``x_lead`` when the window is decided, else a constant or a linear function
  of the window (see :func:`_max_pool_relaxation`);
* a Concat by splitting the coefficients between its inputs.

The linear function is then maximised/minimised exactly over the input box and intersected
with interval arithmetic, so it is never looser. Coefficients stay sparse while they are
(see :mod:`pyomo_nn.bounds.coefficients`) and target neurons are processed in chunks, so a
conv layer's bounds never need a dense (neurons x neurons) matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from pyomo_nn.bounds import coefficients as coef
from pyomo_nn.bounds.coefficients import Coefficients
from pyomo_nn.bounds.container import widen
from pyomo_nn.ir import INPUT, AffineLayer, Concat, MaxPool2d, Network, ReLU, interval_image
from pyomo_nn.tolerances import SYMBOLIC_ROUNDING

#: Target neurons are back-substituted in chunks of at most this many coefficients per tensor.
CHUNK_COEFFICIENTS = 1 << 22

#: A (lower, upper) pair of arrays (not the input domain pyomo_nn.Box).
Interval = tuple[np.ndarray, np.ndarray]


def symbolic_bounds(
    network: Network,
    lower: np.ndarray,
    upper: np.ndarray,
    known: dict[str, Interval] | None = None,
) -> list[Interval]:
    """Bounds of every affine layer's outputs by back-substitution (rounded outward).

    ``known`` holds valid bounds of some affine layers (e.g. tightened by LP); they are
    intersected in as each layer is reached, so later layers profit from them.
    """
    known = known or {}
    boxes: dict[str, Interval] = {INPUT: (lower, upper)}
    maps: dict[str, list] = {}
    result = []
    for index, layer in enumerate(network.layers):
        interval_lo, interval_hi = interval_image(layer, boxes)
        if isinstance(layer, AffineLayer):
            sym_lo, sym_hi = _layer_bounds(network, index, boxes, maps)
            lo, hi = widen(np.maximum(interval_lo, sym_lo), np.minimum(interval_hi, sym_hi))
            if layer.name in known:
                lo, hi = np.maximum(lo, known[layer.name][0]), np.minimum(hi, known[layer.name][1])
            boxes[layer.name] = (lo, hi)
            result.append((lo, hi))
        else:
            boxes[layer.name] = (interval_lo, interval_hi)
    return result


def _layer_bounds(
    network: Network, index: int, boxes: dict[str, Interval], maps: dict[str, list]
) -> Interval:
    """Symbolic (lower, upper) of layer ``index``, its neurons in chunks."""
    size = network.sizes[network.layers[index].name]
    widest = max(network.sizes[name] for name in [INPUT, *(layer.name for layer in network.layers[:index])])
    chunk = max(1, CHUNK_COEFFICIENTS // widest)
    lower, upper = np.empty(size), np.empty(size)
    for start in range(0, size, chunk):
        rows = slice(start, min(size, start + chunk))
        upper[rows] = _back_substitute(network, index, rows, boxes, maps, maximise=True)
        lower[rows] = _back_substitute(network, index, rows, boxes, maps, maximise=False)
    return lower, upper


def relu_relaxation(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron: (upper slope, upper intercept, lower slope) of the ReLU's linear bounds
    (DeepPoly's lower slope; :mod:`pyomo_nn.bounds.alpha` optimises it)."""
    split = (lower < 0) & (upper > 0)
    denominator = np.where(split, upper - lower, 1.0)
    upper_slope = np.where(split, upper / denominator, (lower >= 0).astype(float))
    upper_intercept = np.where(split, -upper * lower / denominator, 0.0)
    lower_slope = np.where(split, (upper > -lower).astype(float), (lower >= 0).astype(float))
    return upper_slope, upper_intercept, lower_slope


def _max_pool_relaxation(
    layer: MaxPool2d, lower: np.ndarray, upper: np.ndarray
) -> tuple[sp.csr_array, np.ndarray, sp.csr_array]:
    """Linear bounds ``y <= A x + c`` and ``y >= B x`` of a max pool over the box of its input.

    Lower: ``y >= x_lead``, the input with the window's largest lower bound ``l*``. Upper:
    ``y = x_lead`` for a decided window; otherwise the smaller at the box centre of the constant
    ``max_i u_i`` and ``l* + sum_i (u_i - l*) (x_i - l_i) / (u_i - l_i)`` over the inputs with
    ``u_i > l*`` (``max_i x_i = l* + max_i relu(x_i - l*)``, bounded by the sum of the relus'
    triangle relaxations).
    """
    candidates = layer.candidates(lower, upper)
    n_out, n_in = candidates.windows.shape[0], lower.size
    rows = np.arange(n_out)
    lower_map = sp.csr_array((np.ones(n_out), (rows, candidates.leader)), shape=(n_out, n_in))
    best_lower = lower[candidates.leader]
    window, slot = np.nonzero(candidates.candidate & ~candidates.decided[:, None])
    inputs = candidates.windows[window, slot]
    slopes = (upper[inputs] - best_lower[window]) / np.maximum(
        upper[inputs] - lower[inputs], np.finfo(float).tiny
    )
    at_centre = best_lower + np.bincount(
        window, weights=slopes * (upper[inputs] - lower[inputs]) / 2, minlength=n_out
    )
    linear = ~candidates.decided & (at_centre < candidates.upper)
    use = linear[window]
    intercept = np.where(linear, best_lower, np.where(candidates.decided, 0.0, candidates.upper))
    intercept -= np.bincount(window[use], weights=slopes[use] * lower[inputs[use]], minlength=n_out)
    decided = np.flatnonzero(candidates.decided)
    upper_map = sp.csr_array(
        (
            np.concatenate([np.ones(decided.size), slopes[use]]),
            (
                np.concatenate([decided, window[use]]),
                np.concatenate([candidates.leader[decided], inputs[use]]),
            ),
        ),
        shape=(n_out, n_in),
    )
    return upper_map, intercept, lower_map


def _linear_maps(layer: AffineLayer, maps: dict[str, list]) -> list:
    if layer.name not in maps:
        maps[layer.name] = [coef.to_scipy(matrix) for matrix in layer.linear_maps()]
    return maps[layer.name]


def _back_substitute(
    network: Network,
    index: int,
    rows: slice,
    boxes: dict[str, Interval],
    maps: dict[str, list],
    maximise: bool,
) -> np.ndarray:
    """Upper (``maximise``) or lower bound of the ``rows`` neurons of layer ``index`` over the
    input box, widened by a float error margin proportional to the magnitude of the terms."""
    target = network.layers[index]
    pending: dict[str, Coefficients] = {}
    constant = np.array(target.offset[rows], dtype=np.float64)
    magnitude = np.abs(constant)
    for source, matrix in zip(target.inputs, _linear_maps(target, maps), strict=True):
        pending[source] = coef.add(pending.get(source), coef.tidy(matrix[rows]))
    widest = network.sizes[target.name]
    for layer in reversed(network.layers[:index]):
        coefficients = pending.pop(layer.name, None)
        if coefficients is None:
            continue
        widest = max(widest, coefficients.shape[1])
        if isinstance(layer, AffineLayer):
            for source, matrix in zip(layer.inputs, _linear_maps(layer, maps), strict=True):
                pending[source] = coef.add(pending.get(source), coef.product(coefficients, matrix))
            constant += coef.dot(coefficients, layer.offset)
            magnitude += coef.dot(coef.absolute(coefficients), np.abs(layer.offset))
        elif isinstance(layer, ReLU):
            relaxed, shift, size = coef.relax(coefficients, maximise, *relu_relaxation(*boxes[layer.input]))
            pending[layer.input] = coef.add(pending.get(layer.input), relaxed)
            constant += shift
            magnitude += size
        elif isinstance(layer, MaxPool2d):
            upper_map, upper_intercept, lower_map = _max_pool_relaxation(layer, *boxes[layer.input])
            positive, negative = coef.split_signs(coefficients)
            toward_upper, toward_lower = (positive, negative) if maximise else (negative, positive)
            relaxed = coef.add(coef.product(toward_upper, upper_map), coef.product(toward_lower, lower_map))
            pending[layer.input] = coef.add(pending.get(layer.input), relaxed)
            constant += coef.dot(toward_upper, upper_intercept)
            magnitude += coef.dot(coef.absolute(toward_upper), np.abs(upper_intercept))
        elif isinstance(layer, Concat):
            start = 0
            for source in layer.inputs:
                stop = start + network.sizes[source]
                pending[source] = coef.add(pending.get(source), coef.columns(coefficients, start, stop))
                start = stop
    lower, upper = boxes[INPUT]
    final = pending.get(INPUT, np.zeros((constant.size, lower.size)))
    positive, negative = coef.split_signs(final)
    if maximise:
        value = coef.dot(positive, upper) + coef.dot(negative, lower) + constant
    else:
        value = coef.dot(positive, lower) + coef.dot(negative, upper) + constant
    magnitude += coef.dot(coef.absolute(final), np.maximum(np.abs(lower), np.abs(upper)))
    margin = SYMBOLIC_ROUNDING * magnitude * (max(widest, lower.size) + 1)
    return value + margin if maximise else value - margin
