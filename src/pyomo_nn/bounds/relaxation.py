"""The optimisation problem behind LP/MILP bound tightening, as plain arrays.

For a target affine layer, the problem holds the input box and every layer the target
depends on, encoded as in :class:`~pyomo_nn.NetworkBlock` but with the ReLU written without
the slack ``hbar``:

    h >= a,   h <= a - L (1 - z),   h <= U z,   h >= 0

for split neurons (``a`` the pre-activation; z binary for MILP, in [0, 1] for the LP
relaxation: the triangle relaxation), ``h = a`` for stable active neurons, ``h = 0`` for dead
ones. An affine layer read only by ReLUs is written into their rows; any other gets columns
and equality rows. A max pool gets Fischetti & Jo's rows (``y >= x_i``,
``y <= x_i + (U - L_i)(1 - d_i)``, ``sum d_i = 1``) for its undecided windows and ``y = x_lead``
for the decided ones; a Concat joins its inputs' columns. The objective is a row of the
target layer, maximised and minimised per neuron (thesis Algorithm 3; ``relax=1`` is the LP,
``relax=0`` the MILP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.ir import INPUT, AffineLayer, Concat, Layer, MaxPool2d, Network, ReLU, SparseMatrix

#: A (lower, upper) pair of arrays (not the input domain pyomo_nn.Box).
Interval = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SparseRows:
    """Constraint rows in CSR form with their lower/upper sides."""

    starts: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class LayerProblem:
    """Everything a worker needs to bound the neurons of one affine layer (picklable).

    ``objective`` row n holds the coefficients of neuron n's pre-activation over the problem's
    columns; ``objective_offsets[n]`` is its constant.
    """

    column_lower: np.ndarray
    column_upper: np.ndarray
    integer_columns: np.ndarray
    rows: SparseRows
    objective: SparseMatrix
    objective_offsets: np.ndarray


@dataclass(frozen=True)
class _Pending:
    """Pre-activations ``matrix @ columns + offset`` not given columns of their own (``matrix``
    indexes the problem's columns)."""

    matrix: SparseMatrix
    offset: np.ndarray


def layer_problem(
    network: Network,
    boxes: dict[str, Interval],
    target: AffineLayer,
    integer: bool,
) -> LayerProblem:
    """The relaxation of every layer ``target`` depends on, with objective rows of ``target``.

    ``boxes`` holds valid bounds of every tensor of the network (the input's box included)."""
    builder = _Builder(integer)
    tensors: dict[str, np.ndarray | _Pending] = {INPUT: builder.columns(*boxes[INPUT])}
    needed = _ancestors(network, target)
    for layer in network.layers:
        if layer.name == target.name:
            break
        if layer.name in needed:
            tensors[layer.name] = builder.add_layer(network, layer, tensors, boxes, needed)
    objective = _over_columns(target, [_as_columns(tensors[name]) for name in target.inputs])
    return builder.problem(objective, target.offset)


def _ancestors(network: Network, target: Layer) -> set[str]:
    by_name = {layer.name: layer for layer in network.layers}
    seen: set[str] = set()
    stack = list(target.inputs)
    while stack:
        name = stack.pop()
        if name in seen or name == INPUT:
            continue
        seen.add(name)
        stack.extend(by_name[name].inputs)
    return seen


def _over_columns(layer: AffineLayer, sources: list[np.ndarray]) -> SparseMatrix:
    """The layer's linear map with the problem's column indices of its inputs."""
    maps = [m if isinstance(m, SparseMatrix) else SparseMatrix.from_dense(m) for m in layer.linear_maps()]
    local = maps[0] if len(maps) == 1 else SparseMatrix.hstack(maps)
    columns = np.concatenate(sources)
    return SparseMatrix(
        local.indptr, columns[local.indices], local.data, (local.shape[0], int(columns.max()) + 1)
    )


def _as_columns(tensor: np.ndarray | _Pending) -> np.ndarray:
    if isinstance(tensor, _Pending):
        raise ValueError("internal: a layer reads another layer's pending pre-activations")
    return tensor


def _entries(matrix: SparseMatrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position in ``rows``, column, value) of every entry of the chosen rows, row by row."""
    counts = matrix.indptr[rows + 1] - matrix.indptr[rows]
    local = np.repeat(np.arange(rows.size), counts)
    starts = np.repeat(matrix.indptr[rows], counts)
    within = np.arange(local.size) - np.repeat(np.cumsum(counts) - counts, counts)
    picked = starts + within
    return local, matrix.indices[picked], matrix.data[picked]


class _Builder:
    """Collects columns and COO rows, then hands out the CSR problem."""

    def __init__(self, integer: bool) -> None:
        self.integer = integer
        self.column_lower: list[np.ndarray] = []
        self.column_upper: list[np.ndarray] = []
        self.integer_columns: list[np.ndarray] = []
        self.entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.row_lower: list[np.ndarray] = []
        self.row_upper: list[np.ndarray] = []
        self.next_column = 0
        self.next_row = 0

    def columns(self, lower: np.ndarray, upper: np.ndarray, binary: bool = False) -> np.ndarray:
        indices = self.next_column + np.arange(lower.size)
        self.next_column += lower.size
        self.column_lower.append(np.asarray(lower, dtype=np.float64))
        self.column_upper.append(np.asarray(upper, dtype=np.float64))
        if binary and self.integer:
            self.integer_columns.append(indices)
        return indices

    def rows(
        self, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], lower: np.ndarray, upper: np.ndarray
    ) -> None:
        """Add ``lower.size`` rows; each part is (row within the new rows, column, value)."""
        first = self.next_row
        self.next_row += lower.size
        for local, columns, values in parts:
            self.entries.append((first + local, columns, values))
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def add_layer(
        self,
        network: Network,
        layer: Layer,
        tensors: dict[str, np.ndarray | _Pending],
        boxes: dict[str, Interval],
        needed: set[str],
    ) -> np.ndarray | _Pending:
        """Encode ``layer``; returns its output's columns (or pending rows)."""
        if isinstance(layer, AffineLayer):
            matrix = _over_columns(layer, [_as_columns(tensors[name]) for name in layer.inputs])
            readers = [c for c in network.consumers(layer.name) if c.name in needed]
            if readers and all(isinstance(c, ReLU) for c in readers):
                return _Pending(matrix, layer.offset)
            return self._affine(matrix, layer.offset, boxes[layer.name])
        if isinstance(layer, ReLU):
            source = tensors[layer.input]
            pending = source if isinstance(source, _Pending) else _identity(source)
            return self._relu(pending, *boxes[layer.input])
        if isinstance(layer, MaxPool2d):
            return self._max_pool(
                layer, _as_columns(tensors[layer.input]), boxes[layer.input], boxes[layer.name]
            )
        if isinstance(layer, Concat):
            return np.concatenate([_as_columns(tensors[name]) for name in layer.inputs])
        raise TypeError(f"internal: no relaxation for layer type {type(layer).__name__}")

    def _affine(self, matrix: SparseMatrix, offset: np.ndarray, box: Interval) -> np.ndarray:
        """Columns ``y`` with rows ``y - M x = offset``."""
        y = self.columns(*box)
        everything = np.arange(y.size)
        local, columns, values = _entries(matrix, everything)
        self.rows([(everything, y, np.ones(y.size)), (local, columns, -values)], offset, offset)
        return y

    def _relu(self, pre: _Pending, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        n = lower.size
        h = self.columns(np.zeros(n), np.maximum(upper, 0.0))
        active = np.flatnonzero(lower >= 0)
        split = np.flatnonzero((lower < 0) & (upper > 0))
        z = self.columns(np.zeros(split.size), np.ones(split.size), binary=True)
        offset = pre.offset
        # h - a = 0 (active), h - a >= 0 (split), h - a - L z <= -L (split), with a = M x + offset
        for neurons, lo_side, hi_side, z_coefficient in (
            (active, offset[active], offset[active], None),
            (split, offset[split], np.full(split.size, np.inf), None),
            (split, np.full(split.size, -np.inf), offset[split] - lower[split], -lower[split]),
        ):
            local, columns, values = _entries(pre.matrix, neurons)
            parts = [(np.arange(neurons.size), h[neurons], np.ones(neurons.size)), (local, columns, -values)]
            if z_coefficient is not None:
                parts.append((np.arange(neurons.size), z, z_coefficient))
            self.rows(parts, lo_side, hi_side)
        # h - U z <= 0 (split)
        self.rows(
            [
                (
                    np.repeat(np.arange(split.size), 2),
                    np.ravel(np.column_stack([h[split], z])),
                    np.ravel(np.column_stack([np.ones(split.size), -upper[split]])),
                )
            ],
            np.full(split.size, -np.inf),
            np.zeros(split.size),
        )
        return h

    def _max_pool(self, layer: MaxPool2d, x: np.ndarray, in_box: Interval, out_box: Interval) -> np.ndarray:
        candidates = layer.candidates(*in_box)
        y = self.columns(*out_box)
        decided = np.flatnonzero(candidates.decided)
        window, slot = np.nonzero(candidates.candidate & ~candidates.decided[:, None])
        inputs = candidates.windows[window, slot]
        d = self.columns(np.zeros(window.size), np.ones(window.size), binary=True)
        big_m = candidates.upper[window] - in_box[0][inputs]
        pairs = np.arange(window.size)
        # y - x_lead = 0 (decided); y - x_i >= 0; y - x_i + M d <= M; sum d = 1 (undecided)
        count = np.arange(decided.size)
        self.rows(
            [
                (count, y[decided], np.ones(decided.size)),
                (count, x[candidates.leader[decided]], -np.ones(decided.size)),
            ],
            np.zeros(decided.size),
            np.zeros(decided.size),
        )
        above = [(pairs, y[window], np.ones(pairs.size)), (pairs, x[inputs], -np.ones(pairs.size))]
        self.rows(above, np.zeros(pairs.size), np.full(pairs.size, np.inf))
        self.rows([*above, (pairs, d, big_m)], np.full(pairs.size, -np.inf), big_m)
        undecided, position = np.unique(window, return_inverse=True)
        self.rows([(position, d, np.ones(pairs.size))], np.ones(undecided.size), np.ones(undecided.size))
        return y

    def problem(self, objective: SparseMatrix, offsets: np.ndarray) -> LayerProblem:
        if self.entries:
            row_index, col_index, values = (np.concatenate(part) for part in zip(*self.entries, strict=True))
        else:
            row_index, col_index, values = np.zeros(0, int), np.zeros(0, int), np.zeros(0)
        order = np.argsort(row_index, kind="stable")
        starts = np.searchsorted(row_index[order], np.arange(self.next_row))
        return LayerProblem(
            column_lower=np.concatenate(self.column_lower),
            column_upper=np.concatenate(self.column_upper),
            integer_columns=np.concatenate(self.integer_columns)
            if self.integer_columns
            else np.zeros(0, int),
            rows=SparseRows(
                starts=starts.astype(np.int32),
                indices=col_index[order].astype(np.int32),
                values=values[order],
                lower=np.concatenate(self.row_lower) if self.row_lower else np.zeros(0),
                upper=np.concatenate(self.row_upper) if self.row_upper else np.zeros(0),
            ),
            objective=objective,
            objective_offsets=np.asarray(offsets, dtype=np.float64),
        )


def _identity(columns: np.ndarray) -> _Pending:
    n = columns.size
    return _Pending(
        SparseMatrix(np.arange(n + 1), columns, np.ones(n), (n, int(columns.max(initial=-1)) + 1)),
        np.zeros(n),
    )
