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
for the decided ones; a data-movement layer (Concat, Transpose, Slice, Pad) reuses the columns
of the values it copies. Each kind's rows are its entry in :data:`LP_ROWS`, registered by its
unit in :mod:`pyomo_nn.units` (the ReLU's and the max pool's rows live there). The objective is
a row of the target layer, maximised and minimised per neuron (thesis Algorithm 3;
``relax=1`` is the LP, ``relax=0`` the MILP).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from pyomo_nn.ir import INPUT, AffineLayer, Layer, MovementLayer, Network, SparseMatrix, StageTable

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
class Pending:
    """Pre-activations ``matrix @ columns + offset`` not given columns of their own (``matrix``
    indexes the problem's columns)."""

    matrix: SparseMatrix
    offset: np.ndarray


class LpRows(Protocol):
    """A kind's rows in the relaxation. ``add`` encodes ``layer`` (its inputs are in
    ``builder.tensors``) and returns its output's columns, or :class:`Pending` rows for an affine
    layer whose readers all take those (``reads_rows``: the ReLU writes its pre-activation into
    its own rows, as the block does)."""

    reads_rows: bool

    def add(self, builder: RelaxationBuilder, layer: Layer) -> np.ndarray | Pending: ...


#: How each layer kind enters the relaxation; registered per kind by :mod:`pyomo_nn.units`.
LP_ROWS: StageTable[LpRows] = StageTable("LP relaxation")


class _AffineRows:
    """An affine layer: pending rows when every reader takes them, else columns ``y`` and
    rows ``y - M x = offset``."""

    reads_rows = False

    def add(self, builder: RelaxationBuilder, layer: AffineLayer) -> np.ndarray | Pending:
        matrix = _over_columns(layer, [builder.input_columns(name) for name in layer.inputs])
        readers = [c for c in builder.network.consumers(layer.name) if c.name in builder.needed]
        if readers and all(LP_ROWS.stage_for(c).reads_rows for c in readers):
            return Pending(matrix, layer.offset)
        return builder.affine(matrix, layer.offset, builder.boxes[layer.name])


class _MovementColumns:
    """A data-movement layer: the columns of the values it copies (a column fixed at the
    constant where it pads). No rows."""

    reads_rows = False

    def add(self, builder: RelaxationBuilder, layer: MovementLayer) -> np.ndarray:
        joined = np.concatenate([builder.input_columns(name) for name in layer.inputs])
        gather = layer.gather(*(builder.network.sizes[name] for name in layer.inputs))
        if gather.size and gather.min() < 0:
            constant = builder.columns(np.array([layer.fill]), np.array([layer.fill]))
            return np.where(gather >= 0, joined[np.maximum(gather, 0)], constant[0])
        return joined[gather]


#: The entries of the affine and the data-movement kinds.
AFFINE_ROWS = _AffineRows()
MOVEMENT_COLUMNS = _MovementColumns()


def layer_problem(
    network: Network,
    boxes: dict[str, Interval],
    target: AffineLayer,
    integer: bool,
) -> LayerProblem:
    """The relaxation of every layer ``target`` depends on, with objective rows of ``target``.

    ``boxes`` holds valid bounds of every tensor of the network (the input's box included)."""
    builder = RelaxationBuilder(network, boxes, integer, _ancestors(network, target))
    builder.tensors[INPUT] = builder.columns(*boxes[INPUT])
    for layer in network.layers:
        if layer.name == target.name:
            break
        if layer.name in builder.needed:
            builder.tensors[layer.name] = LP_ROWS.stage_for(layer).add(builder, layer)
    objective = _over_columns(target, [builder.input_columns(name) for name in target.inputs])
    return builder.problem(objective, target.offset)


@dataclass(frozen=True)
class CutoffProblem:
    """The relaxation of a whole network with one more row, ``objective >= threshold``.

    Objective row i of ``problem`` is the pre-activation of neuron ``neurons[i]`` of ReLU layer
    ``layers[i]``, one row per split neuron; ``activation_columns[i]`` is its column z."""

    problem: LayerProblem
    layers: tuple[str, ...]
    neurons: np.ndarray
    activation_columns: np.ndarray


