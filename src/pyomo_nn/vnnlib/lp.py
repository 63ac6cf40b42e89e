"""The LP (triangle) relaxation over a property's rows, with certified lower bounds.

The relaxation is the bound engine's (:func:`pyomo_nn.bounds.relaxation.layer_problem`),
built once per box with the property's rows as the objective layer and re-optimised per
row by HiGHS. The value HiGHS reports is not used as a proof: from its dual values ``y`` the
bound is recomputed by weak duality, valid for *any* ``y`` because every column is bounded::

    min c.x  >=  sum_i min(y_i L_i, y_i U_i) + sum_j min(r_j l_j, r_j u_j),   r = c - A^T y

for rows ``L <= A x <= U`` and columns ``l <= x <= u``; float64 rounding is covered by
:data:`~pyomo_nn.tolerances.VNNLIB_LP_ROUNDING`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import highspy
import numpy as np
import scipy.sparse

from pyomo_nn.bounds import Bounds
from pyomo_nn.bounds.relaxation import LayerProblem, layer_problem
from pyomo_nn.ir import INPUT, Network, interval_image
from pyomo_nn.tolerances import VNNLIB_LP_ROUNDING

Box = tuple[np.ndarray, np.ndarray]


def tensor_boxes(network: Network, bounds: Bounds) -> dict[str, Box]:
    """Bounds of every tensor: affine layers from ``bounds``, the others by interval arithmetic."""
    affine = dict(zip(bounds.layer_names, zip(bounds.lower, bounds.upper, strict=True), strict=True))
    boxes: dict[str, Box] = {INPUT: (bounds.input_lower, bounds.input_upper)}
    for layer in network.layers:
        boxes[layer.name] = affine[layer.name] if layer.name in affine else interval_image(layer, boxes)
    return boxes


class OutputRelaxation:
    """The LP relaxation of ``network`` (whose last layer holds the property's rows) over
    ``bounds``, loaded into HiGHS once."""

    def __init__(self, network: Network, bounds: Bounds) -> None:
        self.problem: LayerProblem = layer_problem(
            network, tensor_boxes(network, bounds), network.layers[-1], integer=False
        )
        problem = self.problem
        rows = problem.rows
        row_pointers = np.append(rows.starts, rows.values.size)  # HiGHS' starts omit the end
        self.matrix = scipy.sparse.csr_matrix(
            (rows.values, rows.indices, row_pointers), shape=(rows.lower.size, problem.column_lower.size)
        )
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        infinity = highspy.kHighsInf
        self.highs.addVars(
            problem.column_lower.size,
            np.where(np.isfinite(problem.column_lower), problem.column_lower, -infinity),
            np.where(np.isfinite(problem.column_upper), problem.column_upper, infinity),
        )
        if rows.lower.size:
            self.highs.addRows(
                rows.lower.size,
                np.where(np.isfinite(rows.lower), rows.lower, -infinity),
                np.where(np.isfinite(rows.upper), rows.upper, infinity),
                rows.values.size,
                rows.starts,
                rows.indices,
                rows.values,
            )
        self._costed: np.ndarray | None = None

    def certified_lower_bounds(self, neurons: Sequence[int], deadline: float) -> np.ndarray:
        """Certified lower bound of each of ``neurons`` of the last layer (-inf where the LP
        did not give a dual solution before ``deadline``, a ``time.perf_counter()`` value)."""
        result = np.full(len(neurons), -np.inf)
        for position, neuron in enumerate(neurons):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            costs = self._set_objective(int(neuron))
            self.highs.setOptionValue("time_limit", remaining)
            self.highs.run()
            solution = self.highs.getSolution()
            if solution.dual_valid:
                duals = np.asarray(solution.row_dual, dtype=np.float64)
                offset = float(self.problem.objective_offsets[neuron])
                result[position] = self._weak_duality_bound(costs, duals) + offset
        return result

    def _set_objective(self, neuron: int) -> np.ndarray:
        columns, values = self.problem.objective.row(neuron)
        if self._costed is not None:
            self.highs.changeColsCost(self._costed.size, self._costed, np.zeros(self._costed.size))
        self._costed = columns.astype(np.int32)
        self.highs.changeColsCost(columns.size, self._costed, values)
        costs = np.zeros(self.problem.column_lower.size)
        costs[columns] = values
        return costs

    def _weak_duality_bound(self, costs: np.ndarray, duals: np.ndarray) -> float:
        """``min costs.x`` over the LP, bounded below for any row multipliers ``duals``."""
        rows = self.problem.rows
        duals = np.where(
            ((duals > 0) & ~np.isfinite(rows.lower)) | ((duals < 0) & ~np.isfinite(rows.upper)), 0.0, duals
        )
        row_side = np.where(duals > 0, rows.lower, np.where(duals < 0, rows.upper, 0.0))
        row_terms = duals * np.where(np.isfinite(row_side), row_side, 0.0)
        reduced = costs - self.matrix.T @ duals
        lower, upper = self.problem.column_lower, self.problem.column_upper
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
            return -np.inf
        column_terms = reduced * np.where(reduced > 0, lower, upper)
        magnitude = np.abs(costs) + abs(self.matrix).T @ np.abs(duals)
        scale = np.abs(row_terms).sum() + (magnitude * np.maximum(np.abs(lower), np.abs(upper))).sum()
        count = self.matrix.nnz + duals.size + costs.size
        return float(row_terms.sum() + column_terms.sum() - VNNLIB_LP_ROUNDING * count * scale)
