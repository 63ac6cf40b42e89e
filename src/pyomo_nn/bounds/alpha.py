"""Symbolic bounds with optimised ReLU lower slopes (alpha-CROWN; Xu et al., ICLR 2021).

Back-substitution (:mod:`pyomo_nn.bounds.symbolic`) bounds a split ReLU from below by
``alpha * a`` with a fixed ``alpha`` in {0, 1}. Any ``alpha`` in [0, 1] is valid, and the
best one differs per target neuron, so here every target row gets its own slopes, chosen
by projected gradient ascent (Adam) on the bound itself. Every iterate is a valid bound;
the best per row is kept and intersected with the symbolic bound, so the result is never
looser. For a single hidden layer the optimum equals the LP (triangle) relaxation's bound,
so this reaches LP quality at a fraction of its cost.

The gradient is computed by hand: the bound of rows ``C`` is built backwards
(``C W_k``, the ReLU relaxation ``C * D`` with ``D`` the lower or upper slope by sign), and
the derivative flows forward again from the minimising input corner. This covers networks
that are a chain of Dense and ReLU layers (MLPs, and MLPs followed by property rows); other
graphs are refused with a clear error.

Target layers are processed in order, each using the optimised bounds of the layers before
it; only neurons whose bounds matter to the encoding are optimised (split ReLU inputs, and
every neuron of a layer not read by a ReLU).
"""

from __future__ import annotations

import numpy as np

from pyomo_nn.bounds.container import widen
from pyomo_nn.bounds.symbolic import relu_relaxation, symbolic_bounds
from pyomo_nn.errors import UnsupportedNetworkError
from pyomo_nn.ir import INPUT, Dense, Layer, Network, ReLU
from pyomo_nn.tolerances import SYMBOLIC_ROUNDING

#: Gradient steps per target layer; alpha-CROWN's bounds stop improving after a few tens.
ALPHA_ITERATIONS = 20

#: Adam step size on the slopes (which live in [0, 1]).
ALPHA_STEP = 0.1

#: Adam's moment decay rates and denominator guard (the usual values).
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8

#: Target neurons are optimised in chunks of this many (two rows each, one per direction),
#: which bounds the memory of the saved coefficients at rows x layer width.
NEURON_CHUNK = 512

#: A (lower, upper) pair of arrays (not the input domain pyomo_nn.Box).
Interval = tuple[np.ndarray, np.ndarray]

#: One layer of a Dense/ReLU chain.
Step = Dense | ReLU


def alpha_bounds(network: Network, lower: np.ndarray, upper: np.ndarray) -> list[Interval]:
    """Bounds of every affine layer with optimised lower slopes (rounded outward), never
    looser than :func:`symbolic_bounds`."""
    steps = _chain(network)
    result = symbolic_bounds(network, lower, upper)
    relu_boxes: dict[int, Interval] = {}
    affine_index = 0
    for position, step in enumerate(steps):
        if isinstance(step, ReLU):
            relu_boxes[position] = result[affine_index - 1] if affine_index else (lower, upper)
            continue
        if any(isinstance(s, ReLU) for s in steps[:position]):
            lo, hi = result[affine_index]
            feeds_relu = position + 1 < len(steps) and isinstance(steps[position + 1], ReLU)
            rows = np.flatnonzero((lo < 0) & (hi > 0)) if feeds_relu else np.arange(lo.size)
            if rows.size:
                new_lo, new_hi = widen(*_optimised_bounds(steps, position, rows, relu_boxes, lower, upper))
                lo, hi = lo.copy(), hi.copy()
                lo[rows], hi[rows] = np.maximum(lo[rows], new_lo), np.minimum(hi[rows], new_hi)
                result[affine_index] = (lo, hi)
        affine_index += 1
    return result


def supports_alpha(network: Network) -> bool:
    """Whether ``network`` is a chain of Dense and ReLU layers (what :func:`alpha_bounds` takes)."""
    return _first_unsupported(network) is None


def _first_unsupported(network: Network) -> Layer | None:
    """The first layer that breaks the Dense/ReLU chain (a ReLU must read the input or a
    Dense layer), or None."""
    previous: Layer | None = None
    for layer in network.layers:
        expected = INPUT if previous is None else previous.name
        if layer.inputs != (expected,) or not isinstance(layer, Dense | ReLU):
            return layer
        if isinstance(layer, ReLU) and isinstance(previous, ReLU):
            return layer
        previous = layer
    return None


def _chain(network: Network) -> list[Step]:
    """The network's layers, checked to form a Dense/ReLU chain (else a clear error)."""
    layer = _first_unsupported(network)
    if layer is not None:
        raise UnsupportedNetworkError(
            f"bound method 'alpha' supports chains of Dense and ReLU layers; layer "
            f"{layer.name!r} ({type(layer).__name__}) is not one; use method='symbolic' or 'lp'"
        )
    return list(network.layers)