def cutoff_problem(
    network: Network,
    boxes: dict[str, Interval],
    output_coefs: np.ndarray,
    input_coefs: np.ndarray,
    threshold: float,
) -> CutoffProblem:
    """The LP relaxation of every layer of ``network`` over ``boxes`` (valid bounds of every
    tensor) with the row ``output_coefs @ y + input_coefs @ x >= threshold``, and the split
    ReLU neurons' pre-activations as objective rows."""
    builder = RelaxationBuilder(network, boxes, False, {layer.name for layer in network.layers})
    builder.tensors[INPUT] = builder.columns(*boxes[INPUT])
    for layer in network.layers:
        builder.tensors[layer.name] = LP_ROWS.stage_for(layer).add(builder, layer)
    columns = np.concatenate([builder.input_columns(network.layers[-1].name), builder.input_columns(INPUT)])
    coefs = np.concatenate([output_coefs, input_coefs]).astype(np.float64)
    unique, where = np.unique(columns, return_inverse=True)  # a column named twice: one summed term
    summed = np.bincount(where, weights=coefs, minlength=unique.size)
    builder.rows([(np.zeros(unique.size, int), unique, summed)], np.array([threshold]), np.array([np.inf]))
    by_name = {layer.name: layer for layer in network.layers}
    layers, neurons, z_columns, parts, offsets = [], [], [], [], []
    first = 0
    for name, (split, z) in builder.activations.items():
        pre = builder.pre_activations(by_name[name].inputs[0])
        local, cols, values = entries(pre.matrix, split)
        parts.append((local + first, cols, values))
        offsets.append(pre.offset[split])
        layers.extend([name] * split.size)
        neurons.append(split)
        z_columns.append(z)
        first += split.size
    rows, cols, values = (
        np.concatenate([part[k] for part in parts]) if parts else np.zeros(0) for k in range(3)
    )
    objective = SparseMatrix.from_coo(
        rows.astype(np.int64), cols.astype(np.int64), values, (first, builder.next_column)
    )
    return CutoffProblem(
        problem=builder.problem(objective, np.concatenate(offsets) if offsets else np.zeros(0)),
        layers=tuple(layers),
        neurons=np.concatenate(neurons).astype(np.int64) if neurons else np.zeros(0, np.int64),
        activation_columns=np.concatenate(z_columns).astype(np.int64) if z_columns else np.zeros(0, np.int64),
    )


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
    """The layer's linear map with the problem's column indices of its inputs. Inputs that
    share columns (a padding constant, values a Pad repeats) have their terms summed, so that
    no row names a column twice."""
    maps = [m if isinstance(m, SparseMatrix) else SparseMatrix.from_dense(m) for m in layer.linear_maps()]
    local = maps[0] if len(maps) == 1 else SparseMatrix.hstack(maps)
    columns = np.concatenate(sources)
    shape = (local.shape[0], int(columns.max()) + 1)
    if np.unique(columns).size < columns.size:
        summed = sp.csr_array((local.data.copy(), columns[local.indices], local.indptr.copy()), shape=shape)
        summed.sum_duplicates()  # in place: on copies, never on the layer's own matrix
        return SparseMatrix(
            summed.indptr.astype(np.int64), summed.indices.astype(np.int64), summed.data, shape
        )
    return SparseMatrix(local.indptr, columns[local.indices], local.data, shape)


def _as_columns(tensor: np.ndarray | Pending) -> np.ndarray:
    if isinstance(tensor, Pending):
        raise ValueError("internal: a layer reads another layer's pending pre-activations")
    return tensor


def entries(matrix: SparseMatrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position in ``rows``, column, value) of every entry of the chosen rows, row by row."""
    counts = matrix.indptr[rows + 1] - matrix.indptr[rows]
    local = np.repeat(np.arange(rows.size), counts)
    starts = np.repeat(matrix.indptr[rows], counts)
    within = np.arange(local.size) - np.repeat(np.cumsum(counts) - counts, counts)
    picked = starts + within
    return local, matrix.indices[picked], matrix.data[picked]


class RelaxationBuilder:
    """Collects columns and COO rows, then hands out the CSR problem. ``tensors`` holds the
    columns (or :class:`Pending` rows) of every tensor encoded so far, ``boxes`` valid bounds of
    every tensor, ``needed`` the layers the target depends on."""

    def __init__(self, network: Network, boxes: dict[str, Interval], integer: bool, needed: set[str]) -> None:
        self.network = network
        self.boxes = boxes
        self.needed = needed
        self.tensors: dict[str, np.ndarray | Pending] = {}
        self.integer = integer
        self.column_lower: list[np.ndarray] = []
        self.column_upper: list[np.ndarray] = []
        self.integer_columns: list[np.ndarray] = []
        self.entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.row_lower: list[np.ndarray] = []
        self.row_upper: list[np.ndarray] = []
        self.next_column = 0
        self.next_row = 0
        #: Per ReLU layer: (its split neurons, their activation columns z), for callers that
        #: fix a neuron's phase once it is decided (see :mod:`pyomo_nn.bounds.cutoff`).
        self.activations: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def columns(self, lower: np.ndarray, upper: np.ndarray, binary: bool = False) -> np.ndarray:
        indices = self.next_column + np.arange(lower.size)
        self.next_column += lower.size
        self.column_lower.append(np.asarray(lower, dtype=np.float64))
        self.column_upper.append(np.asarray(upper, dtype=np.float64))
        if binary and self.integer:
            self.integer_columns.append(indices)
        return indices

    def input_columns(self, name: str) -> np.ndarray:
        """The columns of tensor ``name`` (which must have columns, not pending rows)."""
        return _as_columns(self.tensors[name])

    def pre_activations(self, name: str) -> Pending:
        """Tensor ``name`` as rows over the columns: its pending rows, or the identity on its columns."""
        tensor = self.tensors[name]
        return tensor if isinstance(tensor, Pending) else _identity(tensor)

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

    def affine(self, matrix: SparseMatrix, offset: np.ndarray, box: Interval) -> np.ndarray:
        """Columns ``y`` with rows ``y - M x = offset``."""
        y = self.columns(*box)
        everything = np.arange(y.size)
        local, columns, values = entries(matrix, everything)
        self.rows([(everything, y, np.ones(y.size)), (local, columns, -values)], offset, offset)
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


def _identity(columns: np.ndarray) -> Pending:
    n = columns.size
    return Pending(
        SparseMatrix(np.arange(n + 1), columns, np.ones(n), (n, int(columns.max(initial=-1)) + 1)),
        np.zeros(n),
    )
