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
the derivative flows forward again from the minimising input corner. Each kind's part of
this (:class:`AlphaStep`) is registered in :data:`ALPHA_STEPS` by its unit in
:mod:`pyomo_nn.units`: Dense and ReLU, so this covers networks that are a chain of Dense and
ReLU layers (MLPs, and MLPs followed by property rows); other graphs are refused with a
clear error.

Target layers are processed in order, each using the optimised bounds of the layers before
it; only neurons whose bounds matter to the encoding are optimised (split ReLU inputs, and
every neuron of a layer not read by a ReLU).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from pyomo_nn.bounds.container import widen
from pyomo_nn.bounds.symbolic import symbolic_bounds
from pyomo_nn.errors import UnsupportedNetworkError
from pyomo_nn.ir import INPUT, Layer, Network, Role, StageTable
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


class AlphaStep(Protocol):
    """A kind's part in the optimised bound of rows ``C`` over a chain of layers: walked
    backwards for the bound, forwards for its gradient with respect to the slopes.

    ``relaxation`` gives a relaxed kind's per-row parameters (an object with an ``alpha``
    array, rows x neurons, optimised in [0, 1]) over its input box; an exact kind returns None.
    """

    def relaxation(self, lower: np.ndarray, upper: np.ndarray, rows: int) -> Any | None: ...

    def target_rows(self, layer: Layer, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coefficients over the layer's input, constants) of neurons ``rows`` of a bounded layer."""
        ...

    def backward(
        self, layer: Layer, current: np.ndarray, relaxation: Any | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """(coefficients over the layer's input, constant per row, magnitude of its terms, what
        :meth:`forward` needs) for coefficients ``current`` over its output."""
        ...

    def forward(
        self, layer: Layer, gradient: np.ndarray, before: np.ndarray, saved: Any, relaxation: Any | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(gradient of the bound with respect to the layer's output, with respect to its
        slopes or None); ``gradient`` is with respect to its input, ``before`` the coefficients
        :meth:`backward` was given."""
        ...


#: Kinds alpha takes, registered by :mod:`pyomo_nn.units` (Dense and ReLU); optional: a
#: network with any other kind is refused.
ALPHA_STEPS: StageTable[AlphaStep] = StageTable("alpha bounds", required=False)


def alpha_bounds(network: Network, lower: np.ndarray, upper: np.ndarray) -> list[Interval]:
    """Bounds of every affine layer with optimised lower slopes (rounded outward), never
    looser than :func:`symbolic_bounds`."""
    steps = _chain(network)
    result = symbolic_bounds(network, lower, upper)
    relu_boxes: dict[int, Interval] = {}
    affine_index = 0
    for position, step in enumerate(steps):
        if step.role is Role.PIECEWISE:
            relu_boxes[position] = result[affine_index - 1] if affine_index else (lower, upper)
            continue
        if any(s.role is Role.PIECEWISE for s in steps[:position]):
            lo, hi = result[affine_index]
            feeds_relu = position + 1 < len(steps) and steps[position + 1].role is Role.PIECEWISE
            rows = np.flatnonzero((lo < 0) & (hi > 0)) if feeds_relu else np.arange(lo.size)
            if rows.size:
                new_lo, new_hi = widen(*_optimised_bounds(steps, position, rows, relu_boxes, lower, upper))
                lo, hi = lo.copy(), hi.copy()
                lo[rows], hi[rows] = np.maximum(lo[rows], new_lo), np.minimum(hi[rows], new_hi)
                result[affine_index] = (lo, hi)
        affine_index += 1
    return result


def supports_alpha(network: Network) -> bool:
    """Whether ``network`` is a chain of the kinds of :data:`ALPHA_STEPS` (Dense and ReLU),
    what :func:`alpha_bounds` takes."""
    return _first_unsupported(network) is None


def _first_unsupported(network: Network) -> Layer | None:
    """The first layer that breaks the chain (a layer of another kind, one that reads anything
    but the layer before it, or a relaxed layer reading another: a ReLU must read the input or
    a Dense layer), or None."""
    previous: Layer | None = None
    for layer in network.layers:
        expected = INPUT if previous is None else previous.name
        if layer.inputs != (expected,) or type(layer) not in ALPHA_STEPS:
            return layer
        if layer.role is Role.PIECEWISE and previous is not None and previous.role is Role.PIECEWISE:
            return layer
        previous = layer
    return None


def _chain(network: Network) -> list[Layer]:
    """The network's layers, checked to form a chain alpha takes (else a clear error)."""
    layer = _first_unsupported(network)
    if layer is not None:
        names = [kind.__name__ for kind in ALPHA_STEPS.kinds()]
        kinds = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        raise UnsupportedNetworkError(
            f"bound method 'alpha' supports chains of {kinds} layers; layer "
            f"{layer.name!r} ({type(layer).__name__}) is not one; use method='symbolic' or 'lp'"
        )
    return list(network.layers)


def _optimised_bounds(
    steps: list[Layer],
    position: int,
    rows: np.ndarray,
    relu_boxes: dict[int, Interval],
    lower: np.ndarray,
    upper: np.ndarray,
) -> Interval:
    """(lower, upper) of the ``rows`` neurons of the bounded step at ``position``: the upper
    bound is minus the lower bound of the negated row."""
    target = steps[position]
    weight, bias = ALPHA_STEPS.stage_for(target).target_rows(target, rows)
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
    steps: list[Layer],
    coefficients: np.ndarray,
    constants: np.ndarray,
    relu_boxes: dict[int, Interval],
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """Best lower bound of ``coefficients @ steps(x) + constants`` over the input box found
    by Adam on the slopes of the split ReLUs (each row its own slopes)."""
    relaxations = {
        p: ALPHA_STEPS.stage_for(steps[p]).relaxation(*relu_boxes[p], coefficients.shape[0])
        for p in relu_boxes
        if p < len(steps)
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


def _bound_and_gradients(
    steps: list[Layer],
    coefficients: np.ndarray,
    constants: np.ndarray,
    relaxations: dict[int, Any],
    lower: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Valid lower bound per row (after the rounding margin) and its gradient w.r.t. each
    relaxed layer's slopes."""
    current = coefficients
    constant = constants.copy()
    magnitude = np.abs(constants)
    widest = coefficients.shape[1]
    entries = [ALPHA_STEPS.stage_for(step) for step in steps]
    saved: list[tuple[int, np.ndarray, Any]] = []
    for p in range(len(steps) - 1, -1, -1):
        before = current
        current, shift, size, kept = entries[p].backward(steps[p], current, relaxations.get(p))
        constant += shift
        magnitude += size
        saved.append((p, before, kept))
        widest = max(widest, current.shape[1])
    corner = np.where(current > 0, lower, upper)
    value = constant + np.einsum("ij,ij->i", current, corner)
    magnitude += np.abs(current) @ np.maximum(np.abs(lower), np.abs(upper))
    value -= SYMBOLIC_ROUNDING * magnitude * (max(widest, lower.size) + 1)
    gradients = {}
    gradient = np.broadcast_to(corner, current.shape)
    for p, before, kept in reversed(saved):
        gradient, slopes = entries[p].forward(steps[p], gradient, before, kept, relaxations.get(p))
        if slopes is not None:
            gradients[p] = slopes
    return value, gradients