def _optimised_bounds(
    steps: list[Step],
    position: int,
    rows: np.ndarray,
    relu_boxes: dict[int, Interval],
    lower: np.ndarray,
    upper: np.ndarray,
) -> Interval:
    """(lower, upper) of the ``rows`` neurons of the Dense step at ``position``: the upper
    bound is minus the lower bound of the negated row."""
    target = steps[position]
    weight = target.weight[rows]
    bias = target.bias[rows]
    lows = np.empty(rows.size)
    ups = np.empty(rows.size)
    for start in range(0, rows.size, NEURON_CHUNK):
        part = slice(start, min(rows.size, start + NEURON_CHUNK))
        count = part.stop - part.start
        coefficients = np.vstack([weight[part], -weight[part]])
        constants = np.concatenate([bias[part], -bias[part]])
        best = _maximised_lower_bound(steps[:position], coefficients, constants, relu_boxes, lower, upper)
        lows[part], ups[part] = best[:count], -best[count:]
    return lows, ups


def _maximised_lower_bound(
    steps: list[Step],
    coefficients: np.ndarray,
    constants: np.ndarray,
    relu_boxes: dict[int, Interval],
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """Best lower bound of ``coefficients @ steps(x) + constants`` over the input box found
    by Adam on the slopes of the split ReLUs (each row its own slopes)."""
    relaxations = {
        p: _ReluRelaxation(*relu_boxes[p], coefficients.shape[0]) for p in relu_boxes if p < len(steps)
    }
    moments = {p: (np.zeros_like(r.alpha), np.zeros_like(r.alpha)) for p, r in relaxations.items()}
    best = np.full(coefficients.shape[0], -np.inf)
    beta1, beta2 = ADAM_BETAS
    for iteration in range(ALPHA_ITERATIONS + 1):
        value, gradients = _bound_and_gradients(steps, coefficients, constants, relaxations, lower, upper)
        best = np.maximum(best, value)
        if iteration == ALPHA_ITERATIONS or not relaxations:
            break
        for p, relaxation in relaxations.items():
            first, second = moments[p]
            first *= beta1
            first += (1 - beta1) * gradients[p]
            second *= beta2
            second += (1 - beta2) * gradients[p] ** 2
            step = ALPHA_STEP * (first / (1 - beta1 ** (iteration + 1)))
            step /= np.sqrt(second / (1 - beta2 ** (iteration + 1))) + ADAM_EPSILON
            relaxation.alpha = np.clip(relaxation.alpha + step, 0.0, 1.0)
    return best


class _ReluRelaxation:
    """Triangle relaxation of one ReLU layer over the box of its input, with per-row lower
    slopes ``alpha`` (rows x neurons) for the split neurons, started at DeepPoly's choice."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray, rows: int) -> None:
        self.split = (lower < 0) & (upper > 0)
        self.upper_slope, self.upper_intercept, start = relu_relaxation(lower, upper)
        self.alpha = np.tile(start, (rows, 1))

    def lower_slope(self) -> np.ndarray:
        return np.where(self.split, self.alpha, self.upper_slope)


def _bound_and_gradients(
    steps: list[Step],
    coefficients: np.ndarray,
    constants: np.ndarray,
    relaxations: dict[int, _ReluRelaxation],
    lower: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Valid lower bound per row (after the rounding margin) and its gradient w.r.t. each
    ReLU layer's slopes."""
    current = coefficients
    constant = constants.copy()
    magnitude = np.abs(constants)
    widest = coefficients.shape[1]
    saved: list[tuple[int, np.ndarray, np.ndarray]] = []
    for p in range(len(steps) - 1, -1, -1):
        step = steps[p]
        if isinstance(step, ReLU):
            relaxation = relaxations[p]
            slopes = np.where(current >= 0, relaxation.lower_slope(), relaxation.upper_slope)
            negative = np.minimum(current, 0.0)
            constant += negative @ relaxation.upper_intercept
            magnitude += np.abs(negative) @ relaxation.upper_intercept
            saved.append((p, current, slopes))
            current = current * slopes
        else:
            constant += current @ step.bias
            magnitude += np.abs(current) @ np.abs(step.bias)
            saved.append((p, current, None))
            current = current @ step.weight
            widest = max(widest, current.shape[1])
    corner = np.where(current > 0, lower, upper)
    value = constant + np.einsum("ij,ij->i", current, corner)
    magnitude += np.abs(current) @ np.maximum(np.abs(lower), np.abs(upper))
    value -= SYMBOLIC_ROUNDING * magnitude * (max(widest, lower.size) + 1)
    gradients = {}
    gradient = np.broadcast_to(corner, current.shape)
    for p, before, slopes in reversed(saved):
        step = steps[p]
        if slopes is None:
            gradient = gradient @ step.weight.T + step.bias
        else:
            relaxation = relaxations[p]
            gradients[p] = np.where(relaxation.split & (before >= 0), before * gradient, 0.0)
            gradient = gradient * slopes + (before < 0) * relaxation.upper_intercept
    return value, gradients
