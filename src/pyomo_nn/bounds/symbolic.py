"""Symbolic bounds: linear relaxations back-substituted to the input (DeepPoly / CROWN style).

For each affine layer, its outputs are written as linear functions of the input by walking
the graph backwards in reverse topological order. Every tensor collects the coefficients of
all its readers before it is passed on (a residual block's input gets both the skip and the
branch), then the layer's kind replaces its output by its inputs (the kind's step in
:data:`BACK_SUBSTITUTION`, registered by its unit in :mod:`pyomo_nn.units`):

* affine layers (Dense, Conv2d, AvgPool2d, Elementwise, Add) by their linear maps;
* a ReLU with bounds ``l < 0 < u`` by its triangle relaxation (upper line
  ``u (a - l) / (u - l)``, lower line ``alpha * a`` with ``alpha = 1`` when ``u > -l`` else 0,
  as DeepPoly chooses), picking the upper or lower line by the sign of each coefficient;
* a max pool by ``y >= x_lead`` (the input with the largest lower bound) and an upper
  bound that is ``x_lead`` when the window is decided, else a constant or a linear function
  of the window (see :mod:`pyomo_nn.units.max_pool2d`);
* a data-movement layer (Concat, Transpose, Slice, Pad) by moving each coefficient to the
  value it copies (a padding constant's into the constant).

The linear function is then maximised/minimised exactly over the input box and intersected
with interval arithmetic, so it is never looser. Coefficients stay sparse while they are
(see :mod:`pyomo_nn.bounds.coefficients`) and target neurons are processed in chunks, so a
conv layer's bounds never need a dense (neurons x neurons) matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from pyomo_nn.bounds import coefficients as coef
from pyomo_nn.bounds.coefficients import Coefficients
from pyomo_nn.bounds.container import widen
from pyomo_nn.ir import INPUT, AffineLayer, Layer, MovementLayer, Network, Role, StageTable, interval_image
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
        if layer.role is Role.AFFINE:
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


class Substitution:
    """One back-substitution in progress: the coefficients waiting at each tensor
    (``pending``), and per target row the constant collected so far and the magnitude of the
    terms it is made of (for the rounding margin). A kind's step replaces the coefficients of
    its output by coefficients of its inputs through :meth:`pass_on` and :meth:`add_constant`.
    """

    def __init__(
        self,
        network: Network,
        boxes: dict[str, Interval],
        maps: dict[str, list],
        maximise: bool,
        constant: np.ndarray,
        magnitude: np.ndarray,
    ) -> None:
        self.network = network
        self.boxes = boxes
        self.maximise = maximise
        self.constant = constant
        self.magnitude = magnitude
        self.pending: dict[str, Coefficients] = {}
        self._maps = maps

    def pass_on(self, source: str, coefficients: Coefficients) -> None:
        """Add ``coefficients`` (rows: targets, columns: values of ``source``) to those of ``source``."""
        self.pending[source] = coef.add(self.pending.get(source), coefficients)

    def add_constant(self, value: np.ndarray, magnitude: np.ndarray) -> None:
        """Add ``value`` per row, made of terms whose absolute values sum to ``magnitude``."""
        self.constant += value
        self.magnitude += magnitude

    def cached(self, layer: Layer, build: Callable[[], list]) -> list:
        """What ``build`` gives for ``layer``, built once per bound computation (its matrices)."""
        if layer.name not in self._maps:
            self._maps[layer.name] = build()
        return self._maps[layer.name]


#: ``step(layer, coefficients, substitution)``: replace the coefficients of the layer's output
#: by coefficients of its inputs (``substitution.pass_on``), adding constants for the rows
#: (``add_constant``). Registered per kind by :mod:`pyomo_nn.units`.
BACK_SUBSTITUTION: StageTable[Callable[[Layer, Coefficients, Substitution], None]] = StageTable(
    "symbolic bounds"
)


def affine_step(layer: AffineLayer, coefficients: Coefficients, substitution: Substitution) -> None:
    """``y = sum_k M_k x_k + offset``: ``C y = sum_k (C M_k) x_k + C offset``, exactly."""
    for source, matrix in zip(layer.inputs, _linear_maps(layer, substitution), strict=True):
        substitution.pass_on(source, coef.product(coefficients, matrix))
    substitution.add_constant(
        coef.dot(coefficients, layer.offset), coef.dot(coef.absolute(coefficients), np.abs(layer.offset))
    )


def movement_step(layer: MovementLayer, coefficients: Coefficients, substitution: Substitution) -> None:
    """Copied values take their coefficients along (a block of columns where an input is
    copied whole and in order, as by Concat; else a 0-1 matrix); a constant ``fill`` moves
    its coefficients into the rows' constants. Exact."""
    parts, fill_columns = substitution.cached(layer, lambda: _movement_maps(layer, substitution.network))
    for source, (start, matrix) in zip(layer.inputs, parts, strict=True):
        if matrix is None:
            continue
        if isinstance(matrix, int):
            substitution.pass_on(source, coef.columns(coefficients, start, start + matrix))
        else:
            substitution.pass_on(source, coef.product(coefficients, matrix))
    if fill_columns.size and layer.fill:
        constant = fill_columns * layer.fill
        substitution.add_constant(
            coef.dot(coefficients, constant), coef.dot(coef.absolute(coefficients), np.abs(constant))
        )


def _movement_maps(layer: MovementLayer, network: Network) -> list:
    """Per input: (first output column, size) when the input is copied whole, in order, into
    consecutive outputs; (0, 0-1 matrix outputs x input values) otherwise; (0, None) when no
    output reads it. And the 0-1 vector of the outputs holding ``fill``."""
    sizes = [network.sizes[source] for source in layer.inputs]
    gather = layer.gather(*sizes)
    parts = []
    start = 0
    for size in sizes:
        outputs = np.flatnonzero((gather >= start) & (gather < start + size))
        columns = gather[outputs] - start
        if (
            outputs.size == size
            and np.array_equal(outputs, outputs[0] + np.arange(size))
            and np.array_equal(columns, np.arange(size))
        ):
            parts.append((int(outputs[0]), size))
        elif outputs.size:
            matrix = sp.csr_array((np.ones(outputs.size), (outputs, columns)), shape=(gather.size, size))
            parts.append((0, matrix))
        else:
            parts.append((0, None))
        start += size
    return [parts, (gather < 0).astype(np.float64) if np.any(gather < 0) else np.zeros(0)]


def _linear_maps(layer: AffineLayer, substitution: Substitution) -> list:
    return substitution.cached(layer, lambda: [coef.to_scipy(matrix) for matrix in layer.linear_maps()])


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
    constant = np.array(target.offset[rows], dtype=np.float64)
    substitution = Substitution(network, boxes, maps, maximise, constant, np.abs(constant))
    for source, matrix in zip(target.inputs, _linear_maps(target, substitution), strict=True):
        substitution.pass_on(source, coef.tidy(matrix[rows]))
    widest = network.sizes[target.name]
    pending = substitution.pending
    for layer in reversed(network.layers[:index]):
        coefficients = pending.pop(layer.name, None)
        if coefficients is None:
            continue
        widest = max(widest, coefficients.shape[1])
        BACK_SUBSTITUTION.stage_for(layer)(layer, coefficients, substitution)
    constant, magnitude = substitution.constant, substitution.magnitude
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
