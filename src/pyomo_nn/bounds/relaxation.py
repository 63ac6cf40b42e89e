"""The optimisation problem behind LP/MILP bound tightening, as plain arrays.

For target layer m of a ReLU MLP, the problem holds the input box and every hidden layer
before m with the Big-M encoding of the thesis, written without the slack ``hbar``:

    h >= W h_prev + b,   h <= W h_prev + b - L (1 - z),   h <= U z,   h >= 0

for split neurons (z binary for MILP, in [0, 1] for the LP relaxation: the triangle
relaxation), ``h = W h_prev + b`` for stable active neurons, ``h = 0`` for dead ones. The
objective ``W_m[n] h_{m-1} + b_m[n]`` is then maximised and minimised per neuron n
(thesis Algorithm 3; ``relax=1`` is the LP, ``relax=0`` the MILP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import UnsupportedOperatorError
from pyomo_nn.ir import INPUT, Dense, Network, ReLU


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
    """Everything a worker needs to bound the neurons of one affine layer (picklable)."""

    column_lower: np.ndarray
    column_upper: np.ndarray
    integer_columns: np.ndarray
    rows: SparseRows
    objective_columns: np.ndarray
    objective_weights: np.ndarray
    objective_offsets: np.ndarray


def relu_chain(network: Network) -> list[Dense]:
    """The Dense layers of a Dense -> ReLU -> ... -> Dense chain; others are refused."""
    denses = list(network.dense_layers)
    expected: list[type] = []
    for index in range(len(denses)):
        expected.append(Dense)
        if index < len(denses) - 1:
            expected.append(ReLU)
    chained = all(
        layer.inputs[0] == (INPUT if i == 0 else network.layers[i - 1].name)
        for i, layer in enumerate(network.layers)
    )
    if [type(layer) for layer in network.layers] != expected or not chained:
        raise UnsupportedOperatorError(
            "LP/MILP bound tightening supports Dense -> ReLU chains (MLPs) only; "
            "use method='symbolic' for this network"
        )
    return denses


def layer_problem(
    denses: list[Dense],
    input_lower: np.ndarray,
    input_upper: np.ndarray,
    bounds: list[tuple[np.ndarray, np.ndarray]],
    target: int,
    integer: bool,
) -> LayerProblem:
    """The relaxation of layers ``< target`` with objective rows of layer ``target``."""
    column_lower = [input_lower]
    column_upper = [input_upper]
    integer_columns: list[np.ndarray] = []
    row_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    row_lower: list[np.ndarray] = []
    row_upper: list[np.ndarray] = []
    previous = np.arange(input_lower.size)
    next_column = input_lower.size
    next_row = 0
    for k in range(target):
        weight, bias = denses[k].weight, denses[k].bias
        lower, upper = bounds[k]
        n = bias.size
        h = next_column + np.arange(n)
        next_column += n
        column_lower.append(np.zeros(n))
        column_upper.append(np.maximum(upper, 0.0))
        active = np.flatnonzero(lower >= 0)
        split = np.flatnonzero((lower < 0) & (upper > 0))
        z = next_column + np.arange(split.size)
        next_column += split.size
        column_lower.append(np.zeros(split.size))
        column_upper.append(np.ones(split.size))
        if integer:
            integer_columns.append(z)
        # h - W h_prev = b (active), h - W h_prev >= b (split), h - W h_prev - L z <= b - L (split)
        for neurons, lo_side, hi_side, z_coef in (
            (active, bias[active], bias[active], None),
            (split, bias[split], np.full(split.size, np.inf), None),
            (split, np.full(split.size, -np.inf), bias[split] - lower[split], -lower[split]),
        ):
            rows = next_row + np.arange(neurons.size)
            next_row += neurons.size
            row_parts.append(_affine_rows(rows, h[neurons], previous, weight[neurons], z, z_coef))
            row_lower.append(lo_side)
            row_upper.append(hi_side)
        # h - U z <= 0 (split)
        rows = next_row + np.arange(split.size)
        next_row += split.size
        row_parts.append(
            (
                np.repeat(rows, 2),
                np.ravel(np.column_stack([h[split], z])),
                np.ravel(np.column_stack([np.ones(split.size), -upper[split]])),
            )
        )
        row_lower.append(np.full(split.size, -np.inf))
        row_upper.append(np.zeros(split.size))
        previous = h
    row_index = np.concatenate([p[0] for p in row_parts]) if row_parts else np.zeros(0, int)
    col_index = np.concatenate([p[1] for p in row_parts]) if row_parts else np.zeros(0, int)
    values = np.concatenate([p[2] for p in row_parts]) if row_parts else np.zeros(0)
    order = np.argsort(row_index, kind="stable")
    starts = np.searchsorted(row_index[order], np.arange(next_row))
    return LayerProblem(
        column_lower=np.concatenate(column_lower),
        column_upper=np.concatenate(column_upper),
        integer_columns=np.concatenate(integer_columns) if integer_columns else np.zeros(0, int),
        rows=SparseRows(
            starts=starts.astype(np.int32),
            indices=col_index[order].astype(np.int32),
            values=values[order],
            lower=np.concatenate(row_lower) if row_lower else np.zeros(0),
            upper=np.concatenate(row_upper) if row_upper else np.zeros(0),
        ),
        objective_columns=previous,
        objective_weights=denses[target].weight,
        objective_offsets=denses[target].bias,
    )


def _affine_rows(
    rows: np.ndarray,
    h_columns: np.ndarray,
    previous: np.ndarray,
    weight: np.ndarray,
    z_columns_all: np.ndarray,
    z_coefficients: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO entries of rows ``h_j - W_j h_prev [+ c_j z_j]`` (only non-zero weights)."""
    local_row, local_col = np.nonzero(weight)
    parts_row = [rows, rows[local_row]]
    parts_col = [h_columns, previous[local_col]]
    parts_val = [np.ones(rows.size), -weight[local_row, local_col]]
    if z_coefficients is not None:
        parts_row.append(rows)
        parts_col.append(z_columns_all)
        parts_val.append(z_coefficients)
    return np.concatenate(parts_row), np.concatenate(parts_col), np.concatenate(parts_val)
